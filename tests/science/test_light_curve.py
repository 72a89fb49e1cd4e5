"""Light curve: a flare (10x the flux in three time bins) is found in exactly those bins, and the flux
per bin is the injected one within its errors."""

import dataclasses

import astropy.units as u
import numpy as np
import pytest
from science_helpers import ALPHA, BACKGROUND_ON, INJECTED, LIVETIME, RECO_BINS

from ctasim.errors import CtasimError
from ctasim.science.light_curve import light_curve, light_curve_from_events

N_BINS = 20
TIME_BINS = np.arange(N_BINS + 1) * 300.0 * u.s
BIN_LIVETIME = 280 * u.s
FLARE = [8, 9, 10]
#: flux relative to INJECTED: a tenth of it, ten times that during the flare
RELATIVE = np.where(np.isin(np.arange(N_BINS), FLARE), 1.0, 0.1)


def expected_counts(response):
    """(signal, background in the on region) expected per time bin."""
    signal = response.with_livetime(BIN_LIVETIME).predicted_counts(INJECTED).sum() * RELATIVE
    background = BACKGROUND_ON.sum() * (BIN_LIVETIME / LIVETIME).to_value(u.one) * np.ones(N_BINS)
    return signal, background


def test_flare_is_found_in_its_bins_with_the_injected_flux(response):
    signal, background = expected_counts(response)
    rng = np.random.default_rng(4)
    n_on, n_off = rng.poisson(signal + background), rng.poisson(background / ALPHA)
    curve = light_curve(TIME_BINS, n_on, n_off, ALPHA, BIN_LIVETIME, response, INJECTED)
    assert np.flatnonzero(curve["significance"] > 5).tolist() == FLARE
    pull = (curve["relative_flux"] - RELATIVE) / curve["relative_flux_error"]
    assert np.all(np.abs(pull) < 3.5) and np.mean(pull**2) < 2
    quiet = np.delete(curve["flux"], FLARE).mean()
    assert 5 < curve["flux"][FLARE].mean() / quiet < 20
    # fluxes in the reconstructed-energy range of the response (default), for the injected shape
    integral = INJECTED.integral(*RECO_BINS[[0, -1]].to_value(u.TeV)) * u.Unit("1 / (cm2 s)")
    np.testing.assert_allclose(curve["flux"], curve["relative_flux"] * integral)
    np.testing.assert_allclose(curve["excess_rate"], curve["excess"] / BIN_LIVETIME)
    assert curve["time_min"][FLARE[0]] == 2400 * u.s


def test_light_curve_from_events_counts_times_and_energies_in_range(response):
    rng = np.random.default_rng(8)
    n_on, n_off = rng.poisson(30, N_BINS), rng.poisson(100, N_BINS)

    def events(counts):
        """Times spread over each bin, energies inside the reconstructed range, plus out-of-range ones."""
        time = np.concatenate([rng.uniform(lo, hi, n) for lo, hi, n in zip(TIME_BINS[:-1].value,
                                                                          TIME_BINS[1:].value, counts)])
        energy = rng.uniform(0.2, 20.0, time.size)
        return (np.concatenate([time, [10.0, 20.0, -5.0]]) * u.s,
                np.concatenate([energy, [0.05, 50.0, 1.0]]) * u.TeV)

    curve = light_curve_from_events(TIME_BINS, *events(n_on), *events(n_off), ALPHA, BIN_LIVETIME, response, INJECTED)
    np.testing.assert_array_equal(curve["n_on"], n_on)
    np.testing.assert_array_equal(curve["n_off"], n_off)


@pytest.mark.parametrize("change, match", [
    (dict(livetime=0 * u.s), "livetime"),
    (dict(n_on=np.zeros(N_BINS)), "no on counts"),
    (dict(n_off=np.ones(N_BINS - 1)), "shape"),
    (dict(livetime=5 * u.m), "livetime"),
])
def test_bad_light_curve_input_is_a_one_line_error(response, change, match):
    arguments = dict(time_bins=TIME_BINS, n_on=np.ones(N_BINS), n_off=np.ones(N_BINS), alpha=ALPHA,
                     livetime=BIN_LIVETIME, response=response, spectrum=INJECTED) | change
    with pytest.raises(CtasimError, match=match) as error:
        light_curve(**arguments)
    assert "\n" not in str(error.value)


def test_light_curve_of_a_spectrum_without_exposure_is_refused(response):
    beyond = dataclasses.replace(response, effective_area=np.zeros(response.effective_area.size) * u.m**2)
    with pytest.raises(CtasimError, match="no counts"):
        light_curve(TIME_BINS, np.ones(N_BINS), np.ones(N_BINS), ALPHA, BIN_LIVETIME, beyond, INJECTED)
