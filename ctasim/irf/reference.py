"""Per-energy performance curves derived from a set of IRFs, by the same functions whichever GADF file
they come from: CTAO's Prod5 IRFs (the reference beside our figures) or ctasim's own (``irf/*.fits.gz``).

Definitions (those of ``ctasim.irf.resolution`` and ``ctasim.reco.metrics`` for events):

- effective area: A_eff of the FoV-offset bin holding ``fov_offset`` (m^2, per true energy);
- energy bias and resolution: median - 1 and half the 16-84% width of mu = E_reco / E_true, from the
  migration matrix of each true-energy bin normalised to 1 (its CDF is linear within a migration bin);
- R68: radius holding 68% of all events (deg, per true energy): of a PSF table (whose containment is
  linear in solid angle within a source-offset bin), or of the normalised three-Gaussian PSF;
- background rate: averaged over the FoV ring 0-1 deg (1/(s MeV sr), per reconstructed energy; the
  pixels of a BKG_3D weighted by their area inside the ring), and in the on region (1/s);
- differential point-source sensitivity, ``ctasim.irf.sensitivity``'s definition (50 h, 5 sigma Li & Ma,
  >= 10 excess events, excess >= 5% of the background, 5 off regions): per reconstructed-energy bin the
  signal is the source spectrum folded with A_eff and the migration (normalised per true energy: the
  Prod5 matrices hold probabilities per migration bin), the on region the RAD_MAX cut of point-like
  IRFs or, for full-enclosure IRFs, a circle of radius R68 holding 68% of the signal.

A ``Curve`` holds values at the geometric centres of energy bins; ``Curve.at`` interpolates linearly
in log E (and in log value). ``prod5_values`` gives the Prod5 North or South figures on a run's energy
bins as JSON lists: null where undefined, and everywhere when the files are absent (``reference_note``
then says so). Each Prod5 file is read once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from ..io.gadf_read import (
    Background2D,
    Background3D,
    EffectiveArea2D,
    EnergyDispersion2D,
    IrfSet,
    Psf3Gauss,
    PsfTable,
    RadMax2D,
    read_irfs,
)
from ..paths import PROD5_IRF_FILES, REFERENCE_DATA_ENV, prod5_irf_file
from ..spectra import Spectrum, cone_solid_angle
from .background import BACKGROUND_UNIT
from .binning import bin_index, check_edges, geometric_center
from .sensitivity import ALPHA, CRAB, FOV_OFFSET_MAX, OBSERVATION_TIME, relative_sensitivity

DEFAULT_FOV_OFFSET = 0.5 * u.deg  # the quickstart source's offset from the pointing
CONTAINMENT = 0.68
MIGRATION_QUANTILES = (0.16, 0.5, 0.84)
#: true-energy steps per decade when folding a spectrum through A_eff and the migration
FOLDING_STEPS_PER_DECADE = 200
#: sub-pixel samples per axis to find the area of a BKG_3D pixel inside the ring
PIXEL_SAMPLES = 10
#: bisection steps for the three-Gaussian containment radius (a bracket of 10 sigma shrinks below 1e-15)
N_BISECTION = 60
ENERGY_FLUX_UNIT = u.Unit("erg / (cm2 s)")
#: energies this close (in ln E) to the first or last bin centre count as on it (float32 edges of files)
LOG_E_TOLERANCE = 1e-6
#: curves of ``irf_curves`` (named after the keys of summary.json's ``irf.bins``) and their JSON units
UNITS = {
    "effective_area_m2": u.m**2,
    "energy_resolution": u.one,
    "energy_bias": u.one,
    "r68_deg": u.deg,
    "background_rate_per_s_mev_sr": BACKGROUND_UNIT,
    "background_rate_hz": 1 / u.s,
    "sensitivity_erg_cm2_s": ENERGY_FLUX_UNIT,
    "sensitivity_crab": u.one,
}
PROD5_SOURCE = "CTAO Instrument Response Functions, prod5 v0.1 (Zenodo, doi:10.5281/zenodo.5499840)"
REFERENCE_NOTE = (
    f"CTAO Prod5 Alpha IRFs {PROD5_IRF_FILES['north']} and {PROD5_IRF_FILES['south']} ({PROD5_SOURCE}), "
    f"20 deg zenith: A_eff, energy dispersion and PSF at FoV offset {DEFAULT_FOV_OFFSET.to_value(u.deg):g} deg, "
    f"background in the 0-{FOV_OFFSET_MAX.to_value(u.deg):g} deg ring, "
    f"{OBSERVATION_TIME.to_value(u.h):g} h point-source sensitivity on the same energy bins (on region R68 "
    "with 68% of the signal); computed by ctasim.irf.reference, interpolated in log E"
)


@dataclass(frozen=True, eq=False)
class Curve:
    """``values`` at the geometric centres of ``energy_bins`` (TeV edges); ``log_values``: interpolate
    log(value) (False for values that can be negative)."""

    energy_bins: u.Quantity
    values: u.Quantity
    log_values: bool = True

    @property
    def energy_center(self) -> u.Quantity:
        return geometric_center(self.energy_bins)

    def at(self, energy: u.Quantity) -> u.Quantity:
        """Values at ``energy``: a bin's value at its centre, linear in log E (and log value) between
        centres; NaN outside the centres or next to an undefined (NaN, or non-positive for
        ``log_values``) value."""
        xp = np.log(self.energy_center.to_value(u.TeV))
        x = np.log(np.atleast_1d(u.Quantity(energy).to_value(u.TeV)))
        values = self.values.value.astype(np.float64)
        nearest = np.abs(x[:, None] - xp[None, :]).argmin(axis=1)
        on_centre = np.abs(x - xp[nearest]) <= LOG_E_TOLERANCE
        out = np.full(x.shape, np.nan)
        if xp.size > 1:
            fp = np.log(np.where(values > 0, values, np.nan)) if self.log_values else values
            i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, xp.size - 2)
            w = (x - xp[i]) / (xp[i + 1] - xp[i])
            between = (1 - w) * fp[i] + w * fp[i + 1]
            out = np.where((w > 0) & (w < 1), np.exp(between) if self.log_values else between, np.nan)
        return np.where(on_centre, values[nearest], out) * self.values.unit


def effective_area_curve(aeff: EffectiveArea2D, fov_offset: u.Quantity = DEFAULT_FOV_OFFSET) -> Curve:
    """A_eff (m^2) per true energy at ``fov_offset``."""
    k = _offset_bin(aeff.fov_offset_bins, fov_offset, "effective area")
    return Curve(aeff.true_energy_bins, aeff.values[:, k].to(u.m**2))


def migration_quantiles(edisp: EnergyDispersion2D, quantiles: tuple[float, ...],
                        fov_offset: u.Quantity = DEFAULT_FOV_OFFSET) -> np.ndarray:
    """Quantiles of mu = E_reco / E_true per true-energy bin at ``fov_offset``, shape (n_true, n_quantiles);
    NaN for a bin without events."""
    k = _offset_bin(edisp.fov_offset_bins, fov_offset, "energy dispersion")
    cdf = _migration_cdf(edisp, k)
    return np.array([_crossings(edisp.migration_bins, row, quantiles, row[-1]) for row in cdf])


def energy_resolution_curves(edisp: EnergyDispersion2D,
                             fov_offset: u.Quantity = DEFAULT_FOV_OFFSET) -> tuple[Curve, Curve]:
    """(resolution: half the 16-84% width of mu, bias: median(mu) - 1) per true energy."""
    q16, q50, q84 = migration_quantiles(edisp, MIGRATION_QUANTILES, fov_offset).T
    return (Curve(edisp.true_energy_bins, 0.5 * (q84 - q16) * u.one),
            Curve(edisp.true_energy_bins, (q50 - 1.0) * u.one, log_values=False))


def r68_curve(psf: PsfTable | Psf3Gauss, fov_offset: u.Quantity = DEFAULT_FOV_OFFSET,
              containment: float = CONTAINMENT) -> Curve:
    """Radius (deg) holding ``containment`` of the events per true energy at ``fov_offset``."""
    k = _offset_bin(psf.fov_offset_bins, fov_offset, "PSF")
    if isinstance(psf, Psf3Gauss):
        radius = _gaussians_radius(psf.sigmas[:, :, k].to_value(u.deg), psf.amplitudes[:, :, k], containment)
    else:
        omega = cone_solid_angle(psf.source_offset_bins.to_value(u.deg))
        density = psf.values[:, k, :].to_value(u.sr**-1)
        cdf = np.concatenate([np.zeros((density.shape[0], 1)), np.cumsum(density * np.diff(omega), axis=1)], axis=1)
        solid = np.array([_crossings(omega, row, (containment,), 1.0)[0] for row in cdf])
        radius = np.rad2deg(np.arccos(1.0 - solid / (2.0 * np.pi)))
    return Curve(psf.true_energy_bins, radius * u.deg)


def background_rate_curve(bkg: Background2D | Background3D, reco_energy_bins: u.Quantity | None = None,
                          fov_offset_min: u.Quantity = 0 * u.deg,
                          fov_offset_max: u.Quantity = FOV_OFFSET_MAX) -> Curve:
    """Background rate (1/(s MeV sr)) averaged over the FoV ring, per reconstructed energy: in the file's
    bins, or averaged over ``reco_energy_bins`` (NaN for a bin the file does not cover)."""
    inner, outer = fov_offset_min.to_value(u.deg), fov_offset_max.to_value(u.deg)
    if isinstance(bkg, Background3D):
        weights = _pixel_weights(bkg.fov_lon_bins.to_value(u.deg), bkg.fov_lat_bins.to_value(u.deg), inner, outer)
        rate = np.tensordot(bkg.values.to_value(BACKGROUND_UNIT), weights, axes=([1, 2], [0, 1]))
    else:
        ring = np.clip(bkg.fov_offset_bins.to_value(u.deg), inner, outer)
        weights = np.diff(cone_solid_angle(ring))
        rate = bkg.values.to_value(BACKGROUND_UNIT) @ weights
    if not weights.sum() > 0:
        raise CtasimError(f"background rate: the FoV ring {inner:g}-{outer:g} deg is outside the file's bins")
    rate = rate / weights.sum()
    if reco_energy_bins is None:
        return Curve(bkg.reco_energy_bins, rate * BACKGROUND_UNIT)
    edges = check_edges(reco_energy_bins, u.TeV, "reconstructed energy bins")
    return Curve(edges, _rebinned(bkg.reco_energy_bins.to_value(u.TeV), rate, edges.to_value(u.TeV))
                 * BACKGROUND_UNIT)


def folded_signal(aeff: EffectiveArea2D, edisp: EnergyDispersion2D, spectrum: Spectrum,
                  reco_energy_bins: u.Quantity, observation_time: u.Quantity = OBSERVATION_TIME,
                  fov_offset: u.Quantity = DEFAULT_FOV_OFFSET) -> np.ndarray:
    """Expected events of a point source of ``spectrum`` per reconstructed-energy bin in
    ``observation_time``: spectrum x A_eff (constant within its bins) x time on a fine true-energy grid,
    each step spread over E_reco by the migration of its true-energy bin (normalised to 1)."""
    area_values = aeff.values[:, _offset_bin(aeff.fov_offset_bins, fov_offset, "effective area")]
    k = _offset_bin(edisp.fov_offset_bins, fov_offset, "energy dispersion")
    lo, hi = _folding_grid(aeff.true_energy_bins.to_value(u.TeV), edisp.true_energy_bins.to_value(u.TeV))
    center = np.sqrt(lo * hi)
    a_idx, a_in = bin_index(center, aeff.true_energy_bins.to_value(u.TeV))
    area = np.where(a_in, area_values.to_value(u.cm**2)[a_idx], 0.0)
    counts = spectrum(center) * (hi - lo) * area * observation_time.to_value(u.s)
    cdf = _migration_cdf(edisp, k)
    total = cdf[:, -1:]
    cdf = np.divide(cdf, total, out=np.zeros_like(cdf), where=total > 0)
    row, inside = bin_index(center, edisp.true_energy_bins.to_value(u.TeV))
    reco = check_edges(reco_energy_bins, u.TeV, "reconstructed energy bins").to_value(u.TeV)
    out = np.zeros(reco.size - 1)
    for c in np.flatnonzero(inside & (counts > 0)):
        out += counts[c] * np.diff(np.interp(reco / center[c], edisp.migration_bins, cdf[row[c]]))
    return out


def sensitivity_table(irfs: IrfSet, reco_energy_bins: u.Quantity | None = None,
                      fov_offset: u.Quantity = DEFAULT_FOV_OFFSET, spectrum: Spectrum = CRAB,
                      observation_time: u.Quantity = OBSERVATION_TIME, alpha: float = ALPHA,
                      fov_offset_max: u.Quantity = FOV_OFFSET_MAX) -> QTable:
    """Differential point-source sensitivity from IRFs (see the module docstring), per reconstructed-energy
    bin (default: the background's). Columns reco_energy_low/high/center (TeV), on_radius (deg),
    n_signal_weighted (at the flux of ``spectrum``, in the on region), n_background_weighted (expected off
    counts), background_rate_on (1/s), relative_sensitivity (flux / spectrum), flux_sensitivity (1/(TeV cm2
    s), at the centre), energy_flux_sensitivity (E^2 dN/dE, erg/(cm2 s)), sensitivity_crab (flux / the Crab
    log-parabola) and valid."""
    aeff, edisp, bkg = (irfs.require(name) for name in ("effective_area", "energy_dispersion", "background"))
    edges = check_edges(bkg.reco_energy_bins if reco_energy_bins is None else reco_energy_bins, u.TeV,
                        "reconstructed energy bins")
    center = geometric_center(edges)
    if irfs.point_like:
        radius, fraction = _rad_max_at(irfs.require("rad_max"), center, fov_offset), 1.0
    else:
        radius, fraction = r68_curve(irfs.require("psf"), fov_offset).at(center), CONTAINMENT
    on_region = cone_solid_angle(radius.to_value(u.deg)) * u.sr
    rate = background_rate_curve(bkg, edges, 0 * u.deg, fov_offset_max).values
    rate_on = (rate * np.diff(edges) * on_region).to(1 / u.s)
    n_off = (rate_on * observation_time).to_value(u.one) / alpha
    n_signal = fraction * folded_signal(aeff, edisp, spectrum, edges, observation_time, fov_offset)
    relative = relative_sensitivity(n_signal, n_off, alpha)
    valid = np.isfinite(relative) & np.isfinite(n_off)
    relative = np.where(valid, relative, np.nan)
    e = center.to_value(u.TeV)
    flux = relative * spectrum(e) * spectrum.unit
    table = QTable()
    table["reco_energy_low"], table["reco_energy_high"], table["reco_energy_center"] = edges[:-1], edges[1:], center
    table["on_radius"] = radius.to(u.deg)
    table["n_signal_weighted"], table["n_background_weighted"] = n_signal, n_off
    table["background_rate_on"] = rate_on
    table["relative_sensitivity"] = relative
    table["flux_sensitivity"] = flux.to(u.Unit("1 / (TeV cm2 s)"))
    table["energy_flux_sensitivity"] = (center**2 * flux).to(ENERGY_FLUX_UNIT)
    table["sensitivity_crab"] = relative * spectrum(e) / CRAB(e)
    table["valid"] = valid
    return table


def irf_curves(irfs: IrfSet, reco_energy_bins: u.Quantity | None = None,
               fov_offset: u.Quantity = DEFAULT_FOV_OFFSET, spectrum: Spectrum = CRAB) -> dict[str, Curve]:
    """Every curve of ``UNITS`` the file's HDUs allow (sensitivity: A_eff, energy dispersion, background
    and RAD_MAX or PSF); reconstructed-energy curves on ``reco_energy_bins`` (default: the background's)."""
    curves: dict[str, Curve] = {}
    if irfs.effective_area is not None:
        curves["effective_area_m2"] = effective_area_curve(irfs.effective_area, fov_offset)
    if irfs.energy_dispersion is not None:
        curves["energy_resolution"], curves["energy_bias"] = energy_resolution_curves(irfs.energy_dispersion,
                                                                                      fov_offset)
    if irfs.psf is not None:
        curves["r68_deg"] = r68_curve(irfs.psf, fov_offset)
    if irfs.background is not None:
        curves["background_rate_per_s_mev_sr"] = background_rate_curve(irfs.background, reco_energy_bins)
    on_region = irfs.rad_max if irfs.point_like else irfs.psf
    if None not in (irfs.effective_area, irfs.energy_dispersion, irfs.background, on_region):
        table = sensitivity_table(irfs, reco_energy_bins, fov_offset, spectrum)
        edges = np.append(table["reco_energy_low"].to_value(u.TeV), table["reco_energy_high"][-1].to_value(u.TeV))
        for key, column in (("background_rate_hz", "background_rate_on"),
                            ("sensitivity_erg_cm2_s", "energy_flux_sensitivity"),
                            ("sensitivity_crab", "sensitivity_crab")):
            curves[key] = Curve(edges * u.TeV, u.Quantity(table[column]))
    return curves


def curve_values(curves: dict[str, Curve], energy_bins: u.Quantity, keys: tuple[str, ...]) -> dict[str, list]:
    """Each curve of ``keys`` at the geometric centres of ``energy_bins`` as a JSON list in ``UNITS``
    (None where undefined, all None for a curve the IRFs lack)."""
    center = geometric_center(check_edges(energy_bins, u.TeV, "energy bins"))
    out = {}
    for key in keys:
        values = curves[key].at(center).to_value(UNITS[key]) if key in curves else np.full(center.size, np.nan)
        out[key] = [float(v) if np.isfinite(v) else None for v in values]
    return out


# ---------------------------------------------------------------------------------------- Prod5


def prod5_irfs(site: str) -> IrfSet | None:
    """The Prod5 IRFs of ``site`` ("north", "south"), read once per process; None without the file."""
    path = prod5_irf_file(site)
    return None if path is None else _read_once(path)


@lru_cache(maxsize=len(PROD5_IRF_FILES))
def _read_once(path: Path) -> IrfSet:
    return read_irfs(path)


def prod5_values(site: str, energy_bins: u.Quantity, keys: tuple[str, ...] = tuple(UNITS),
                 fov_offset: u.Quantity = DEFAULT_FOV_OFFSET) -> dict[str, list]:
    """The Prod5 figures of ``site`` on ``energy_bins`` (reconstructed-energy curves computed on those
    bins, true-energy curves at their centres), as ``curve_values``; all None without the file."""
    irfs = prod5_irfs(site)
    curves = {} if irfs is None else irf_curves(irfs, energy_bins, fov_offset)
    return curve_values(curves, energy_bins, keys)


def reference_note() -> str:
    """``REFERENCE_NOTE``, or which Prod5 files were not found and where they are looked for."""
    missing = [PROD5_IRF_FILES[site] for site in PROD5_IRF_FILES if prod5_irf_file(site) is None]
    if not missing:
        return REFERENCE_NOTE
    return (f"CTAO Prod5 reference IRF files not found ({', '.join(missing)}; {PROD5_SOURCE}): set "
            f"{REFERENCE_DATA_ENV} to the folder holding irf/ with them; their Prod5 values are null")


# ------------------------------------------------------------------------------------ internals


def _offset_bin(bins: u.Quantity, offset: u.Quantity, what: str) -> int:
    """Index of the FoV-offset bin holding ``offset``; CtasimError outside the bins."""
    idx, inside = bin_index(u.Quantity(offset), bins)
    if not inside:
        raise CtasimError(f"{what}: FoV offset {u.Quantity(offset).to_value(u.deg):g} deg outside the file's "
                          f"bins {bins[0].to_value(u.deg):g}-{bins[-1].to_value(u.deg):g} deg")
    return int(idx)


def _migration_cdf(edisp: EnergyDispersion2D, k: int) -> np.ndarray:
    """Cumulative migration probability at the migration edges per true-energy bin (n_true, n_migra + 1)."""
    mass = edisp.matrix[:, :, k] * np.diff(edisp.migration_bins)
    return np.concatenate([np.zeros((mass.shape[0], 1)), np.cumsum(mass, axis=1)], axis=1)


def _crossings(x: np.ndarray, cdf: np.ndarray, quantiles: tuple[float, ...], total: float) -> np.ndarray:
    """Where the CDF (non-decreasing, at ``x``, linear in between) reaches each quantile x ``total``; NaN
    when it never does or ``total`` is not positive."""
    if not total > 0:
        return np.full(len(quantiles), np.nan)
    target = np.asarray(quantiles, np.float64) * total
    j = np.searchsorted(cdf, target, side="left")
    ok = (j >= 1) & (j < cdf.size)
    j = np.clip(j, 1, cdf.size - 1)
    step = cdf[j] - cdf[j - 1]
    frac = np.divide(target - cdf[j - 1], step, out=np.zeros_like(target), where=step > 0)
    return np.where(ok, x[j - 1] + frac * (x[j] - x[j - 1]), np.nan)


def _gaussians_radius(sigmas: np.ndarray, amplitudes: np.ndarray, containment: float) -> np.ndarray:
    """Containment radius (deg) of sum_i A_i exp(-r^2 / 2 s_i^2) (shape (3, n)), by bisection; NaN without
    a positive component."""
    weights = np.where(sigmas > 0, amplitudes * sigmas**2, 0.0)
    total = weights.sum(axis=0)
    safe = np.where(sigmas > 0, sigmas, 1.0)
    lo, hi = np.zeros(sigmas.shape[1]), 10.0 * sigmas.max(axis=0)
    for _ in range(N_BISECTION):
        mid = 0.5 * (lo + hi)
        inside = (weights * -np.expm1(-0.5 * (mid / safe) ** 2)).sum(axis=0) >= containment * total
        hi, lo = np.where(inside, mid, hi), np.where(inside, lo, mid)
    return np.where(total > 0, hi, np.nan)


def _pixel_weights(lon: np.ndarray, lat: np.ndarray, inner: float, outer: float) -> np.ndarray:
    """Area (deg^2) of each (lon, lat) pixel between radii ``inner`` and ``outer``, from sub-pixel samples."""
    t = (np.arange(PIXEL_SAMPLES) + 0.5) / PIXEL_SAMPLES
    x = lon[:-1, None] + np.diff(lon)[:, None] * t
    y = lat[:-1, None] + np.diff(lat)[:, None] * t
    r2 = x[:, None, :, None] ** 2 + y[None, :, None, :] ** 2
    fraction = ((r2 >= inner**2) & (r2 < outer**2)).mean(axis=(2, 3))
    return fraction * np.diff(lon)[:, None] * np.diff(lat)[None, :]


def _rebinned(edges: np.ndarray, values: np.ndarray, new_edges: np.ndarray) -> np.ndarray:
    """Averages of the piecewise-constant ``values`` (bins ``edges``) over the ``new_edges`` bins; NaN
    for a bin not inside ``edges`` (float32 edges of a file allowed for)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values * np.diff(edges))])
    at = np.interp(new_edges, edges, cumulative)
    slack = np.exp(LOG_E_TOLERANCE)
    covered = (new_edges[:-1] >= edges[0] / slack) & (new_edges[1:] <= edges[-1] * slack)
    return np.where(covered, np.diff(at) / np.diff(new_edges), np.nan)


def _folding_grid(*axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) edges of fine logarithmic steps over the first axis' range, splitting every bin of
    every axis (edges within 1e-6 of each other merged) into FOLDING_STEPS_PER_DECADE per decade."""
    first = axes[0]
    edges = np.unique(np.concatenate([a[(a >= first[0]) & (a <= first[-1])] for a in axes]))
    log = np.log10(edges)
    log = log[np.concatenate([[True], np.diff(log) > 1e-6])]
    n = np.maximum(1, np.ceil(np.diff(log) * FOLDING_STEPS_PER_DECADE).astype(int))
    fine = np.concatenate([np.linspace(a, b, k, endpoint=False) for a, b, k in zip(log[:-1], log[1:], n)]
                          + [log[-1:]])
    return 10 ** fine[:-1], 10 ** fine[1:]


def _rad_max_at(rad_max: RadMax2D, energy: u.Quantity, fov_offset: u.Quantity) -> u.Quantity:
    """RAD_MAX (deg) of the reconstructed-energy bin holding each ``energy`` (NaN outside) at ``fov_offset``."""
    k = _offset_bin(rad_max.fov_offset_bins, fov_offset, "RAD_MAX")
    idx, inside = bin_index(energy, rad_max.reco_energy_bins)
    return np.where(inside, rad_max.values[idx, k].to_value(u.deg), np.nan) * u.deg
