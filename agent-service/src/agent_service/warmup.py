"""One-time work that would otherwise stall a call's event loop, done before any call.

Listed in the worker's `preload_modules`, this module runs once in the forkserver and every job
process inherits the result; `prewarm` calls `warm_up()` again, a no-op there and the warm-up
itself where job processes are spawned instead (macOS). Without it, a call's own event loop would
pay for: the OpenAI SDK building the pydantic schemas of the Realtime events on first use, then
the validators of their union-typed fields at the first event that carries one (in every call at
once when a class of trainees speaks), the CA bundle parsed for the shared HTTP session, and the
transcript synchronizer's hyphenation patterns loaded at the first reply. `make bench` measures
what each costs.

The union validators are built by following the SDK's own `construct_type`, which needs helpers
from its private modules (`openai._compat`, `openai._models`, `openai._utils`). An SDK upgrade
that moves them does not stop the worker: `sdk_internals()` logs an error and the warm-up skips
that part (calls then build the validators themselves, slower but correct). The tests check that
the helpers exist and are the ones `construct_type` calls, so such an upgrade fails there first.
"""

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any, NamedTuple, get_args, get_origin

import pydantic
from livekit.agents.tokenize import basic
from livekit.agents.utils import http_context
from openai.types import realtime

logger = logging.getLogger(__name__)


class SdkInternals(NamedTuple):
    """The OpenAI SDK's private helpers that `openai._models.construct_type` uses, by name."""

    is_literal_type: Callable[[Any], bool]
    is_union: Callable[[Any], bool]
    validate_type: Callable[..., Any]
    extract_type_arg: Callable[[Any, int], Any]
    is_annotated_type: Callable[[Any], bool]
    is_type_alias_type: Callable[[Any], bool]


def sdk_internals() -> SdkInternals | None:
    """The helpers, or None (logged as an error) when this SDK version no longer has them."""
    try:
        from openai._compat import is_literal_type, is_union  # noqa: PLC0415
        from openai._models import validate_type  # noqa: PLC0415
        from openai._utils import (  # noqa: PLC0415
            extract_type_arg,
            is_annotated_type,
            is_type_alias_type,
        )
    except ImportError as exc:
        logger.error(
            "the OpenAI SDK's private helpers moved; Realtime union validators are not prebuilt",
            extra={"error": str(exc)},
        )
        return None
    return SdkInternals(
        is_literal_type=is_literal_type,
        is_union=is_union,
        validate_type=validate_type,
        extract_type_arg=extract_type_arg,
        is_annotated_type=is_annotated_type,
        is_type_alias_type=is_type_alias_type,
    )


@functools.cache
def warm_up() -> None:
    models = [
        model
        for model in vars(realtime).values()
        if isinstance(model, type) and issubclass(model, pydantic.BaseModel)
    ]
    for model in models:
        if not model.__pydantic_complete__:
            model.model_rebuild()
    sdk = sdk_internals()
    if sdk is not None:
        seen: set[type[pydantic.BaseModel]] = set()
        for model in models:
            _warm_field_validators(sdk, model, seen)
    # livekit-agents caches the TLS context of its per-job HTTP session per process
    http_context._create_ssl_context()
    basic.hyphenate_word("warmup")


def _warm_field_validators(
    sdk: SdkInternals, model: type[pydantic.BaseModel], seen: set[type[Any]]
) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        _warm_type(sdk, field.annotation, seen)


_NOT_A_VALUE = object()
"""Valid for no type: validating it builds a validator and fails, which is all the warm-up wants."""


def _warm_type(sdk: SdkInternals, annotation: Any, seen: set[type[Any]]) -> None:
    """Build the validator the SDK's `construct()` will want for this annotation, the way it does.

    `construct()` validates every union-typed value through `TypeAdapter(type)`, cached per
    process by the type (the alias itself for a type alias), so this walks the annotation as
    `openai._models.construct_type` does and builds each such adapter once, here.
    """
    original: Any = None
    if sdk.is_type_alias_type(annotation):
        original, annotation = annotation, annotation.__value__
    if sdk.is_annotated_type(annotation):
        annotation = sdk.extract_type_arg(annotation, 0)
    origin = get_origin(annotation) or annotation
    if sdk.is_literal_type(annotation):
        return
    if sdk.is_union(origin):
        with contextlib.suppress(pydantic.ValidationError):
            sdk.validate_type(type_=original or annotation, value=_NOT_A_VALUE)
    if isinstance(origin, type) and issubclass(origin, pydantic.BaseModel):
        _warm_field_validators(sdk, origin, seen)
    for arg in get_args(annotation):
        if arg is not None and not isinstance(arg, str | int | float | bool):
            _warm_type(sdk, arg, seen)


warm_up()
