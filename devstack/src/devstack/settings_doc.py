"""`python -m devstack.settings_doc [--check]`: write docs/configuration.md from the settings classes
(or, with --check, exit 1 when the committed page differs from what they give).

Each program's settings class is the only place a setting is defined: its fields are the
variables, their defaults the page's defaults, their docstrings (pydantic, `use_attribute_docstrings`)
or `Meta(description=...)` (msgspec) the page's meanings. A field without one stops the generator,
so a new setting cannot go undocumented. The compose files only set values: the last table lists
the variables they read from the host's environment (`${NAME:-default}`) and what each sets.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import yaml
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from agent_service.settings import Settings as AgentSettings
from token_service.settings import Settings as TokenServiceSettings
from training_contracts.page_settings import PageSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
PAGE = REPO_ROOT / "docs" / "configuration.md"
COMPOSE_FILES = ("compose.yaml", "compose.cluster.yaml")

Row = tuple[str, str, str]
"""(variable, required or default, meaning)."""

_INTRO = """\
# Configuration

Every program reads its settings from the environment once, at start-up. A missing, empty or
invalid setting stops it before it does anything, with one line on stderr naming every such
variable and exit status 2, e.g.

    token-service: missing required settings: LIVEKIT_API_SECRET; invalid settings: PORT (Input should be less than or equal to 65535)

(`training_contracts.settings_report`). An empty variable counts as unset. `token-service --help`
and `python -m agent_service --help` list the names.

This page is generated from the settings classes, the only place a setting is defined:
`python -m devstack.settings_doc` rewrites it, and `tests/test_configuration_doc.py` fails when it
is stale, or when compose.yaml, compose.cluster.yaml or offline.env set a variable that is not a
setting of the service they set it on.
"""

_SECTIONS: tuple[tuple[str, str, Any], ...] = (
    (
        "token-service",
        "`token_service.settings.Settings`; `migrate`, `seed-demo` and `grants` read only the "
        "database's and the schema's, `purge-recordings` those and the recordings'.",
        TokenServiceSettings,
    ),
    (
        "agent-service",
        "`agent_service.settings.Settings`, read by `python -m agent_service start|dev` (a `.env` "
        "file in the working directory is loaded first, without overriding the environment).",
        AgentSettings,
    ),
    (
        "The trainee page's server (web image)",
        "`training_contracts.page_settings.PageSettings`, read by `web/serve-page.sh` through "
        "`training-contracts page-config`.",
        PageSettings,
    ),
)


def _meaning(text: str | None, where: str) -> str:
    if not text or not text.strip():
        raise ValueError(f"{where} has no description: say what it means where it is defined")
    return " ".join(text.split()).replace("|", "\\|")


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list) and not value:
        return "none"
    return f"`{value}`"


def _factory_default(factory: Any) -> str:
    doc = getattr(factory, "__doc__", None) or ""
    first = doc.strip().split("\n\n")[0]
    return " ".join(first.split()).rstrip(".") if first else "computed"


def _pydantic_rows(cls: type[BaseSettings]) -> Iterator[Row]:
    fields: dict[str, FieldInfo] = cls.model_fields
    ordered = sorted(fields.items(), key=lambda item: not item[1].is_required())
    for name, field in ordered:
        where = f"{cls.__module__}.{cls.__name__}.{name}"
        if field.is_required():
            default = "required"
        elif field.default_factory is not None:
            default = _factory_default(field.default_factory)
        else:
            default = _shown(None if field.default is PydanticUndefined else field.default)
        yield name.upper(), default, _meaning(field.description, where)


def _msgspec_rows(cls: type[msgspec.Struct]) -> Iterator[Row]:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        kind = field.type
        extra = kind.extra_json_schema if isinstance(kind, msgspec.inspect.Metadata) else None
        where = f"{cls.__module__}.{cls.__name__}.{field.name}"
        if field.required:
            default = "required"
        elif field.default is not msgspec.NODEFAULT:
            default = _shown(field.default)
        else:
            default = _shown(field.default_factory())
        yield field.name.upper(), default, _meaning((extra or {}).get("description"), where)


def rows_of(cls: Any) -> list[Row]:
    """The table rows of a settings class (pydantic-settings or a msgspec Struct)."""
    if isinstance(cls, type) and issubclass(cls, BaseSettings):
        return list(_pydantic_rows(cls))
    return list(_msgspec_rows(cls))


_INTERPOLATED = re.compile(r"\$\{(\w+)(?:(:?-)([^}]*))?\}")


def compose_variables(root: Path = REPO_ROOT) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """What the compose files read from the host's environment: NAME -> (its default as the
    page shows it, {setting: [services]} it sets)."""
    found: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for file in COMPOSE_FILES:
        services = yaml.safe_load((root / file).read_text())["services"]
        for service, spec in services.items():
            for variable, value in (spec.get("environment") or {}).items():
                for name, form, default in _INTERPOLATED.findall(str(value)):
                    if not form:
                        shown = "unset"
                    elif default:
                        shown = f"`{default}`"
                    else:
                        shown = "empty"
                    if form == "-":
                        shown += " (when unset; set empty, it stays empty)"
                    _, sets = found.setdefault(name, (shown, {}))
                    services_set = sets.setdefault(variable, [])
                    if service not in services_set:
                        services_set.append(service)
    return found


def _table(header: tuple[str, str, str], rows: list[Row]) -> list[str]:
    lines = [f"| {' | '.join(header)} |", "|---|---|---|"]
    lines += [f"| `{name}` | {default} | {meaning} |" for name, default, meaning in rows]
    return lines


def page() -> str:
    """docs/configuration.md as the settings classes and the compose files give it."""
    lines = [_INTRO]
    for title, source, cls in _SECTIONS:
        lines += [f"## {title}", "", source, ""]
        lines += _table(("variable", "required / default", "meaning"), rows_of(cls))
        lines.append("")
    lines += [
        "## What the compose files read from the host",
        "",
        "compose.yaml and compose.cluster.yaml set each service's settings; these variables of the",
        "shell that runs `docker compose` (or an `--env-file`, such as offline.env) change some.",
        "",
    ]
    rows = [
        (name, default, "; ".join(f"`{v}` of {', '.join(s)}" for v, s in sets.items()))
        for name, (default, sets) in sorted(compose_variables().items())
    ]
    lines += _table(("variable", "default", "sets"), rows)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.settings_doc", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is stale")
    args = parser.parse_args()
    wanted = page()
    if args.check:
        if PAGE.read_text() != wanted:
            print(f"{PAGE} is stale: run python -m devstack.settings_doc", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(wanted)
    print(PAGE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
