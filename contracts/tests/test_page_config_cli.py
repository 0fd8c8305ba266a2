"""`training-contracts page-config`: the web image writes the page's /config.json with it, from
the page's settings in the environment (PageSettings)."""

import os
import subprocess
import sys
from uuid import UUID

import msgspec
import pytest

from training_contracts import EXIT_BAD_SETTINGS, IceServer, PageConfig
from training_contracts.page_settings import PageSettings

USER = UUID("0d5f3c9e-1b2a-4c8d-9e7f-000000000001")
SETTINGS = {name.upper() for name in PageSettings.__struct_fields__}


def page_config(*argv: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "training_contracts", "page-config", *argv]
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run(command, capture_output=True, check=False, env={**clean, **env})


def test_prints_the_contract_with_every_setting_given() -> None:
    done = page_config(
        TOKEN_SERVICE_URL="http://localhost:8000",
        NO_CALLER_TIMEOUT_MS="20000",
        ICE_SERVERS='[{"urls": ["stun:127.0.0.1:3478"]}]',
        DEMO_USER_IDS=f"{USER},{USER}",
    )
    assert done.returncode == 0, done.stderr
    assert msgspec.json.decode(done.stdout, type=PageConfig) == PageConfig(
        token_service_url="http://localhost:8000",
        no_caller_timeout_ms=20000,
        demo_user_ids=[USER, USER],
        ice_servers=[IceServer(urls=["stun:127.0.0.1:3478"])],
    )


def test_unset_or_empty_ice_servers_mean_the_livekit_servers_own() -> None:
    for ice_servers in ({}, {"ICE_SERVERS": ""}):
        done = page_config(TOKEN_SERVICE_URL="http://t", **ice_servers)
        assert done.returncode == 0, done.stderr
        assert msgspec.json.decode(done.stdout) == {
            "tokenServiceUrl": "http://t",
            "noCallerTimeoutMs": 20000,
            "demoUserIds": [],
        }


def test_port_prints_the_port_the_page_is_served_on() -> None:
    assert page_config("--port", TOKEN_SERVICE_URL="http://t").stdout == b"3003\n"
    assert page_config("--port", TOKEN_SERVICE_URL="http://t", PORT="8080").stdout == b"8080\n"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ICE_SERVERS", "[{}]"),
        ("ICE_SERVERS", "stun:x"),
        ("DEMO_USER_IDS", "not-a-uuid"),
        ("NO_CALLER_TIMEOUT_MS", "0"),
        ("PORT", "70000"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable: str, value: str) -> None:
    done = page_config(TOKEN_SERVICE_URL="http://t", **{variable: value})
    assert done.returncode == EXIT_BAD_SETTINGS
    assert done.stderr.decode().startswith(
        f"training-contracts page-config: invalid settings: {variable} ("
    )
    assert not done.stdout


def test_every_missing_and_invalid_variable_in_one_line() -> None:
    done = page_config(NO_CALLER_TIMEOUT_MS="soon", PORT="0")
    assert done.returncode == EXIT_BAD_SETTINGS
    [line] = done.stderr.decode().splitlines()
    assert line.startswith(
        "training-contracts page-config: missing required settings: TOKEN_SERVICE_URL;"
        " invalid settings: NO_CALLER_TIMEOUT_MS ("
    )
    assert ", PORT (" in line
