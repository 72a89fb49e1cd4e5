"""1-D spectral fit by forward folding: a spectral model through the IRFs, fitted to on/off counts.

The model (``ctasim.spectra.PowerLaw`` or ``LogParabola``, or any Spectrum with the names of its
free parameters) is folded to expected excess counts per reconstructed-energy bin
(``folding.SpectralResponse``) and fitted by minimising the summed WStat (``wstat``: on/off Poisson
likelihood, background profiled per bin) with scipy's bounded SLSQP (a quasi-Newton method; faster
here than L-BFGS-B, whose many small BLAS calls stall on a loaded machine) from a start whose
normalisation reproduces the observed excess. Errors and covariance from the Hessian of the
statistic at the minimum (cov = 2 H^-1, H of -2 ln L), as MINUIT's HESSE, which also gives the
estimated distance to the minimum (EDM) that judges convergence. TS = stat(no source) -
stat(best fit); the summed statistic is the goodness of fit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import QTable
from scipy import optimize, stats

from ..errors import CtasimError
from ..irf.binning import histogram
from ..spectra import LogParabola, PowerLaw, Spectrum
from .folding import SpectralResponse
from .wstat import profiled_background, wstat

#: free parameters fitted by default, per model type
FREE_PARAMETERS = {PowerLaw: ("normalization", "index"), LogParabola: ("normalization", "a", "b")}
#: parameter bounds, wide enough for any gamma-ray spectrum (those of the normalisation hold after scaling)
BOUNDS = {"normalization": (0.0, np.inf), "index": (-10.0, 5.0), "a": (-10.0, 5.0), "b": (-5.0, 5.0)}
#: relative step of the numerical derivatives: of the expected counts in the shape parameters, of the
#: gradient for the Hessian (central differences; truncation ~step^2, rounding ~1e-16 / step)
DERIVATIVE_STEP = 1e-5
HESSIAN_STEP = 1e-4
#: SLSQP stopping: change of the statistic, iterations. Its line search may stop at the rounding floor
#: of the statistic; convergence is judged by the EDM instead
FTOL, MAX_ITERATIONS = 1e-12, 500
#: largest estimated distance to the minimum (g H^-1 g / 2, in units of the statistic) of a converged fit;
#: MINUIT's default stops at 2e-4 (0.002 x tolerance 0.1)
MAX_EDM = 1e-5


@dataclass(frozen=True, eq=False)
class OnOffSpectrum:
    """Observed on and off counts per reconstructed-energy bin of ``response``, with alpha (on/off
    exposure ratio, scalar or per bin) and ``mask`` (bins used in the fit, default all)."""

    n_on: np.ndarray
    n_off: np.ndarray
    alpha: np.ndarray | float
    response: SpectralResponse
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_reco = self.response.reco_energy_bins.size - 1
        values = {name: np.asarray(getattr(self, name), np.float64) for name in ("n_on", "n_off")}
        values["alpha"] = np.broadcast_to(np.asarray(self.alpha, np.float64), (n_reco,)) \
            if np.ndim(self.alpha) == 0 else np.asarray(self.alpha, np.float64)
        values["mask"] = np.ones(n_reco, bool) if self.mask is None else np.asarray(self.mask, bool)
        for name, array in values.items():
            if array.shape != (n_reco,):
                raise CtasimError(f"on/off spectrum: {name} has shape {array.shape}, expected ({n_reco},) as the "
                                  "reconstructed energy bins")
        for name, positive in (("n_on", False), ("n_off", False), ("alpha", True)):
            array = values[name]
            if not np.all(np.isfinite(array)) or np.any(array <= 0 if positive else array < 0):
                raise CtasimError(f"on/off spectrum: {name} must be finite and {'> 0' if positive else '>= 0'}")
        if values["n_on"][values["mask"]].sum() <= 0:
            raise CtasimError("on/off spectrum: no on counts in the fitted energy bins")
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_events(cls, on_energy: u.Quantity, off_energy: u.Quantity, alpha: np.ndarray | float,
                    response: SpectralResponse, mask: np.ndarray | None = None) -> OnOffSpectrum:
        """Counts of the reconstructed energies of on-region and off-region events in the response's bins."""
        edges = response.reco_energy_bins
        n_on = histogram([(u.Quantity(on_energy, u.TeV), edges)])
        n_off = histogram([(u.Quantity(off_energy, u.TeV), edges)])
        return cls(n_on, n_off, alpha, response, mask)

    @property
    def excess(self) -> np.ndarray:
        """n_on - alpha n_off per bin."""
        return self.n_on - self.alpha * self.n_off

    def stat(self, mu_sig: np.ndarray) -> float:
        """Summed WStat of the fitted bins for expected signal counts ``mu_sig``."""
        m = self.mask
        return float(np.sum(wstat(self.n_on[m], self.n_off[m], self.alpha[m], mu_sig[m])))


@dataclass(frozen=True, eq=False)
class SpectralFitResult:
    """Best-fit model, its free parameters with errors and covariance (in the model's units), the
    statistic at the best fit (``stat``, the goodness of fit with ``dof`` and ``p_value``) and with
    no source (``stat_null``), TS, the estimated distance to the minimum ``edm``, ``success`` (converged,
    Hessian positive definite, no parameter at a bound) and ``bins``: per-bin observed and predicted counts."""

    model: Spectrum
    parameters: dict[str, float]
    errors: dict[str, float]
    covariance: np.ndarray
    stat: float
    stat_null: float
    dof: int
    edm: float
    success: bool
    message: str
    bins: QTable

    @property
    def ts(self) -> float:
        return self.stat_null - self.stat

    @property
    def p_value(self) -> float:
        """Chance probability of a statistic at least this large if the model is right (chi^2, dof)."""
        return float(stats.chi2.sf(self.stat, self.dof)) if self.dof > 0 else float("nan")

    def to_dict(self) -> dict:
        """JSON-friendly summary (normalisation in 1 / (TeV cm2 s) at e_ref TeV)."""
        return {"model": type(self.model).__name__, "e_ref_tev": self.model.e_ref, "parameters": self.parameters,
                "errors": self.errors, "covariance": self.covariance.tolist(), "ts": self.ts, "stat": self.stat,
                "dof": self.dof, "p_value": self.p_value, "edm": self.edm, "success": self.success,
                "message": self.message}


def fit_spectrum(data: OnOffSpectrum, model: Spectrum, free: Sequence[str] | None = None) -> SpectralFitResult:
    """Fit ``model`` to ``data``. The model's fields are the start (its normalisation is rescaled to the
    observed excess) and the fixed values of parameters not in ``free`` (default ``FREE_PARAMETERS``)."""
    names = _free_parameters(model, free)
    start = _start_model(data, model)
    scale = np.array([getattr(start, n) if n == "normalization" else 1.0 for n in names])
    lower, upper = np.array([BOUNDS.get(n, (-np.inf, np.inf)) for n in names]).T

    def at(x: np.ndarray) -> Spectrum:
        return dataclasses.replace(model, **{n: float(v) for n, v in zip(names, x * scale)})

    def stat_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
        mu = data.response.predicted_counts(at(x))
        return data.stat(mu), _mu_jacobian(data.response, at, x, mu, names) @ _dstat_dmu(data, mu)

    x0 = np.array([getattr(start, n) for n in names]) / scale
    fit = optimize.minimize(stat_and_gradient, x0, jac=True, method="SLSQP", bounds=list(zip(lower, upper)),
                            options={"ftol": FTOL, "maxiter": MAX_ITERATIONS})
    hessian = _hessian(lambda x: stat_and_gradient(x)[1], fit.x, lower, upper)
    positive = bool(np.all(np.isfinite(hessian)) and np.all(np.linalg.eigvalsh(hessian) > 0))
    inverse = np.linalg.inv(hessian) if positive else np.full(hessian.shape, np.nan)
    gradient = stat_and_gradient(fit.x)[1]
    edm = float(0.5 * gradient @ inverse @ gradient)
    best = at(fit.x)
    at_bound = [n for n, x, lo, hi in zip(names, fit.x, lower, upper) if np.isclose(x, lo) or np.isclose(x, hi)]
    message = f"{fit.message}; EDM {edm:.2g}" + (f"; at a bound: {', '.join(at_bound)}" if at_bound else "")
    covariance = 2.0 * inverse * np.outer(scale, scale)
    mu = data.response.predicted_counts(best)
    n_fitted = int(np.count_nonzero(data.mask & (data.n_on + data.n_off > 0)))
    return SpectralFitResult(
        model=best, parameters={n: float(getattr(best, n)) for n in names},
        errors={n: float(e) for n, e in zip(names, np.sqrt(np.diag(covariance)))}, covariance=covariance,
        stat=data.stat(mu), stat_null=data.stat(np.zeros_like(mu)), dof=n_fitted - len(names), edm=edm,
        success=positive and edm < MAX_EDM and not at_bound, message=message, bins=_bins_table(data, mu))


def _free_parameters(model: Spectrum, free: Sequence[str] | None) -> tuple[str, ...]:
    names = tuple(free) if free is not None else FREE_PARAMETERS.get(type(model))
    if names is None:
        raise CtasimError(f"spectral fit: no default free parameters for {type(model).__name__}: name them")
    fields = {f.name for f in dataclasses.fields(model)} - {"diffuse"}
    unknown = [n for n in names if n not in fields]
    if unknown or not names:
        raise CtasimError(f"spectral fit: free parameters {list(names)}: expected some of {sorted(fields)}")
    return names


def _start_model(data: OnOffSpectrum, model: Spectrum) -> Spectrum:
    """``model`` with the normalisation that predicts the observed excess of the fitted bins (at least 1)."""
    predicted = data.response.predicted_counts(model)[data.mask].sum()
    if not predicted > 0:
        raise CtasimError("spectral fit: the model predicts no counts in the fitted bins (no exposure there?)")
    excess = max(float(data.excess[data.mask].sum()), 1.0)
    return dataclasses.replace(model, normalization=model.normalization * excess / predicted)


def _dstat_dmu(data: OnOffSpectrum, mu: np.ndarray) -> np.ndarray:
    """d(summed WStat)/d mu_sig per bin: 2 (1 - n_on / mu_on) at the profiled background (envelope theorem)."""
    b = profiled_background(data.n_on, data.n_off, data.alpha, mu)
    mu_on = mu + data.alpha * b
    ratio = np.divide(data.n_on, mu_on, out=np.zeros_like(mu), where=mu_on > 0)
    return np.where(data.mask, 2.0 * (1.0 - ratio), 0.0)


def _mu_jacobian(response: SpectralResponse, at, x: np.ndarray, mu: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """d mu_j / d x_k, shape (n_free, n_reco): exact for the normalisation (mu is linear in it: mu at
    unit normalisation), central differences for the shape parameters."""
    rows = []
    for k, name in enumerate(names):
        unit = np.eye(x.size)[k]
        if name == "normalization":
            rows.append(mu / x[k] if x[k] > 0 else response.predicted_counts(at(np.where(unit > 0, 1.0, x))))
            continue
        h = DERIVATIVE_STEP * max(abs(x[k]), 1.0) * unit
        rows.append((response.predicted_counts(at(x + h)) - response.predicted_counts(at(x - h))) / (2 * h[k]))
    return np.array(rows)


def _hessian(gradient, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Hessian of the statistic from central differences of its gradient (one-sided next to a bound)."""
    n = x.size
    hessian = np.empty((n, n))
    for k in range(n):
        h = HESSIAN_STEP * max(abs(x[k]), 1.0)
        plus, minus = x.copy(), x.copy()
        plus[k], minus[k] = min(x[k] + h, upper[k]), max(x[k] - h, lower[k])
        hessian[k] = (gradient(plus) - gradient(minus)) / (plus[k] - minus[k])
    return 0.5 * (hessian + hessian.T)


def _bins_table(data: OnOffSpectrum, mu: np.ndarray) -> QTable:
    """Per reconstructed-energy bin: observed and predicted counts and the statistic."""
    edges = data.response.reco_energy_bins
    b = profiled_background(data.n_on, data.n_off, data.alpha, mu)
    table = QTable()
    table["reco_energy_low"], table["reco_energy_high"] = edges[:-1], edges[1:]
    table["reco_energy_center"] = data.response.reco_energy_center
    table["n_on"], table["n_off"], table["alpha"] = data.n_on, data.n_off, data.alpha
    table["excess"] = data.excess
    table["predicted_excess"], table["predicted_background"] = mu, data.alpha * b
    table["predicted_on"] = mu + data.alpha * b
    table["stat"] = wstat(data.n_on, data.n_off, data.alpha, mu)
    table["in_fit"] = data.mask
    return table
