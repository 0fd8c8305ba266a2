"""One-time work that would otherwise stall a call's event loop, done before any call.

Listed in the worker's `preload_modules`, this module runs once in the forkserver and every job
process inherits the result; `prewarm` calls `warm_up()` again, a no-op there and the warm-up
itself where job processes are spawned instead (macOS). Four stalls were measured on the job
loop of a call without it: the OpenAI SDK building the pydantic schemas of the Realtime events
on first use (~100-200 ms), then the validators of their union-typed fields at the first event
that carries one (~40 ms of CPU, in every call at once when a class of trainees speaks), the CA
bundle parsed for the shared HTTP session (~100 ms under load), and the transcript
synchronizer's hyphenation patterns loaded at the first reply (~100 ms).
"""

import contextlib
import functools
import logging
from typing import Any, get_args, get_origin

import pydantic
from livekit.agents.tokenize import basic
from livekit.agents.utils import http_context
from openai._compat import is_literal_type, is_union
from openai._models import validate_type
from openai._utils import extract_type_arg, is_annotated_type, is_type_alias_type
from openai.types import realtime

logger = logging.getLogger(__name__)


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
    seen: set[type[pydantic.BaseModel]] = set()
    for model in models:
        _warm_field_validators(model, seen)
    # livekit-agents caches the TLS context of its per-job HTTP session per process
    http_context._create_ssl_context()
    basic.hyphenate_word("warmup")


def _warm_field_validators(model: type[pydantic.BaseModel], seen: set[type[Any]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        _warm_type(field.annotation, seen)


_NOT_A_VALUE = object()
"""Valid for no type: validating it builds a validator and fails, which is all the warm-up wants."""


def _warm_type(annotation: Any, seen: set[type[Any]]) -> None:
    """Build the validator the SDK's `construct()` will want for this annotation, the way it does.

    `construct()` validates every union-typed value through `TypeAdapter(type)`, cached per
    process by the type (the alias itself for a type alias), so this walks the annotation as
    `openai._models.construct_type` does and builds each such adapter once, here.
    """
    original: Any = None
    if is_type_alias_type(annotation):
        original, annotation = annotation, annotation.__value__
    if is_annotated_type(annotation):
        annotation = extract_type_arg(annotation, 0)
    origin = get_origin(annotation) or annotation
    if is_literal_type(annotation):
        return
    if is_union(origin):
        with contextlib.suppress(pydantic.ValidationError):
            validate_type(type_=original or annotation, value=_NOT_A_VALUE)
    if isinstance(origin, type) and issubclass(origin, pydantic.BaseModel):
        _warm_field_validators(origin, seen)
    for arg in get_args(annotation):
        if arg is not None and not isinstance(arg, str | int | float | bool):
            _warm_type(arg, seen)


warm_up()
