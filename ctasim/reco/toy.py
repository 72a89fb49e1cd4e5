"""Geometric toy DL1 parameter tables with known truth, for tests and benchmarks of DL2 code.

Each shower is a line: direction (true_alt, true_az), ground core, and a point of maximum at a
given height. A telescope's image centroid is the direction from the telescope to that point; its
axis lies on the great circle through the centroid and the source position (the Hillas plane
containing the shower axis), so that noiseless images give the exact geometry. Image amplitude
follows ``intensity = scale[type] * E * exp(-impact / 120 m)``; hadrons get wider, more skewed,
randomly oriented images. Not a physics simulation: only what reconstruction needs to be
tested against known answers.
"""

from __future__ import annotations

import numpy as np

from ctasim.datamodel.dl1 import DL1_PARAMETERS_DTYPE
from ctasim.datamodel.ids import PRIMARY_IDS
from ctasim.datamodel.simulation import SHOWER_DTYPE
from ctasim.instrument.frames import (
    altaz_to_vector,
    fov_to_vector,
    telescope_to_altaz,
    vector_to_fov,
)
from ctasim.instrument.subarray import SubarrayDescription

from .stereo import axis_steps_deg

#: p.e. per TeV at zero impact, per size class (REFERENCE.md "Derived targets", est.)
PE_PER_TEV = {"LST": 4000.0, "MST": 1000.0, "SST": 120.0}
IMPACT_SCALE_M = 120.0


def exact_axis_psi(cog_vec, src_vec, lon, lat, step, alt_p, az_p, iterations: int = 8):
    """Axis angle psi (rad, near (-pi/2, pi/2]) such that ``(lon, lat) + step (cos psi, sin psi)``
    lies on the great circle through the centroid and source directions (all angles rad)."""
    normal = np.cross(cog_vec, src_vec)
    src_lon, src_lat = vector_to_fov(src_vec[..., 0], src_vec[..., 1], src_vec[..., 2], alt_p, az_p)
    psi = np.arctan(np.tan(np.arctan2(src_lat - lat, src_lon - lon)))  # (-pi/2, pi/2] as Hillas

    def residual(p):
        v = np.stack(fov_to_vector(lon + step * np.cos(p), lat + step * np.sin(p), alt_p, az_p), -1)
        return np.sum(v * normal, axis=-1)

    for _ in range(iterations):  # Newton steps with a numeric derivative
        f = residual(psi)
        df = (residual(psi + 1e-7) - f) / 1e-7
        psi = psi - np.where(df != 0, f / np.where(df != 0, df, 1.0), 0.0)
    return psi


def toy_events(
    subarray: SubarrayDescription,
    n_events: int,
    seed: int = 1,
    pointing_alt: float = 70.0,
    pointing_az: float = 0.0,
    max_offset_deg: float = 2.0,
    max_core_m: float = 300.0,
    tels_per_event: tuple[int, int] = (2, 10),
    energy_range_tev: tuple[float, float] = (0.05, 50.0),
    hadron_fraction: float = 0.0,
    psi_noise_deg: float = 0.0,
    cog_noise_deg: float = 0.0,
    intensity_noise: float = 0.0,
    obs_id: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Fabricate a DL1 parameter table and its shower truth.

    Each event is seen by a random subset of ``tels_per_event`` telescopes (inclusive range).
    Noise: Gaussian on psi and on the centroid (deg), log-normal on intensity (sigma, natural log).
    Returns (dl1 table with DL1_PARAMETERS_DTYPE, truth with SHOWER_DTYPE), rows grouped by event.
    """
    rng = np.random.default_rng(seed)
    alt_p, az_p = np.deg2rad(pointing_alt), np.deg2rad(pointing_az)
    steps = np.deg2rad(axis_steps_deg(subarray))
    size_class = subarray.size_classes()

    truth = np.zeros(n_events, SHOWER_DTYPE)
    truth["obs_id"] = obs_id
    truth["event_id"] = np.arange(n_events) + 1
    truth["true_energy"] = np.exp(rng.uniform(*np.log(energy_range_tev), n_events))
    r = max_offset_deg * np.sqrt(rng.uniform(0, 1, n_events))
    phi = rng.uniform(0, 2 * np.pi, n_events)
    truth["true_alt"], truth["true_az"] = telescope_to_altaz(
        r * np.cos(phi), r * np.sin(phi), pointing_alt, pointing_az
    )
    rc = max_core_m * np.sqrt(rng.uniform(0, 1, n_events))
    phic = rng.uniform(0, 2 * np.pi, n_events)
    truth["true_core_x"], truth["true_core_y"] = rc * np.cos(phic), rc * np.sin(phic)
    is_hadron = rng.uniform(0, 1, n_events) < hadron_fraction
    truth["true_shower_primary_id"] = np.where(
        is_hadron, PRIMARY_IDS["proton"], PRIMARY_IDS["gamma"]
    )
    # height of maximum above the observation level: ~ 1.5 km lower per decade of energy
    h_max = 8500.0 - 1500.0 * np.log10(truth["true_energy"]) + rng.normal(0, 300, n_events)
    truth["true_x_max"] = 1000.0 * np.exp(-(h_max + subarray.site.obs_level_m) / 8000.0)
    truth["time"] = np.arange(n_events) * 1e-3

    lo, hi = tels_per_event
    n_tel = rng.integers(lo, min(hi, subarray.n_tels) + 1, n_events)
    ev = np.repeat(np.arange(n_events), n_tel)
    tel_idx = np.concatenate([rng.permutation(subarray.n_tels)[:k] for k in n_tel])
    n_rows = ev.size

    src = altaz_to_vector(truth["true_alt"], truth["true_az"])[ev]
    core = np.stack([truth["true_core_x"], truth["true_core_y"], np.zeros(n_events)], -1)[ev]
    xmax_point = core + src * (h_max[ev] / src[:, 2])[:, None]
    pos = subarray.positions[tel_idx]
    to_max = xmax_point - pos
    cog = to_max / np.linalg.norm(to_max, axis=-1, keepdims=True)
    lon, lat = vector_to_fov(cog[:, 0], cog[:, 1], cog[:, 2], alt_p, az_p)
    psi = exact_axis_psi(cog, src, lon, lat, steps[tel_idx], alt_p, az_p)
    impact = np.linalg.norm(np.cross(pos - core, src), axis=-1)

    hadron = is_hadron[ev]
    psi = np.where(hadron, np.arctan(np.tan(psi + rng.normal(0, 0.6, n_rows))), psi)
    psi = psi + np.deg2rad(psi_noise_deg) * rng.normal(size=n_rows)
    lon = lon + np.deg2rad(cog_noise_deg) * rng.normal(size=n_rows)
    lat = lat + np.deg2rad(cog_noise_deg) * rng.normal(size=n_rows)

    table = np.zeros(n_rows, DL1_PARAMETERS_DTYPE)
    table["obs_id"] = obs_id
    table["event_id"] = truth["event_id"][ev]
    table["tel_id"] = subarray.tel_ids[tel_idx]
    scale = np.array([PE_PER_TEV[c] for c in size_class])[tel_idx]
    energy = truth["true_energy"][ev]
    table["hillas_intensity"] = (
        scale
        * energy
        * np.exp(-impact / IMPACT_SCALE_M)
        * np.exp(intensity_noise * rng.normal(size=n_rows))
    )
    table["hillas_fov_lon"], table["hillas_fov_lat"] = np.rad2deg(lon), np.rad2deg(lat)
    table["hillas_r"] = np.hypot(table["hillas_fov_lon"], table["hillas_fov_lat"])
    table["hillas_phi"] = np.rad2deg(np.arctan2(lat, lon))
    table["hillas_psi"] = np.rad2deg(psi)
    log_size = np.log10(np.maximum(table["hillas_intensity"], 1.0))
    table["hillas_width"] = (
        (0.03 + 0.015 * log_size) * np.where(hadron, 2.0, 1.0) * rng.lognormal(0, 0.1, n_rows)
    )
    table["hillas_length"] = (0.05 + 0.04 * log_size + impact / 2000.0) * rng.lognormal(
        0, 0.1, n_rows
    )
    table["hillas_skewness"] = rng.normal(np.where(hadron, 0.0, 0.3), 0.2)
    table["hillas_kurtosis"] = rng.normal(np.where(hadron, 3.5, 2.5), 0.3)
    table["leakage_intensity_width_2"] = np.clip(rng.exponential(0.03, n_rows), 0, 1)
    table["leakage_intensity_width_1"] = table["leakage_intensity_width_2"] / 2
    table["leakage_pixels_width_2"] = table["leakage_intensity_width_2"] / 3
    table["leakage_pixels_width_1"] = table["leakage_intensity_width_2"] / 6
    table["concentration_cog"] = np.clip(rng.normal(np.where(hadron, 0.15, 0.3), 0.05), 0, 1)
    table["concentration_core"] = table["concentration_cog"] * 1.5
    table["concentration_pixel"] = table["concentration_cog"] / 3
    table["timing_slope"] = impact / 100.0 + rng.normal(0, 0.5, n_rows)  # ns/deg
    table["timing_intercept"] = rng.normal(20, 1, n_rows)
    table["timing_deviation"] = np.abs(rng.normal(0.5, 0.2, n_rows))
    table["morphology_n_pixels"] = np.maximum(1, (3 * log_size**2).astype(np.int32))
    table["morphology_n_islands"] = np.where(hadron, 2, 1)
    return table, truth
