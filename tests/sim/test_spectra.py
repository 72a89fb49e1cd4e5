import itertools

import numpy as np
import pytest

from ctasim.errors import ConfigError
from ctasim.sim.spectra import CRAB_MAGIC, LogParabola, PowerLaw, spectrum_from_config


def test_power_law_sampling_has_the_index():
    e = PowerLaw(1.0, -2.5).sample(np.random.default_rng(1), 200_000, 0.1, 100.0)
    assert e.min() >= 0.1 and e.max() <= 100.0
    # maximum-likelihood index of a power law above e_min (unbounded approximation is fine here)
    index = -1.0 - e.size / np.log(e / 0.1).sum()
    assert index == pytest.approx(-2.5, abs=0.02)


def test_tabulated_sampling_follows_the_log_parabola():
    crab = LogParabola(**CRAB_MAGIC)
    e = crab.sample(np.random.default_rng(2), 200_000, 0.05, 50.0)
    bins = np.logspace(np.log10(0.05), np.log10(50.0), 7)
    counts, _ = np.histogram(e, bins)
    grid = np.logspace(np.log10(0.05), np.log10(50.0), 6001)
    expected = np.array([np.trapezoid(crab(grid[(grid >= lo) & (grid <= hi)]), grid[(grid >= lo) & (grid <= hi)])
                         for lo, hi in itertools.pairwise(bins)])
    mean = e.size * expected / expected.sum()
    assert np.all(np.abs(counts - mean) < 4 * np.sqrt(mean))


def test_crab_normalisation_at_1_tev():
    assert spectrum_from_config({"type": "crab_log_parabola"})(1.0) == pytest.approx(3.23e-11)
    assert spectrum_from_config({"type": "crab_hegra"})(1.0) == pytest.approx(2.83e-11)
    assert spectrum_from_config({"type": "cosmic_proton"})(1.0) == pytest.approx(9.8e-6)
    # the electron bump raises the flux above the bare power law near 0.8 TeV
    electron = spectrum_from_config({"type": "cosmic_electron"})
    assert electron(0.8) > 2.385e-9 * 0.8**-3.43


@pytest.mark.parametrize("config, key", [
    ({"type": "broken"}, "spectrum.type"),
    ({"type": "power_law"}, "spectrum.index"),
    ({"type": "power_law", "index": 2.0}, "spectrum.index"),
    ({"type": "power_law", "index": -2.0, "normalization": -1}, "spectrum.normalization"),
    ({"type": "crab_hegra", "index": -2.0}, "spectrum.index"),
    ("power_law", "spectrum"),
])
def test_bad_spectrum_configs_name_the_key(config, key):
    with pytest.raises(ConfigError) as err:
        spectrum_from_config(config, "scenario.yaml")
    assert err.value.key == key and "scenario.yaml" in str(err.value)
