"""The trainee page's server settings: what the web image (web/serve-page.sh) reads from its
environment to answer PAGE_CONFIG_PATH and to listen.

Each field is the variable of the same name, upper-case; an unset or empty variable takes the
field's default. A variable holding a list is written as JSON (`json`) or as comma-separated
values (`comma-separated`), as its metadata says.
"""

import os
from collections.abc import Mapping
from typing import Annotated, Any, Final, get_type_hints
from uuid import UUID

import msgspec

from .settings_report import settings_error
from .web_page import IceServer, PageConfig

PAGE_PORT: Final = 3003
NO_CALLER_TIMEOUT_MS: Final = 20_000

WRITTEN: Final = "written"
"""The key of a field's metadata `extra` that says how a list is written in its variable."""


class PageSettings(msgspec.Struct, frozen=True, kw_only=True):
    token_service_url: Annotated[
        str, msgspec.Meta(min_length=1, description="The token service as browsers reach it.")
    ]
    no_caller_timeout_ms: Annotated[
        int,
        msgspec.Meta(
            gt=0,
            description="How long the page waits after joining for the caller to publish "
            "`session.id` or `error`: dispatch, a warm job process and session creation take a "
            "few seconds; an agent that is down or busy never comes, and the trainee is offered "
            "a retry.",
        ),
    ] = NO_CALLER_TIMEOUT_MS
    ice_servers: Annotated[
        list[IceServer] | None,
        msgspec.Meta(
            description='A JSON list of RTCIceServer (`[{"urls": ["stun:…"]}]`); `[]`: host '
            "candidates only; unset or empty: the LiveKit server's own list.",
            extra={WRITTEN: "json"},
        ),
    ] = None
    demo_user_ids: Annotated[
        list[UUID],
        msgspec.Meta(
            description="The users the page offers (`token-service seed-demo` prints them).",
            extra={WRITTEN: "comma-separated"},
        ),
    ] = msgspec.field(default_factory=list)
    port: Annotated[
        int, msgspec.Meta(ge=1, le=65535, description="Where the page's server listens.")
    ] = PAGE_PORT

    def page_config(self) -> PageConfig:
        return PageConfig(
            token_service_url=self.token_service_url,
            no_caller_timeout_ms=self.no_caller_timeout_ms,
            demo_user_ids=self.demo_user_ids,
            ice_servers=self.ice_servers,
        )


def _written(field: msgspec.inspect.Field) -> str | None:
    kind = field.type
    extra = kind.extra if isinstance(kind, msgspec.inspect.Metadata) else None
    return str(extra[WRITTEN]) if extra and WRITTEN in extra else None


def _value(raw: str, written: str | None) -> Any:
    if written == "json":
        return msgspec.json.decode(raw)
    if written == "comma-separated":
        return raw.replace(",", " ").split()
    return raw


def load_page_settings(environ: Mapping[str, str] | None = None) -> PageSettings:
    """The settings from `environ` (the process's environment), or SettingsError naming every
    missing and every invalid variable."""
    env = os.environ if environ is None else environ
    hints = get_type_hints(PageSettings, include_extras=True)
    values: dict[str, Any] = {}
    missing: list[str] = []
    invalid: list[tuple[str, str]] = []
    info = msgspec.inspect.type_info(PageSettings)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        variable = field.name.upper()
        raw = env.get(variable, "").strip()
        if not raw:
            if field.required:
                missing.append(variable)
            continue
        try:
            value = _value(raw, _written(field))
            values[field.name] = msgspec.convert(value, hints[field.name], strict=False)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            invalid.append((variable, str(exc)))
    if missing or invalid:
        raise settings_error(missing, invalid)
    return PageSettings(**values)
