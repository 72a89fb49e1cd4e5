"""The on-site fast path from DL0 to DL2: what the real-time analysis and the hadron pre-rejection
compute from one block of DL0 (one ``EncodedBlock`` per telescope).

Decode, calibrate (``calibrate_dl0``), clean and parametrise (``process_images``), reconstruct the
stereo geometry (``reconstruct_stereo`` with the given quality cuts) and, with a gammaness model
(fixed for the run), the gammaness of every array event. Events are sorted by (obs_id, event_id);
``time`` is an event's earliest telescope trigger time (s since the run start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..datamodel.dl0 import EncodedBlock
from ..datamodel.dl1 import parameter_rows
from ..dl0.reduction import calibrate_dl0
from ..image import process_images
from ..instrument.subarray import SubarrayDescription
from ..reco.models import ParticleClassifier, telescope_features
from ..reco.stereo import StereoQualityCuts, reconstruct_stereo


@dataclass(frozen=True)
class FastDL2:
    """Per array event of a block (sorted by obs_id, event_id): ids, earliest trigger time (s),
    reconstructed direction (deg; NaN when not valid), validity and gammaness (NaN without a model
    or a valid reconstruction)."""

    obs_id: np.ndarray
    event_id: np.ndarray
    time: np.ndarray
    reco_alt: np.ndarray
    reco_az: np.ndarray
    is_valid: np.ndarray
    gammaness: np.ndarray

    @property
    def n_events(self) -> int:
        return int(self.event_id.size)

    @classmethod
    def empty(cls) -> FastDL2:
        f, i = np.empty(0), np.empty(0, np.int64)
        return cls(i, i, f, f, f, np.empty(0, bool), f)


def fast_dl2(blocks: Sequence[EncodedBlock], subarray: SubarrayDescription, pointing: tuple[float, float],
             cuts: StereoQualityCuts, particle_model: ParticleClassifier | None = None) -> FastDL2:
    """The fast DL2 of one block's DL0 (see the module docstring); pointing (alt, az) deg."""
    rows, trigger = [], []
    for block in blocks:
        if block.n_events == 0:
            continue
        columns = block.decode()
        tel = subarray.tel(block.tel_id)
        image, peak_time = calibrate_dl0(columns, tel)
        _, params = process_images(image, peak_time, tel, rng=np.random.default_rng(0))
        rows.append(parameter_rows(block.obs_id, block.tel_id, columns["event_id"], params))
        trigger.append(columns["trigger_time"])
    if not rows:
        return FastDL2.empty()
    table = np.concatenate(rows)
    stereo = reconstruct_stereo(table, subarray, *pointing, cuts=cuts)
    gammaness = np.full(stereo.obs_id.size, np.nan)
    if particle_model is not None:
        predicted, _ = particle_model.predict(telescope_features(table, stereo, subarray))
        gammaness = np.where(stereo.is_valid, predicted, np.nan)
    time = np.full(stereo.obs_id.size, np.inf)
    np.minimum.at(time, stereo.event_index, np.concatenate(trigger))
    return FastDL2(np.asarray(stereo.obs_id, np.int64), np.asarray(stereo.event_id, np.int64), time,
                   stereo.reco_alt, stereo.reco_az, np.asarray(stereo.is_valid, bool), gammaness)
