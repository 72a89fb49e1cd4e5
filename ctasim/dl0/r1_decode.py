"""Full-R1 DL0 blocks back to R1: the archived ``raw`` variant decoded into ``TelescopeEvents``.

The ``raw`` variant (no window cut, no gain selection, no integration, no pixel selection) stores
every pixel's waveform with all gain channels and samples, losslessly compressed, in the column
``waveform`` ``uint16 [n * n_pixels, n_channels, n_samples]`` (event-major, pixel-minor). Decoding
gives back the read-out R1 waveforms bit for bit, so any other reduction can be derived offline
from such an archive by the on-site reducer's own code (``ctasim.offline.dvr``). Simulation truth
is not in DL0: the events carry none.
"""

from __future__ import annotations

import numpy as np

from ..datamodel.dl0 import EncodedBlock
from ..datamodel.r1 import TelescopeEvents
from ..errors import DataFileError
from ..instrument.telescope import TelescopeDescription

#: the columns of a full-R1 block, and nothing else
FULL_R1_COLUMNS = frozenset({"event_id", "trigger_time", "waveform"})


def r1_events(block: EncodedBlock, tel: TelescopeDescription, where: str = "") -> TelescopeEvents:
    """The R1 events of a full-R1 block of telescope ``tel`` (waveforms ``uint16 [n, n_channels,
    n_pixels, n_samples]``); a block of any other layout raises a one-line DataFileError naming
    ``where`` (e.g. the archive) and what it holds."""
    columns = block.decode()
    n_pix, readout = tel.camera.geometry.n_pixels, tel.camera.readout
    shape = (block.n_events * n_pix, readout.n_channels, readout.n_samples)
    wf = columns.get("waveform")
    if set(columns) != FULL_R1_COLUMNS or wf is None or wf.shape != shape:
        held = ", ".join(sorted(columns)) + (f"; waveform {wf.shape}" if wf is not None else "")
        raise DataFileError(f"{where or 'DL0'}: tel {block.tel_id} block {block.stream}/{block.block_index} is not "
                            f"full R1 (columns {held}; expected {', '.join(sorted(FULL_R1_COLUMNS))} with waveform "
                            f"{shape}): derive variants from an archive of the raw variant")
    waveform = wf.reshape(block.n_events, n_pix, readout.n_channels, readout.n_samples).transpose(0, 2, 1, 3)
    return TelescopeEvents(int(block.tel_id), int(block.obs_id), np.asarray(columns["event_id"], np.int64),
                           np.asarray(columns["trigger_time"], np.float64), np.ascontiguousarray(waveform))
