"""Both services' /metrics, scraped before, during and after one call and its evaluation."""

from __future__ import annotations

from collections.abc import Iterable

from cluster_support import (
    Samples,
    converse,
    gauge,
    record_placement,
    scrape,
    stored_session,
    total,
)

from devstack.cluster import ClusterStack
from devstack.harness import FrontendApi
from devstack.waits import until
from training_contracts import TOKEN_PATH

TS = "token-service"
TOKEN_SERVICES = (TS, "token-service-2")
WORKERS = ("agent", "agent-2")


def scrape_each(cluster: ClusterStack, names: tuple[str, ...]) -> dict[str, Samples]:
    return {name: scrape(cluster.metrics_urls[name]) for name in names}


def added_up(each: Iterable[Samples]) -> Samples:
    """The services' samples added up: the call's job may run on either worker, and each worker
    stores through a token service of its own."""
    summed: Samples = {}
    for samples in each:
        for key, value in samples.items():
            summed[key] = summed.get(key, 0.0) + value
    return summed


def scrape_all(cluster: ClusterStack, names: tuple[str, ...]) -> Samples:
    return added_up(scrape_each(cluster, names).values())


async def test_metrics_move_with_a_call(cluster: ClusterStack, user_id: str) -> None:
    ts_before = scrape_all(cluster, TOKEN_SERVICES)
    w_before = scrape_all(cluster, WORKERS)

    call = await converse(cluster, token_service=TS, node="node-1", user_id=user_id)
    w_during = scrape_all(cluster, WORKERS)
    await call.trainee.leave()
    record_placement("metrics", cluster, call)
    view = await stored_session(cluster, call, via=TS)
    frontend = FrontendApi(cluster.token_services[TS].url)
    evaluated = await frontend.request_evaluation(user_id, call.session_id)
    assert evaluated.status_code == 200, evaluated.text
    per_service = scrape_each(cluster, TOKEN_SERVICES)
    ts_after = added_up(per_service.values())

    def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    # The job counts its model usage as it ends, after its final batch was stored.
    output_audio = {"model": "gpt-realtime", "kind": "output_audio"}

    def usage_counted() -> Samples | None:
        after = scrape_all(cluster, WORKERS)
        return after if moved(w_before, after, "agent_model_tokens_total", **output_audio) else None

    w_after = await until("the job's model usage counted", usage_counted, 15.0, poll=0.2)

    # token service
    assert moved(ts_before, ts_after, "token_service_tokens_minted_total") == 1
    assert moved(ts_before, ts_after, "token_service_sessions_created_total") == 1
    assert moved(ts_before, ts_after, "token_service_transcript_turns_stored_total") >= 2
    token_route = {"route": TOKEN_PATH, "method": "POST", "status": "200"}
    assert moved(ts_before, ts_after, "token_service_request_seconds_count", **token_route) == 1
    assert moved(ts_before, ts_after, "token_service_evaluation_seconds_count", outcome="ok") == 1
    for name, pool in per_service.items():
        held = gauge(pool, "token_service_db_pool_connections")
        in_use = gauge(pool, "token_service_db_pool_connections_in_use")
        assert held >= 1, name
        assert 0 <= in_use <= held, name

    # workers
    assert total(w_during, "agent_calls_running") == 1
    # and the worker's next load report counts it out
    await until(
        "no call running in the workers' metrics",
        lambda: total(scrape_all(cluster, WORKERS), "agent_calls_running") == 0,
        5.0,
        poll=0.2,
    )
    assert moved(w_before, w_after, "agent_session_published_seconds_count") == 1
    assert moved(w_before, w_after, "agent_transcript_batches_total", outcome="delivered") >= 1
    assert moved(w_before, w_after, "agent_call_setup_failures_total") == 0
    usage = view.usage[0]
    assert usage.realtime is not None
    assert usage.evaluation is None  # read before the evaluation
    tokens = moved(w_before, w_after, "agent_model_tokens_total", **output_audio)
    assert tokens == usage.realtime.output_audio_tokens
