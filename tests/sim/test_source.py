import numpy as np
import pytest
from sim_helpers import POINTING

from ctasim.errors import ConfigError
from ctasim.instrument.frames import altaz_to_vector
from ctasim.sim.source import Population, ShowerSource


def _source(north, **kw):
    pop = Population("p", kw.pop("particle", "gamma"), n_showers=kw.pop("n_showers", 250), **kw)
    return ShowerSource(pop, north, *POINTING, 11, 100)


def test_blocks_ids_times_and_ranges(north):
    src = _source(north, energy_min_tev=0.1, energy_max_tev=10.0, max_scatter_m=500.0, rate_hz=50.0, obs_id=3)
    assert src.n_blocks == 3
    assert src.population.block_span_s(2, 100) == pytest.approx(1.0)
    blocks = [src.block(i) for i in range(3)]
    showers = np.concatenate([b.showers for b in blocks])
    assert showers.size == 250 and (showers["obs_id"] == 3).all()
    assert np.array_equal(showers["event_id"], np.arange(1, 251))
    for b in blocks:   # spans of block_size / rate (the last, 50 showers, of 1 s), times sorted inside
        assert b.t_start == pytest.approx(b.block_index * 2.0)
        assert b.t_stop == pytest.approx(b.t_start + b.showers.size / 50.0)
        assert np.all(np.diff(b.showers["time"]) >= 0)
        assert b.showers["time"].min() >= b.t_start and b.showers["time"].max() < b.t_stop
    # Poisson arrivals: exponential gaps, mean 1 / rate
    gaps = np.diff(showers["time"])
    assert gaps.mean() == pytest.approx(1 / 50.0, rel=0.2)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.25)
    assert showers["true_energy"].min() >= 0.1 and showers["true_energy"].max() <= 10.0
    r = np.hypot(showers["true_core_x"], showers["true_core_y"])
    assert r.max() <= 500.0 and np.median(r) == pytest.approx(500 / np.sqrt(2), rel=0.15)


def test_block_is_independent_of_other_blocks(north):
    a, b = _source(north), _source(north)
    later_first = b.block(2)
    b.block(0)
    assert np.array_equal(a.block(2).showers, later_first.showers)
    assert not np.array_equal(a.block(0).showers["true_energy"][:50], later_first.showers["true_energy"])


def test_point_source_offset_and_viewcone(north):
    point = _source(north, source_offset_deg=1.0).block(0).showers
    pnt = altaz_to_vector(*POINTING)
    sep = np.rad2deg(np.arccos(altaz_to_vector(point["true_alt"], point["true_az"]) @ pnt))
    assert np.allclose(sep, 1.0, atol=1e-6)
    diffuse = _source(north, particle="proton", viewcone_deg=5.0, n_showers=2000).block(0).showers
    sep = np.rad2deg(np.arccos(np.clip(altaz_to_vector(diffuse["true_alt"], diffuse["true_az"]) @ pnt, -1, 1)))
    assert sep.max() <= 5.0 + 1e-9
    # uniform in solid angle: half of the showers inside the cone of half the solid angle
    half = np.rad2deg(np.arccos(1 - 0.5 * (1 - np.cos(np.deg2rad(5.0)))))
    assert (sep < half).mean() == pytest.approx(0.5, abs=0.05)
    assert (diffuse["true_shower_primary_id"] == 101).all()


def test_x_max_grows_with_energy_as_in_reference(north):
    # REFERENCE.md (est.): 0.1 TeV 259, 1 TeV 344, 10 TeV 428 g/cm^2
    for energy, x_ref in [(0.1, 259.0), (1.0, 344.0), (10.0, 428.0)]:
        src = _source(north, energy_min_tev=energy, energy_max_tev=energy * 1.0001, n_showers=100)
        x_max = src.block(0).showers["true_x_max"]
        assert np.mean(x_max) == pytest.approx(x_ref, rel=0.1)


@pytest.mark.parametrize("field, value", [
    ("particle", "neutrino"), ("n_showers", 0), ("energy_max_tev", 0.001), ("rate_hz", 0.0),
    ("viewcone_deg", -1.0), ("spectrum", {"type": "power_law", "index": 1.0}),
])
def test_bad_population_raises_config_error(north, field, value):
    kw = {"particle": "gamma", "n_showers": 10, field: value}
    with pytest.raises(ConfigError):
        ShowerSource(Population("bad", **kw), north, *POINTING, 1, 10)


def test_electrons_peak_one_radiation_length_above_gammas(north):
    x_max = {}
    for particle in ("gamma", "electron"):
        src = _source(north, particle=particle, energy_min_tev=1.0, energy_max_tev=1.0001, n_showers=100)
        x_max[particle] = src.block(0).showers["true_x_max"].mean()
    assert x_max["gamma"] - x_max["electron"] == pytest.approx(36.7, abs=15.0)


def test_a_late_population_starts_at_start_s(north):
    pop = Population("late", "gamma", n_showers=150, rate_hz=10.0, start_s=90.0)
    src = ShowerSource(pop, north, *POINTING, 11, 100)
    first, last = src.block(0), src.block(1)
    assert (first.t_start, first.t_stop, last.t_start, last.t_stop) == pytest.approx((90.0, 100.0, 100.0, 105.0))
    assert first.showers["time"].min() >= 90.0 and last.showers["time"].max() < 105.0
    with pytest.raises(ConfigError, match="start_s"):
        Population("bad", "gamma", start_s=-1.0).validate()
