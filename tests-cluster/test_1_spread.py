"""Calls land on both nodes and both workers, with tokens from either token service used on either
node, and each ends with its transcript and its model usage stored."""

from __future__ import annotations

from cluster_support import converse, record_placement, stored_session

from devstack.cluster import ClusterStack


async def test_calls_spread_over_both_nodes_and_both_workers(
    cluster: ClusterStack, user_id: str
) -> None:
    # Each token is used on the node its token service does not hand out: any node takes it.
    first = await converse(cluster, token_service="token-service", node="node-2", user_id=user_id)
    # The first call is live: the second room goes to the node holding fewer rooms, its job to
    # the worker with more room to spare.
    second = await converse(
        cluster, token_service="token-service-2", node="node-1", user_id=user_id
    )
    await first.trainee.leave()
    await second.trainee.leave()

    placed = [
        record_placement("spread", cluster, first),
        record_placement("spread", cluster, second),
    ]
    assert {node for node, _ in placed} == {"node-1", "node-2"}, placed
    assert {worker for _, worker in placed} == {"agent", "agent-2"}, placed

    for call, via in ((first, "token-service-2"), (second, "token-service")):
        view = await stored_session(cluster, call, via=via)
        assert [t.role for t in view.turns[:2]] == ["user", "assistant"], view.turns
        [usage] = view.usage
        assert usage.attempt == view.attempt
        assert usage.realtime is not None
        assert usage.realtime.input_audio_tokens > 0
        assert usage.realtime.output_audio_tokens > 0
        assert usage.realtime.input_text_tokens > 0
