"""On-site hadron pre-rejection: drop the array events of a block that the fast DL2 (``fast_reco``)
finds hadron-like, before they are archived.

An event is dropped when its stereo reconstruction is valid and its gammaness is below
``gammaness_cut``; an event the fast path cannot reconstruct (fewer than ``min_telescopes`` images
passing the quality cuts) is kept, since nothing says it is a hadron. The decision is taken on the
block's DL0 as the variant stores it (what the real-time analysis would see on site), with a
gammaness model fixed for the run. How many gammas it loses is measured by the caller against the
simulated truth of the dropped events (``Prerejection.dropped``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..datamodel.dl0 import EncodedBlock
from ..errors import CtasimError
from ..instrument.subarray import SubarrayDescription
from ..reco.models import ParticleClassifier
from ..reco.stereo import StereoQualityCuts
from .fast_reco import fast_dl2


@dataclass(frozen=True)
class Prerejection:
    """The decision on one block: the (obs_id, event_id) of the events dropped (sorted), the array
    events seen and those the fast path could judge (valid reconstruction)."""

    dropped_obs_id: np.ndarray
    dropped_event_id: np.ndarray
    n_events: int
    n_judged: int

    @property
    def n_dropped(self) -> int:
        return int(self.dropped_event_id.size)

    def keep(self, obs_id: int, event_id: np.ndarray) -> np.ndarray:
        """bool per event id of one observation: not dropped (e.g. for ``TelescopeEvents.take``)."""
        dropped = self.dropped_event_id[self.dropped_obs_id == obs_id]
        return ~np.isin(np.asarray(event_id, np.int64), dropped)


def hadron_prerejection(blocks: Sequence[EncodedBlock], subarray: SubarrayDescription, pointing: tuple[float, float],
                        particle_model: ParticleClassifier, gammaness_cut: float,
                        min_telescopes: int = 2) -> Prerejection:
    """The pre-rejection of one block's DL0 (one EncodedBlock per telescope); pointing (alt, az) deg."""
    if not 0.0 <= gammaness_cut <= 1.0:
        raise CtasimError(f"hadron pre-rejection: gammaness_cut {gammaness_cut} outside [0, 1]")
    dl2 = fast_dl2(blocks, subarray, pointing, StereoQualityCuts(min_telescopes=min_telescopes), particle_model)
    drop = dl2.is_valid & (dl2.gammaness < gammaness_cut)
    return Prerejection(dl2.obs_id[drop], dl2.event_id[drop], dl2.n_events, int(dl2.is_valid.sum()))
