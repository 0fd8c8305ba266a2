"""Settings from the environment, and the worker refusing to start without them."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent_service.settings import Settings, SettingsError, load_settings

REQUIRED = {
    "LIVEKIT_URL": "ws://127.0.0.1:7880",
    "LIVEKIT_API_KEY": "devkey",
    "LIVEKIT_API_SECRET": "secret",
    "TOKEN_SERVICE_URL": "http://127.0.0.1:8000",
    "INTERNAL_SERVICE_KEY": "internal",
    "OPENAI_API_KEY": "sk-test",
}
OPTIONAL = (
    "OPENAI_BASE_URL",
    "REALTIME_MODEL",
    "REALTIME_VOICE",
    "SPOOL_DIR",
    "AGENT_HEALTH_PORT",
    "NUM_IDLE_PROCESSES",
    "JOB_CAPACITY",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*REQUIRED, *OPTIONAL):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_required_and_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in REQUIRED.items():
        clean_env.setenv(name, value)
    clean_env.setenv("XDG_STATE_HOME", str(tmp_path))
    settings = load_settings()
    assert settings.token_service_url == "http://127.0.0.1:8000"
    assert settings.openai_base_url is None
    assert settings.realtime_model == "gpt-realtime"
    assert settings.realtime_voice == "marin"
    assert settings.spool_dir == tmp_path / "agent-service" / "spool"
    assert settings.agent_health_port is None
    assert settings.num_idle_processes is None
    assert settings.job_capacity >= 4


def test_optional_values(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        clean_env.setenv(name, value)
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8090/v1")
    clean_env.setenv("SPOOL_DIR", "/var/spool/agent-service")
    clean_env.setenv("AGENT_HEALTH_PORT", "8082")
    clean_env.setenv("NUM_IDLE_PROCESSES", "2")
    settings = load_settings()
    assert settings.openai_base_url == "http://127.0.0.1:8090/v1"
    assert settings.spool_dir == Path("/var/spool/agent-service")
    assert settings.agent_health_port == 8082
    assert settings.num_idle_processes == 2


def test_the_capacity_and_executor_settings(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        clean_env.setenv(name, value)
    defaults = load_settings()
    assert defaults.cpu_stop is None
    assert defaults.job_executor == "process"
    clean_env.setenv("CPU_STOP", "0.55")
    clean_env.setenv("JOB_EXECUTOR", "thread")
    chosen = load_settings()
    assert chosen.cpu_stop == 0.55
    assert chosen.job_executor == "thread"
    for name, bad in (("CPU_STOP", "1.5"), ("CPU_STOP", "0"), ("JOB_EXECUTOR", "fork")):
        clean_env.setenv(name, bad)
        with pytest.raises(SettingsError, match=name):
            load_settings()
        clean_env.delenv(name)


def test_every_missing_or_empty_variable_is_named(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LIVEKIT_URL", "ws://127.0.0.1:7880")
    clean_env.setenv("LIVEKIT_API_KEY", "")
    clean_env.setenv("LIVEKIT_API_SECRET", "   ")
    clean_env.setenv("AGENT_HEALTH_PORT", "not-a-port")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    for name in REQUIRED.keys() - {"LIVEKIT_URL"}:
        assert name in message
    assert "LIVEKIT_URL" not in message
    assert "AGENT_HEALTH_PORT" in message


def test_settings_are_not_read_from_a_dotenv_file(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in REQUIRED.items()))
    clean_env.chdir(tmp_path)
    with pytest.raises(SettingsError):
        load_settings()
    assert "env_file" not in Settings.model_config or Settings.model_config["env_file"] is None


def run_worker(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent_service", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")
    return {name: os.environ[name] for name in keep if name in os.environ}


def test_start_with_a_missing_setting_exits_2_naming_it(tmp_path: Path) -> None:
    env = base_env() | {k: v for k, v in REQUIRED.items() if k != "INTERNAL_SERVICE_KEY"}
    env["OPENAI_API_KEY"] = ""
    started = time.monotonic()
    result = run_worker(env, tmp_path, "start")
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "agent-service: missing required settings: INTERNAL_SERVICE_KEY, OPENAI_API_KEY\n"
    )
    assert result.stdout == ""
    assert time.monotonic() - started < 20  # LiveKit's CLI never started


def test_dotenv_in_the_working_directory_is_loaded(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "".join(f"{k}={v}\n" for k, v in REQUIRED.items() if k != "TOKEN_SERVICE_URL")
    )
    result = run_worker(base_env(), tmp_path, "start")
    assert result.returncode == 2
    assert "TOKEN_SERVICE_URL" in result.stderr
    assert "LIVEKIT_URL" not in result.stderr


def test_an_invalid_setting_is_named_in_the_same_line(tmp_path: Path) -> None:
    env = base_env() | REQUIRED | {"JOB_EXECUTOR": "fork", "DRAIN_TIMEOUT": "0"}
    result = run_worker(env, tmp_path, "start")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("agent-service: invalid settings: DRAIN_TIMEOUT (")
    assert ", JOB_EXECUTOR (" in line


def test_help_needs_no_settings_and_names_every_one(tmp_path: Path) -> None:
    result = run_worker(base_env(), tmp_path, "--help")
    assert result.returncode == 0
    assert "start" in result.stdout
    listed = " ".join(result.stdout.split())
    for name in Settings.model_fields:
        assert name.upper() in listed
