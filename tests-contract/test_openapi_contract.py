"""The token service answers what its OpenAPI document says: schemathesis against the real service.

The service runs as `token-service serve` does in production (the fast token route in front of
Litestar) on a throwaway Postgres with the demo data, and schemathesis runs every check it has
(status codes, bodies, content types and headers against the document, schema-valid requests
accepted and invalid ones refused, credentials enforced, undeclared methods answered 405 with
`Allow`) over every operation in every phase, the stateful one included, with the credentials of
a demo user and of the agent. Half the ids it puts in bodies and paths are the demo data's, so
requests get past "not found" into the operations' own logic, and the stateful phase follows the
document's links from a created session to its transcript, view, evaluation and recording (free
practice is recorded here, so a created attempt expects one and an upload is stored).
Recordings are generated as real Ogg/Opus streams (schemathesis_hooks.py). Generation is bounded,
so a run takes the same time, and runs twice: derandomized, the same requests every time, and with
a random seed (conftest.py prints it in the session's header; `CONTRACT_SEED=<seed>` repeats that
run), which over many runs reaches requests the fixed run never sends. A failure prints the
request that reproduces it as a curl command.

Generated requests seldom play a stored recording back with a Range that parses, so the
playback's answers (200, 206 and 416 with their headers) are also checked on purpose: every check
on one request per kind of Range, against a recording stored for the caller.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import schemathesis_hooks  # noqa: F401  # audio/ogg for the Cases sent from this process too

from devstack.environment import STUB_API_KEY
from devstack.postgres import postgres_server
from devstack.stub import openai_stub
from devstack.token_service import TokenService, run_token_service
from token_service.recordings.ogg import opus_stream
from training_contracts import (
    ATTEMPT_QUERY,
    INTERNAL_KEY_HEADER,
    INTERNAL_RECORDING_PATH,
    INTERNAL_SESSIONS_PATH,
    OPENAPI_PATH,
    RECORDING_MEDIA_TYPE,
    RECORDING_PATH,
    USER_ID_HEADER,
)

MAX_EXAMPLES = 40
"""Per operation and phase: enough to reach every documented status of every operation."""
RUN_TIMEOUT_S = 600
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


@pytest.fixture(scope="module")
def token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenService]:
    """The service with the model it evaluates with (the stub: a session whose transcript is
    complete is evaluated, not answered 502) and recordings in a folder of the run's."""
    log_dir = tmp_path_factory.mktemp("logs")
    with postgres_server() as pg, openai_stub(log_dir) as stub:
        env = {
            "OPENAI_BASE_URL": stub.base_url,
            "OPENAI_API_KEY": STUB_API_KEY,
            "RECORDINGS_DIR": str(tmp_path_factory.mktemp("recordings")),
            "RECORD_FREE_PRACTICE": "true",
        }
        with run_token_service(pg.dsn(), env=env, log_dir=log_dir) as service:
            yield service


DEMO_ID_SHARE = 0.5
"""How often an id is the demo data's rather than generated."""


def demo_data_config(service: TokenService) -> str:
    """schemathesis.toml: dictionaries of the demo ids, bound to the fields and paths taking them.

    `assignmentId` only where every shape of the body may carry one: free practice's must be null.
    A created session's user is often the caller (the user whose id the requests carry), so the
    stateful phase plays back the recordings it uploads: 200, and 206 or 416 for a Range.
    """
    users = service.demo["users"]
    dictionaries = {
        "caller": [caller(service)],
        "users": [user["userId"] for user in users],
        "assignments": [user["assignmentId"] for user in users],
        "scenarios": [scenario["id"] for scenario in service.demo["scenarios"]],
    }

    def bind(key: str, dictionary: str) -> str:
        return f'"{key}" = {{ dictionary = "{dictionary}", probability = {DEMO_ID_SHARE} }}'

    lines = [f"hooks = {json.dumps(str(HOOKS))}", ""]
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines += [
        "[parameters]",
        bind("body.userId", "users"),
        bind("body.scenarioId", "scenarios"),
        bind("path.scenario_id", "scenarios"),
        "",
        "[[operations]]",
        'include-operation-id = "createLivekitToken"',
        "[operations.parameters]",
        bind("body.assignmentId", "assignments"),
        bind("body.scenarioId", "scenarios"),
        "",
        "[[operations]]",
        'include-operation-id = "createSession"',
        "[operations.parameters]",
        bind("body.userId", "caller"),
        bind("body.scenarioId", "scenarios"),
    ]
    return "\n".join(lines) + "\n"


def caller(service: TokenService) -> str:
    """The user every public request is made as."""
    user_id: str = service.demo["users"][0]["userId"]
    return user_id


def schemathesis_command(service: TokenService, config: Path, seed: int | None) -> list[str]:
    """`seed` None: derandomized generation."""
    user_id = caller(service)
    return [
        str(SCHEMATHESIS),
        f"--config-file={config}",
        "run",
        service.url + OPENAPI_PATH,
        "--checks=all",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={MAX_EXAMPLES}",
        "--generation-deterministic" if seed is None else f"--seed={seed}",
        "--workers=1",
        "--request-timeout=30",
        "--no-color",
        "--header",
        f"{USER_ID_HEADER}: {user_id}",
        "--header",
        f"{INTERNAL_KEY_HEADER}: {service.internal_key}",
    ]


@pytest.mark.parametrize("generation", ["derandomized", "random"])
def test_the_service_answers_what_its_document_says(
    token_service: TokenService, tmp_path: Path, generation: str, contract_seed: int
) -> None:
    seed = contract_seed if generation == "random" else None
    config = tmp_path / "schemathesis.toml"
    config.write_text(demo_data_config(token_service), encoding="utf-8")
    result = subprocess.run(
        schemathesis_command(token_service, config, seed),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        cwd=tmp_path,  # its report folder, if any, lands here and not in the repository
    )
    report = result.stdout + result.stderr
    print(report)
    again = "" if seed is None else f" (seed {seed}: CONTRACT_SEED={seed} make contract-test)"
    assert result.returncode == 0, f"schemathesis found failures{again}:\n{report}"
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, f"the {phase} phase did not run:\n{report}"


RECORDING = opus_stream([bytes([31 << 3 | 0x04])] * 50)
"""A second of stereo Opus silence (CELT, 20 ms frames of no length)."""
SIZE = len(RECORDING)
RANGES: dict[str | None, tuple[int, bytes]] = {
    None: (200, RECORDING),
    "bytes=0-99": (206, RECORDING[:100]),
    "bytes=100-": (206, RECORDING[100:]),
    "bytes=-10": (206, RECORDING[-10:]),
    f"bytes={SIZE}-": (416, b""),
    "bytes=-0": (416, b""),
    "bytes=20-10": (200, RECORDING),  # invalid: ignored
    "bytes=0-1,5-9": (200, RECORDING),  # several ranges: not served, the whole recording instead
    "items=0-1": (200, RECORDING),
}
"""What each Range gets: its status and, for 200 and 206, the bytes."""


def test_playback_answers_what_its_document_says(token_service: TokenService) -> None:
    internal = {INTERNAL_KEY_HEADER: token_service.internal_key}
    created = httpx.post(
        token_service.url + INTERNAL_SESSIONS_PATH,
        json={"type": "free_practice", "userId": caller(token_service)},
        headers=internal,
        trust_env=False,
    ).json()
    assert created["record"] is True, created
    where = {"session_id": created["sessionId"]}
    attempt = {ATTEMPT_QUERY: created["attempt"]}
    schema = schemathesis.openapi.from_url(token_service.url + OPENAPI_PATH)

    stored = (
        schema[INTERNAL_RECORDING_PATH]["PUT"]
        .Case(
            path_parameters=where,
            query=attempt,
            headers=internal,
            body=RECORDING,
            media_type=RECORDING_MEDIA_TYPE,
        )
        .call_and_validate()
    )
    assert stored.json() == {"stored": True, "sizeBytes": SIZE}

    for byte_range, (status, content) in RANGES.items():
        headers = {USER_ID_HEADER: caller(token_service)}
        if byte_range is not None:
            headers["Range"] = byte_range
        case = schema[RECORDING_PATH]["GET"].Case(
            path_parameters=where, query=attempt, headers=headers
        )
        answer = case.call_and_validate()
        assert answer.status_code == status, (byte_range, answer.status_code, answer.text)
        if status == 416:
            assert answer.headers["content-range"] == [f"bytes */{SIZE}"]
        else:
            assert answer.content == content, byte_range
