"""DL2 tables (``ctasim.datamodel.dl2``) from the stereo geometry and the model predictions.

``/dl2/events`` gets one row per array event, ``/dl2/telescope_events/tel_NNN`` one row per
telescope image (``split_per_telescope`` separates them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctasim.datamodel.dl2 import DL2_EVENT_DTYPE, DL2_EVENT_TRUE_DTYPE, DL2_TEL_DTYPE, TRUE_COLUMNS
from ctasim.datamodel.ids import match_events

from .disp import DispRegressor, event_direction
from .models import EnergyRegressor, ParticleClassifier, TelescopeFeatures
from .stereo import StereoResult


@dataclass(frozen=True)
class ModelSet:
    """The per-telescope models of a DL2 pass."""

    energy: EnergyRegressor
    particle: ParticleClassifier
    disp: DispRegressor


def build_dl2_events(
    stereo: StereoResult,
    direction: tuple[np.ndarray, np.ndarray],
    reco_energy: np.ndarray,
    gammaness: np.ndarray,
    time: np.ndarray | None = None,
    truth: np.ndarray | None = None,
) -> np.ndarray:
    """Flat per-event DL2 table in the event order of ``stereo``.

    ``direction``: the event (alt, az) in deg (``reco_alt``, ``reco_az``); the plane intersection
    of ``stereo`` goes to ``hillas_alt``, ``hillas_az``. An event is valid when both are finite.
    ``time`` (s) per event; when None it is taken from ``truth`` (shower rows), else NaN. With
    ``truth`` the true_* columns are added (joined on obs_id, event_id).
    """
    out = np.zeros(stereo.n_events, DL2_EVENT_DTYPE if truth is None else DL2_EVENT_TRUE_DTYPE)
    for name in (
        "obs_id",
        "event_id",
        "pointing_alt",
        "pointing_az",
        "reco_core_x",
        "reco_core_y",
        "reco_h_max",
        "multiplicity",
        "is_valid",
    ):
        out[name] = getattr(stereo, name)
    out["hillas_alt"], out["hillas_az"] = stereo.reco_alt, stereo.reco_az
    out["reco_alt"], out["reco_az"] = direction
    out["is_valid"] &= np.isfinite(out["reco_alt"]) & np.isfinite(out["reco_az"])
    out["reco_energy"] = reco_energy
    out["gammaness"] = gammaness
    if truth is not None:
        rows = truth[match_events(stereo.obs_id, stereo.event_id, truth)]
        for name, _ in TRUE_COLUMNS:
            out[name] = rows[name]
        out["time"] = rows["time"] if time is None else time
    else:
        out["time"] = np.nan if time is None else time
    return out


def build_dl2_telescope(
    table: np.ndarray, stereo: StereoResult, reco_energy_tel: np.ndarray, gammaness_tel: np.ndarray,
    disp_tel: np.ndarray,
) -> np.ndarray:
    """Per-telescope DL2 rows, aligned with the DL1 ``table`` rows given to the stereo step."""
    out = np.zeros(table.shape[0], DL2_TEL_DTYPE)
    for name in ("obs_id", "event_id", "tel_id"):
        out[name] = table[name]
    out["impact_distance"] = stereo.impact_distance
    out["reco_energy_tel"] = reco_energy_tel
    out["gammaness_tel"] = gammaness_tel
    out["disp_tel"] = disp_tel
    return out


def split_per_telescope(tel_table: np.ndarray) -> dict[int, np.ndarray]:
    """Rows of a per-telescope table grouped by tel_id (for ``tel_NNN`` datasets), each sorted
    by (obs_id, event_id)."""
    order = np.lexsort((tel_table["event_id"], tel_table["obs_id"], tel_table["tel_id"]))
    t = tel_table[order]
    ids, starts = np.unique(t["tel_id"], return_index=True)
    ends = np.append(starts[1:], t.size)
    return {int(i): t[s:e] for i, s, e in zip(ids, starts, ends)}


def predict_dl2(
    table: np.ndarray,
    stereo: StereoResult,
    features: TelescopeFeatures,
    models: ModelSet,
    time: np.ndarray | None = None,
    truth: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """DL1 parameter rows with their stereo geometry and features -> (DL2 events, DL2 per-telescope
    rows): the per-telescope models and their per-event combination, the direction from the disp and
    the intersection (``ctasim.reco.disp.event_direction``; ``time``, ``truth`` as in ``build_dl2_events``)."""
    energy, energy_tel = models.energy.predict(features)
    gammaness, gammaness_tel = models.particle.predict(features)
    alt, az, disp_tel = event_direction(features, stereo, models.disp.predict_telescope(features))
    events = build_dl2_events(stereo, (alt, az), energy, gammaness, time=time, truth=truth)
    return events, build_dl2_telescope(table, stereo, energy_tel, gammaness_tel, disp_tel)
