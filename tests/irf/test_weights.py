"""Bookkeeping of simulated populations and event weights: analytic answers and pyirf 0.13."""

import astropy.units as u
import numpy as np
import pytest
from irf_helpers import LIVETIME

from ctasim.datamodel.simulation import DISTRIBUTION_DTYPE
from ctasim.errors import CtasimError
from ctasim.irf.weights import SimulationInfo, event_weights, positive_livetime, simulation_info
from ctasim.spectra import CRAB_MAGIC, IRFDOC_PROTON, LogParabola, PowerLaw, cone_solid_angle


def distribution(obs_id=1, n_showers=1000, index=-2.0, viewcone=0.0, offset=0.0, e_min=0.1, e_max=100.0):
    return np.array([(obs_id, "gamma", n_showers, e_min, e_max, index, 500.0, 0.0, viewcone, offset)],
                    DISTRIBUTION_DTYPE)


def test_simulated_spectrum_reproduces_the_number_of_showers():
    for viewcone in (0.0, 4.0):
        info = simulation_info(distribution(n_showers=12345, index=-2.7, viewcone=viewcone))
        flux = info.spectrum(2 * u.h)
        exposure = (np.pi * 500.0**2 * 1e4) * 7200.0 * (cone_solid_angle(viewcone) if viewcone else 1.0)
        assert flux.diffuse == (viewcone > 0)
        assert flux.integral(0.1, 100.0) * exposure == pytest.approx(12345, rel=1e-12)


def test_showers_per_energy_bin_follow_the_power_law_and_clip_to_the_range():
    info = simulation_info(distribution(n_showers=1000, index=-2.0, e_min=1.0, e_max=100.0))
    n = info.n_showers_per_energy([0.1, 1.0, 10.0, 1000.0] * u.TeV)
    # E^-2: the counts in [1, 10] and [10, 100] are in the ratio (1 - 0.1) : (0.1 - 0.01)
    assert n == pytest.approx([0.0, 1000 * 0.9 / 0.99, 1000 * 0.09 / 0.99], rel=1e-12)


def test_rows_of_one_population_add_up_and_mismatches_are_refused():
    rows = np.concatenate([distribution(1, 100), distribution(2, 300), distribution(3, 50, index=-2.5)])
    assert simulation_info(rows, [1, 2]).n_showers == 400
    assert simulation_info(rows, 3).spectral_index == -2.5
    with pytest.raises(CtasimError, match="differ in spectral_index"):
        simulation_info(rows)
    with pytest.raises(CtasimError, match="no row"):
        simulation_info(rows, 7)
    with pytest.raises(CtasimError, match="not drawn from a power law"):
        simulation_info(distribution(index=np.nan))


def test_fov_offset_fraction_of_a_centred_cone_is_exact():
    info = simulation_info(distribution(viewcone=5.0))
    edges = [0.0, 1.0, 2.5, 5.0, 6.0] * u.deg
    expected = np.diff(cone_solid_angle(np.minimum(edges.value, 5.0))) / cone_solid_angle(5.0)
    assert info.fov_offset_fraction(edges) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("viewcone, offset", [(3.0, 1.0), (1.0, 2.5), (2.0, 2.0)])
def test_fov_offset_fraction_of_an_offset_cone_matches_monte_carlo(viewcone, offset):
    info = simulation_info(distribution(viewcone=viewcone, offset=offset))
    rng = np.random.default_rng(5)
    n = 1_000_000
    rho = np.arccos(1 - rng.random(n) * (1 - np.cos(np.deg2rad(viewcone))))
    phi = 2 * np.pi * rng.random(n)
    d = np.deg2rad(offset)
    # cone around a source d from the pointing (z axis): angle of each direction to the z axis
    z = np.cos(rho) * np.cos(d) - np.sin(rho) * np.cos(phi) * np.sin(d)
    edges = np.linspace(0.0, viewcone + offset + 0.5, 9)
    counts, _ = np.histogram(np.rad2deg(np.arccos(np.clip(z, -1, 1))), edges)
    fraction = info.fov_offset_fraction(edges * u.deg)
    assert fraction.sum() == pytest.approx(1.0, abs=1e-4)
    assert np.all(np.abs(counts - n * fraction) < 5 * np.sqrt(n * fraction) + 5)


def test_point_source_fills_the_bin_of_its_offset():
    info = simulation_info(distribution(offset=0.7))
    assert info.fov_offset_fraction([0.0, 0.5, 1.0, 2.0] * u.deg).tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(CtasimError, match="outside"):
        info.fov_offset_fraction([1.0, 2.0] * u.deg)


def test_weights_are_target_over_simulated_flux():
    info = simulation_info(distribution(index=-2.0, e_min=0.1, e_max=100.0))
    energy = np.array([0.2, 1.0, 50.0]) * u.TeV
    crab = LogParabola(**CRAB_MAGIC)
    w = event_weights(energy, info, crab, LIVETIME)
    assert w == pytest.approx(crab(energy.value) / info.spectrum(LIVETIME)(energy.value), rel=1e-12)
    # twice the livetime, twice the expected counts
    assert event_weights(energy, info, crab, 2 * LIVETIME) == pytest.approx(2 * w, rel=1e-12)


def test_bad_weighting_inputs_raise_one_line_errors():
    point = simulation_info(distribution())
    diffuse = simulation_info(distribution(viewcone=5.0))
    energy = [1.0] * u.TeV
    with pytest.raises(CtasimError, match="diffuse"):
        event_weights(energy, point, PowerLaw(**IRFDOC_PROTON), LIVETIME)
    with pytest.raises(CtasimError, match="point-like"):
        event_weights(energy, diffuse, LogParabola(**CRAB_MAGIC), LIVETIME)
    with pytest.raises(CtasimError, match="outside the simulated range"):
        event_weights([500.0] * u.TeV, point, LogParabola(**CRAB_MAGIC), LIVETIME)
    for bad in (0 * u.s, -1 * u.h, np.nan * u.s, 3 * u.m, 5.0):
        with pytest.raises(CtasimError, match="livetime"):
            positive_livetime(bad)
    with pytest.raises(CtasimError, match="livetime"):
        SimulationInfo(1, 1 * u.TeV, 10 * u.TeV, -2.0, 1 * u.m, 0 * u.deg, 0 * u.deg, 0 * u.deg).spectrum(0 * u.h)


@pytest.mark.reference
@pytest.mark.parametrize("population", ["gamma", "proton", "electron"])
def test_weights_match_pyirf(toy, population):
    pytest.importorskip("pyirf")
    from pyirf import spectral
    from pyirf.simulations import SimulatedEventsInfo

    _, _, info, table = toy[population]
    pyirf_info = SimulatedEventsInfo(
        n_showers=info.n_showers, energy_min=info.energy_min, energy_max=info.energy_max,
        max_impact=info.max_scatter_radius, spectral_index=info.spectral_index,
        viewcone_min=info.viewcone_min, viewcone_max=info.viewcone_max,
    )
    target = {"gamma": spectral.CRAB_MAGIC_JHEAP2015, "proton": spectral.IRFDOC_PROTON_SPECTRUM,
              "electron": spectral.IRFDOC_ELECTRON_SPECTRUM}[population]
    simulated = spectral.PowerLaw.from_simulation(pyirf_info, LIVETIME)
    ours = info.spectrum(LIVETIME)
    assert ours(1.0) == pytest.approx(simulated(1 * u.TeV).to_value(ours.unit), rel=1e-10)
    expected = spectral.calculate_event_weights(table["true_energy"], target, simulated)
    assert np.asarray(table["weight"]) == pytest.approx(expected, rel=1e-10)
