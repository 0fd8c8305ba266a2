"""Renders the contract for other languages: JSON Schema for every wire type, and a TypeScript
module with the same types and constants for the Next.js frontend.

The output is committed under contracts/export/ and a test fails when it is stale, so a frontend
can vendor or import the file without running Python.
"""

import json
from enum import Enum
from pathlib import Path
from typing import Final

import msgspec
from msgspec import inspect

from . import attributes, dispatch, internal_api, paths, public_api, rooms, web_page

WIRE_TYPES: Final[tuple[type[msgspec.Struct], ...]] = (
    dispatch.AgentDispatchMetadata,
    public_api.TokenRequest,
    public_api.TokenResponse,
    public_api.SessionView,
    public_api.TurnView,
    public_api.Evaluation,
    public_api.Observation,
    public_api.AssignmentList,
    public_api.AssignmentView,
    public_api.ErrorBody,
    public_api.ErrorDetail,
    public_api.HealthStatus,
    internal_api.AssignmentSessionRequest,
    internal_api.FreePracticeSessionRequest,
    internal_api.CreateSessionResponse,
    internal_api.TranscriptBatch,
    internal_api.TranscriptTurn,
    internal_api.TranscriptAck,
    internal_api.ScenarioResponse,
    web_page.PageConfig,
    web_page.IceServer,
    internal_api.ModelUsage,
    public_api.AttemptUsage,
    internal_api.RecordingAck,
    internal_api.RecordingFailure,
    rooms.RoomNotice,
)

FRONTEND_SENDS: Final[frozenset[type[msgspec.Struct]]] = frozenset({public_api.TokenRequest})
"""The bodies the frontend sends: the token service reads `null` in an optional field as the field
left out, so their interfaces say `field?: T | null` (a page may write `assignment?.id ?? null`).
Every other interface is of a body the services send, which leave an absent field out, never
sending `null`."""

UNIONS: Final[dict[str, object]] = {
    "CreateSessionRequest": internal_api.CreateSessionRequest,
}
"""Tagged unions of WIRE_TYPES, by the name the contract gives them."""

ENUMS: Final[tuple[type[Enum], ...]] = (
    attributes.AgentErrorCode,
    public_api.ApiErrorCode,
    internal_api.SessionType,
    internal_api.Role,
    rooms.CallerStatus,
)

CONSTANTS: Final[dict[str, str | int]] = {
    "AGENT_NAME": dispatch.AGENT_NAME,
    "DISPATCH_VERSION": dispatch.DISPATCH_VERSION,
    "ATTR_SESSION_ID": attributes.ATTR_SESSION_ID,
    "ATTR_ERROR": attributes.ATTR_ERROR,
    "ATTR_RECORDING": attributes.ATTR_RECORDING,
    "RECORDING_ON": attributes.RECORDING_ON,
    "USER_ID_HEADER": public_api.USER_ID_HEADER,
    "INTERNAL_KEY_HEADER": internal_api.INTERNAL_KEY_HEADER,
    "ROOM_NAME_PREFIX": public_api.ROOM_NAME_PREFIX,
    "MAX_TURNS_PER_BATCH": internal_api.MAX_TURNS_PER_BATCH,
    "MAX_TURN_CONTENT_CHARS": internal_api.MAX_TURN_CONTENT_CHARS,
    "MAX_TURN_NUMBER": internal_api.MAX_TURN_NUMBER,
    "TOKEN_PATH": paths.TOKEN_PATH,
    "SESSION_PATH": paths.SESSION_PATH,
    "EVALUATION_PATH": paths.EVALUATION_PATH,
    "ASSIGNMENTS_PATH": paths.ASSIGNMENTS_PATH,
    "PAGE_CONFIG_PATH": web_page.PAGE_CONFIG_PATH,
    "RECORDING_PATH": paths.RECORDING_PATH,
    "ATTEMPT_QUERY": paths.ATTEMPT_QUERY,
    "RECORDING_MEDIA_TYPE": internal_api.RECORDING_MEDIA_TYPE,
    "CALLER_JOIN_BOUND_S": rooms.CALLER_JOIN_BOUND_S,
}

SCHEMA_FILE: Final = "training-contracts.schema.json"
TYPESCRIPT_FILE: Final = "training-contracts.ts"


def json_schema() -> str:
    unions = list(UNIONS.values())
    schemas, components = msgspec.json.schema_components(
        [*WIRE_TYPES, *unions], ref_template="#/$defs/{name}"
    )
    components.update(zip(UNIONS, schemas[len(WIRE_TYPES) :], strict=True))
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "training-contracts",
        "$defs": components,
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _ts_type(info: inspect.Type) -> str:
    match info:
        case inspect.StrType() | inspect.UUIDType() | inspect.DateTimeType():
            return "string"
        case inspect.IntType() | inspect.FloatType():
            return "number"
        case inspect.BoolType():
            return "boolean"
        case inspect.NoneType():
            return "null"
        case inspect.ListType(item_type=item):
            inner = _ts_type(item)
            return f"({inner})[]" if "|" in inner else f"{inner}[]"
        case inspect.EnumType(cls=cls):
            return cls.__name__
        case inspect.StructType(cls=cls):
            return cls.__name__
        case inspect.UnionType(types=types):
            return " | ".join(_ts_type(t) for t in types)
        case inspect.LiteralType(values=values):
            return " | ".join(json.dumps(v) for v in values)
    raise TypeError(f"no TypeScript rendering for {info!r}")


def _ts_interface(cls: type[msgspec.Struct]) -> str:
    info = inspect.type_info(cls)
    assert isinstance(info, inspect.StructType)
    lines = [f"export interface {cls.__name__} {{"]
    if info.tag_field is not None:
        lines.append(f"  {info.tag_field}: {json.dumps(info.tag)};")
    for field in info.fields:
        field_type = field.type
        optional = not field.required
        if optional and isinstance(field_type, inspect.UnionType) and cls not in FRONTEND_SENDS:
            # An absent field is left out of what the services send, never sent as null.
            rest = [t for t in field_type.types if not isinstance(t, inspect.NoneType)]
            field_type = rest[0] if len(rest) == 1 else inspect.UnionType(types=tuple(rest))
        mark = "?" if optional else ""
        lines.append(f"  {field.encode_name}{mark}: {_ts_type(field_type)};")
    lines.append("}")
    doc = (cls.__doc__ or "").strip().splitlines()
    if doc:
        lines.insert(0, f"/** {doc[0].strip()} */")
    return "\n".join(lines)


def _ts_union(name: str, union: object) -> str:
    info = inspect.type_info(union)
    assert isinstance(info, inspect.UnionType)
    return f"export type {name} = {_ts_type(info)};"


def _ts_enum(cls: type[Enum]) -> str:
    values = [member.value for member in cls]
    members = "\n".join(f"  {m.name}: {json.dumps(m.value)}," for m in cls)
    return (
        f"export const {cls.__name__} = {{\n{members}\n}} as const;\n"
        f"export type {cls.__name__} = {' | '.join(json.dumps(v) for v in values)};"
    )


def typescript() -> str:
    parts = [
        "// Generated by `python -m training_contracts export` from the Python contract package.",
        "// Do not edit: change contracts/src/training_contracts and regenerate.",
        "",
        *(
            f"export const {name} = {json.dumps(value)} as const;"
            for name, value in CONSTANTS.items()
        ),
        "",
        "/** Keys of the agent participant's attributes, named as the Next.js frontend's AGENT_ATTRS. */",
        "export const AGENT_ATTRS = {",
        "  SESSION_ID: ATTR_SESSION_ID,",
        "  ERROR: ATTR_ERROR,",
        "  RECORDING: ATTR_RECORDING,",
        "} as const;",
        "",
    ]
    parts += [_ts_enum(cls) + "\n" for cls in ENUMS]
    parts += [_ts_interface(cls) + "\n" for cls in WIRE_TYPES]
    parts += [_ts_union(name, union) + "\n" for name, union in UNIONS.items()]
    return "\n".join(parts)


def render() -> dict[str, str]:
    return {SCHEMA_FILE: json_schema(), TYPESCRIPT_FILE: typescript()}


def default_export_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "export"


def write(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
