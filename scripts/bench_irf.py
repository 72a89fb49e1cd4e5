"""Benchmark: IRFs and sensitivity with ctasim.irf vs pyirf 0.13 on the same toy DL2 events.

Run as ``python scripts/bench_irf.py [--n-events 5000]``: point-source gammas and diffuse protons
(``ctasim.irf.toy``, about 3:1 like the quickstart's DL2) go through both codes, from DL2 rows to
the optimised gammaness cut, A_eff, energy dispersion, PSF, background, resolutions and the
sensitivity; it prints the wall seconds of each (best of ``--repeats``, one core), their ratio and
the largest relative difference per quantity (bins with at least 10 events).
"""

from __future__ import annotations

import argparse
import json
import operator
import time

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ctasim.irf import cuts
from ctasim.irf.background import background_2d
from ctasim.irf.binning import energy_bins
from ctasim.irf.effective_area import effective_area
from ctasim.irf.energy_dispersion import energy_dispersion
from ctasim.irf.events import event_table
from ctasim.irf.psf import psf_table
from ctasim.irf.resolution import angular_resolution, energy_resolution
from ctasim.irf.toy import toy_population
from ctasim.irf.weights import event_weights, simulation_info
from ctasim.spectra import CRAB_MAGIC, IRFDOC_PROTON, LogParabola, PowerLaw

LIVETIME = 50 * u.h
BINS = energy_bins(0.03 * u.TeV, 100 * u.TeV, 5)
OFFSET = [0.0, 1.0] * u.deg
BKG_OFFSET = np.linspace(0.0, 5.0, 6) * u.deg
MIGRA = np.geomspace(0.2, 5.0, 31)
RAD = np.linspace(0.0, 1.0, 51) * u.deg
EFFICIENCIES = cuts.GAMMA_EFFICIENCIES
# kept (DL2) fraction of the toy's showers at the quickstart's settings, measured once
KEPT_FRACTION = {"gamma": 0.073, "proton": 0.0475}


def populations(n_events: int, seed: int):
    gamma = toy_population("gamma", int(0.75 * n_events / KEPT_FRACTION["gamma"]), seed=seed, obs_id=1)
    proton = toy_population("proton", int(0.25 * n_events / KEPT_FRACTION["proton"]), seed=seed + 1,
                            energy_min_tev=0.1, energy_max_tev=200.0, max_scatter_m=1000.0, viewcone_deg=5.0,
                            obs_id=2)
    return gamma, proton


def run_ctasim(gamma, proton) -> dict:
    g, p = event_table(gamma[0]), event_table(proton[0])
    g_info, p_info = simulation_info(gamma[1]), simulation_info(proton[1])
    g["weight"] = event_weights(g["true_energy"], g_info, LogParabola(**CRAB_MAGIC), LIVETIME)
    p["weight"] = event_weights(p["true_energy"], p_info, PowerLaw(**IRFDOC_PROTON), LIVETIME)
    theta = cuts.theta_cut(g, BINS)
    gh, sensitivity = cuts.optimise_gammaness_cut(g, p, BINS, theta, EFFICIENCIES)
    gh_pass = cuts.evaluate_cut(g["gammaness"], g["reco_energy"], gh, operator.ge)
    selected = g[gh_pass & cuts.evaluate_cut(g["theta"], g["reco_energy"], theta, operator.le)]
    background = p[cuts.evaluate_cut(p["gammaness"], p["reco_energy"], gh, operator.ge)]
    return {
        "n_events": len(g) + len(p),
        "gh_efficiency": np.asarray(gh["efficiency"]),
        "effective_area": effective_area(selected, g_info, BINS, OFFSET)[:, 0].to_value(u.m**2),
        "energy_dispersion": energy_dispersion(selected, BINS, MIGRA, OFFSET),
        "psf": psf_table(g[gh_pass], BINS, OFFSET, RAD).to_value(1 / u.sr),
        "background": background_2d(background, BINS, BKG_OFFSET, LIVETIME).to_value("1 / (s MeV sr)"),
        "rad_max": cuts.rad_max(theta, OFFSET).to_value(u.deg),
        "angular_resolution": angular_resolution(selected, BINS)["angular_resolution"].to_value(u.deg),
        "energy_resolution": np.asarray(energy_resolution(selected, BINS)["resolution"]),
        "sensitivity": np.asarray(sensitivity["relative_sensitivity"]),
        "counts": np.histogram(selected["true_energy"].to_value(u.TeV), BINS.to_value(u.TeV))[0],
    }


def run_pyirf(gamma, proton) -> dict:
    from pyirf.benchmarks import angular_resolution as pyirf_angular_resolution
    from pyirf.benchmarks import energy_bias_resolution
    from pyirf.cut_optimization import optimize_gh_cut
    from pyirf.cuts import calculate_percentile_cut, evaluate_binned_cut
    from pyirf.irf import background_2d as pyirf_background_2d
    from pyirf.irf import effective_area_per_energy
    from pyirf.irf import energy_dispersion as pyirf_energy_dispersion
    from pyirf.irf import psf_table as pyirf_psf_table
    from pyirf.simulations import SimulatedEventsInfo
    from pyirf.spectral import CRAB_MAGIC_JHEAP2015, IRFDOC_PROTON_SPECTRUM, calculate_event_weights
    from pyirf.spectral import PowerLaw as PyirfPowerLaw
    from pyirf.utils import calculate_source_fov_offset, calculate_theta

    tables, infos = [], []
    for rows, distribution in (gamma, proton):
        rows = rows[rows["is_valid"]]
        t = QTable({name: rows[name] * u.deg for name in ("true_alt", "true_az", "reco_alt", "reco_az",
                                                           "pointing_alt", "pointing_az")})
        t["true_energy"], t["reco_energy"] = rows["true_energy"] * u.TeV, rows["reco_energy"] * u.TeV
        t["gh_score"] = rows["gammaness"]
        t["true_source_fov_offset"] = calculate_source_fov_offset(t)
        t["reco_source_fov_offset"] = calculate_source_fov_offset(t, prefix="reco")
        t["theta"] = calculate_theta(t, t["true_az"], t["true_alt"])
        d = distribution[0]
        infos.append(SimulatedEventsInfo(n_showers=int(d["n_showers"]), energy_min=d["energy_min"] * u.TeV,
                                         energy_max=d["energy_max"] * u.TeV, max_impact=d["max_scatter_radius"] * u.m,
                                         spectral_index=d["spectral_index"], viewcone_min=d["viewcone_min"] * u.deg,
                                         viewcone_max=d["viewcone_max"] * u.deg))
        tables.append(t)
    g, p = tables
    for t, info, target in ((g, infos[0], CRAB_MAGIC_JHEAP2015), (p, infos[1], IRFDOC_PROTON_SPECTRUM)):
        t["weight"] = calculate_event_weights(t["true_energy"], target, PyirfPowerLaw.from_simulation(info, LIVETIME))
    theta = calculate_percentile_cut(g["theta"], g["reco_energy"], BINS, fill_value=0.32 * u.deg, percentile=68,
                                     min_value=0.05 * u.deg, max_value=0.32 * u.deg)
    sensitivity, gh = optimize_gh_cut(g, p, BINS, EFFICIENCIES, theta, op=operator.ge, fov_offset_max=1 * u.deg,
                                      alpha=0.2, progress=False)
    gh_pass = evaluate_binned_cut(g["gh_score"], g["reco_energy"], gh, operator.ge)
    selected = g[gh_pass & evaluate_binned_cut(g["theta"], g["reco_energy"], theta, operator.le)]
    background = p[evaluate_binned_cut(p["gh_score"], p["reco_energy"], gh, operator.ge)]
    return {
        "gh_efficiency": np.asarray(gh["efficiency"]),
        "effective_area": effective_area_per_energy(selected, infos[0], BINS).to_value(u.m**2),
        "energy_dispersion": pyirf_energy_dispersion(selected, BINS, OFFSET, MIGRA),
        "psf": pyirf_psf_table(g[gh_pass], BINS, RAD, OFFSET).to_value(1 / u.sr),
        "background": pyirf_background_2d(background, BINS, BKG_OFFSET, LIVETIME).to_value("1 / (s MeV sr)"),
        "rad_max": np.repeat(theta["cut"].to_value(u.deg)[:, None], len(OFFSET) - 1, axis=1),
        "angular_resolution": pyirf_angular_resolution(selected, BINS, quantile=0.68)["angular_resolution_68"]
        .to_value(u.deg),
        "energy_resolution": np.asarray(energy_bias_resolution(selected, BINS)["resolution"]),
        "sensitivity": np.asarray(sensitivity["relative_sensitivity"]),
    }


def timed(fn, *args, repeats: int):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def max_relative_difference(ours: np.ndarray, theirs: np.ndarray, enough: np.ndarray) -> float | None:
    """Largest |ours / theirs - 1| over the energy bins with enough events where both are finite and nonzero."""
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    mask = np.broadcast_to(enough.reshape((-1,) + (1,) * (ours.ndim - 1)), ours.shape)
    mask = mask & np.isfinite(ours) & np.isfinite(theirs) & (theirs != 0)
    return float(np.max(np.abs(ours[mask] / theirs[mask] - 1))) if mask.any() else None


def bench_irf(n_events: int = 5000, seed: int = 1, repeats: int = 3) -> dict:
    gamma, proton = populations(n_events, seed)
    run_ctasim(gamma, proton)  # warm-up: numba caches of the coordinate kernels
    t_ctasim, ours = timed(run_ctasim, gamma, proton, repeats=repeats)
    t_pyirf, theirs = timed(run_pyirf, gamma, proton, repeats=repeats)
    enough = ours["counts"] >= 10
    agreement = {name: max_relative_difference(ours[name], theirs[name], enough) for name in theirs}
    return {
        "dl2_events": ours["n_events"],
        "ctasim_s": round(t_ctasim, 4),
        "pyirf_s": round(t_pyirf, 4),
        "speedup_pyirf_over_ctasim": round(t_pyirf / t_ctasim, 2),
        "max_relative_difference": agreement,
        "bins_compared": int(enough.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-events", type=int, default=5000, help="DL2 events (gammas + protons), about")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(bench_irf(args.n_events, args.seed, args.repeats), indent=2))


if __name__ == "__main__":
    main()
