"""The on-site chain on a fake two-node Ray cluster, cameras on both nodes, gives the same DL0; the
archiver (which writes the run directory) runs on the driver's node."""

from __future__ import annotations

import pytest
from chain_helpers import dl0_digest, tiny_scenario

from actors.orchestrator import ActorGraph, run_scenario

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
    run_scenario(tiny_scenario(local), backend="local")
    out = tmp_path / "cluster"
    graph = ActorGraph(tiny_scenario(out, telescopes_per_actor=7), backend="ray", address=cluster.address)
    try:
        graph.run()
        nodes = {graph.backend.node_of(cam) for cam in graph.actors["camera"]}
        archiver_node = graph.backend.node_of(graph.actors["archiver"])
        driver_node = ray.get_runtime_context().get_node_id()
    finally:
        graph.shutdown()
    assert len(nodes) == 2, "camera actors should run on both nodes"
    assert archiver_node == driver_node
    assert dl0_digest(out) == dl0_digest(local)
