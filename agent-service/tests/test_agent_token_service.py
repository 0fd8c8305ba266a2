"""The agent's side of the internal API, against a real token service on a real PostgreSQL:
prompt selection, session creation and its retry policy, transcript batches, idempotent
re-sends, attempt numbers, and the spool when the service is down."""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import msgspec
import pytest
from livekit.agents import AgentSession, ChatMessage, ChatRole
from livekit.agents.voice import UserStateChangedEvent

from agent_service.api_client import (
    InternalApiClient,
    NotFound,
    Unavailable,
)
from agent_service.call_setup import CallSetupError, prepare_call
from agent_service.delivery import DeliveryOptions, TranscriptDelivery
from agent_service.options import CallOptions
from agent_service.recording import RecordingSpool
from agent_service.redelivery import SpoolRedeliverer, redeliver_spool
from agent_service.retry_policy import RetryPolicy
from agent_service.spool import Spool
from agent_service.transcript import TranscriptRecorder
from devstack.ports import free_port
from devstack.postgres import PostgresServer
from devstack.token_service import TokenService, run_token_service
from devstack.waits import until
from training_contracts import (
    USER_ID_HEADER,
    AgentDispatchMetadata,
    AgentErrorCode,
    AssignmentSessionRequest,
    CreateSessionRequest,
    CreateSessionResponse,
    FreePracticeSessionRequest,
    Role,
    SessionType,
    SessionView,
    TranscriptBatch,
    TranscriptTurn,
)

FAST = RetryPolicy(retries=3, backoff=0.05, timeout=2.0)
FAST_DELIVERY = DeliveryOptions(policy=FAST)
FAST_OPTIONS = CallOptions(session_create_policy=FAST, scenario_policy=FAST, delivery=FAST_DELIVERY)


@pytest.fixture
async def client(token_service: TokenService) -> AsyncIterator[InternalApiClient]:
    api = InternalApiClient(token_service.url, token_service.internal_key)
    yield api
    await api.aclose()


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # bound and released: nothing listens there


def user(token_service: TokenService, index: int) -> dict[str, Any]:
    users: list[dict[str, Any]] = token_service.demo["users"]
    return users[index]


def free_practice(token_service: TokenService, index: int = 0) -> CreateSessionRequest:
    return FreePracticeSessionRequest(user_id=uuid.UUID(user(token_service, index)["userId"]))


async def session_view(
    token_service: TokenService, user_id: uuid.UUID, session_id: uuid.UUID
) -> SessionView:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{token_service.url}/api/sessions/{session_id}",
            headers={USER_ID_HEADER: str(user_id)},
        ) as response,
    ):
        assert response.status == 200, await response.text()
        return msgspec.json.decode(await response.read(), type=SessionView)


def turns(count: int, *, attempt: int, start: int = 1) -> list[TranscriptTurn]:
    return [
        TranscriptTurn(
            role=Role.USER if n % 2 else Role.ASSISTANT,
            content=f"turn {n} of attempt {attempt}",
            turn_order=n,
            attempt_number=attempt,
            interrupted=n % 4 == 0,
        )
        for n in range(start, count + 1)
    ]


# -- prompt selection and session creation ------------------------------------------------------


async def test_an_assignment_uses_its_scenario_prompt_verbatim_and_counts_attempts(
    token_service: TokenService, client: InternalApiClient
) -> None:
    demo_user = user(token_service, 1)
    scenario = next(
        s for s in token_service.demo["scenarios"] if s["id"] == demo_user["scenarioId"]
    )
    metadata = AgentDispatchMetadata(
        user_id=uuid.UUID(demo_user["userId"]),
        assignment_id=uuid.UUID(demo_user["assignmentId"]),
        scenario_id=uuid.UUID(demo_user["scenarioId"]),
    )
    prompt, first = await prepare_call(client, metadata, FAST_OPTIONS)
    assert prompt == scenario["prompt"]
    _, second = await prepare_call(client, metadata, FAST_OPTIONS)
    assert second.session_id == first.session_id
    assert second.attempt == first.attempt + 1

    view = await session_view(token_service, metadata.user_id, first.session_id)
    assert view.type is SessionType.ASSIGNMENT
    assert view.attempt == second.attempt


async def test_a_retried_creation_with_the_same_job_gets_the_same_attempt(
    token_service: TokenService, client: InternalApiClient
) -> None:
    """The job id is the creation's idempotency key: a retry whose answer was lost (the first
    request committed, its answer never arrived) counts once; another job counts again."""
    demo_user = user(token_service, 0)
    metadata = AgentDispatchMetadata(
        user_id=uuid.UUID(demo_user["userId"]),
        assignment_id=uuid.UUID(demo_user["assignmentId"]),
    )
    job = f"AJ_{uuid.uuid4().hex[:12]}"
    _, first = await prepare_call(client, metadata, FAST_OPTIONS, job_id=job)
    _, again = await prepare_call(client, metadata, FAST_OPTIONS, job_id=job)
    assert again == first
    _, other_job = await prepare_call(client, metadata, FAST_OPTIONS, job_id=job + "-next")
    assert (other_job.session_id, other_job.attempt) == (first.session_id, first.attempt + 1)
    view = await session_view(token_service, metadata.user_id, first.session_id)
    assert view.attempt == other_job.attempt


async def test_free_practice_uses_the_default_caller(
    token_service: TokenService, client: InternalApiClient
) -> None:
    metadata = AgentDispatchMetadata(user_id=uuid.UUID(user(token_service, 0)["userId"]))
    prompt, created = await prepare_call(client, metadata, FAST_OPTIONS)
    assert prompt is None
    assert created.attempt == 1
    view = await session_view(token_service, metadata.user_id, created.session_id)
    assert view.type is SessionType.FREE_PRACTICE


async def test_an_unknown_scenario_is_scenario_not_found_without_retrying(
    token_service: TokenService, client: InternalApiClient
) -> None:
    metadata = AgentDispatchMetadata(
        user_id=uuid.UUID(user(token_service, 0)["userId"]), scenario_id=uuid.uuid4()
    )
    with pytest.raises(CallSetupError) as raised:
        await prepare_call(client, metadata, FAST_OPTIONS)
    assert raised.value.code is AgentErrorCode.SCENARIO_NOT_FOUND
    assert isinstance(raised.value.__cause__, NotFound)
    assert raised.value.__cause__.attempts == 1


@pytest.mark.parametrize("unknown", ["user", "assignment"])
async def test_an_unknown_user_or_assignment_has_its_own_code_without_retrying(
    token_service: TokenService, client: InternalApiClient, unknown: str
) -> None:
    """Distinct from session_create_failed (the service could not be reached): nothing to retry."""
    demo_user = user(token_service, 0)
    metadata = AgentDispatchMetadata(
        user_id=uuid.uuid4() if unknown == "user" else uuid.UUID(demo_user["userId"]),
        assignment_id=uuid.UUID(demo_user["assignmentId"]) if unknown == "user" else uuid.uuid4(),
    )
    with pytest.raises(CallSetupError) as raised:
        await prepare_call(client, metadata, FAST_OPTIONS)
    assert raised.value.code is AgentErrorCode.USER_OR_ASSIGNMENT_NOT_FOUND
    cause = raised.value.__cause__
    assert isinstance(cause, NotFound)
    assert (cause.code, cause.attempts) == (f"{unknown}_not_found", 1)


async def test_an_unreachable_service_is_scenario_unavailable(token_service: TokenService) -> None:
    api = InternalApiClient(closed_port_url(), token_service.internal_key)
    metadata = AgentDispatchMetadata(
        user_id=uuid.UUID(user(token_service, 0)["userId"]), scenario_id=uuid.uuid4()
    )
    try:
        with pytest.raises(CallSetupError) as raised:
            await prepare_call(api, metadata, FAST_OPTIONS)
    finally:
        await api.aclose()
    assert raised.value.code is AgentErrorCode.SCENARIO_UNAVAILABLE


async def test_session_creation_gives_up_after_exactly_three_retries(
    token_service: TokenService,
) -> None:
    api = InternalApiClient(closed_port_url(), token_service.internal_key)
    policy = RetryPolicy(retries=3, backoff=0.2, timeout=2.0)
    metadata = AgentDispatchMetadata(user_id=uuid.UUID(user(token_service, 0)["userId"]))
    started = time.monotonic()
    try:
        with pytest.raises(CallSetupError) as raised:
            await prepare_call(api, metadata, CallOptions(session_create_policy=policy))
    finally:
        await api.aclose()
    elapsed = time.monotonic() - started
    assert raised.value.code is AgentErrorCode.SESSION_CREATE_FAILED
    cause = raised.value.__cause__
    assert isinstance(cause, Unavailable)
    assert cause.attempts == 4  # the first try and three retries
    assert 3 * 0.2 <= elapsed < policy.max_duration


async def test_a_wrong_internal_key_is_retried_then_fails(token_service: TokenService) -> None:
    api = InternalApiClient(token_service.url, "not-the-key")
    try:
        with pytest.raises(Unavailable) as raised:
            await api.create_session(free_practice(token_service), FAST)
    finally:
        await api.aclose()
    assert raised.value.status == 401
    assert raised.value.attempts == 4


# -- transcripts ----------------------------------------------------------------------------------


class Delivering(NamedTuple):
    request: CreateSessionRequest
    created: CreateSessionResponse
    spool: Spool
    delivery: TranscriptDelivery


async def delivering(
    token_service: TokenService,
    client: InternalApiClient,
    tmp_path: Path,
    options: DeliveryOptions = FAST_DELIVERY,
) -> Delivering:
    """A new free-practice session and the delivery of its transcript, spooling into tmp_path."""
    request = free_practice(token_service)
    created = await client.create_session(request, FAST)
    spool = Spool(tmp_path)
    delivery = TranscriptDelivery(client, spool, created.session_id, created.attempt, options)
    return Delivering(request, created, spool, delivery)


async def test_batches_then_the_final_list_store_each_turn_once(
    token_service: TokenService, client: InternalApiClient, tmp_path: Path
) -> None:
    request, created, spool, delivery = await delivering(token_service, client, tmp_path)
    all_turns = turns(7, attempt=created.attempt)
    assert await delivery.deliver_settled(all_turns[:2])
    assert await delivery.deliver_settled(all_turns[:5])
    assert delivery.delivered == 5
    view = await session_view(token_service, request.user_id, created.session_id)
    assert [t.turn_order for t in view.turns] == [1, 2, 3, 4, 5]
    assert view.status != "completed"

    assert await delivery.finish(all_turns, within=5.0)
    view = await session_view(token_service, request.user_id, created.session_id)
    assert [(t.turn_order, t.role, t.content, t.interrupted) for t in view.turns] == [
        (t.turn_order, t.role, t.content, t.interrupted) for t in all_turns
    ]
    assert view.status == "completed"
    assert spool.pending() == []


async def test_settled_turns_are_delivered_while_the_call_goes(
    token_service: TokenService, client: InternalApiClient, tmp_path: Path
) -> None:
    request, created, _, delivery = await delivering(
        token_service, client, tmp_path, DeliveryOptions(policy=FAST, interval=60)
    )
    session: AgentSession[None] = AgentSession(
        vad=None, turn_handling={"turn_detection": "realtime_llm"}
    )
    recorder = TranscriptRecorder(created.attempt)
    recorder.attach(session)
    loop = asyncio.create_task(delivery.run(recorder))
    try:
        roles: list[ChatRole] = ["user", "assistant", "user"]
        for n, role in enumerate(roles, start=1):
            recorder.add(ChatMessage(role=role, content=[f"line {n}"], created_at=float(n)))
        # The trainee starts speaking at 3.5: the caller's line 4, dated after that, waits for
        # the trainee's transcript; lines 1-3 are sent as they settle.
        session.emit(
            "user_state_changed",
            UserStateChangedEvent(old_state="listening", new_state="speaking", created_at=3.5),
        )
        recorder.add(ChatMessage(role="assistant", content=["line 4"], created_at=4.0))
        await until("three turns delivered", lambda: delivery.delivered == 3, 5.0, poll=0.02)
        view = await session_view(token_service, request.user_id, created.session_id)
        assert [t.content for t in view.turns] == ["line 1", "line 2", "line 3"]
        assert view.status != "completed"
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    assert await delivery.finish(recorder.finalize(), within=5.0)
    view = await session_view(token_service, request.user_id, created.session_id)
    assert [t.content for t in view.turns] == ["line 1", "line 2", "line 3", "line 4"]
    assert view.status == "completed"


async def test_the_same_batch_twice_is_stored_once(
    token_service: TokenService, client: InternalApiClient
) -> None:
    request = free_practice(token_service)
    created = await client.create_session(request, FAST)
    batch = TranscriptBatch(turns=turns(3, attempt=created.attempt))
    first = await client.post_transcript(created.session_id, batch, FAST)
    again = await client.post_transcript(created.session_id, batch, FAST)
    assert (first.received, first.stored) == (3, 3)
    assert (again.received, again.stored) == (3, 0)
    view = await session_view(token_service, request.user_id, created.session_id)
    assert len(view.turns) == 3


async def test_turns_carry_their_attempt_number(
    token_service: TokenService, client: InternalApiClient
) -> None:
    demo_user = user(token_service, 0)
    request = AssignmentSessionRequest(
        user_id=uuid.UUID(demo_user["userId"]),
        assignment_id=uuid.UUID(demo_user["assignmentId"]),
        scenario_id=uuid.UUID(demo_user["scenarioId"]),
    )
    first = await client.create_session(request, FAST)
    await client.post_transcript(
        first.session_id, TranscriptBatch(turns=turns(2, attempt=first.attempt), final=True), FAST
    )
    second = await client.create_session(request, FAST)
    assert (second.session_id, second.attempt) == (first.session_id, first.attempt + 1)
    await client.post_transcript(
        second.session_id,
        TranscriptBatch(turns=turns(3, attempt=second.attempt), final=True),
        FAST,
    )
    view = await session_view(token_service, request.user_id, first.session_id)
    assert [t.turn_order for t in view.turns if t.attempt_number == first.attempt] == [1, 2]
    assert [t.turn_order for t in view.turns if t.attempt_number == second.attempt] == [1, 2, 3]


# -- the spool ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def token_service_on(postgres: PostgresServer, port: int) -> AsyncIterator[TokenService]:
    """A second token service process on `port`, same database; started off the event loop."""
    manager = run_token_service(postgres.dsn(), port=port)
    service = await asyncio.to_thread(manager.__enter__)
    try:
        yield service
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


async def test_undeliverable_turns_are_spooled_and_redelivered_once_the_service_is_up(
    postgres: PostgresServer,
    token_service: TokenService,
    client: InternalApiClient,
    tmp_path: Path,
) -> None:
    request = free_practice(token_service, 1)
    created = await client.create_session(request, FAST)
    port = free_port()
    down = InternalApiClient(f"http://127.0.0.1:{port}", token_service.internal_key)
    spool = Spool(tmp_path / "spool")
    delivery = TranscriptDelivery(down, spool, created.session_id, created.attempt, FAST_DELIVERY)
    all_turns = turns(6, attempt=created.attempt)
    try:
        assert not await delivery.deliver_settled(all_turns[:4])
        [mid_call] = spool.pending()
        started = time.monotonic()
        assert not await delivery.finish(all_turns, within=5.0)
        assert time.monotonic() - started < FAST.max_duration
        assert spool.pending() == [mid_call]  # the same file, now the complete transcript

        report = await redeliver_spool(spool, down, policy=FAST)
        assert (report.delivered, report.failed) == (0, 1)
        assert spool.pending() == [mid_call]

        async with token_service_on(postgres, port):
            report = await redeliver_spool(spool, down, policy=FAST)
    finally:
        await down.aclose()
    assert (report.delivered, report.failed, report.buried) == (1, 0, 0)
    assert spool.pending() == []
    view = await session_view(token_service, request.user_id, created.session_id)
    assert [t.content for t in view.turns] == [t.content for t in all_turns]
    assert view.status == "completed"


async def test_the_spool_goes_out_as_soon_as_the_service_answers_again(
    postgres: PostgresServer,
    token_service: TokenService,
    client: InternalApiClient,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The redeliverer finds a spooled transcript by itself, finds the service down, and probes
    its readiness until it answers: the transcript is stored a probe step after that, not at
    the next round of a long interval."""
    request = free_practice(token_service, 1)
    created = await client.create_session(request, FAST)
    port = free_port()
    down = InternalApiClient(f"http://127.0.0.1:{port}", token_service.internal_key)
    spool = Spool(tmp_path / "spool")
    all_turns = turns(4, attempt=created.attempt)
    delivery = TranscriptDelivery(down, spool, created.session_id, created.attempt, FAST_DELIVERY)
    try:
        assert not await delivery.finish(all_turns, within=5.0)
        assert not await down.ready(1.0)
    finally:
        await down.aclose()
    redeliverer = SpoolRedeliverer(
        spool,
        RecordingSpool(tmp_path / "recordings"),
        lambda: InternalApiClient(f"http://127.0.0.1:{port}", token_service.internal_key),
        interval=0.1,
        probe_first=0.1,
        probe_max=0.5,
    )
    caplog.set_level(logging.WARNING, logger="agent_service.spool_sending")
    redeliverer.start()
    try:
        await until("failed pass", lambda: _logged(caplog, "token service still unavailable"), 10.0)
        assert list(spool.directory.glob("*.json*"))  # kept, while the redeliverer probes

        async def stored() -> SessionView | None:
            view = await session_view(token_service, request.user_id, created.session_id)
            return view if view.status == "completed" else None

        async with token_service_on(postgres, port):
            ready = time.monotonic()
            view = await until("redelivered transcript", stored, 5.0, poll=0.05)
            delivered_after = time.monotonic() - ready
    finally:
        await redeliverer.aclose()
    assert delivered_after < 0.5 + 1.0  # the longest probe step, and one pass
    assert [t.content for t in view.turns] == [t.content for t in all_turns]
    assert spool.pending() == []


async def test_session_creation_survives_a_service_that_comes_up_late(
    postgres: PostgresServer, token_service: TokenService, caplog: pytest.LogCaptureFixture
) -> None:
    """The first attempts hit a closed port; a retry reaches the token service once it is up.

    The back-off is longer than production's 2 s only so that a token service starting on a
    loaded machine (migrate, seed, serve) still fits in the retry window.
    """
    port = free_port()
    api = InternalApiClient(f"http://127.0.0.1:{port}", token_service.internal_key)
    policy = RetryPolicy(retries=3, backoff=4.0, timeout=2.0)
    caplog.set_level(logging.WARNING, logger="agent_service.api_client")
    started = time.monotonic()
    try:
        creating = asyncio.create_task(api.create_session(free_practice(token_service), policy))
        await until(
            "failed first attempt", lambda: _logged(caplog, "internal API call failed"), 5.0
        )
        assert not creating.done()  # the client is backing off
        async with token_service_on(postgres, port):
            created = await creating
    finally:
        await api.aclose()
    assert created.attempt == 1
    assert time.monotonic() - started >= policy.backoff  # it took at least one retry


async def test_a_transcript_for_an_unknown_session_is_kept_under_dead(
    token_service: TokenService, client: InternalApiClient, tmp_path: Path
) -> None:
    spool = Spool(tmp_path)
    delivery = TranscriptDelivery(client, spool, uuid.uuid4(), 1, FAST_DELIVERY)
    assert not await delivery.finish(turns(2, attempt=1), within=5.0)
    report = await redeliver_spool(spool, client, policy=FAST)
    assert (report.delivered, report.buried) == (0, 1)
    assert spool.pending() == []
    [kept] = spool.dead_directory.iterdir()
    assert kept.name.endswith("_1.json")


def _logged(caplog: pytest.LogCaptureFixture, message: str) -> bool:
    return any(record.getMessage().startswith(message) for record in caplog.records)
