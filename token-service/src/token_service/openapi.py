"""The OpenAPI document: every operation's error answers, from the tables the service answers by.

A handler names the codes it raises itself (`documented(NOT_FOUND, ...)` as its
`operation_class`); the families every handler of a kind shares are the codes errors.classify
gives the exceptions behind them (a body that does not validate or is too large, a query
parameter that does not validate, a path id that is not a UUID, the database down, anything
unexpected). A handler that answers bytes of its own (a recording) says so with `success`, and
the headers an error answer carries with `error_headers`. Each status of STATUS_FOR_CODE that the
codes reach gets one response: the ErrorBody, its `code` one of exactly those codes. Litestar's
own error responses (its `{status_code, detail, extra}` body, which this service never sends)
are replaced, so the document says what the service answers and nothing else.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

import psycopg
from litestar import MediaType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
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

from training_contracts import INTERNAL_KEY_HEADER, USER_ID_HEADER, ApiErrorCode

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


def _error_schema(codes: Iterable[ApiErrorCode]) -> Schema:
    string = Schema(type=OpenAPIType.STRING)
    return Schema(
        type=OpenAPIType.OBJECT,
        title="ErrorBody",
        required=["error"],
        properties={
            "error": Schema(
                type=OpenAPIType.OBJECT,
                required=["code", "message"],
                properties={
                    "code": Schema(type=OpenAPIType.STRING, enum=[code.value for code in codes]),
                    "message": string,
                },
            )
        },
    )


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


def error_responses(
    codes: Iterable[ApiErrorCode],
    headers: Mapping[ApiErrorCode, Mapping[str, OpenAPIHeader]] | None = None,
) -> dict[str, OpenAPIResponse]:
    """One response per status the codes (and UNEXPECTED) answer with, by STATUS_FOR_CODE,
    carrying the `headers` of its codes."""
    by_status: dict[int, list[ApiErrorCode]] = {}
    for code in (*codes, UNEXPECTED):
        status_codes = by_status.setdefault(STATUS_FOR_CODE[code], [])
        if code not in status_codes:
            status_codes.append(code)
    headers = headers or {}
    unknown = set(headers) - {code for status_codes in by_status.values() for code in status_codes}
    assert not unknown, f"headers of codes the operation does not answer: {unknown}"
    return {
        str(status): OpenAPIResponse(
            description=f"{HTTPStatus(status).phrase}: "
            + ", ".join(f"`{code.value}`" for code in status_codes),
            content={MediaType.JSON: OpenAPIMediaType(schema=_error_schema(status_codes))},
            headers={
                name: value
                for code in status_codes
                for name, value in headers.get(code, {}).items()
            }
            or None,
        )
        for status, status_codes in sorted(by_status.items())
    }


def documented(
    *codes: ApiErrorCode,
    request_body: RequestBody | None = None,
    links: Mapping[str, Link] | None = None,
    success: Mapping[int, OpenAPIResponse] | None = None,
    error_headers: Mapping[ApiErrorCode, Mapping[str, OpenAPIHeader]] | None = None,
) -> type[Operation]:
    """The `operation_class` of a handler that fails with `codes`: its success response kept
    (with `links` to the operations its answer feeds) or, where it builds its answers itself,
    `success` instead; every error response the codes' statuses, with `error_headers` on the
    answers of their codes; and `request_body` where the handler reads its body itself."""
    errors = error_responses(codes, error_headers)
    own_success: dict[str, OpenAPIResponse | Reference] = {
        str(status): response for status, response in (success or {}).items()
    }

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            success = own_success or {
                s: r for s, r in (self.responses or {}).items() if s.startswith("2")
            }
            if links:
                for response in success.values():
                    if isinstance(response, OpenAPIResponse):
                        response.links = dict(links)
            self.responses = {**success, **errors}
            if request_body is not None:
                self.request_body = request_body

    return DocumentedOperation


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


UPLOADED_RECORDING_LINKS: Final = {
    "getRecording": Link(
        operation_id="getRecording",
        parameters={
            "session_id": "$request.path.session_id",
            "attempt": "$request.query.attempt",
        },
    )
}
"""From a stored upload to playing it back (the answer carries neither id: the request does)."""
