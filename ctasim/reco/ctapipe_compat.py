"""Run ctapipe's HillasReconstructor on ctasim inputs, for validation and benchmarks.

Requires ctapipe (a test dependency, not needed by the rest of ctasim). The instrument comes from
``ctasim.ctapipe_compat.to_ctapipe_subarray`` (re-exported here); one ``ArrayEventContainer`` per
event is built from a DL1 parameter table in telescope-frame units.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from ctapipe.containers import (
    ArrayEventContainer,
    HillasParametersContainer,
    ImageParametersContainer,
    LeakageContainer,
    MorphologyContainer,
)
from ctapipe.core import Component
from ctapipe.instrument import SubarrayDescription
from ctapipe.reco import HillasReconstructor
from traitlets.config import Config

from ..ctapipe_compat import to_ctapipe_subarray  # noqa: F401  (re-exported for callers)
from .stereo import DEFAULT_CUTS, StereoQualityCuts, group_events


def make_hillas_reconstructor(
    subarray: SubarrayDescription, cuts: StereoQualityCuts = DEFAULT_CUTS
) -> HillasReconstructor:
    """ctapipe HillasReconstructor whose StereoQualityQuery applies the same cuts as ``cuts``."""
    criteria = [("positive width", "parameters.hillas.width.value > 0")]
    if cuts.min_intensity is not None:
        criteria.append(("intensity", f"parameters.hillas.intensity > {cuts.min_intensity!r}"))
    if cuts.min_n_pixels is not None:
        criteria.append(("n_pixels", f"parameters.morphology.n_pixels > {cuts.min_n_pixels!r}"))
    if cuts.max_leakage is not None:
        criteria.append(
            ("leakage", f"parameters.leakage.intensity_width_2 <= {cuts.max_leakage!r}")
        )
    config = Config({"HillasReconstructor": {"StereoQualityQuery": {"quality_criteria": criteria}}})
    parent = Component(config=config)
    return HillasReconstructor(subarray, parent=parent)


def to_ctapipe_events(
    table: np.ndarray, pointing_alt: float, pointing_az: float
) -> list[ArrayEventContainer]:
    """One ArrayEventContainer per event (sorted by obs_id, event_id) with TelescopeFrame Hillas
    parameters, leakage, morphology and the (parallel) pointing in deg."""
    order, offsets, _, obs_ids, event_ids = group_events(table["obs_id"], table["event_id"])
    alt, az = u.Quantity(pointing_alt, u.deg), u.Quantity(pointing_az, u.deg)
    events = []
    for i in range(obs_ids.size):
        event = ArrayEventContainer()
        event.index.obs_id, event.index.event_id = int(obs_ids[i]), int(event_ids[i])
        event.monitoring.pointing.array_altitude = alt
        event.monitoring.pointing.array_azimuth = az
        rows = table[order[offsets[i] : offsets[i + 1]]]
        event.trigger.tels_with_trigger = np.asarray(rows["tel_id"], int)
        for row in rows:
            tel_id = int(row["tel_id"])
            event.monitoring.tel[tel_id].pointing.altitude = alt
            event.monitoring.tel[tel_id].pointing.azimuth = az
            event.dl1.tel[tel_id].parameters = ImageParametersContainer(
                hillas=HillasParametersContainer(
                    fov_lon=row["hillas_fov_lon"] * u.deg,
                    fov_lat=row["hillas_fov_lat"] * u.deg,
                    r=row["hillas_r"] * u.deg,
                    phi=row["hillas_phi"] * u.deg,
                    intensity=float(row["hillas_intensity"]),
                    length=row["hillas_length"] * u.deg,
                    width=row["hillas_width"] * u.deg,
                    psi=row["hillas_psi"] * u.deg,
                    skewness=float(row["hillas_skewness"]),
                    kurtosis=float(row["hillas_kurtosis"]),
                ),
                leakage=LeakageContainer(intensity_width_2=float(row["leakage_intensity_width_2"])),
                morphology=MorphologyContainer(n_pixels=int(row["morphology_n_pixels"])),
            )
        events.append(event)
    return events


def geometry_arrays(events: list[ArrayEventContainer]) -> dict:
    """Reconstructed geometry of ctapipe-processed events as arrays (deg, m; h_max a.s.l.) and
    impact distances keyed by (event position, tel_id)."""
    name = "HillasReconstructor"
    out = {k: [] for k in ("alt", "az", "core_x", "core_y", "h_max", "is_valid", "n_tels")}
    impacts = {}
    for i, event in enumerate(events):
        g = event.dl2.stereo.geometry[name]
        out["is_valid"].append(bool(g.is_valid))
        out["n_tels"].append(len(g.telescopes) if g.telescopes else 0)
        out["alt"].append(g.alt.to_value(u.deg))
        out["az"].append(g.az.to_value(u.deg))
        out["core_x"].append(g.core_x.to_value(u.m))
        out["core_y"].append(g.core_y.to_value(u.m))
        out["h_max"].append(g.h_max.to_value(u.m))
        for tel_id, dl2 in event.dl2.tel.items():
            impacts[(i, tel_id)] = dl2.impact[name].distance.to_value(u.m)
    result = {k: np.array(v) for k, v in out.items()}
    result["impacts"] = impacts
    return result
