"""The shipped night slices (scenarios/night_north.yaml and night_south.yaml, shortened) through the
on-site chain: every species at its physical flux, one common slice of time, the array trigger rate
and its composition predicted in summary.json and the report."""

import pytest

from actors.orchestrator import run_scenario
from ctasim.instrument.config import read_yaml
from ctasim.paths import SCENARIO_DIR
from ctasim.scenario import validate_scenario

DURATION_S = 0.004


@pytest.fixture(scope="module", params=["night_north", "night_south"])
def night(request, tmp_path_factory):
    data = read_yaml(SCENARIO_DIR / f"{request.param}.yaml")
    data["simulation"] = data["simulation"] | {"duration_s": DURATION_S}
    scenario = validate_scenario(data | {"execution": {"backend": "local"}}, f"{request.param}.yaml")
    return scenario, run_scenario(scenario, tmp_path_factory.mktemp(request.param))


def test_every_species_covers_the_same_slice_at_its_flux(night):
    scenario, _ = night
    pops = {p.name: p for p in scenario.populations()}
    assert set(pops) == {"crab", "proton", "helium", "electron"}
    assert all(p.rate_from_flux for p in scenario.particles)
    for p in pops.values():   # n_showers = rate x duration (at least one)
        assert p.n_showers == max(1, round(p.rate_hz * DURATION_S))
    # cosmic rays far outnumber the source; protons outnumber helium, helium electrons
    assert pops["proton"].rate_hz > pops["helium"].rate_hz > pops["electron"].rate_hz > pops["crab"].rate_hz


def test_the_array_trigger_rate_is_a_prediction_with_its_composition(night):
    _, result = night
    at = result.summary["rates"]["array_trigger"]
    assert at["physical"] is True and at["rate_hz"] > 0
    by = at["by_stream"]
    assert by["proton"]["array_events"] > by["helium"]["array_events"] > 0
    assert "nsb" in by   # accidental NSB-only array events (trigger.nsb_accidentals): a share of their own
    assert sum(v["fraction"] for v in by.values() if v["fraction"] is not None) == pytest.approx(1.0)
    for name in ("proton", "helium", "electron"):   # the source's single shower spans 1 / its rate
        assert by[name]["seconds"] == pytest.approx(DURATION_S, rel=0.05)
    report = (result.run_dir / "report.md").read_text()
    assert "a prediction: every population arrives at its physical flux" in report
