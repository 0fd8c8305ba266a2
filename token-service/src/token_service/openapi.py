"""The OpenAPI document: what Litestar derives from the handlers, error answers from the error table.

Litestar documents each handler from its signature: the request body from its `data` Struct, its
path and query parameters, its success answer from its return type. The error answers come from
the tables the service answers by, through Litestar's `responses=`: a handler names the codes it
raises itself (`responses=errors(NOT_FOUND, ...)`) and the families every handler of its kind
shares, which are the codes errors.classify gives the exceptions behind them (a body that does
not validate or is too large, a query parameter that does not validate, a path id that is not a
UUID, the database down, anything unexpected). Each status of STATUS_FOR_CODE that the codes reach
gets one response: the contract's ErrorBody, its `code` one of exactly those codes (ErrorCodeSchema
writes that schema: the one plugin).

Every handler's `operation_class` is ApiOperation, which keeps what Litestar derived but for
Litestar's own error body (its `{status_code, detail, extra}`, which this service never sends),
says that a body the handler may go without (`data: T | None = None`) is optional, and takes
from a subclass what no signature can say: links between operations, a body that is not a
Struct (a file, LiveKit's webhook event), answers a handler builds itself, headers of answers.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final

import psycopg
from litestar import MediaType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from training_contracts import INTERNAL_KEY_HEADER, USER_ID_HEADER, ApiErrorCode, ErrorBody

from .errors import ERROR_CLASSES, STATUS_FOR_CODE, classify

_WHERE: Final = "the OpenAPI document"


def _code_of(exc: Exception) -> ApiErrorCode:
    """The code the service answers `exc` with (no 5xx here: classify logs those)."""
    return classify(exc, _WHERE).code


def _fixed_code(exception: type[Exception]) -> ApiErrorCode:
    """The code of the ERROR_CLASSES entry that answers every `exception` alike."""
    for error_class in ERROR_CLASSES:
        if issubclass(exception, error_class.exceptions):
            assert error_class.code is not None, error_class
            return error_class.code
    raise AssertionError("ERROR_CLASSES ends with Exception")  # pragma: no cover


UNEXPECTED: Final = _fixed_code(Exception)
"""Any operation: an exception nobody expected (documented on every operation)."""
DATABASE: Final = (_fixed_code(psycopg.OperationalError),)
"""An operation that reads or writes Postgres, when it cannot be reached."""
BODY: Final = (_fixed_code(ValidationException), _code_of(RequestEntityTooLarge()))
"""An operation that reads a JSON body: it does not validate, or it is over the size limit."""
PATH_ID: Final = (_code_of(NotFoundException()),)
"""An operation with an id in its path: the router answers an id that is not a UUID."""
QUERY: Final = (_fixed_code(ValidationException),)
"""An operation with query (or header) parameters: one that does not validate."""

USER_SCHEME: Final = "userId"
INTERNAL_SCHEME: Final = "internalKey"
WEBHOOK_SCHEME: Final = "livekitWebhook"
USER: Final[list[SecurityRequirement]] = [{USER_SCHEME: []}]
INTERNAL: Final[list[SecurityRequirement]] = [{INTERNAL_SCHEME: []}]
WEBHOOK: Final[list[SecurityRequirement]] = [{WEBHOOK_SCHEME: []}]
SECURITY_COMPONENTS: Final = Components(
    security_schemes={
        USER_SCHEME: SecurityScheme(
            type="apiKey",
            name=USER_ID_HEADER,
            security_scheme_in="header",
            description="The frontend's signed-in user: a UUID of a user the service knows",
        ),
        INTERNAL_SCHEME: SecurityScheme(
            type="apiKey",
            name=INTERNAL_KEY_HEADER,
            security_scheme_in="header",
            description="The shared secret of the internal API (the agent's)",
        ),
        WEBHOOK_SCHEME: SecurityScheme(
            type="apiKey",
            name="Authorization",
            security_scheme_in="header",
            description="livekit-server's signature: a JWT of the API key holding the body's "
            "SHA-256",
        ),
    }
)


class ErrorAnswer:
    """The data container of an error response (`errors`): an ErrorBody whose code is one of
    the ErrorCodes annotated on it. Not the ErrorBody itself: Litestar would answer that with
    the ErrorBody component, whatever the annotation."""


@dataclass(frozen=True, slots=True)
class ErrorCodes:
    """The annotation on an ErrorAnswer: the codes its response can carry (ErrorCodeSchema reads
    it)."""

    codes: tuple[ApiErrorCode, ...]


def _answering(codes: Iterable[ApiErrorCode]) -> Any:
    """The data container of an error response carrying one of `codes`."""
    return Annotated[ErrorAnswer, ErrorCodes(tuple(codes))]


def errors(*codes: ApiErrorCode) -> dict[int, ResponseSpec]:
    """A handler's `responses=`: one response per status the codes (and UNEXPECTED) answer
    with, by STATUS_FOR_CODE."""
    by_status: dict[int, list[ApiErrorCode]] = {}
    for code in (*codes, UNEXPECTED):
        status_codes = by_status.setdefault(STATUS_FOR_CODE[code], [])
        if code not in status_codes:
            status_codes.append(code)
    return {
        status: ResponseSpec(
            data_container=_answering(status_codes),
            description=f"{HTTPStatus(status).phrase}: "
            + ", ".join(f"`{code.value}`" for code in status_codes),
            generate_examples=False,
        )
        for status, status_codes in sorted(by_status.items())
    }


def _codes_of(field_definition: FieldDefinition) -> ErrorCodes | None:
    return next((m for m in field_definition.metadata if isinstance(m, ErrorCodes)), None)


class ErrorCodeSchema(OpenAPISchemaPlugin):
    """Litestar plugin: an ErrorAnswer is the contract's ErrorBody (its component, derived from
    the Struct) with `error.code` narrowed to the codes of its status."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return _codes_of(field_definition) is not None

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        error_codes = _codes_of(field_definition)
        assert error_codes is not None
        body = schema_creator.for_field_definition(FieldDefinition.from_annotation(ErrorBody))
        code = Schema(type=OpenAPIType.STRING, enum=[code.value for code in error_codes.codes])
        narrowed = Schema(
            type=OpenAPIType.OBJECT,
            properties={"error": Schema(type=OpenAPIType.OBJECT, properties={"code": code})},
        )
        return Schema(all_of=[body, narrowed])


def _is_error_body(response: OpenAPIResponse | Reference) -> bool:
    """Whether `response` answers an ErrorAnswer (ErrorCodeSchema's schema), not Litestar's own
    error body."""
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    media = response.content.get(MediaType.JSON)
    schema = media.schema if media is not None else None
    if not isinstance(schema, Schema) or not schema.all_of:
        return False
    body = schema.all_of[0]
    # The reference is by a key Litestar shortens to the name when it writes the components.
    return isinstance(body, Reference) and body.ref.endswith(ErrorBody.__name__)


_NULL: Final = Schema(type=OpenAPIType.NULL)


def _optional(body: RequestBody) -> None:
    """A body typed `T | None` is documented as a T the request may leave out (a handler's
    `data: T | None = None`: None stands for no body, not for a `null` one)."""
    for media in body.content.values():
        schema = media.schema
        if isinstance(schema, Schema) and schema.one_of and _NULL in schema.one_of:
            rest = [s for s in schema.one_of if s != _NULL]
            media.schema = rest[0] if len(rest) == 1 else Schema(one_of=rest)
            body.description = schema.description
            body.required = False


def _with(response: OpenAPIResponse | Reference, **changes: Any) -> OpenAPIResponse:
    assert isinstance(response, OpenAPIResponse), response
    return dataclasses.replace(response, **changes)


@dataclass
class ApiOperation(Operation):
    """Every handler's `operation_class` (see the module docstring); a subclass sets what the
    handler's signature cannot say."""

    links: ClassVar[Mapping[str, Link]] = MappingProxyType({})
    """Links from the success answers to the operations they feed."""
    body: ClassVar[RequestBody | None] = None
    """The request body of a handler that reads its body itself."""
    answers: ClassVar[Mapping[int, OpenAPIResponse]] = MappingProxyType({})
    """The success answers of a handler that builds its answers itself."""
    error_headers: ClassVar[Mapping[int, Mapping[str, OpenAPIHeader]]] = MappingProxyType({})
    """The headers an error answer of a status carries."""

    def __post_init__(self) -> None:
        derived = self.responses or {}
        success: dict[str, OpenAPIResponse | Reference] = {
            str(s): r for s, r in self.answers.items()
        } or {s: r for s, r in derived.items() if s.startswith("2")}
        failure = {s: r for s, r in derived.items() if _is_error_body(r)}
        if self.links:
            success = {s: _with(r, links=dict(self.links)) for s, r in success.items()}
        for status, headers in self.error_headers.items():
            failure[str(status)] = _with(failure[str(status)], headers=dict(headers))
        self.responses = {**success, **failure}
        if self.body is not None:
            self.request_body = self.body
        elif isinstance(self.request_body, RequestBody):
            _optional(self.request_body)


def binary(media_type: str) -> dict[str, OpenAPIMediaType]:
    """The content of a body that is a file of `media_type` (a request's or an answer's)."""
    return {
        media_type: OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
        )
    }


def header(description: str, *, pattern: str) -> OpenAPIHeader:
    """A header an answer always carries, its value matching `pattern`."""
    return OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING, pattern=pattern),
        description=description,
        required=True,
    )


def session_links(response_field: str, attempt_field: str) -> dict[str, Link]:
    """Links from an answer carrying a session id in `response_field` (and its attempt in
    `attempt_field`) to the session's operations, so a client (or schemathesis' stateful phase)
    can follow them."""
    session_id = {"session_id": f"$response.body#/{response_field}"}
    attempt = {**session_id, "attempt": f"$response.body#/{attempt_field}"}
    return {
        **{
            operation_id: Link(operation_id=operation_id, parameters=session_id)
            for operation_id in ("getSession", "evaluateSession", "storeTranscript")
        },
        **{
            operation_id: Link(operation_id=operation_id, parameters=attempt)
            for operation_id in ("storeRecording", "reportRecordingFailure", "getRecording")
        },
    }


UPLOADED_RECORDING_LINKS: Final = MappingProxyType(
    {
        "getRecording": Link(
            operation_id="getRecording",
            parameters={
                "session_id": "$request.path.session_id",
                "attempt": "$request.query.attempt",
            },
        )
    }
)
"""From a stored upload to playing it back (the answer carries neither id: the request does)."""
