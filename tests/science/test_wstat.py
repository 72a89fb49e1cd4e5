"""WStat: the profiled background maximises the on/off likelihood; the statistic is a deviance."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import poisson

from ctasim.science.wstat import profiled_background, wstat

CASES = [(10, 20, 0.2, 4.0), (0, 5, 0.1, 2.0), (7, 0, 0.5, 3.0), (50, 400, 0.1, 0.0), (3, 40, 0.2, 10.0)]


@pytest.mark.parametrize("n_on, n_off, alpha, mu", CASES)
def test_profiled_background_is_the_likelihood_maximum(n_on, n_off, alpha, mu):
    def minus_log_l(b):
        return -(poisson.logpmf(n_on, mu + alpha * b) + poisson.logpmf(n_off, b))

    best = minimize_scalar(minus_log_l, bounds=(1e-9, 10 * (n_on + n_off) + 10), method="bounded",
                           options={"xatol": 1e-10})
    b = profiled_background(n_on, n_off, alpha, mu)
    assert b == pytest.approx(best.x, abs=1e-5)
    # -2 ln(L / L_saturated), the saturated model fitting both counts exactly
    saturated = poisson.logpmf(n_on, n_on) + poisson.logpmf(n_off, n_off)
    assert wstat(n_on, n_off, alpha, mu) == pytest.approx(2 * (minus_log_l(b) + saturated), abs=1e-9)


def test_statistic_vanishes_at_the_observed_excess_and_grows_away_from_it():
    n_on, n_off, alpha = np.array([30.0]), np.array([50.0]), 0.2
    mu = np.array([n_on[0] - alpha * n_off[0]])
    assert wstat(n_on, n_off, alpha, mu)[0] == pytest.approx(0.0, abs=1e-12)
    assert profiled_background(n_on, n_off, alpha, mu)[0] == pytest.approx(n_off[0])
    assert wstat(n_on, n_off, alpha, mu * 1.5)[0] > 0 and wstat(n_on, n_off, alpha, mu * 0.5)[0] > 0
