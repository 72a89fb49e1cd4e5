"""Scenario schema: the shipped scenarios validate; bad values give one line naming key and value."""

import pytest
import yaml
from scenario_helpers import refusal

from ctasim.errors import ConfigError
from ctasim.paths import SCENARIO_DIR
from ctasim.scenario import load_scenario


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_are_valid(path):
    sc = load_scenario(path)
    assert sc.particles and sc.seed >= 0
    assert len(sc.hash()) == 64


def _bad(tmp_path, edit):
    data = yaml.safe_load((SCENARIO_DIR / "quickstart.yaml").read_text())
    edit(data)
    return refusal(tmp_path, data)


def test_negative_rate_names_the_key(tmp_path):
    msg = _bad(tmp_path, lambda d: d["particles"][1].update(rate_hz=-5))
    assert "particles[1].rate_hz = -5" in msg and "greater than 0" in msg


@pytest.mark.parametrize("value", ["autox", 0, True, 2.5])
def test_telescopes_per_actor_is_a_positive_integer_or_auto(tmp_path, value):
    msg = _bad(tmp_path, lambda d: d["execution"].update(telescopes_per_actor=value))
    assert f"execution.telescopes_per_actor = {value!r}: expected a positive integer or 'auto'" in msg


def test_unknown_key_is_refused(tmp_path):
    msg = _bad(tmp_path, lambda d: d["trigger"].update(windw_ns=10))
    assert "trigger.windw_ns" in msg and "unknown" in msg


def test_unknown_layout_and_codec(tmp_path):
    assert "array.layout = 'atlantis'" in _bad(tmp_path, lambda d: d["array"].update(layout="atlantis"))
    assert "reduction.codec = 'gzip9'" in _bad(tmp_path, lambda d: d["reduction"].update(codec="gzip9"))


def test_missing_required_key(tmp_path):
    assert "seed" in _bad(tmp_path, lambda d: d.pop("seed"))


def test_energy_range_must_be_increasing(tmp_path):
    msg = _bad(tmp_path, lambda d: d["particles"][0].update(energy_min_tev=10.0, energy_max_tev=1.0))
    assert "particles[0]" in msg


def test_same_scenario_same_hash_different_seed_different_hash():
    a = load_scenario(SCENARIO_DIR / "quickstart.yaml")
    b = load_scenario(SCENARIO_DIR / "quickstart.yaml")
    c = load_scenario(SCENARIO_DIR / "quickstart.yaml", {"seed": 7})
    assert a.hash() == b.hash() != c.hash()


def test_shipped_scenario_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_scenario("quickstart") == load_scenario(SCENARIO_DIR / "quickstart.yaml")
    shipped = (r"shipped scenario \(dvr_study, fidelity_north, fidelity_south, flare, night_north, night_south, "
               "pixel_faults, "
               "quickstart, south_omega, telescope_faults")
    with pytest.raises(ConfigError, match=rf"nosuch: <file> .* {shipped}"):
        load_scenario("nosuch")
    (tmp_path / "quickstart").write_text("not a scenario: [")  # a file of that name wins
    with pytest.raises(ConfigError, match="valid YAML"):
        load_scenario("quickstart")


def test_flare_scenario_resolves_the_alert_target_and_the_flare():
    sc = load_scenario("flare")
    assert sc.alerts.enabled and sc.realtime_config().target_offset_deg == 0.5
    (flare,) = sc.flares()
    assert flare["population"] == "flare" and flare["start_s"] == 90.0
    assert flare["stop_s"] == pytest.approx(90.0 + 1013 / 6.75)


def test_alerts_without_a_target_are_refused(tmp_path):
    def edit(d):
        d["alerts"] = {"enabled": True}
        d["particles"][0]["source_offset_deg"] = 0.0
    assert "alerts.enabled needs alerts.target_offset_deg" in _bad(tmp_path, edit)


def test_alert_rearm_above_threshold_and_negative_start_are_refused(tmp_path):
    assert "rearm_sigma" in _bad(tmp_path, lambda d: d.update(alerts={"threshold_sigma": 3, "rearm_sigma": 4}))
    msg = _bad(tmp_path, lambda d: d["particles"][0].update(start_s=-1))
    assert "particles[0].start_s" in msg and "-1" in msg


def test_an_alert_region_too_large_for_reflected_off_regions_is_refused_at_validation(tmp_path):
    def edit(d):
        d["alerts"] = {"enabled": True, "theta_cut_deg": 0.6}   # the quickstart source is 0.5 deg off-axis
    msg = _bad(tmp_path, edit)
    assert "alerts.theta_cut_deg 0.6 with the target at 0.5 deg" in msg and "{" not in msg


@pytest.mark.parametrize("layout_text, message", [
    ("", "expected a mapping"),
    ("site: {lon_deg: 0, lat_deg: 0, altitude_m: 2000, obs_level_m: 2000}\n"
     "telescopes:\n  - {tel_id: 1, type: LST_LST_NoSuchCam, pos: [0, 0, 0]}\n", "NoSuchCam"),
])
def test_validate_checks_the_layout_contents(tmp_path, capsys, layout_text, message):
    from ctasim.cli import main

    layout = tmp_path / "my_layout.yaml"
    layout.write_text(layout_text)
    data = yaml.safe_load((SCENARIO_DIR / "quickstart.yaml").read_text())
    data["array"]["layout"] = str(layout)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data))
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "my_layout.yaml" in err and message in err


def test_a_scenario_that_is_not_utf8_is_one_line(tmp_path, capsys):
    from ctasim.cli import main

    path = tmp_path / "latin1.yaml"
    path.write_bytes((SCENARIO_DIR / "quickstart.yaml").read_bytes().replace(b"quickstart", b"quickst\xe4rt", 1))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "latin1.yaml" in err and "UTF-8" in err


@pytest.mark.parametrize("where", ["scenario", "particle"])
@pytest.mark.parametrize("name", ["quick/start", "../up", "", "a b", ".hidden"])
def test_names_must_be_safe_as_file_names(tmp_path, where, name):
    def edit(d):
        if where == "scenario":
            d["name"] = name
        else:
            d["particles"][0]["name"] = name
    msg = _bad(tmp_path, edit)
    assert ("name" in msg.split("=")[0]) and "usable as a file name" in msg


def test_reduction_coding_fields_are_checked(tmp_path):
    msg = _bad(tmp_path, lambda d: d["reduction"].update(charge_step_sigma=0))
    assert "reduction.charge_step_sigma = 0" in msg and "greater than or equal to 0.01" in msg
    msg = _bad(tmp_path, lambda d: d["reduction"].update(charge_coding="zfp"))
    assert "reduction.charge_coding = 'zfp'" in msg
