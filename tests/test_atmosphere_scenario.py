"""The scenario's atmosphere section: the extinction of the Cherenkov light the cameras simulate."""

import pytest
import yaml
from chain_helpers import tiny_scenario

from actors.orchestrator import run_scenario
from ctasim.errors import ConfigError
from ctasim.paths import SCENARIO_DIR
from ctasim.scenario import load_scenario, validate_scenario
from ctasim.sim.atmosphere import DEFAULT_EXTINCTION


def test_default_atmosphere_is_the_default_extinction():
    sc = load_scenario(SCENARIO_DIR / "quickstart.yaml")
    assert sc.atmosphere.extinction_model() == DEFAULT_EXTINCTION


def test_aerosols_and_switch_off_reach_the_model():
    sc = load_scenario(SCENARIO_DIR / "quickstart.yaml", {"atmosphere": {"aerosol_tau_532": 0.3}})
    model = sc.atmosphere.extinction_model()
    assert model.enabled and model.aerosol_tau_532 == 0.3
    # a hazier sky transmits less of the light emitted at 10 km towards the zenith
    assert model.transmission(10_000.0, 2158.0, 1.0) < DEFAULT_EXTINCTION.transmission(10_000.0, 2158.0, 1.0)
    off = load_scenario(SCENARIO_DIR / "quickstart.yaml", {"atmosphere": {"extinction": False}})
    assert off.atmosphere.extinction_model().transmission(10_000.0, 2158.0, 1.0) == 1.0


def test_negative_optical_depth_is_refused_in_one_line(tmp_path):
    data = yaml.safe_load((SCENARIO_DIR / "quickstart.yaml").read_text())
    data["atmosphere"] = {"aerosol_tau_532": -0.1}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert "atmosphere.aerosol_tau_532 = -0.1" in str(err.value) and "\n" not in str(err.value)


def _triggered(run_dir, atmosphere):
    sc = tiny_scenario(run_dir, n_showers=75)
    sc = validate_scenario(sc.to_dict() | {"atmosphere": atmosphere})
    stages = run_scenario(sc, backend="local").summary["accounting"]["stages"]
    return stages["telescope_triggers"]["total"]


def test_a_hazy_night_triggers_fewer_telescopes(tmp_path):
    clear = _triggered(tmp_path / "clear", {})
    hazy = _triggered(tmp_path / "hazy", {"aerosol_tau_532": 1.0})
    assert hazy < 0.9 * clear
