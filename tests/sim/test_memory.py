"""Memory known before work starts: a run's block count and its largest block's memory, estimated
from the scenario and refused in one line when they cannot fit."""

import numpy as np
import pytest
import yaml

from ctasim.errors import CtasimError
from ctasim.instrument.config import load_subarray
from ctasim.paths import SCENARIO_DIR
from ctasim.scenario import load_scenario
from ctasim.sim.memory import MAX_BLOCKS, block_memory, check_run_memory
from ctasim.sim.source import Population, ShowerSource

OBS_LEVEL_M = 2158.0
PROTONS = Population("proton", "proton", {"type": "power_law", "index": -2.7}, n_showers=10_000,
                     energy_min_tev=0.1, energy_max_tev=100.0, max_scatter_m=1200.0, viewcone_deg=5.0)


def test_points_per_shower_follow_the_simulated_blocks():
    estimate = block_memory(PROTONS, 1000, OBS_LEVEL_M)
    source = ShowerSource(PROTONS, load_subarray("north_alpha"), 70.0, 0.0, 3, 1000)
    measured = np.mean([source.block(b).emission.x.size / 1000 for b in range(2)])
    assert estimate.points_per_shower == pytest.approx(measured, rel=0.25)
    # linear in the showers per block, never more than the population has
    assert block_memory(PROTONS, 4000, OBS_LEVEL_M).bytes_per_block == pytest.approx(4 * estimate.bytes_per_block)
    assert block_memory(PROTONS, 50_000, OBS_LEVEL_M).showers_per_block == 10_000
    # each Ray camera process adds its own share
    assert block_memory(PROTONS, 1000, OBS_LEVEL_M, 13).bytes_per_block > 2 * estimate.bytes_per_block


def test_a_block_too_large_for_the_machine_is_refused_with_the_numbers():
    with pytest.raises(CtasimError) as err:
        check_run_memory([PROTONS], 10_000, 4, OBS_LEVEL_M, available_bytes=1e9)
    msg = str(err.value)
    assert "\n" not in msg and "simulation.block_size = 10000" in msg and "GB" in msg and "'proton'" in msg
    assert check_run_memory([PROTONS], 200, 4, OBS_LEVEL_M, available_bytes=1e9)[0].showers_per_block == 200


def test_too_many_blocks_are_refused_before_any_schedule_is_built():
    huge = Population("proton", "proton", n_showers=10**12, energy_min_tev=0.1, energy_max_tev=100.0,
                      max_scatter_m=1200.0, viewcone_deg=5.0)
    with pytest.raises(CtasimError, match=f"at most {MAX_BLOCKS:,} per run"):
        check_run_memory([huge], 200, 4, OBS_LEVEL_M, available_bytes=None)


def test_run_refuses_a_huge_block_in_one_line_before_writing_anything(tmp_path, capsys, monkeypatch):
    from types import SimpleNamespace

    import ctasim.cli
    from ctasim.cli import main

    monkeypatch.setattr(ctasim.cli.psutil, "virtual_memory", lambda: SimpleNamespace(available=4e9))
    data = yaml.safe_load((SCENARIO_DIR / "quickstart.yaml").read_text())
    data["simulation"]["block_size"] = 100_000   # all 20,000 gammas in one block: ~2 GB, x 4 in flight
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(path).simulation.block_size == 100_000    # valid as a scenario ...
    out = tmp_path / "run"
    assert main(["run", str(path), "-o", str(out), "--no-ray", "--quiet"]) == 2   # ... too large to run here
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "simulation.block_size = 100000" in err
    assert not out.exists()
