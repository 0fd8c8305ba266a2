"""`training-contracts page-config`: the web image writes the page's /config.json with it."""

import subprocess
import sys
from uuid import UUID

import msgspec
import pytest

from training_contracts import IceServer, PageConfig

USER = UUID("0d5f3c9e-1b2a-4c8d-9e7f-000000000001")


def page_config(*argv: str) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "training_contracts", "page-config", *argv]
    return subprocess.run(command, capture_output=True, check=False)


def test_prints_the_contract_with_every_field_given() -> None:
    done = page_config(
        "--token-service-url=http://localhost:8000",
        "--no-caller-timeout-ms=20000",
        '--ice-servers=[{"urls": ["stun:127.0.0.1:3478"]}]',
        f"--demo-user-ids={USER},{USER}",
    )
    assert done.returncode == 0, done.stderr
    assert msgspec.json.decode(done.stdout, type=PageConfig) == PageConfig(
        token_service_url="http://localhost:8000",
        no_caller_timeout_ms=20000,
        demo_user_ids=[USER, USER],
        ice_servers=[IceServer(urls=["stun:127.0.0.1:3478"])],
    )


def test_ice_servers_left_out_means_the_livekit_servers_own() -> None:
    done = page_config("--token-service-url=http://t", "--no-caller-timeout-ms=1")
    assert done.returncode == 0, done.stderr
    assert msgspec.json.decode(done.stdout) == {
        "tokenServiceUrl": "http://t",
        "noCallerTimeoutMs": 1,
        "demoUserIds": [],
    }


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        ("--ice-servers=[{}]", "RTCIceServer"),
        ("--ice-servers=stun:x", "RTCIceServer"),
        ("--demo-user-ids=not-a-uuid", "UUIDs"),
        ("--no-caller-timeout-ms=0", "positive"),
    ],
)
def test_bad_values_are_refused_with_what_is_wanted(argument: str, named: str) -> None:
    base = ["--token-service-url=http://t", "--no-caller-timeout-ms=1"]
    done = page_config(*base, argument)
    assert done.returncode == 2
    assert named in done.stderr.decode()
    assert not done.stdout
