"""Forward-folding fit: an injected power law is recovered with honest errors (pulls over many seeds),
from events of an independent toy population too; log-parabola; TS, goodness of fit; bad input."""

import json

import astropy.units as u
import numpy as np
import pytest
from science_helpers import ALPHA, BACKGROUND_ON, INJECTED, LIVETIME, RECO_BINS, draw_on_off, toy_response

from ctasim.errors import CtasimError
from ctasim.irf.events import event_table
from ctasim.irf.toy import toy_population
from ctasim.irf.weights import event_weights, simulation_info
from ctasim.science.significance import signed_li_ma
from ctasim.science.spectral_fit import OnOffSpectrum, fit_spectrum
from ctasim.spectra import LogParabola, PowerLaw

START = PowerLaw(1e-12, -2.0)
N_SEEDS = 150


def pulls(result, truth):
    return {name: (result.parameters[name] - getattr(truth, name)) / result.errors[name] for name in result.parameters}


def test_pulls_of_the_injected_power_law_are_standard_normal(response):
    results = [fit_spectrum(draw_on_off(np.random.default_rng(seed), response), START) for seed in range(N_SEEDS)]
    assert all(r.success for r in results), [r.message for r in results if not r.success][:3]
    for name in ("normalization", "index"):
        pull = np.array([pulls(r, INJECTED)[name] for r in results])
        # mean 0 +- 3/sqrt(N), width 1 +- ~2.6 sigma of a sample standard deviation
        assert abs(pull.mean()) < 3 / np.sqrt(N_SEEDS), name
        assert 0.85 < pull.std() < 1.15, name
        assert np.mean(np.abs(pull) < 2) > 0.9, name
    # the statistic at the best fit is a goodness of fit: p-values spread over (0, 1), not piled up at 0
    p_values = np.array([r.p_value for r in results])
    assert 0.35 < p_values.mean() < 0.65 and np.mean(p_values < 0.01) < 0.05


def test_fit_of_events_from_an_independent_population_recovers_the_injected_spectrum(response):
    """The IRFs come from one toy population (seed 11), the observed gammas from another (seed 12),
    kept with probability = their weight to the injected spectrum for the livetime."""
    rows, distribution = toy_population("gamma", n_showers=100_000, seed=12)
    events = event_table(rows)
    weight = event_weights(events["true_energy"], simulation_info(distribution), INJECTED, LIVETIME)
    assert weight.max() < 1
    rng = np.random.default_rng(0)
    background = PowerLaw(1.0, -2.7)
    e_min, e_max = RECO_BINS[[0, -1]].to_value(u.TeV)
    on = np.concatenate([events["reco_energy"][rng.random(len(events)) < weight].to_value(u.TeV),
                         background.sample(rng, rng.poisson(BACKGROUND_ON.sum()), e_min, e_max)])
    off = background.sample(rng, rng.poisson(BACKGROUND_ON.sum() / ALPHA), e_min, e_max)
    data = OnOffSpectrum.from_events(on * u.TeV, off * u.TeV, ALPHA, response)
    result = fit_spectrum(data, START)
    assert result.success
    assert all(abs(p) < 2 for p in pulls(result, INJECTED).values()), pulls(result, INJECTED)
    assert result.p_value > 0.01
    # the TS of a strong source is about the square of its total Li & Ma significance
    total = signed_li_ma(data.n_on.sum(), data.n_off.sum(), ALPHA)
    assert np.sqrt(result.ts) == pytest.approx(total, rel=0.15)
    json.dumps(result.to_dict())


def test_log_parabola_of_expected_counts_is_recovered_exactly():
    # coarser true-energy bins: the log-parabola is integrated numerically, 4096 points per bin
    response = toy_response(true_per_decade=10)
    truth = LogParabola(2e-11, -2.4, -0.15)
    data = OnOffSpectrum(response.predicted_counts(truth) + BACKGROUND_ON, BACKGROUND_ON / ALPHA, ALPHA, response)
    result = fit_spectrum(data, LogParabola(1e-12, -2.2, 0.0))
    assert result.success
    for name, pull in pulls(result, truth).items():
        assert abs(pull) < 1e-3, name
    assert result.stat == pytest.approx(0.0, abs=1e-6)
    assert result.errors["b"] > 0 and np.all(np.isfinite(result.covariance))


def test_ts_without_a_source_follows_half_a_chi2_with_one_degree_of_freedom(response):
    """Normalisation >= 0, index fixed: TS = 0 for about half the background-only samples (a deficit),
    chi^2(1) above (Chernoff 1954): P(TS > 1) = 0.159, P(TS > 4) = 0.023."""
    no_source = PowerLaw(0.0, INJECTED.index)
    results = [fit_spectrum(draw_on_off(np.random.default_rng(seed), response, spectrum=no_source),
                            PowerLaw(1e-12, INJECTED.index), free=["normalization"]) for seed in range(200)]
    ts = np.array([r.ts for r in results])
    assert 0.4 < np.mean(ts < 1e-6) < 0.6
    assert 0.1 < np.mean(ts > 1) < 0.22 and np.mean(ts > 4) < 0.05
    # a best fit on the bound is flagged, its errors are not Gaussian ones
    on_bound = [r for r in results if r.ts < 1e-6]
    assert not any(r.success for r in on_bound) and all("at a bound: normalization" in r.message for r in on_bound)


def test_bins_table_holds_observed_and_predicted_counts(response):
    data = draw_on_off(np.random.default_rng(5), response)
    result = fit_spectrum(data, START)
    bins = result.bins
    np.testing.assert_array_equal(bins["n_on"], data.n_on)
    np.testing.assert_allclose(bins["predicted_excess"], response.predicted_counts(result.model))
    # at the maximum likelihood (free normalisation, profiled backgrounds) the predicted on + off counts
    # add up to the observed ones
    predicted_total = bins["predicted_on"].sum() + (bins["predicted_background"] / bins["alpha"]).sum()
    assert predicted_total == pytest.approx(data.n_on.sum() + data.n_off.sum(), rel=1e-8)
    assert bins["stat"].sum() == pytest.approx(result.stat)


def test_fit_range_mask_and_fixed_parameters(response):
    data = draw_on_off(np.random.default_rng(6), response)
    masked = OnOffSpectrum(data.n_on, data.n_off, ALPHA, response, mask=np.arange(data.n_on.size) < 6)
    result = fit_spectrum(masked, START)
    assert result.dof == 6 - 2 and not result.bins["in_fit"][6:].any()
    fixed = fit_spectrum(data, PowerLaw(1e-12, INJECTED.index), free=["normalization"])
    assert list(fixed.parameters) == ["normalization"] and fixed.model.index == INJECTED.index


@pytest.mark.parametrize("arguments, match", [
    (dict(n_on=np.zeros(12)), "no on counts"),
    (dict(n_on=np.ones(11)), "shape"),
    (dict(alpha=0.0), "alpha"),
    (dict(n_off=-np.ones(12)), "n_off"),
])
def test_bad_counts_are_a_one_line_error(response, arguments, match):
    with pytest.raises(CtasimError, match=match) as error:
        OnOffSpectrum(**(dict(n_on=np.ones(12), n_off=np.ones(12), alpha=ALPHA, response=response) | arguments))
    assert "\n" not in str(error.value)


def test_bad_model_is_a_one_line_error(response):
    data = draw_on_off(np.random.default_rng(7), response)
    with pytest.raises(CtasimError, match="free parameters"):
        fit_spectrum(data, START, free=["gamma"])
    with pytest.raises(CtasimError, match="diffuse"):
        fit_spectrum(data, PowerLaw(1e-6, -2.7, diffuse=True))
