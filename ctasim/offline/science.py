"""DL4 science of an IRF pass: the on/off spectrum of its DL3 observations, a spectral fit, a sky map.

``science_section(ScienceInput)`` takes the events (positions and reconstructed energies) and the
point-like effective area and energy dispersion at the source's FoV offset, the theta (RAD_MAX) cut
per reconstructed-energy bin and the source and pointing positions, in one spherical frame (handled as
longitude / latitude): in memory from the IRF stage (``ScienceInput.horizontal``: az, alt; the pointing
is fixed in alt/az), or read back from the DL3 files of a pass (``science_from_dl3``: RA, Dec). On region:
events within the theta cut of their reconstructed-energy bin around the source; off regions: the same
cut around ``n_off`` positions reflected about the pointing at the source's offset (fewer when they
would overlap the on region), alpha = 1 / n_off. The on/off spectrum
(``ctasim.science.spectral_fit.OnOffSpectrum``, fitted over the bins with valid cuts) is fitted with the
injected spectrum's family (``fit_model``: a power law or a log-parabola at 1 TeV) started at its values.
The sky map is a ring-background significance map around the source (``ctasim.science.maps``).

Returns the JSON-friendly ``science`` section of summary.json (non-finite values as null); too little
signal or unusable input raises a one-line ``CtasimError`` (``run_offline`` records it as ``error``).
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord, angular_separation
from astropy.io import fits
from astropy.table import QTable, vstack

from ..errors import CtasimError, DataFileError
from ..io.atomic import write_text_atomic
from ..io.gadf import DL3Observation
from ..io.gadf_read import read_irfs
from ..irf.cuts import evaluate_cut
from ..science.folding import SpectralResponse, edisp_kernel
from ..science.maps import counts_map, ring_background, sky_grid
from ..science.regions import N_OFF, angle_rad, reflected_positions
from ..science.significance import signed_li_ma
from ..science.spectral_fit import FREE_PARAMETERS, OnOffSpectrum, fit_spectrum
from ..spectra import PowerLaw, Spectrum, spectrum_from_config
from .files import next_irf_pass

#: energy of the compared local index and flux (TeV); log step of the local-index derivative
E_COMPARE_TEV = 1.0
LOG_STEP = 1e-3
#: sky map: width and pixel (deg); ring of the background from RING_INNER_FACTOR x the on radius, RING_WIDTH_DEG wide
MAP_WIDTH_DEG, MAP_PIXEL_DEG = 3.0, 0.05
RING_INNER_FACTOR, RING_WIDTH_DEG = 3.0, 0.3
FLUX_UNIT = "1 / (TeV cm2 s)"
SCIENCE_PASS = re.compile(r"^science_pass(\d+)\.json$")


def local_power_law(spectrum: Spectrum, energy_tev: float = E_COMPARE_TEV) -> tuple[float, float]:
    """(d ln F / d ln E, F) of ``spectrum`` at ``energy_tev``: the index (negative) and flux (1 / (TeV cm2 s))."""
    low, high = (float(spectrum(energy_tev * np.exp(s))) for s in (-LOG_STEP, LOG_STEP))
    return float(np.log(high / low) / (2 * LOG_STEP)), float(spectrum(energy_tev))


def fit_model(injected: Spectrum) -> Spectrum:
    """The model fitted to the on/off spectrum: the injected one's family (a power law or a log-parabola)
    at 1 TeV, started at its values; any other spectrum by a power law of its local index and flux."""
    if type(injected) in FREE_PARAMETERS and injected.e_ref == E_COMPARE_TEV:
        return injected
    index, flux = local_power_law(injected)
    return PowerLaw(normalization=flux, index=index, e_ref=E_COMPARE_TEV)


def _local_index_error(result) -> float:
    """Error of the fitted index at 1 TeV: of ``index`` (power law) or ``a`` (log-parabola at 1 TeV)."""
    return result.errors.get("index", result.errors.get("a", float("nan")))


def _pulls(result, injected: Spectrum) -> dict[str, float]:
    """(fitted - injected) / error of each fitted parameter the injected model shares."""
    truth = dataclasses.asdict(injected) if type(injected) is type(result.model) else {}
    return {n: (v - truth[n]) / result.errors[n] for n, v in result.parameters.items()
            if n in truth and result.errors[n] > 0}


@dataclasses.dataclass(frozen=True, eq=False)
class ScienceInput:
    """What the on/off analysis needs, in one spherical frame: per event ``lon``, ``lat`` (deg) and
    reconstructed ``energy`` (TeV); the summed ``livetime`` (s); (lon, lat) of the ``source`` and the
    ``pointing`` (deg); energy bin edges (TeV, true = reconstructed), the point-like effective area (m^2)
    and migration density at the source's FoV offset, the theta cuts and gammaness-cut validity per
    reconstructed-energy bin, the injected spectrum (object and scenario mapping) and the ``frame`` name."""

    lon: np.ndarray
    lat: np.ndarray
    energy: np.ndarray
    livetime: u.Quantity
    source: tuple[float, float]
    pointing: tuple[float, float]
    energy_bins: u.Quantity
    effective_area: u.Quantity
    migration: np.ndarray
    migration_bins: np.ndarray
    theta_cuts: QTable
    gammaness_valid: np.ndarray
    source_spectrum: Spectrum
    spectrum_config: dict[str, Any]
    frame: str

    @classmethod
    def horizontal(cls, observations: Sequence[DL3Observation], source_azalt: tuple[float, float],
                   **irfs: Any) -> ScienceInput:
        """The input of drawn DL3 observations in memory (reconstructed az, alt; one pointing), with the
        IRF fields (``energy_bins`` ... ``spectrum_config``) as keywords."""
        full = [o for o in observations if not o.is_empty]
        events = vstack([o.events for o in full]) if full else {k: [] for k in ("reco_az", "reco_alt", "reco_energy")}
        first = observations[0]
        return cls(lon=u.Quantity(events["reco_az"], u.deg).value, lat=u.Quantity(events["reco_alt"], u.deg).value,
                   energy=u.Quantity(events["reco_energy"], u.TeV).value, livetime=sum(o.livetime for o in full) * u.s,
                   source=tuple(source_azalt), pointing=(first.pointing_az, first.pointing_alt),
                   frame="horizontal (az, alt)", **irfs)


def science_section(d: ScienceInput, n_off: int = N_OFF) -> dict[str, Any]:
    """The ``science`` section of summary.json: the on/off spectrum, its fit and the sky map of ``d``
    (see the module docstring)."""
    if d.lon.size == 0:
        raise CtasimError("science: the DL3 observations hold no events (too little signal)")
    edges, theta, lon, lat, energy, livetime = d.energy_bins, d.theta_cuts, d.lon, d.lat, d.energy, d.livetime
    valid = np.asarray(d.gammaness_valid, bool) & np.asarray(theta["valid"], bool)
    cut_deg = u.Quantity(theta["cut"]).to_value(u.deg)
    radius = float(cut_deg[valid].max()) if valid.any() else float(cut_deg.max())
    try:
        offs = reflected_positions(d.source, d.pointing, radius, n_off)
    except CtasimError as err:
        raise CtasimError(f"science: {err}") from None

    def inside(center: tuple[float, float]) -> np.ndarray:
        sep = np.rad2deg(angle_rad(angular_separation(*np.deg2rad(center), np.deg2rad(lon), np.deg2rad(lat))))
        return evaluate_cut(sep * u.deg, energy * u.TeV, theta, operator.le)

    on = inside(d.source)
    off = np.any([inside(c) for c in offs], axis=0)
    alpha = 1.0 / len(offs)
    kernel = edisp_kernel(d.migration, edges, d.migration_bins, edges)
    response = SpectralResponse(edges, edges, d.effective_area, kernel, livetime)
    data = OnOffSpectrum.from_events(energy[on] * u.TeV, energy[off] * u.TeV, alpha, response, mask=valid)
    if data.excess[valid].sum() <= 0:
        raise CtasimError("science: no excess in the on region (too little signal for a spectral fit)")
    index, flux = local_power_law(d.source_spectrum)
    result = fit_spectrum(data, fit_model(d.source_spectrum))
    fitted = result.to_dict()
    fit_index, fit_flux = local_power_law(result.model)
    n_on, n_off_total = float(data.n_on[valid].sum()), float(data.n_off[valid].sum())
    return _json({
        "frame": d.frame,
        "injected": {"spectrum": d.spectrum_config, "model": type(d.source_spectrum).__name__,
                     "parameters": dataclasses.asdict(d.source_spectrum), "local_index": index,
                     "flux_1tev": flux, "flux_unit": FLUX_UNIT},
        "fit": fitted | {"index": fit_index, "index_error": _local_index_error(result),
                         "flux_1tev": fit_flux, "flux_1tev_error": fitted["errors"]["normalization"],
                         "pulls": _pulls(result, d.source_spectrum)},
        "livetime_s": float(livetime.to_value(u.s)),
        "n_off_regions": len(offs),
        "alpha": alpha,
        "on_radius_max_deg": radius,
        "source_offset_deg": float(np.rad2deg(angle_rad(angular_separation(*np.deg2rad(d.source),
                                                                      *np.deg2rad(d.pointing))))),
        "totals": {"n_on": n_on, "n_off": n_off_total, "excess": n_on - alpha * n_off_total,
                   "significance": float(signed_li_ma(n_on, n_off_total, alpha))},
        "bins": {"e_min_tev": edges[:-1].to_value(u.TeV), "e_max_tev": edges[1:].to_value(u.TeV),
                 "n_on": data.n_on, "n_off": data.n_off, "excess": data.excess,
                 "predicted_excess": np.asarray(result.bins["predicted_excess"]), "in_fit": valid},
        "sky_map": _sky_map(lon, lat, d.source, radius),
    })


def _sky_map(lon: np.ndarray, lat: np.ndarray, source: tuple[float, float], radius_deg: float) -> dict[str, Any]:
    """Peak of a ring-background significance map around the source (horizontal frame as lon / lat)."""
    center = SkyCoord(*source, unit="deg")
    grid = sky_grid(center, MAP_WIDTH_DEG * u.deg, MAP_PIXEL_DEG * u.deg)
    counts = counts_map(lon * u.deg, lat * u.deg, grid)
    inner = RING_INNER_FACTOR * radius_deg
    maps = ring_background(counts, grid, radius_deg * u.deg, inner * u.deg, (inner + RING_WIDTH_DEG) * u.deg)
    significance = np.where(np.isfinite(maps.significance), maps.significance, -np.inf)
    peak = np.unravel_index(np.argmax(significance), grid.shape)
    position = grid.pixel_centers()[peak]
    return {"width_deg": MAP_WIDTH_DEG, "pixel_deg": MAP_PIXEL_DEG, "on_radius_deg": radius_deg,
            "ring_deg": [inner, inner + RING_WIDTH_DEG], "n_events": float(counts.sum()),
            "peak_significance": float(maps.significance[peak]),
            "peak_excess": float(maps.excess[peak]),
            "peak_offset_from_source_deg": float(position.separation(center).to_value(u.deg))}


def _json(value: Any) -> Any:
    """Plain JSON types: arrays to lists, numpy scalars to Python ones, non-finite floats to None."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json(v) for v in np.asarray(value).tolist()] if isinstance(value, np.ndarray) \
            else [_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def science_from_dl3(run_dir: str | Path, pass_number: int | None = None, n_off: int = N_OFF) -> dict[str, Any]:
    """The ``science`` section from the files of IRF pass ``pass_number`` (default: the latest) of
    ``run_dir``: its DL3 observations (``dl3/obs_*_pass<N>.fits.gz``: EVENTS RA, DEC, ENERGY, LIVETIME,
    RA_PNT / DEC_PNT, RA_OBJ / DEC_OBJ), point-like IRFs (``irf/irf_pass<N>.fits.gz``, read by
    ``ctasim.io.gadf_read``) and cuts (``irf/cuts_pass<N>.ecsv``), in the ICRS frame; the injected
    spectrum from the cuts' header. One-line DataFileError when a file is missing or unusable."""
    run_dir = Path(run_dir)
    latest = next_irf_pass(run_dir) - 1
    number = latest if pass_number is None else int(pass_number)
    if number < 1 or number > latest:
        raise DataFileError(f"{run_dir / 'irf'}: no IRF pass {pass_number if pass_number else ''}".rstrip()
                            + (f" (passes 1 to {latest})" if latest else " (run `ctasim irf` first)"))
    irfs = read_irfs(run_dir / "irf" / f"irf_pass{number}.fits.gz")
    cuts_path = run_dir / "irf" / f"cuts_pass{number}.ecsv"
    try:
        cuts = QTable.read(cuts_path, format="ascii.ecsv")
    except (OSError, ValueError) as err:
        raise DataFileError(f"{cuts_path}: unreadable cuts table ({err})") from None
    events_files = sorted((run_dir / "dl3").glob(f"obs_*_pass{number}.fits.gz"))
    lon, lat, energy, livetime, source, pointing = _dl3_events(events_files)
    aeff, edisp = irfs.require("effective_area"), irfs.require("energy_dispersion")
    offset = float(np.rad2deg(angle_rad(angular_separation(*np.deg2rad(source), *np.deg2rad(pointing)))))
    column = int(np.clip(np.searchsorted(aeff.fov_offset_bins.to_value(u.deg), offset, "right") - 1,
                         0, aeff.values.shape[1] - 1))
    spectrum_config = cuts.meta.get("source_spectrum")
    if not isinstance(spectrum_config, dict):
        raise DataFileError(f"{cuts_path}: no source_spectrum in its header (written by ctasim before 0.3; "
                            "re-run `ctasim irf`)")
    theta = QTable({"low": cuts["low"], "high": cuts["high"], "center": cuts["center"], "cut": cuts["theta_cut"],
                    "valid": cuts["theta_valid"]})
    section = science_section(ScienceInput(
        lon=lon, lat=lat, energy=energy, livetime=livetime, source=source, pointing=pointing,
        energy_bins=aeff.true_energy_bins, effective_area=aeff.values[:, column],
        migration=edisp.matrix[:, :, column], migration_bins=edisp.migration_bins, theta_cuts=theta,
        gammaness_valid=np.asarray(cuts["gammaness_valid"], bool),
        source_spectrum=spectrum_from_config(spectrum_config, str(cuts_path)),
        spectrum_config=spectrum_config, frame="ICRS (RA, Dec)"), n_off)
    return section | {"irf_pass": number, "from_files": True}


def _dl3_events(files: list[Path]) -> tuple:
    """(RA, Dec deg, energy TeV, summed livetime, object (RA, Dec), pointing (RA, Dec)) of DL3 events files."""
    if not files:
        raise DataFileError("no DL3 events files of that IRF pass (dl3/obs_*_pass<N>.fits.gz)")
    columns, livetime, positions = [], 0.0, set()
    for path in files:
        try:
            with fits.open(path) as hdul:
                hdu = hdul["EVENTS"]
                h = hdu.header
                columns.append([np.asarray(hdu.data[c], np.float64) for c in ("RA", "DEC", "ENERGY")])
                livetime += float(h["LIVETIME"])
                positions.add(((float(h["RA_OBJ"]), float(h["DEC_OBJ"])), (float(h["RA_PNT"]), float(h["DEC_PNT"]))))
        except (OSError, KeyError) as err:
            raise DataFileError(f"{path}: not a DL3 events file with EVENTS RA, DEC, ENERGY, LIVETIME, RA_OBJ/DEC_OBJ, "
                                f"RA_PNT/DEC_PNT ({err})") from None
    if len(positions) != 1:
        raise DataFileError(f"{files[0].parent}: the observations of one pass point differently ({len(positions)} "
                            "pointings / objects)")
    (source, pointing), = positions
    ra, dec, energy = (np.concatenate(c) for c in zip(*columns))
    if ra.size == 0:
        raise CtasimError("science: the DL3 observations hold no events (too little signal)")
    return ra, dec, energy, livetime * u.s, source, pointing


def write_science_pass(run_dir: str | Path, section: dict[str, Any]) -> dict[str, Any]:
    """Store ``section`` as ``run_dir/science/science_pass<K>.json`` (K: 1 + the highest there, earlier
    passes untouched); returns it with ``pass_number`` and ``file``."""
    out_dir = Path(run_dir) / "science"
    out_dir.mkdir(parents=True, exist_ok=True)
    found = [int(m.group(1)) for p in out_dir.glob("science_pass*.json") if (m := SCIENCE_PASS.match(p.name))]
    number = max(found, default=0) + 1
    path = out_dir / f"science_pass{number}.json"
    section = section | {"pass_number": number, "file": str(path)}
    write_text_atomic(path, json.dumps(section, indent=1) + "\n")
    return section
