"""Explicit agent dispatch: the agent's name and the job metadata the token service puts in the token."""

from typing import Final
from uuid import UUID

import msgspec

from .attributes import AgentErrorCode
from .errors import ContractError
from .wire import WireStruct

AGENT_NAME: Final = "training-agent"
"""The token service dispatches this name; the worker registers under it. Nothing else may spell it."""

DISPATCH_VERSION: Final = 1


class AgentDispatchMetadata(
    WireStruct, frozen=True, kw_only=True, tag_field="version", tag=DISPATCH_VERSION
):
    """`{"version":1,"userId":"…","assignmentId":"…","scenarioId":"…"}`; absent ids are omitted.

    Metadata without `version` (`{userId, assignmentId?, scenarioId?}`, what the Next.js
    application's own dispatch sends) reads as version 1.
    """

    user_id: UUID
    assignment_id: UUID | None = None
    scenario_id: UUID | None = None


class _Versioned(msgspec.Struct):
    """Only the version, read before the rest so a newer shape is named as such, not as invalid."""

    version: int = DISPATCH_VERSION


_encoder = msgspec.json.Encoder()
_version_decoder = msgspec.json.Decoder(_Versioned)
_decoder = msgspec.json.Decoder(AgentDispatchMetadata)


def encode_dispatch(metadata: AgentDispatchMetadata) -> str:
    return _encoder.encode(metadata).decode()


def decode_dispatch(raw: str | bytes) -> AgentDispatchMetadata:
    """Job metadata -> AgentDispatchMetadata, or ContractError with the code the agent publishes."""
    if not raw:
        raise ContractError(AgentErrorCode.INVALID_METADATA, "job metadata is empty")
    try:
        version = _version_decoder.decode(raw).version
    except msgspec.ValidationError:
        version = (
            DISPATCH_VERSION  # not an object, or a version that is not a number: invalid below
        )
    except msgspec.DecodeError as exc:
        raise ContractError(
            AgentErrorCode.INVALID_METADATA, f"dispatch metadata is not JSON: {exc}"
        ) from exc
    if version != DISPATCH_VERSION:
        raise ContractError(
            AgentErrorCode.UNSUPPORTED_VERSION,
            f"dispatch metadata version {version} is not {DISPATCH_VERSION}",
        )
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ContractError(
            AgentErrorCode.INVALID_METADATA, f"invalid dispatch metadata: {exc}"
        ) from exc
