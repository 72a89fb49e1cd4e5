"""The Python actor API: build the graph, replace a role with a user class, run, read the monitor;
the actors are shells: the same chain driven with the library components alone writes the same DL0."""

from __future__ import annotations

import pytest
from chain_helpers import dl0_digest, run_library_chain, tiny_scenario

from actors.orchestrator import ActorGraph
from actors.reducer import ReducerActor
from ctasim.io.archive import DL0ArchiveReader
from ctasim.scenario import ReductionSection


class IntegratingReducer(ReducerActor):
    """A user's reducer: keep only integrated charges, compressed with plain zstd."""

    def __init__(self, subarray, reduction):
        super().__init__(subarray, ReductionSection(variant="integrated", codec="zstd"))


def test_replace_reducer_and_read_monitor(tmp_path):
    graph = ActorGraph(tiny_scenario(tmp_path), backend="local")
    graph.replace("reducer", IntegratingReducer)
    result = graph.run()
    summary = graph.summary()
    graph.shutdown()
    assert result.summary["accounting"]["closed"] is True
    assert summary["accounting"]["stages"]["telescope_events_archived"]["total"] > 0
    assert "integrated" in summary["reduction"]["variants"]
    files = sorted((tmp_path / "dl0").glob("*.h5"))
    with DL0ArchiveReader(files[0]) as reader:
        block = next(reader.iter_blocks())
    assert block.codec == "zstd" and "waveform" not in block.payload and "charge" in block.payload


def test_unknown_role_and_late_replace_are_refused(tmp_path):
    graph = ActorGraph(tiny_scenario(tmp_path), backend="local")
    with pytest.raises(ValueError, match="unknown role"):
        graph.replace("compressor", IntegratingReducer)
    graph.start()
    with pytest.raises(RuntimeError, match="before start"):
        graph.replace("reducer", IntegratingReducer)
    graph.shutdown()


def test_shells_add_nothing_but_metering(tmp_path):
    graph = ActorGraph(tiny_scenario(tmp_path / "actors", telescopes_per_actor=7), backend="local")
    result = graph.run()
    graph.shutdown()
    library = tiny_scenario(tmp_path / "library")
    files, monitor = run_library_chain(library, graph.subarray)
    assert dl0_digest(tmp_path / "actors") == dl0_digest(tmp_path / "library")
    assert result.summary["accounting"]["stages"] == monitor.summary(files, 1.0, "library")["accounting"]["stages"]
    seconds = result.summary["timing"]["stage_seconds"]
    assert set(seconds) == {"source", "camera", "central_trigger", "reducer", "archiver"}
    assert all(s > 0 for s in seconds.values()) and monitor.stage_seconds == {}
