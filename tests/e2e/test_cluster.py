"""The on-site chain on a fake two-node Ray cluster, cameras on both nodes, gives the same DL0, and
its offline DL1 (Ray tasks on both nodes, fed the blocks by the driver) and DL2 the same tables; the
archiver (which writes the run directory) runs on the driver's node."""

from __future__ import annotations

import pytest
from chain_helpers import dl0_digest, offline_digests, tiny_scenario

from actors.offline_executor import offline_executor
from actors.orchestrator import ActorGraph, run_scenario
from ctasim.offline import run_offline
from ctasim.scenario import OfflineConfig, Scenario

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("ray")
    import ray
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    c.add_node(num_cpus=1)
    ray.init(address=c.address, logging_level="ERROR", log_to_driver=False)
    yield c
    ray.shutdown()
    c.shutdown()


def test_two_node_cluster_equals_in_process(cluster, tmp_path):
    import ray

    local = tmp_path / "local"
    run_scenario(with_offline(tiny_scenario(local)), backend="local")
    out = tmp_path / "cluster"
    graph = ActorGraph(with_offline(tiny_scenario(out, telescopes_per_actor=7)), backend="ray", address=cluster.address)
    try:
        result = graph.run()
        nodes = {graph.backend.node_of(cam) for cam in graph.actors["camera"]}
        archiver_node = graph.backend.node_of(graph.actors["archiver"])
        driver_node = ray.get_runtime_context().get_node_id()
        executor = offline_executor(graph.backend)
        graph.stop_actors()
        run_offline(result.run_dir, graph.scenario.offline, executor=executor)
    finally:
        graph.shutdown()
    assert len(nodes) == 2, "camera actors should run on both nodes"
    assert archiver_node == driver_node
    assert dl0_digest(out) == dl0_digest(local)
    assert executor.workers == 2 and not executor.shares_files
    digests = offline_digests(out)
    assert len(digests) == 2 * len(list((out / "dl0").glob("*.h5"))) > 0 and all(digests.values())
    assert digests == offline_digests(local)


def with_offline(scenario: Scenario) -> Scenario:
    """``scenario`` with offline DL1 and DL2 (models trained on half of its events)."""
    return scenario.model_copy(update={"offline": OfflineConfig(dl1=True, dl2=True)})
