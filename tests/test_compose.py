"""compose.yaml and compose.cluster.yaml checked statically: no Docker engine runs where CI runs,
so this is what stands between a typo in an environment name and a container that starts with a
missing setting."""

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


# -- compose.cluster.yaml: the cluster shape ----------------------------------------------------
CLUSTER: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "compose.cluster.yaml").read_text())[
    "services"
]
NODES = ("livekit-1", "livekit-2")
CLUSTER_OURS = {
    name: kind
    for name in CLUSTER
    for kind in OUR_SETTINGS
    if name.removesuffix("-1").removesuffix("-2") == kind
}


def cluster_node_config(name: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(CLUSTER[name]["environment"]["LIVEKIT_CONFIG"])
    return config


def test_the_shape_is_two_of_everything_on_one_postgres_and_one_redis() -> None:
    assert sorted(CLUSTER_OURS.values()) == sorted(["token-service", "agent-service"] * 2)
    assert "postgres" in CLUSTER
    assert "redis" in CLUSTER


def test_cluster_images_are_pinned_and_long_running_services_have_healthchecks() -> None:
    for name, service in CLUSTER.items():
        if "image" in service:
            assert ":" in service["image"]
            assert not service["image"].endswith(":latest"), name
        if CLUSTER_OURS.get(name) != "agent-service":
            assert "healthcheck" in service, name
    assert CLUSTER["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_nodes_share_redis_and_use_their_own_media_ports() -> None:
    configs = [cluster_node_config(name) for name in NODES]
    assert {c["redis"]["address"] for c in configs} == {"redis:6379"}
    media = [(c["rtc"]["tcp_port"], c["rtc"]["udp_port"]) for c in configs]
    assert len({port for pair in media for port in pair}) == 4
    published = [set(CLUSTER[name]["ports"]) for name in NODES]
    for (tcp, udp), ports in zip(media, published, strict=True):
        # the advertised media ports are published as they are: the browser connects to them
        assert {f"{tcp}:{tcp}", f"{udp}:{udp}/udp"} <= ports
    assert not published[0] & published[1]
    for name in NODES:
        assert "--dev" in CLUSTER[name]["command"]
        assert CLUSTER[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_each_worker_and_token_service_is_wired_to_its_own_node() -> None:
    workers = [CLUSTER[f"agent-service-{i}"]["environment"] for i in (1, 2)]
    assert [w["LIVEKIT_URL"] for w in workers] == ["ws://livekit-1:7880", "ws://livekit-2:7880"]
    assert [w["TOKEN_SERVICE_URL"] for w in workers] == [
        "http://token-service-1:8000",
        "http://token-service-2:8000",
    ]
    for i in (1, 2):
        deps = CLUSTER[f"agent-service-{i}"]["depends_on"]
        assert deps[f"livekit-{i}"]["condition"] == "service_healthy"
        assert deps[f"token-service-{i}"]["condition"] == "service_healthy"
    public = [CLUSTER[f"token-service-{i}"]["environment"]["LIVEKIT_URL"] for i in (1, 2)]
    assert public[0] != public[1]


def test_cluster_metrics_ports_are_not_published() -> None:
    for name in CLUSTER_OURS:
        env = CLUSTER[name]["environment"]
        assert env["METRICS_PORT"] == "9100"
        for mapping in CLUSTER[name].get("ports", []):
            assert not str(mapping).endswith(":9100"), name


@pytest.mark.parametrize("service", sorted(CLUSTER_OURS))
def test_cluster_environment_names_match_what_settings_read(service: str) -> None:
    every, required = env_names(OUR_SETTINGS[CLUSTER_OURS[service]])
    given = set(CLUSTER[service]["environment"])
    assert not given - every, f"{service}: variables its settings never read: {given - every}"
    assert not required - given, f"{service}: required settings unset: {required - given}"
