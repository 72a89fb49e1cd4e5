"""Light curve: excess rate, flux and significance of a source per time bin from on/off counts.

In each time bin the excess n_on - alpha n_off (the WStat maximum-likelihood signal of one energy bin)
is divided by the counts a fixed spectral shape predicts for that bin's livetime (its exposure folded
through the IRFs, ``folding.SpectralResponse``, over the reconstructed-energy bins counted), giving the
flux relative to the shape and the integral flux in an energy range. Errors are Gaussian,
sqrt(n_on + alpha^2 n_off) on the excess (good above ~10 counts); the significance is the signed Li & Ma.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import QTable

from ..errors import CtasimError
from ..irf.binning import check_edges, histogram
from ..spectra import Spectrum
from .folding import SpectralResponse
from .significance import signed_li_ma

INTEGRAL_FLUX_UNIT = u.Unit("1 / (cm2 s)")


def light_curve(time_bins: u.Quantity, n_on: np.ndarray, n_off: np.ndarray, alpha: np.ndarray | float,
                livetime: u.Quantity, response: SpectralResponse, spectrum: Spectrum,
                energy_range: tuple[u.Quantity, u.Quantity] | None = None) -> QTable:
    """Per time bin (edges ``time_bins``, e.g. s since the reference time): on/off counts over all
    reconstructed-energy bins of ``response``, alpha, ``livetime`` (> 0 in every bin) -> columns time_min,
    time_max, livetime, n_on, n_off, alpha, excess, excess_error, excess_rate(_error) (1/s),
    relative_flux(_error) (flux / ``spectrum``), flux(_error) (integral of the scaled spectrum over
    ``energy_range``, default the reconstructed-energy range, 1 / (cm2 s)) and significance."""
    edges = check_edges(time_bins, u.s, "time bins")
    n_bins = edges.size - 1
    values = {"n_on": np.asarray(n_on, np.float64), "n_off": np.asarray(n_off, np.float64),
              "alpha": np.array(np.broadcast_to(np.asarray(alpha, np.float64), (n_bins,)))}
    try:
        values["livetime"] = np.array(np.broadcast_to(u.Quantity(livetime).to_value(u.s), (n_bins,)))
    except (u.UnitsError, TypeError, ValueError):
        unit = getattr(livetime, "unit", "no unit")
        raise CtasimError(f"light curve: livetime in {unit}: expected a time per time bin") from None
    for name, array in values.items():
        if array.shape != (n_bins,):
            raise CtasimError(f"light curve: {name} has shape {array.shape}, expected ({n_bins},) as the time bins")
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise CtasimError(f"light curve: {name} must be finite and >= 0")
    if np.any(values["alpha"] <= 0) or np.any(values["livetime"] <= 0):
        raise CtasimError("light curve: alpha and livetime must be > 0 in every time bin (drop bins without data)")
    if values["n_on"].sum() <= 0:
        raise CtasimError("light curve: no on counts in any time bin")
    rate_per_shape = response.with_livetime(1 * u.s).predicted_counts(spectrum).sum()
    if not rate_per_shape > 0:
        raise CtasimError("light curve: the spectral shape predicts no counts (no exposure in the energy bins?)")
    e_min, e_max = (response.reco_energy_bins[[0, -1]] if energy_range is None else
                    u.Quantity(energy_range, u.TeV))
    flux_of_shape = float(spectrum.integral(e_min.to_value(u.TeV), e_max.to_value(u.TeV)))

    n_on, n_off, alpha, t = values["n_on"], values["n_off"], values["alpha"], values["livetime"]
    excess, excess_error = n_on - alpha * n_off, np.sqrt(n_on + alpha**2 * n_off)
    relative, relative_error = excess / (rate_per_shape * t), excess_error / (rate_per_shape * t)
    table = QTable()
    table["time_min"], table["time_max"] = edges[:-1], edges[1:]
    table["livetime"] = t * u.s
    table["n_on"], table["n_off"], table["alpha"] = n_on, n_off, alpha
    table["excess"], table["excess_error"] = excess, excess_error
    table["excess_rate"], table["excess_rate_error"] = excess / t / u.s, excess_error / t / u.s
    table["relative_flux"], table["relative_flux_error"] = relative, relative_error
    table["flux"] = relative * flux_of_shape * INTEGRAL_FLUX_UNIT
    table["flux_error"] = relative_error * flux_of_shape * INTEGRAL_FLUX_UNIT
    table["significance"] = signed_li_ma(n_on, n_off, alpha)
    table.meta["energy_range_tev"] = [float(e_min.to_value(u.TeV)), float(e_max.to_value(u.TeV))]
    return table


def light_curve_from_events(time_bins: u.Quantity, on_time: u.Quantity, on_energy: u.Quantity,
                            off_time: u.Quantity, off_energy: u.Quantity, alpha: np.ndarray | float,
                            livetime: u.Quantity, response: SpectralResponse, spectrum: Spectrum,
                            energy_range: tuple[u.Quantity, u.Quantity] | None = None) -> QTable:
    """``light_curve`` of on-region and off-region events (times in the unit of ``time_bins``, reconstructed
    energies), counting those inside the reconstructed-energy range of ``response``."""
    edges = check_edges(time_bins, u.s, "time bins")
    reco = response.reco_energy_bins[[0, -1]]
    counts = []
    for time, energy in ((on_time, on_energy), (off_time, off_energy)):
        time, energy = u.Quantity(time, u.s), u.Quantity(energy, u.TeV)
        if time.shape != energy.shape:
            raise CtasimError(f"light curve: {time.size} event times for {energy.size} energies")
        counts.append(histogram([(time, edges), (energy, reco)])[:, 0])
    return light_curve(edges, counts[0], counts[1], alpha, livetime, response, spectrum, energy_range)
