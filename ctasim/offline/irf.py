"""DL2 -> IRFs, sensitivity and DL3: the IRF stage of a run directory.

``process_irf(run_dir, config)`` reads ``/dl2/events`` and ``/simulation/service/shower_distribution``
of every ``run_dir/dl2/*.dl2.h5`` and uses only the test events (``is_train`` False): each
population's simulated showers are scaled by its test fraction (test / all DL2 events of it; the
train split is a hash of the event ids, independent of the shower). Gammas (a point source) are
weighted to ``config.source_spectrum`` (Crab log-parabola by default), protons and electrons to the
IRF document's cosmic-ray spectra, helium to Hoerandel's (``ctasim.spectra``). Energy bins: ``bins_per_decade`` over the
gammas' simulated range, the same edges in true and reconstructed energy. Cuts per reconstructed
energy bin: theta at ``theta_containment`` % of the gammas (clipped to 0.05-0.32 deg), gammaness
optimised for the best 50 h sensitivity over ``gammaness_efficiencies`` among the cuts that keep
``min_background_events`` simulated background events (or at the fixed
``gammaness_efficiency``; then theta from the gammas after that cut).

Outputs (pass N = 1 + the highest pass in ``run_dir/irf``; files of earlier passes are kept):

- ``irf/irf_pass<N>.fits.gz``: point-like IRFs (gammaness + theta cuts): AEFF_2D, EDISP_2D, BKG_2D,
  RAD_MAX_2D; ``irf/irf_full_enclosure_pass<N>.fits.gz``: gammaness cut only, with a PSF_TABLE;
- ``irf/cuts_pass<N>.ecsv``: the cuts per reconstructed-energy bin (astropy ECSV);
- ``dl3/obs_<obs_id>_pass<N>.fits.gz``: ``n_observations`` consecutive observations of the simulated
  source, ``livetime_h`` in all, drawn from the weighted events after the gammaness cut
  (``ctasim.irf.observation``), and ``dl3/hdu-index.fits.gz`` + ``obs-index.fits.gz`` tying them to
  the point-like IRF file: ``gammapy.data.DataStore.from_dir(run_dir / "dl3")`` opens the latest pass.

Returns the JSON-friendly ``irf`` section of summary.json (``IRF_BIN_KEYS`` per energy bin; null
where a bin has too few events). Bad input raises a one-line ``CtasimError``.
"""

from __future__ import annotations

import dataclasses
import operator
import time
from pathlib import Path
from typing import Any

import astropy.units as u
import h5py
import numpy as np
from astropy.table import QTable, vstack

from ..datamodel import paths
from ..datamodel.ids import PRIMARY_IDS
from ..errors import CtasimError, DataFileError
from ..io import gadf
from ..io.atomic import published_together
from ..io.instrument import read_subarray
from ..io.provenance import read_provenance
from ..io.tables import read_table
from ..irf import cuts, observation
from ..irf.background import background_2d
from ..irf.binning import check_edges, energy_bins
from ..irf.effective_area import effective_area
from ..irf.energy_dispersion import energy_dispersion
from ..irf.events import DL2_COLUMNS, event_table
from ..irf.psf import psf_table
from ..irf.reference import prod5_values, reference_note
from ..irf.resolution import angular_resolution, energy_resolution
from ..irf.sensitivity import CRAB, FOV_OFFSET_MAX, OBSERVATION_TIME, differential_sensitivity
from ..irf.weights import SimulationInfo, event_weights, simulation_info
from ..spectra import (
    HOERANDEL_HELIUM,
    IRFDOC_ELECTRON,
    IRFDOC_PROTON,
    PowerLaw,
    PowerLawWithBump,
    Spectrum,
    spectrum_from_config,
)
from .files import data_files, next_irf_pass
from .science import ScienceInput

#: migration (E_reco / E_true) and PSF source-offset bins of the IRF files
MIGRATION_BINS = np.geomspace(0.2, 5.0, 31)
SOURCE_OFFSET_BINS = np.linspace(0.0, 1.0, 51) * u.deg
#: FoV-offset bin width of the background (deg); at most MAX_BACKGROUND_OFFSET from the pointing
BACKGROUND_OFFSET_STEP = 1.0
MAX_BACKGROUND_OFFSET = 5.0
BACKGROUND_SPECTRA: dict[str, Spectrum] = {
    "proton": PowerLaw(**IRFDOC_PROTON),
    "electron": PowerLawWithBump(**IRFDOC_ELECTRON),
    "helium": PowerLaw(**HOERANDEL_HELIUM),
}
#: per-bin lists of ``irf.bins`` (all reconstructed-energy bins but A_eff, dE/E and bias: true energy)
IRF_BIN_KEYS = (
    "e_min_tev", "e_max_tev", "e_center_tev", "gammaness_cut", "gamma_efficiency", "theta_cut_deg",
    "effective_area_m2", "effective_area_no_theta_cut_m2", "r68_deg", "energy_resolution", "energy_bias",
    "background_rate_hz", "background_rate_per_s_mev_sr", "sensitivity_crab", "sensitivity_erg_cm2_s",
    "n_gammas", "n_background",
)
#: keys of ``irf.bins`` with the CTAO Prod5 value beside, as ``prod5_{north,south}_<key>``
#: (``ctasim.irf.reference.prod5_values`` on the same energy bins)
PROD5_KEYS = ("effective_area_m2", "r68_deg", "energy_resolution", "background_rate_per_s_mev_sr",
              "sensitivity_erg_cm2_s", "sensitivity_crab")


def _read_dl2(files: list[Path]) -> dict[str, Any]:
    """Concatenated DL2 events and shower distributions, the subarray and the first file's provenance."""
    events, distribution, subarray, prov = [], [], None, {}
    needed = (*DL2_COLUMNS, "is_train", "multiplicity")
    for path in files:
        if path.name.endswith(".tmp"):
            raise DataFileError(f"{path}: incomplete DL2 file (its writer never finished); re-run DL2")
        try:
            with h5py.File(path, "r") as h5:
                for table in (paths.DL2_SUBARRAY_EVENTS, paths.SIMULATION_SHOWER_DISTRIBUTION):
                    if table not in h5:
                        raise DataFileError(f"{path}: DL2 file without {table}; re-run DL2")
                rows = read_table(h5, paths.DL2_SUBARRAY_EVENTS)[0]
                missing = [c for c in needed if c not in (rows.dtype.names or ())]
                if missing:
                    raise DataFileError(f"{path}: {paths.DL2_SUBARRAY_EVENTS} lacks column(s) {', '.join(missing)}")
                events.append(rows[list(needed)])
                distribution.append(read_table(h5, paths.SIMULATION_SHOWER_DISTRIBUTION)[0])
                if subarray is None:
                    subarray, prov = read_subarray(h5), read_provenance(h5)
        except (OSError, KeyError) as err:
            raise DataFileError(f"{path}: unreadable DL2 file ({err})") from None
    return {"events": np.concatenate(events), "distribution": np.concatenate(distribution),
            "subarray": subarray, "provenance": prov}


def _population(events: np.ndarray, distribution: np.ndarray, particle: str,
                min_multiplicity: int) -> tuple[QTable, SimulationInfo] | None:
    """The test events of one particle type that pass the quality cut (at least ``min_multiplicity``
    telescopes) as an IRF event table, and its simulation with the showers scaled by the test
    fraction (events failing the cut count as not detected); None when the run has no such
    population or no test event passes."""
    rows = distribution[distribution["particle"] == particle.encode()]
    if rows.size == 0:
        return None
    mine = events[np.isin(events["obs_id"], rows["obs_id"])]
    test = mine[~mine["is_train"]]
    if test.size == 0:
        return None
    info = simulation_info(rows)
    n_test = max(1, round(info.n_showers * test.size / mine.size))
    test = test[test["multiplicity"] >= min_multiplicity]
    if not test["is_valid"].any():
        return None
    return event_table(test), dataclasses.replace(info, n_showers=n_test)


def _weighted(table: QTable, info: SimulationInfo, spectrum: Spectrum) -> QTable:
    table["weight"] = event_weights(table["true_energy"], info, spectrum, observation.PER_SECOND)
    return table


def _for_time(table: QTable, livetime: u.Quantity) -> QTable:
    """A copy with weights per second scaled to ``livetime``."""
    out = table.copy(copy_data=False)
    out["weight"] = np.asarray(table["weight"]) * livetime.to_value(u.s)
    return out


def _passing(table: QTable, cut_table: QTable, column: str, op) -> np.ndarray:
    return cuts.evaluate_cut(table[column], table["reco_energy"], cut_table, op)


def _select(config, gammas: QTable, background: QTable, edges: u.Quantity) -> tuple[QTable, QTable, QTable]:
    """(gammaness cuts, theta cuts, 50 h sensitivity) per reconstructed-energy bin."""
    signal_50h, background_50h = _for_time(gammas, OBSERVATION_TIME), _for_time(background, OBSERVATION_TIME)
    target = spectrum_from_config(config.source_spectrum.to_config(), "irf.source_spectrum")
    if config.gammaness_efficiency is None:
        theta = cuts.theta_cut(gammas, edges, config.theta_containment)
        gh, _ = cuts.optimise_gammaness_cut(signal_50h, background_50h, edges, theta,
                                            np.asarray(config.gammaness_efficiencies),
                                            min_background_events=config.min_background_events,
                                            smoothing_bins=config.cut_smoothing_bins)
    else:
        gh = cuts.gammaness_cut(gammas, edges, config.gammaness_efficiency)
        theta = cuts.theta_cut(gammas[_passing(gammas, gh, "gammaness", operator.ge)], edges,
                               config.theta_containment)
    if not gh["valid"].any():
        raise CtasimError("IRF: no energy bin has enough test gammas for a gammaness cut (empty selection)")
    signal_pass = _passing(gammas, gh, "gammaness", operator.ge) & _passing(gammas, theta, "theta", operator.le)
    background_pass = _passing(background, gh, "gammaness", operator.ge)
    sensitivity = differential_sensitivity(signal_50h[signal_pass], background_50h[background_pass], edges, theta,
                                           signal_spectrum=target)
    return gh, theta, sensitivity


def _offset_bins(gamma_info: SimulationInfo, background_info: list[SimulationInfo]) -> tuple[u.Quantity, u.Quantity]:
    """FoV-offset bins (deg): one bin centred on the point source (from 0 for a source within 0.5
    deg), and 1 deg rings up to the background's view cone (at most MAX_BACKGROUND_OFFSET)."""
    if gamma_info.is_diffuse:
        raise CtasimError("IRF: the gamma population is diffuse; this stage needs a point source of gammas")
    d = gamma_info.source_offset.to_value(u.deg)
    gamma_bins = [0.0, max(1.0, 2.0 * d)] * u.deg
    cone = min(max(i.viewcone_max.to_value(u.deg) for i in background_info), MAX_BACKGROUND_OFFSET)
    n = max(1, int(np.ceil(cone / BACKGROUND_OFFSET_STEP - 1e-9)))
    return gamma_bins, np.linspace(0.0, n * BACKGROUND_OFFSET_STEP, n + 1) * u.deg


def _finite(values) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, np.float64)]


def _write_cuts(path: Path, gh: QTable, theta: QTable, source_spectrum: dict[str, Any]) -> Path:
    """The pass's cuts per reconstructed-energy bin, and (header) the spectrum the DL3 source was drawn from."""
    table = QTable()
    table["low"], table["high"], table["center"] = gh["low"], gh["high"], gh["center"]
    table["gammaness_cut"], table["gamma_efficiency"] = gh["cut"], gh["efficiency"]
    table["gammaness_valid"], table["n_gammas"] = gh["valid"], gh["n_events"]
    table["theta_cut"], table["theta_valid"] = theta["cut"], theta["valid"]
    table.meta["comment"] = "keep gammaness >= gammaness_cut and theta <= theta_cut in each reconstructed energy bin"
    table.meta["source_spectrum"] = dict(source_spectrum)
    with published_together([path]) as (tmp,):
        table.write(tmp, format="ascii.ecsv")
    return path


def process_irf(run_dir: str | Path, config, pass_number: int | None = None) -> dict:
    """The IRF stage of ``run_dir`` with ``config`` (``ctasim.scenario.IrfConfig``); see the module
    docstring. Returns the ``irf`` section of summary.json."""
    return irf_stage(run_dir, config, pass_number)[0]


def irf_stage(run_dir: str | Path, config, pass_number: int | None = None) -> tuple[dict, ScienceInput]:
    """``process_irf``, also returning what the science stage needs (``science.ScienceInput``, horizontal frame)."""
    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    data = _read_dl2(data_files(run_dir, "dl2"))
    pass_number = pass_number or next_irf_pass(run_dir)
    found = {p: _population(data["events"], data["distribution"], p, config.min_multiplicity)
             for p in ("gamma", *BACKGROUND_SPECTRA)}
    if found["gamma"] is None or found["proton"] is None:
        raise DataFileError(f"{run_dir / 'dl2'}: IRFs need test gammas and test protons in the DL2 files "
                            f"(found: {', '.join(p for p, v in found.items() if v) or 'none'})")
    gammas, gamma_info = found["gamma"]
    target = spectrum_from_config(config.source_spectrum.to_config(), "irf.source_spectrum")
    _weighted(gammas, gamma_info, target)
    backgrounds = [_weighted(t, i, BACKGROUND_SPECTRA[p]) for p, v in found.items() if p != "gamma" and v
                   for t, i in [v]]
    background = vstack(backgrounds) if len(backgrounds) > 1 else backgrounds[0]
    gamma_offsets, background_offsets = _offset_bins(
        gamma_info, [found[p][1] for p in BACKGROUND_SPECTRA if found[p]])
    edges = energy_bins(gamma_info.energy_min, gamma_info.energy_max, config.bins_per_decade)
    check_edges(edges, u.TeV, "energy bins")

    gh, theta, sensitivity = _select(config, gammas, background, edges)
    gh_pass = _passing(gammas, gh, "gammaness", operator.ge)
    gammas_gh = gammas[gh_pass]
    gammas_sel = gammas[gh_pass & _passing(gammas, theta, "theta", operator.le)]
    background_gh = background[_passing(background, gh, "gammaness", operator.ge)]
    if len(gammas_sel) == 0 or len(background_gh) == 0:
        raise CtasimError("IRF: no test gammas or no background events pass the cuts (empty selection after cuts)")

    aeff_point = effective_area(gammas_sel, gamma_info, edges, gamma_offsets)
    aeff_full = effective_area(gammas_gh, gamma_info, edges, gamma_offsets)
    edisp_point = energy_dispersion(gammas_sel, edges, MIGRATION_BINS, gamma_offsets)
    edisp_full = energy_dispersion(gammas_gh, edges, MIGRATION_BINS, gamma_offsets)
    psf = psf_table(gammas_gh, edges, gamma_offsets, SOURCE_OFFSET_BINS)
    bkg = background_2d(background_gh, edges, background_offsets, observation.PER_SECOND)
    radius = cuts.rad_max(theta, gamma_offsets)

    site = "south" if "south" in data["subarray"].site.name.lower() else "north"
    prov = data["provenance"]
    source_altaz = (float(np.median(gammas["true_alt"].to_value(u.deg))),
                    float(np.median(gammas["true_az"].to_value(u.deg))))
    run = gadf.RunInfo.from_subarray(data["subarray"], object_name=f"simulated source ({config.source_spectrum.type})",
                                     object_altaz=source_altaz)
    irf_dir, dl3_dir = run_dir / "irf", run_dir / "dl3"
    point_file = gadf.write_irf_file(irf_dir / f"irf_pass{pass_number}.fits.gz", [
        gadf.aeff_2d_hdu(aeff_point, edges, gamma_offsets, point_like=True),
        gadf.edisp_2d_hdu(edisp_point, edges, MIGRATION_BINS, gamma_offsets, point_like=True),
        gadf.bkg_2d_hdu(bkg, edges, background_offsets, point_like=True),
        gadf.rad_max_2d_hdu(radius, edges, gamma_offsets),
    ], run)
    full_file = gadf.write_irf_file(irf_dir / f"irf_full_enclosure_pass{pass_number}.fits.gz", [
        gadf.aeff_2d_hdu(aeff_full, edges, gamma_offsets),
        gadf.edisp_2d_hdu(edisp_full, edges, MIGRATION_BINS, gamma_offsets),
        gadf.psf_table_hdu(psf, edges, gamma_offsets, SOURCE_OFFSET_BINS),
        gadf.bkg_2d_hdu(bkg, edges, background_offsets),
    ], run)
    cuts_file = _write_cuts(irf_dir / f"cuts_pass{pass_number}.ecsv", gh, theta, config.source_spectrum.to_config())

    livetimes = np.full(config.n_observations, config.livetime_h / config.n_observations) * u.h
    observations = observation.draw_observations([gammas, *backgrounds], gh, livetimes,
                                                 seed=int(prov.get("seed", 0)))
    events_files = {obs.obs_id: gadf.write_events_file(dl3_dir / f"obs_{obs.obs_id:06d}_pass{pass_number}.fits.gz",
                                                       obs, run) for obs in observations}
    index_files = gadf.write_index_files(dl3_dir, {i: [f, point_file] for i, f in events_files.items()})

    bins = _bin_figures(edges, gh, theta, sensitivity, aeff_point, aeff_full, gammas_gh, gammas_sel,
                        background_gh)
    for ref_site in ("north", "south"):
        for key, values in prod5_values(ref_site, edges, PROD5_KEYS).items():
            bins[f"prod5_{ref_site}_{key}"] = values
    products = ScienceInput.horizontal(
        observations, source_azalt=source_altaz[::-1], energy_bins=edges, effective_area=aeff_point[:, 0],
        migration=edisp_point[:, :, 0], migration_bins=MIGRATION_BINS, theta_cuts=theta,
        gammaness_valid=np.asarray(gh["valid"], bool), source_spectrum=target,
        spectrum_config=config.source_spectrum.to_config())
    return {
        "pass_number": pass_number,
        "site": site,
        "reference": reference_note(),
        "source_spectrum": config.source_spectrum.type,
        "sensitivity_time_h": OBSERVATION_TIME.to_value(u.h),
        "gammaness_optimised": config.gammaness_efficiency is None,
        "fov_offset_bins_deg": gamma_offsets.to_value(u.deg).tolist(),
        "background_offset_bins_deg": background_offsets.to_value(u.deg).tolist(),
        "counts": {
            "test_gammas": len(gammas),
            "test_background": len(background),
            "selected_gammas": len(gammas_sel),
            "selected_background": len(background_gh),
        },
        "bins": bins,
        "dl3": {
            "dir": str(dl3_dir),
            "livetime_h": float(config.livetime_h),
            "observations": [{"obs_id": o.obs_id, "livetime_s": o.livetime, "n_events": len(o.events),
                              "n_gammas": int(np.count_nonzero(np.asarray(o.events["true_shower_primary_id"])
                                                               == PRIMARY_IDS["gamma"]))}
                             for o in observations],
        },
        "files": [str(p) for p in (point_file, full_file, cuts_file, *events_files.values(), *index_files)],
        "wall_s": time.perf_counter() - t0,
    }, products


def _bin_figures(edges, gh, theta, sensitivity, aeff_point, aeff_full, gammas_gh, gammas_sel,
                 background_gh) -> dict[str, list]:
    """The per-energy-bin lists of ``irf.bins`` (IRF_BIN_KEYS)."""
    r68 = angular_resolution(gammas_gh, edges, "true")
    eres = energy_resolution(gammas_sel, edges)
    valid = np.asarray(gh["valid"])
    center = u.Quantity(gh["center"]).to_value(u.TeV)
    theta_deg = u.Quantity(theta["cut"]).to_value(u.deg)
    ring = background_2d(background_gh, edges, [0.0, FOV_OFFSET_MAX.to_value(u.deg)] * u.deg,
                         observation.PER_SECOND)[:, 0]
    on_region = (2 * np.pi * (1 - np.cos(np.deg2rad(theta_deg)))) * u.sr
    rate_on = (ring * np.diff(edges) * on_region).to_value(1 / u.s)
    energy_flux = u.Quantity(sensitivity["energy_flux_sensitivity"]).to_value(u.erg / u.cm**2 / u.s)
    crab_energy_flux = (center**2 * CRAB(center) * u.Unit("TeV / (cm2 s)")).to_value(u.erg / u.cm**2 / u.s)
    sens_ok = np.asarray(sensitivity["valid"]) & valid
    return {
        "e_min_tev": edges[:-1].to_value(u.TeV).tolist(),
        "e_max_tev": edges[1:].to_value(u.TeV).tolist(),
        "e_center_tev": center.tolist(),
        "gammaness_cut": _finite(np.where(valid, u.Quantity(gh["cut"]).value, np.nan)),
        "gamma_efficiency": _finite(np.where(valid, gh["efficiency"], np.nan)),
        "theta_cut_deg": _finite(theta_deg),
        "effective_area_m2": _finite(np.where(valid, aeff_point[:, 0].to_value(u.m**2), np.nan)),
        "effective_area_no_theta_cut_m2": _finite(np.where(valid, aeff_full[:, 0].to_value(u.m**2), np.nan)),
        "r68_deg": _finite(np.where(r68["valid"], r68["angular_resolution"].to_value(u.deg), np.nan)),
        "energy_resolution": _finite(np.where(eres["valid"], eres["resolution"], np.nan)),
        "energy_bias": _finite(np.where(eres["valid"], eres["bias"], np.nan)),
        "background_rate_hz": _finite(np.where(valid, rate_on, np.nan)),
        "background_rate_per_s_mev_sr": _finite(np.where(valid, ring.value, np.nan)),
        "sensitivity_crab": _finite(np.where(sens_ok, energy_flux / crab_energy_flux, np.nan)),
        "sensitivity_erg_cm2_s": _finite(np.where(sens_ok, energy_flux, np.nan)),
        "n_gammas": [int(n) for n in sensitivity["n_signal"]],
        "n_background": [int(n) for n in sensitivity["n_background"]],
    }
