"""Every failure classified once into what a client sees: an HTTP status and an `ErrorBody`.

`classify` is the one classification; the Litestar exception handlers (`EXCEPTION_HANDLERS`) and
the fast token route both answer with what it returns. `ERROR_CLASSES` lists, in the order they
are matched, the exceptions it knows with the status and code each answers (`None` where the
exception carries its own), and `STATUS_FOR_CODE` the status of every code, so a document of the
API can be generated from the same table the service answers by.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import msgspec
import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_408_REQUEST_TIMEOUT,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_502_BAD_GATEWAY,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from training_contracts import ApiErrorCode, ErrorBody, ErrorDetail

logger = logging.getLogger("token_service")

_encode = msgspec.json.Encoder().encode

STATUS_FOR_CODE: Final[Mapping[ApiErrorCode, int]] = MappingProxyType(
    {
        ApiErrorCode.BAD_REQUEST: HTTP_400_BAD_REQUEST,
        ApiErrorCode.UNAUTHORIZED: HTTP_401_UNAUTHORIZED,
        ApiErrorCode.FORBIDDEN: HTTP_403_FORBIDDEN,
        ApiErrorCode.NOT_FOUND: HTTP_404_NOT_FOUND,
        ApiErrorCode.TRANSCRIPT_PENDING: HTTP_409_CONFLICT,
        ApiErrorCode.TRANSCRIPT_EMPTY: HTTP_409_CONFLICT,
        ApiErrorCode.RECORDING_PENDING: HTTP_409_CONFLICT,
        ApiErrorCode.REQUEST_TIMEOUT: HTTP_408_REQUEST_TIMEOUT,
        ApiErrorCode.PAYLOAD_TOO_LARGE: HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        ApiErrorCode.RANGE_NOT_SATISFIABLE: HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
        ApiErrorCode.INTERNAL_ERROR: HTTP_500_INTERNAL_SERVER_ERROR,
        ApiErrorCode.EVALUATION_UNAVAILABLE: HTTP_502_BAD_GATEWAY,
        ApiErrorCode.NOT_READY: HTTP_503_SERVICE_UNAVAILABLE,
        ApiErrorCode.USER_NOT_FOUND: HTTP_404_NOT_FOUND,
        ApiErrorCode.ASSIGNMENT_NOT_FOUND: HTTP_404_NOT_FOUND,
        ApiErrorCode.CONFLICT: HTTP_409_CONFLICT,
    }
)

# The code of a bare HTTP status that did not come from an ApiError (routing, body limits); any
# other 4xx (405, ...) is `bad_request`: the status itself carries the class of failure.
_CODE_FOR_HTTP_STATUS: Final = {
    STATUS_FOR_CODE[code]: code
    for code in (
        ApiErrorCode.BAD_REQUEST,
        ApiErrorCode.UNAUTHORIZED,
        ApiErrorCode.FORBIDDEN,
        ApiErrorCode.NOT_FOUND,
        ApiErrorCode.PAYLOAD_TOO_LARGE,
        ApiErrorCode.NOT_READY,
    )
}


class ApiError(Exception):
    """A failure the client should see: a machine-readable code (its status follows from it,
    see STATUS_FOR_CODE), a human message and the headers its status needs (416's
    `Content-Range`)."""

    def __init__(
        self, code: ApiErrorCode, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = tuple((headers or {}).items())


@dataclass(frozen=True, slots=True)
class Failure:
    """The answer to one failure: its HTTP status, the ErrorBody JSON and the headers the status
    needs (405's `Allow`, 416's `Content-Range`)."""

    status: int
    code: ApiErrorCode
    message: str
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: ApiErrorCode, message: str) -> "Failure":
        return cls(STATUS_FOR_CODE[code], code, message)

    def encode(self) -> bytes:
        return _encode(ErrorBody(error=ErrorDetail(code=self.code, message=self.message)))

    def response(self) -> Response[bytes]:
        return Response(
            self.encode(),
            status_code=self.status,
            media_type=MediaType.JSON,
            headers=dict(self.headers) if self.headers else None,
        )


def _api_error(exc: ApiError, _: str) -> Failure:
    return Failure(STATUS_FOR_CODE[exc.code], exc.code, exc.message, exc.headers)


def _validation_error(exc: ValidationException, _: str) -> Failure:
    message = exc.detail
    if isinstance(exc.extra, list) and exc.extra:
        problems = []
        for item in exc.extra:
            if isinstance(item, dict):
                key = item.get("key")
                text = item.get("message", "")
                problems.append(f"{key}: {text}" if key else str(text))
            else:
                problems.append(str(item))
        message = f"{message}: {'; '.join(problems)}"
    return Failure.of(ApiErrorCode.BAD_REQUEST, message)


def _http_error(exc: HTTPException, where: str) -> Failure:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR and status != HTTP_503_SERVICE_UNAVAILABLE:
        logger.error("HTTP %s in %s: %s", status, where, exc.detail)
        return Failure(status, ApiErrorCode.INTERNAL_ERROR, "internal error")
    code = _CODE_FOR_HTTP_STATUS.get(status, ApiErrorCode.BAD_REQUEST)
    # Litestar's router puts `Allow` on its 405: RFC 9110 requires it there.
    return Failure(status, code, exc.detail, tuple((exc.headers or {}).items()))


def _database_unavailable(exc: Exception, where: str) -> Failure:
    # The message names no host or user: connection details are for the log only.
    logger.error("database unavailable in %s: %s", where, exc)
    return Failure.of(ApiErrorCode.NOT_READY, "the database is unavailable")


def _unexpected_error(exc: Exception, where: str) -> Failure:
    logger.exception("unhandled error in %s", where, exc_info=exc)
    return Failure.of(ApiErrorCode.INTERNAL_ERROR, "internal error")


@dataclass(frozen=True, slots=True)
class ErrorClass:
    """Exceptions answered alike: `status` and `code` are `None` where the exception carries its
    own (an ApiError its code, an HTTPException its status); `answer` builds the Failure and
    logs what the operator needs, `where` naming the request ("POST /path")."""

    exceptions: tuple[type[Exception], ...]
    status: int | None
    code: ApiErrorCode | None
    answer: Callable[[Any, str], Failure]


ERROR_CLASSES: Final[tuple[ErrorClass, ...]] = (
    ErrorClass((ApiError,), None, None, _api_error),
    ErrorClass(
        (ValidationException,),
        HTTP_400_BAD_REQUEST,
        ApiErrorCode.BAD_REQUEST,
        _validation_error,
    ),
    ErrorClass((HTTPException,), None, None, _http_error),
    ErrorClass(
        (psycopg.OperationalError,),  # includes the pool's PoolTimeout
        HTTP_503_SERVICE_UNAVAILABLE,
        ApiErrorCode.NOT_READY,
        _database_unavailable,
    ),
    ErrorClass(
        (Exception,),
        HTTP_500_INTERNAL_SERVER_ERROR,
        ApiErrorCode.INTERNAL_ERROR,
        _unexpected_error,
    ),
)


def classify(exc: Exception, where: str) -> Failure:
    """What the client is told about `exc`, raised while answering `where`: the first class
    in ERROR_CLASSES that `exc` belongs to answers."""
    for error_class in ERROR_CLASSES:
        if isinstance(exc, error_class.exceptions):
            return error_class.answer(exc, where)
    raise AssertionError("ERROR_CLASSES ends with Exception")  # pragma: no cover


def _handle(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    return classify(exc, f"{request.method} {request.url.path}").response()


# Litestar picks a handler by the exception's class; every one defers to `classify`.
EXCEPTION_HANDLERS: Final[ExceptionHandlersMap] = {
    exception: _handle for error_class in ERROR_CLASSES for exception in error_class.exceptions
}
