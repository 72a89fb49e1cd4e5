"""Actor processes killed mid-run (SIGKILL, at a chosen block) are restarted by Ray, their blocks
resubmitted, and the DL0 archive is identical (digest) to an uninterrupted run's; the summary
records every restart. One Ray session for the module; 2 camera actors, 6 blocks."""

from __future__ import annotations

import pytest
from chain_helpers import dl0_digest, small_scenario

from actors.faults import kill_marker
from actors.orchestrator import ActorGraph, run_scenario
from actors.reducer import ReducerActor
from ctasim.errors import CtasimError
from ctasim.scenario import validate_scenario

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run (in-process: the same archive as on Ray, tests/e2e/test_onsite_chain.py)."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    result = run_scenario(validate_scenario(small_scenario(run_dir)), backend="local")
    return dl0_digest(run_dir), result.summary


def archived_events(summary: dict) -> int:
    return summary["accounting"]["stages"]["telescope_events_archived"]["total"]


def test_a_killed_camera_actor_is_restarted_and_the_archive_is_unchanged(reference, ray_session, tmp_path):
    digest, expected = reference
    run_dir = tmp_path / "run"
    kill = {"role": "camera", "actor": 1, "block": 2}
    graph = ActorGraph(validate_scenario(small_scenario(run_dir, faults={"kill": [kill]})), backend="ray")
    try:
        summary = graph.run().summary
    finally:
        graph.shutdown()
    assert kill_marker(run_dir, "camera", 1, 2).is_file()
    assert dl0_digest(run_dir) == digest
    restarts = summary["restarts"]
    assert restarts["count"] == 1 and restarts["events"][0]["role"] == "camera"
    assert restarts["events"][0]["actor"] == 1 and 2 in restarts["events"][0]["resubmitted_blocks"]
    assert summary["faults"]["process"]["kill"] == [kill | {"done": True}]
    assert summary["accounting"]["closed"] is True and summary["timing"]["n_blocks"] == 6
    assert archived_events(summary) == archived_events(expected)


def test_a_killed_archiver_and_reducer_neither_lose_nor_duplicate_a_block(reference, ray_session, tmp_path):
    """The archiver dies after storing block 2 and before acknowledging it: block 2 comes again and
    is not stored twice; the reducer dies at block 4."""
    digest, expected = reference
    run_dir = tmp_path / "run"
    kills = [{"role": "archiver", "block": 2}, {"role": "reducer", "block": 4}]
    result = run_scenario(validate_scenario(small_scenario(run_dir, faults={"kill": kills})), backend="ray")
    assert dl0_digest(run_dir) == digest
    assert archived_events(result.summary) == archived_events(expected)
    assert result.summary["accounting"]["stages"] == expected["accounting"]["stages"]
    assert {(e["role"], e["actor"]) for e in result.summary["restarts"]["events"]} == {("archiver", 0), ("reducer", 0)}
    assert not list(run_dir.rglob("*.tmp")) and not (run_dir / "dl0" / "journal").exists()
    report = (run_dir / "report.md").read_text()
    assert "## Restarts" in report and "archiver" in report


def test_kills_need_the_ray_backend_and_an_existing_actor(tmp_path):
    scenario = small_scenario(tmp_path / "run", faults={"kill": [{"role": "camera", "block": 1}]})
    with pytest.raises(CtasimError, match="needs the Ray backend"):
        ActorGraph(validate_scenario(scenario), backend="local")
    scenario["faults"]["process"]["kill"][0]["actor"] = 2
    with pytest.raises(CtasimError, match=r"kill\[0\].actor = 2: expected below 2"):
        validate_scenario(scenario)
    scenario["faults"]["process"]["kill"] = [{"role": "archiver", "block": 6}]
    with pytest.raises(CtasimError, match=r"kill\[0\].block = 6: expected below 6"):
        validate_scenario(scenario)
    scenario["faults"]["process"]["kill"] = [{"role": "reducer", "block": 1}] * 2
    with pytest.raises(CtasimError, match="killed twice at one block"):
        validate_scenario(scenario)
    scenario["faults"]["process"]["kill"] = [{"role": "reducer", "block": b} for b in range(4)]
    with pytest.raises(CtasimError, match="4 kills of reducer actor 0: expected at most 3"):
        validate_scenario(scenario)


def test_an_actor_that_cannot_start_is_one_line_not_restarted(ray_session, tmp_path):
    class BrokenReducer(ReducerActor):  # defined here: Ray ships it by value (the workers cannot import tests)
        def __init__(self, subarray, reduction):
            raise CtasimError("reduction.codec: this reducer cannot start")

    graph = ActorGraph(validate_scenario(small_scenario(tmp_path / "run")), backend="ray")
    graph.replace("reducer", BrokenReducer)
    try:
        with pytest.raises(CtasimError, match=r"^reducer actor 0 failed to start: .*this reducer cannot start$"):
            graph.run()
    finally:
        graph.shutdown()
