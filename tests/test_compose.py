"""compose.yaml checked statically: no Docker engine runs where CI runs, so this is what stands
between a typo in an environment name and a container that starts with a missing setting."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from agent_service.settings import Settings as AgentSettings
from token_service.settings import Settings as TokenServiceSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OUR_SETTINGS: dict[str, type[BaseSettings]] = {
    "token-service": TokenServiceSettings,
    "agent-service": AgentSettings,
}


def env_names(settings: type[BaseSettings]) -> tuple[set[str], set[str]]:
    """(every variable the settings read, the required ones)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    every, required = set(), set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
        env = (alias or f"{prefix}{name}").upper()
        every.add(env)
        if field.is_required():
            required.add(env)
    return every, required


def test_every_image_is_pinned() -> None:
    for name, service in SERVICES.items():
        if "image" in service:
            image = service["image"]
            assert re.search(r":[\w.-]*\d[\w.-]*$", image), f"{name}: image {image} is not pinned"
            assert not image.endswith(":latest"), name


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        if name != "agent-service":  # the worker has no HTTP port of its own to expose
            assert "healthcheck" in service, f"{name} has no healthcheck"


def test_postgres_healthcheck_uses_pg_isready() -> None:
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])


def test_dependents_wait_for_healthy_services() -> None:
    assert SERVICES["token-service"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    agent_deps = SERVICES["agent-service"]["depends_on"]
    assert agent_deps["token-service"]["condition"] == "service_healthy"
    assert agent_deps["livekit"]["condition"] == "service_healthy"


def test_livekit_runs_in_dev_mode_with_media_ports() -> None:
    livekit = SERVICES["livekit"]
    assert "--dev" in livekit["command"]
    assert {"7880:7880", "7881:7881", "7882:7882/udp"} <= set(livekit["ports"])


@pytest.mark.parametrize("service", sorted(OUR_SETTINGS))
def test_environment_names_match_what_settings_read(service: str) -> None:
    every, required = env_names(OUR_SETTINGS[service])
    given = set(SERVICES[service]["environment"])
    unknown = given - every
    assert not unknown, f"{service}: compose sets variables its settings never read: {unknown}"
    missing = required - given
    assert not missing, f"{service}: compose leaves required settings unset: {missing}"


def test_offline_profile_adds_the_stub_and_points_services_at_it() -> None:
    assert SERVICES["openai-stub"]["profiles"] == ["offline"]
    offline = dict(
        line.split("=", 1)
        for line in (ROOT / "offline.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert offline["COMPOSE_PROFILES"] == "offline"
    assert offline["OPENAI_BASE_URL"].startswith("http://openai-stub:8090")
    for service in OUR_SETTINGS:
        assert "${OPENAI_BASE_URL" in SERVICES[service]["environment"]["OPENAI_BASE_URL"]


def test_builds_use_the_repository_root_as_context() -> None:
    for name, service in SERVICES.items():
        if "build" in service:
            assert service["build"]["context"] == "."
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name
