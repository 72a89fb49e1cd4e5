"""Block reducer: the read-out R1 events of one block to DL0, with every reduction variant.

The first configuration is the archived variant; further ones (``compare_variants``) run on the
same events and are only metered (bytes per step), so the report can compare strategies. The
truth impacts of the read-out events (IMPACT_DTYPE rows) are made here, where the R1 events and
their simulation truth still travel together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..accounting import RateMeter, reduction_stage
from ..datamodel.dl0 import EncodedBlock
from ..datamodel.r1 import TelescopeEvents
from ..datamodel.simulation import IMPACT_DTYPE
from ..dl0.reduction import OnsiteReducer, ReductionConfig
from ..instrument.subarray import SubarrayDescription

if TYPE_CHECKING:
    from .camera_station import Readout


@dataclass
class Reduced:
    """DL0 blocks of one block's read-out events, with bytes per step, truth and monitoring rows."""

    blocks: list[EncodedBlock]           # archived variant, one per telescope with events
    rates: RateMeter                     # bytes per reduction step, every variant
    impact: dict[int, np.ndarray]        # tel_id -> IMPACT_DTYPE rows
    monitoring: np.ndarray               # CAMERA_MONITORING_DTYPE rows of every camera station
    n_events_reduced: dict[int, int]     # tel_id -> events reduced
    waveform_pixels: dict[str, list[int]]  # variant -> [pixels with waveform kept, pixels seen]
    timing: dict[str, float] = field(default_factory=dict)  # wall seconds per stage, set by the hosts
    pixel_pedestal: dict[int, np.ndarray] = field(default_factory=dict)  # tel_id -> pixel_pedestal_dtype row


def impact_rows(events: TelescopeEvents) -> np.ndarray:
    """Rows of ``/simulation/event/telescope/impact/tel_NNN`` for read-out events (with truth)."""
    rows = np.zeros(events.n_events, IMPACT_DTYPE)
    rows["obs_id"], rows["event_id"], rows["tel_id"] = events.obs_id, events.event_id, events.tel_id
    rows["true_impact_distance"] = events.true_impact_distance
    rows["true_image_intensity"] = events.true_image.sum(axis=1)
    return rows


class BlockReducer:
    """Reduces every telescope's accepted events with the archived and comparison variants."""

    def __init__(self, subarray: SubarrayDescription, configs: Sequence[ReductionConfig]) -> None:
        self.reducers = [OnsiteReducer(subarray, c) for c in configs]
        self.tel_types = dict(zip(subarray.tel_ids.tolist(), subarray.size_classes().tolist()))

    def reduce(self, stream: str, block_index: int, *readouts: Readout) -> Reduced:
        """DL0 of the read-out events of every camera station for one block."""
        blocks, impact, reduced, pixels = [], {}, {}, {}
        rates = RateMeter()
        for readout in readouts:
            for tel_id, events in readout.events.items():
                if events.n_events == 0:
                    continue
                tel_type = self.tel_types[tel_id]
                for k, reducer in enumerate(self.reducers):
                    block, stats = reducer.reduce(events, stream, block_index)
                    for step, nbytes in stats.bytes.items():
                        rates.add(reduction_stage(stats.variant, step), nbytes, events.n_events, tel_type, tel_id,
                                  stream)
                    n_pix = stats.n_events * stats.n_pixels
                    kept, seen = pixels.get(stats.variant, (0, 0))
                    pixels[stats.variant] = [kept + round(stats.kept_waveform_fraction * n_pix), seen + n_pix]
                    if k == 0:
                        blocks.append(block)
                impact[tel_id] = impact_rows(events)
                reduced[tel_id] = events.n_events
        monitoring = np.concatenate([r.monitoring for r in readouts])
        pixel_pedestal = {t: row for r in readouts for t, row in r.pixel_pedestal.items()}
        return Reduced(blocks, rates, impact, monitoring, reduced, pixels, pixel_pedestal=pixel_pedestal)
