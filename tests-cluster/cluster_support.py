"""What the cluster tests share: one call through the cluster, where it ran, and a metrics scrape."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devstack.cluster import ClusterStack
from devstack.harness import (
    JOIN_TIMEOUT_S,
    REPLY_TIMEOUT_S,
    TRAINEE_LINES,
    FrontendApi,
    clip,
)
from devstack.trainee import Trainee, fetch_token
from training_contracts import SessionView

REPLY_MS = 1200

PLACEMENTS: list[tuple[str, str, str, str, str]] = []
"""(test, room, node, worker, token service), printed at the end of the run."""


@dataclass
class Call:
    trainee: Trainee
    room: str
    session_id: str
    user_id: str
    token_service: str


async def converse(cluster: ClusterStack, *, token_service: str, node: str, user_id: str) -> Call:
    """A token from `token_service`, used on `node` whatever serverUrl says; `session.id`, one
    exchange with the caller. The trainee stays in the room."""
    token = await fetch_token(cluster.token_services[token_service].url, user_id)
    trainee = Trainee(name=f"trainee-{node}")
    trainee.token = token
    try:
        await trainee.connect(cluster.nodes[node].url, token.token)
        session_id = await trainee.wait_for_session_id(JOIN_TIMEOUT_S)
        ended = await trainee.say(await clip(TRAINEE_LINES[0]), then_silence=0.5)
        await trainee.wait_for_agent_reply(after=ended, timeout=REPLY_TIMEOUT_S)
    except BaseException:
        await trainee.leave()
        raise
    return Call(trainee, token.room_name, session_id, user_id, token_service)


async def stored_session(cluster: ClusterStack, call: Call, *, via: str) -> SessionView:
    """The session read through token service `via` once its transcript is stored."""
    frontend = FrontendApi(cluster.token_services[via].url)
    session, _ = await frontend.wait_for_transcript(call.user_id, call.session_id, poll=0.5)
    return session


def record_placement(test: str, cluster: ClusterStack, call: Call) -> tuple[str, str]:
    """(node, worker) where `call` ran, from the nodes' and the workers' logs."""
    node = cluster.room_node(call.room)
    worker = cluster.job_worker(call.room)
    assert node is not None, f"no node logged a session in {call.room}"
    assert worker is not None, f"no worker logged a job for {call.room}"
    PLACEMENTS.append((test, call.room, node, worker, call.token_service))
    return node, worker


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=5.0, trust_env=False)
    response.raise_for_status()
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over the series whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def gauge(samples: Samples, name: str) -> float:
    """The value of the one series `name` (a gauge without labels); AssertionError when the
    service does not export it."""
    values = [v for (n, _), v in samples.items() if n == name]
    assert len(values) == 1, f"{name}: {len(values)} series"
    return values[0]
