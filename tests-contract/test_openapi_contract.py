"""The token service answers what its OpenAPI document says: schemathesis against the real service.

The service runs as `token-service serve` does in production (the fast token route in front of
Litestar) on a throwaway Postgres with the demo data, and schemathesis runs every check it has
(status codes, bodies, content types and headers against the document, schema-valid requests
accepted and invalid ones refused, credentials enforced, undeclared methods answered 405 with
`Allow`) over every operation in every phase, the stateful one included, with the credentials of
a demo user and of the agent. Half the ids it puts in bodies and paths are the demo data's, so
requests get past "not found" into the operations' own logic, and the stateful phase follows the
document's links from a created session to its transcript, view and evaluation. Generation is
derandomized and bounded, so a run is repeatable and takes the same time; a failure prints the
request that reproduces it as a curl command.
"""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.postgres import postgres_server
from devstack.token_service import TokenService, run_token_service
from training_contracts import INTERNAL_KEY_HEADER, OPENAPI_PATH, USER_ID_HEADER

MAX_EXAMPLES = 40
"""Per operation and phase: enough to reach every documented status of every operation."""
RUN_TIMEOUT_S = 600
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenService]:
    with (
        postgres_server() as pg,
        run_token_service(pg.dsn(), log_dir=tmp_path_factory.mktemp("logs")) as service,
    ):
        yield service


DEMO_ID_SHARE = 0.5
"""How often an id is the demo data's rather than generated."""


def demo_data_config(service: TokenService) -> str:
    """schemathesis.toml: dictionaries of the demo ids, bound to the fields and paths taking them.

    `assignmentId` only where every shape of the body may carry one: free practice's must be null.
    """
    users = service.demo["users"]
    dictionaries = {
        "users": [user["userId"] for user in users],
        "assignments": [user["assignmentId"] for user in users],
        "scenarios": [scenario["id"] for scenario in service.demo["scenarios"]],
    }

    def bind(key: str, dictionary: str) -> str:
        return f'"{key}" = {{ dictionary = "{dictionary}", probability = {DEMO_ID_SHARE} }}'

    lines: list[str] = []
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
    ]
    return "\n".join(lines) + "\n"


def schemathesis_command(service: TokenService, config: Path) -> list[str]:
    user_id = service.demo["users"][0]["userId"]
    return [
        str(SCHEMATHESIS),
        f"--config-file={config}",
        "run",
        service.url + OPENAPI_PATH,
        "--checks=all",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--max-examples={MAX_EXAMPLES}",
        "--generation-deterministic",
        "--workers=1",
        "--request-timeout=30",
        "--no-color",
        "--header",
        f"{USER_ID_HEADER}: {user_id}",
        "--header",
        f"{INTERNAL_KEY_HEADER}: {service.internal_key}",
    ]


def test_the_service_answers_what_its_document_says(
    token_service: TokenService, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(demo_data_config(token_service), encoding="utf-8")
    result = subprocess.run(
        schemathesis_command(token_service, config),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        cwd=tmp_path,  # its report folder, if any, lands here and not in the repository
    )
    report = result.stdout + result.stderr
    print(report)
    assert result.returncode == 0, f"schemathesis found failures:\n{report}"
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, f"the {phase} phase did not run:\n{report}"
