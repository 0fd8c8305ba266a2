"""What the cluster tests share: one call through the cluster, where it ran, and a metrics scrape."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
from prometheus_client.parser import text_string_to_metric_families

from devstack.cluster import ClusterStack
from devstack.speech import render_speech
from devstack.trainee import Trainee, fetch_token
from training_contracts import SESSION_PATH, USER_ID_HEADER, SessionView, fill

TRAINEE_LINE = "Hello, you've reached the support line. My name is Sam. What's going on tonight?"
CALLER_LINE = "Hi. I don't really know why I called. Everything just feels like too much."
STUB_SCRIPT: dict[str, Any] = {
    "user_transcripts": [TRAINEE_LINE],
    "replies": [CALLER_LINE],
    "reply_ms": 1200,
}

JOIN_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 20.0
STORED_TIMEOUT_S = 45.0

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
        ended = await trainee.say(render_speech(TRAINEE_LINE), then_silence=0.5)
        await trainee.wait_for_agent_reply(after=ended, timeout=REPLY_TIMEOUT_S)
    except BaseException:
        await trainee.leave()
        raise
    return Call(trainee, token.room_name, session_id, user_id, token_service)


async def stored_session(cluster: ClusterStack, call: Call, *, via: str) -> SessionView:
    """The session read through token service `via` once its transcript is stored."""
    url = cluster.token_services[via].url + fill(SESSION_PATH, session_id=call.session_id)
    deadline = time.monotonic() + STORED_TIMEOUT_S
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        while True:
            response = await client.get(url, headers={USER_ID_HEADER: call.user_id})
            assert response.status_code == 200, response.text
            view = msgspec.json.decode(response.content, type=SessionView)
            if view.status == "completed":
                return view
            assert time.monotonic() < deadline, f"transcript of {call.room} never stored"
            await asyncio.sleep(0.5)


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
