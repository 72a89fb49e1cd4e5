"""DL2 tables with DATA_MODEL.md column names: events (pyirf names) and per-telescope values.

``/dl2/event/subarray/events`` gets one row per array event, ``/dl2/event/telescope/tel_NNN``
one row per telescope image (``split_per_telescope`` separates them). Units: deg, m, TeV, s;
``reco_h_max`` is above sea level.
"""

from __future__ import annotations

import numpy as np

from ctasim.instrument.subarray import SubarrayDescription

from .models import EnergyRegressor, ParticleClassifier, telescope_features
from .stereo import DEFAULT_CUTS, StereoQualityCuts, StereoResult, match_events, reconstruct_stereo

DL2_EVENT_DTYPE = np.dtype(
    [
        ("obs_id", "i4"),
        ("event_id", "i8"),
        ("time", "f8"),
        ("pointing_alt", "f8"),
        ("pointing_az", "f8"),
        ("reco_alt", "f8"),
        ("reco_az", "f8"),
        ("reco_core_x", "f8"),
        ("reco_core_y", "f8"),
        ("reco_h_max", "f8"),
        ("reco_energy", "f8"),
        ("gammaness", "f8"),
        ("multiplicity", "i2"),
        ("is_valid", "?"),
    ]
)
TRUE_COLUMNS = (
    ("true_energy", "f8"),
    ("true_alt", "f8"),
    ("true_az", "f8"),
    ("true_core_x", "f8"),
    ("true_core_y", "f8"),
    ("true_shower_primary_id", "i2"),
)
DL2_EVENT_TRUE_DTYPE = np.dtype(DL2_EVENT_DTYPE.descr + list(TRUE_COLUMNS))
DL2_TEL_DTYPE = np.dtype(
    [
        ("obs_id", "i4"),
        ("event_id", "i8"),
        ("tel_id", "i2"),
        ("impact_distance", "f8"),
        ("reco_energy_tel", "f8"),
        ("gammaness_tel", "f8"),
    ]
)
DL2_EVENT_UNITS = {
    "time": "s",
    "pointing_alt": "deg",
    "pointing_az": "deg",
    "reco_alt": "deg",
    "reco_az": "deg",
    "reco_core_x": "m",
    "reco_core_y": "m",
    "reco_h_max": "m",
    "reco_energy": "TeV",
    "true_energy": "TeV",
    "true_alt": "deg",
    "true_az": "deg",
    "true_core_x": "m",
    "true_core_y": "m",
}
DL2_TEL_UNITS = {"impact_distance": "m", "reco_energy_tel": "TeV"}


def build_dl2_events(
    stereo: StereoResult,
    reco_energy: np.ndarray,
    gammaness: np.ndarray,
    time: np.ndarray | None = None,
    truth: np.ndarray | None = None,
) -> np.ndarray:
    """Flat per-event DL2 table in the event order of ``stereo``.

    ``time`` (s) per event; when None it is taken from ``truth`` (SHOWER_DTYPE), else NaN. With
    ``truth`` the true_* columns are added (joined on obs_id, event_id).
    """
    out = np.zeros(stereo.n_events, DL2_EVENT_DTYPE if truth is None else DL2_EVENT_TRUE_DTYPE)
    for name in (
        "obs_id",
        "event_id",
        "pointing_alt",
        "pointing_az",
        "reco_alt",
        "reco_az",
        "reco_core_x",
        "reco_core_y",
        "reco_h_max",
        "multiplicity",
        "is_valid",
    ):
        out[name] = getattr(stereo, name)
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
    table: np.ndarray, stereo: StereoResult, reco_energy_tel: np.ndarray, gammaness_tel: np.ndarray
) -> np.ndarray:
    """Per-telescope DL2 rows, aligned with the DL1 ``table`` rows given to the stereo step."""
    out = np.zeros(table.shape[0], DL2_TEL_DTYPE)
    for name in ("obs_id", "event_id", "tel_id"):
        out[name] = table[name]
    out["impact_distance"] = stereo.impact_distance
    out["reco_energy_tel"] = reco_energy_tel
    out["gammaness_tel"] = gammaness_tel
    return out


def split_per_telescope(tel_table: np.ndarray) -> dict[int, np.ndarray]:
    """Rows of a per-telescope table grouped by tel_id (for ``tel_NNN`` datasets), each sorted
    by (obs_id, event_id)."""
    order = np.lexsort((tel_table["event_id"], tel_table["obs_id"], tel_table["tel_id"]))
    t = tel_table[order]
    ids, starts = np.unique(t["tel_id"], return_index=True)
    ends = np.append(starts[1:], t.size)
    return {int(i): t[s:e] for i, s, e in zip(ids, starts, ends)}


def reconstruct_dl2(
    table: np.ndarray,
    subarray: SubarrayDescription,
    pointing_alt: float | np.ndarray,
    pointing_az: float | np.ndarray,
    energy_model: EnergyRegressor,
    particle_model: ParticleClassifier,
    cuts: StereoQualityCuts = DEFAULT_CUTS,
    time: np.ndarray | None = None,
    truth: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """DL1 parameter rows of a block -> (DL2 events table, DL2 per-telescope table).

    Stereo geometry, then the per-telescope models and their per-event combination. Arguments as
    ``reconstruct_stereo`` and ``build_dl2_events``.
    """
    stereo = reconstruct_stereo(table, subarray, pointing_alt, pointing_az, cuts=cuts)
    features = telescope_features(table, stereo, subarray)
    energy, energy_tel = energy_model.predict(features)
    gammaness, gammaness_tel = particle_model.predict(features)
    events = build_dl2_events(stereo, energy, gammaness, time=time, truth=truth)
    return events, build_dl2_telescope(table, stereo, energy_tel, gammaness_tel)
