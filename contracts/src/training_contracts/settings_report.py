"""How every program here says it cannot start with the settings it was given: one line on stderr
naming every missing and every invalid variable, then exit status EXIT_BAD_SETTINGS.

    token-service: missing required settings: LIVEKIT_API_SECRET, OPENAI_API_KEY; invalid settings: PORT (Input should be less than or equal to 65535)

The token service and the agent read their settings with pydantic-settings through `read_settings`,
and their `--help` lists them through `settings_help_for`; the page's settings (page_settings.PageSettings) are
read in page_settings.py. Each program prints `<program>: <message>`. Nothing here imports
pydantic: a settings class is used through its `model_fields`, and its ValidationError (a
ValueError) through `errors()`.
"""

import textwrap
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar

EXIT_BAD_SETTINGS: Final = 2

T = TypeVar("T")

_EMPTY = frozenset({"missing", "string_too_short"})
"""pydantic's error types for a required variable that is unset, or set to nothing."""


class SettingsError(Exception):
    """The environment cannot configure the program; the message is one line for an operator."""


def settings_error(missing: Sequence[str], invalid: Sequence[tuple[str, str]]) -> SettingsError:
    """The one line for `missing` variables and `invalid` ones (name, why)."""
    parts = []
    if missing:
        parts.append("missing required settings: " + ", ".join(missing))
    if invalid:
        parts.append("invalid settings: " + ", ".join(f"{name} ({why})" for name, why in invalid))
    return SettingsError("; ".join(parts))


def settings_help(required: Sequence[str], optional: Sequence[str]) -> str:
    """What a program's `--help` says of its settings: the variables' names, wrapped."""
    text = (
        f"Required environment: {', '.join(required)}. Optional: {', '.join(optional)}. "
        "docs/configuration.md says what each means."
    )
    return "\n".join(textwrap.wrap(text, width=100)) + "\n"


def validation_settings_error(
    errors: Iterable[Mapping[str, Any]], required: Collection[str]
) -> SettingsError:
    """`settings_error` for pydantic's `ValidationError.errors()` of a settings class whose
    required variables (upper-case, in the class's order) are `required`."""
    missing: set[str] = set()
    invalid: list[tuple[str, str]] = []
    for error in errors:
        name = str(error["loc"][0]).upper() if error["loc"] else "?"
        if name in required and error["type"] in _EMPTY:
            missing.add(name)
        else:
            invalid.append((name, str(error["msg"]).replace("\n", " ")))
    return settings_error([name for name in required if name in missing], invalid)


def required_settings(cls: Any) -> tuple[str, ...]:
    """The variables a pydantic-settings class cannot do without, in its fields' order."""
    return tuple(name.upper() for name, field in cls.model_fields.items() if field.is_required())


def settings_help_for(cls: Any) -> str:
    """`settings_help` for a pydantic-settings class."""
    required = required_settings(cls)
    optional = [name.upper() for name in cls.model_fields if name.upper() not in required]
    return settings_help(required, optional)


def read_settings(cls: type[T]) -> T:
    """A pydantic-settings class read from the process environment, or SettingsError naming every
    missing or empty required variable (and any other invalid one) in one line."""
    try:
        return cls()
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if not callable(errors):
            raise
        raise validation_settings_error(errors(), required_settings(cls)) from None
