"""compose.yaml, compose.cluster.yaml and the Dockerfiles checked statically, in seconds; `make
compose-test` runs compose.yaml for real on podman (containers/compose-test.sh). These name the
mistake directly: an environment name no setting reads, a healthcheck form podman's Docker API
breaks, a base image without a stand-in, a dependency list typed out again in a Dockerfile."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from agent_service.settings import Settings as AgentSettings
from devstack.settings_doc import compose_variables, rows_of
from devstack.web import DEFAULT_PORT, NO_CALLER_TIMEOUT_MS
from token_service.seed import DEMO
from token_service.settings import Settings as TokenServiceSettings
from training_contracts import LIVEKIT_WEBHOOK_PATH
from training_contracts.page_settings import PageSettings

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = sorted(ROOT.glob("*/Dockerfile"))
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
CLUSTER_FILE: dict[str, Any] = yaml.safe_load((ROOT / "compose.cluster.yaml").read_text())
CLUSTER: dict[str, dict[str, Any]] = CLUSTER_FILE["services"]
OFFLINE_ENV: dict[str, str] = dict(
    line.split("=", 1)
    for line in (ROOT / "offline.env").read_text().splitlines()
    if line and not line.startswith("#")
)
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


def test_every_service_has_a_shell_form_healthcheck() -> None:
    # Podman's Docker API splits an exec-form ("CMD") command line on whitespace; CMD-SHELL works
    # for Docker and podman alike. The agent's is here too: podman's image format drops the
    # Dockerfile's HEALTHCHECK.
    for name, service in SERVICES.items():
        assert service["healthcheck"]["test"][0] == "CMD-SHELL", name


def test_no_top_level_name_which_compose_v1_refuses() -> None:
    assert "name" not in COMPOSE


def test_our_services_restart() -> None:
    # token-service's `migrate` exits while Postgres is still starting under a runner that
    # ignores health conditions.
    for name in ("token-service", "agent-service", "livekit", "web"):
        assert SERVICES[name]["restart"] == "unless-stopped", name


def test_livekit_advertises_the_node_ip_it_is_given() -> None:
    assert SERVICES["livekit"]["environment"]["NODE_IP"] == "${LIVEKIT_NODE_IP:-}"


def base_images() -> set[str]:
    froms = {
        line.split()[1]
        for dockerfile in DOCKERFILES
        for line in dockerfile.read_text().splitlines()
        if line.startswith("FROM ")
    }
    composed = [*SERVICES.values(), *CLUSTER.values()]
    return froms | {service["image"] for service in composed if "image" in service}


def test_every_base_image_and_only_those_has_a_stand_in() -> None:
    script = (ROOT / "containers" / "standin-bases.sh").read_text()
    stand_ins = set(re.findall(r"^\w+_IMAGE=docker\.io/(?:library/)?(\S+)$", script, re.MULTILINE))
    assert base_images() == stand_ins


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_dockerfiles_install_the_packages_not_a_copy_of_their_dependencies(
    dockerfile: Path,
) -> None:
    installs = [line for line in dockerfile.read_text().splitlines() if "pip install" in line]
    assert installs
    for line in installs:
        arguments = line.split("pip install", 1)[1].split("&&")[0].split()
        named = [a for a in arguments if not a.startswith(("-", "./")) and a != "constraints.txt"]
        assert not named, f"{dockerfile}: installs {named} by name; its pyproject lists them"


def test_postgres_healthcheck_uses_pg_isready() -> None:
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])


@pytest.mark.parametrize("services", [SERVICES, CLUSTER], ids=["compose", "cluster"])
def test_postgres_gets_the_stand_in_for_the_applications_tables(
    services: dict[str, dict[str, Any]],
) -> None:
    """The token service refuses a database without the application's tables: the bundled
    Postgres creates the stand-in with its volume; DATABASE_URL from the environment points the
    services at the application's database instead."""
    mounts = [v.split(":") for v in services["postgres"]["volumes"] if v.startswith("./")]
    assert [(Path(source), target) for source, target, _ in mounts] == [
        (
            Path("./token-service/src/token_service/app_tables/standin.sql"),
            "/docker-entrypoint-initdb.d/10-app-tables-standin.sql",
        )
    ]
    assert (ROOT / mounts[0][0]).is_file()
    for name, service in services.items():
        if name.startswith("token-service"):
            url = service["environment"]["DATABASE_URL"]
            assert url.startswith("${DATABASE_URL:-postgresql://"), name


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
    assert OFFLINE_ENV["COMPOSE_PROFILES"] == "offline"
    assert OFFLINE_ENV["OPENAI_BASE_URL"].startswith("http://openai-stub:8090")
    for service in OUR_SETTINGS:
        assert "${OPENAI_BASE_URL" in SERVICES[service]["environment"]["OPENAI_BASE_URL"]


def test_builds_use_the_repository_root_as_context() -> None:
    for name, service in SERVICES.items():
        if "build" in service:
            assert service["build"]["context"] == "."
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name


# -- compose.cluster.yaml: the cluster shape ----------------------------------------------------
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
    assert CLUSTER["redis"]["healthcheck"]["test"] == ["CMD-SHELL", "redis-cli ping | grep -q PONG"]


def test_cluster_runs_where_compose_yaml_does() -> None:
    # compose-test runs it on podman with Compose v2; the same defects as compose.yaml's would
    # stop it there or under Compose v1.
    assert "name" not in CLUSTER_FILE
    for name, service in CLUSTER.items():
        assert service["healthcheck"]["test"][0] == "CMD-SHELL", name
        if name in CLUSTER_OURS or name in NODES:
            assert service["restart"] == "unless-stopped", name
    for name in NODES:
        assert CLUSTER[name]["environment"]["NODE_IP"] == "${LIVEKIT_NODE_IP:-}"


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


def test_each_node_posts_its_webhooks_to_its_token_service_which_reaches_its_api() -> None:
    # Without webhooks a lost caller waits for the abandonment rule and a trainee nobody
    # dispatched to stays alone (docs/calls.md, "When the caller is missing").
    for i in (1, 2):
        webhook = cluster_node_config(f"livekit-{i}")["webhook"]
        assert webhook["urls"] == [f"http://token-service-{i}:8000{LIVEKIT_WEBHOOK_PATH}"]
        assert webhook["api_key"] == CLUSTER["token-service-1"]["environment"]["LIVEKIT_API_KEY"]
        api_url = CLUSTER[f"token-service-{i}"]["environment"]["LIVEKIT_API_URL"]
        assert api_url == f"http://livekit-{i}:7880"


def test_livekit_posts_its_webhooks_to_the_token_service_which_reaches_its_api() -> None:
    config = yaml.safe_load(SERVICES["livekit"]["environment"]["LIVEKIT_CONFIG"])
    # --dev's key signs them; the token service checks them with the key it is given.
    assert config["webhook"]["api_key"] == "devkey"
    assert default_of(SERVICES["token-service"]["environment"]["LIVEKIT_API_KEY"]) == "devkey"
    assert config["webhook"]["urls"] == [f"http://token-service:8000{LIVEKIT_WEBHOOK_PATH}"]
    assert SERVICES["token-service"]["environment"]["LIVEKIT_API_URL"] == "http://livekit:7880"


def test_workers_are_given_their_drain_before_they_are_killed() -> None:
    drain = AgentSettings.model_fields["drain_timeout"].default
    for service in (
        SERVICES["agent-service"],
        CLUSTER["agent-service-1"],
        CLUSTER["agent-service-2"],
    ):
        grace = service["stop_grace_period"]
        assert grace.endswith("s")
        assert int(grace.removesuffix("s")) >= drain + 30


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


# -- the trainee page (web/) ---------------------------------------------------------------------
WEB: dict[str, Any] = SERVICES["web"]


def default_of(value: str) -> str:
    """`${NAME:-default}` or `${NAME-default}` -> default."""
    found = re.fullmatch(r"\$\{\w+:?-(.*)\}", value)
    assert found, value
    return found.group(1)


def test_the_page_is_served_on_the_frontends_port_which_the_token_service_allows() -> None:
    assert WEB["ports"] == [f"127.0.0.1:{DEFAULT_PORT}:{DEFAULT_PORT}"]
    allowed = default_of(SERVICES["token-service"]["environment"]["ALLOWED_ORIGINS"])
    assert f"http://localhost:{DEFAULT_PORT}" in allowed.split(",")


def test_the_page_names_the_published_token_service_and_the_seeded_demo_users() -> None:
    env = WEB["environment"]
    published = SERVICES["token-service"]["ports"][0].rsplit(":", 2)
    assert default_of(env["TOKEN_SERVICE_URL"]) == f"http://localhost:{published[1]}"
    assert env["DEMO_USER_IDS"].split(",") == [str(user.user_id) for user in DEMO.users]
    assert int(default_of(env["NO_CALLER_TIMEOUT_MS"])) == NO_CALLER_TIMEOUT_MS
    assert default_of(env["ICE_SERVERS"]) == "[]"  # host candidates only, as devstack serves it


def test_the_pages_environment_is_its_settings() -> None:
    rows = rows_of(PageSettings)
    every = {name for name, _, _ in rows}
    required = {name for name, default, _ in rows if default == "required"}
    given = set(WEB["environment"])
    assert not given - every, (
        f"web: compose sets variables its settings never read: {given - every}"
    )
    assert not required - given, f"web: compose leaves required settings unset: {required - given}"


def test_offline_env_sets_only_compose_s_own_variables_and_those_the_compose_files_read() -> None:
    read = set(compose_variables(ROOT))
    assert [
        name for name in OFFLINE_ENV if not name.startswith("COMPOSE_") and name not in read
    ] == []
