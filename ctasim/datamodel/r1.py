"""R1 blocks: the triggered, digitised events of one telescope within one block.

Waveforms are unsigned ADC counts ``uint16 [n_events, n_channels, n_pixels, n_samples]`` (two
bytes a sample, all gain channels); ``r1_event_nbytes`` is the size model every stage uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

R1_BYTES_PER_SAMPLE = 2  # uint16


def r1_event_nbytes(n_pixels: int, n_channels: int, n_samples: int) -> int:
    """Bytes of one telescope event's R1 waveforms (all gain channels)."""
    return int(n_pixels) * int(n_channels) * int(n_samples) * R1_BYTES_PER_SAMPLE


@dataclass
class TelescopeEvents:
    """Triggered R1 events of one telescope within one block (row order = event order).

    ``true_image`` and ``true_impact_distance`` are simulation truth carried along (None for real data).
    """

    tel_id: int
    obs_id: int
    event_id: np.ndarray          # int64 [n]
    trigger_time: np.ndarray      # float64 [n] s since run start
    waveform: np.ndarray          # uint16 [n, n_channels, n_pixels, n_samples]
    true_image: np.ndarray | None = None       # int32 [n, n_pixels] Cherenkov p.e. (no NSB)
    true_impact_distance: np.ndarray | None = None  # float32 [n] m, telescope to shower axis

    @property
    def n_events(self) -> int:
        return int(self.event_id.size)

    @property
    def nbytes(self) -> int:
        """R1 bytes of the block's waveforms."""
        return int(self.waveform.nbytes)

    def take(self, rows: np.ndarray) -> TelescopeEvents:
        """The subset of events at the given row indices or boolean mask."""
        def sub(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[rows]

        return TelescopeEvents(self.tel_id, self.obs_id, self.event_id[rows], self.trigger_time[rows],
                               self.waveform[rows], sub(self.true_image), sub(self.true_impact_distance))
