"""WStat: the Poisson likelihood of on/off counts with the background profiled in each bin.

Per bin, n_on ~ Poisson(mu_sig + alpha b) and n_off ~ Poisson(b), alpha the on/off exposure ratio
and b the unknown expected off counts. Maximising the likelihood over b (a quadratic, Cash 1979;
the XSPEC "W statistic") leaves a function of the expected signal mu_sig alone. The statistic is
-2 ln(L / L_saturated), the likelihood relative to a perfect fit of every bin, so it is >= 0 and
its sum is a goodness of fit (asymptotically chi^2 with n_bins - n_parameters degrees of freedom).
Gammapy's ``wstat`` follows the same definition.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy


def profiled_background(n_on: np.ndarray, n_off: np.ndarray, alpha: np.ndarray, mu_sig: np.ndarray) -> np.ndarray:
    """The expected off counts b that maximise the likelihood given mu_sig >= 0: the positive root of
    alpha (1 + alpha) b^2 - C b - n_off mu_sig = 0, C = alpha (n_on + n_off) - (1 + alpha) mu_sig."""
    n_on, n_off, alpha, mu_sig = (np.asarray(x, np.float64) for x in (n_on, n_off, alpha, mu_sig))
    c = alpha * (n_on + n_off) - (1.0 + alpha) * mu_sig
    root = np.sqrt(c**2 + 4.0 * alpha * (1.0 + alpha) * n_off * mu_sig)
    return (c + root) / (2.0 * alpha * (1.0 + alpha))


def wstat(n_on: np.ndarray, n_off: np.ndarray, alpha: np.ndarray, mu_sig: np.ndarray) -> np.ndarray:
    """Per-bin -2 ln(L / L_saturated) at the profiled background (0 ln 0 = 0)."""
    n_on, n_off, alpha, mu_sig = (np.asarray(x, np.float64) for x in (n_on, n_off, alpha, mu_sig))
    b = profiled_background(n_on, n_off, alpha, mu_sig)
    mu_on = mu_sig + alpha * b
    model = mu_on + b - xlogy(n_on, mu_on) - xlogy(n_off, b)
    saturated = n_on + n_off - xlogy(n_on, n_on) - xlogy(n_off, n_off)
    return 2.0 * (model - saturated)
