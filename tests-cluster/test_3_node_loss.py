"""A node stopped between calls: new calls keep working on the other one. The node and its worker
are back afterwards, so the other tests find the cluster whole in whatever order they run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cluster_support import converse, record_placement, stored_session

from devstack.cluster import ClusterStack


@pytest.fixture
def node_2_stopped(cluster: ClusterStack) -> Iterator[ClusterStack]:
    cluster.stop_node("node-2")
    yield cluster
    cluster.restore_node("node-2")


async def test_calls_go_on_when_a_node_is_gone(node_2_stopped: ClusterStack, user_id: str) -> None:
    cluster = node_2_stopped
    # token-service-2 still names node-2 as serverUrl; the trainee reaches node-1 instead, as a
    # load balancer in front of the nodes would send it.
    call = await converse(cluster, token_service="token-service-2", node="node-1", user_id=user_id)
    await call.trainee.leave()
    node, worker = record_placement("node-2 stopped", cluster, call)
    assert node == "node-1"
    assert worker == "agent"  # agent-2 was registered with node-2
    view = await stored_session(cluster, call, via="token-service-2")
    assert [t.role for t in view.turns[:2]] == ["user", "assistant"]
