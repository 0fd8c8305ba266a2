"""The service's one error type, and the handlers that turn every failure into `ErrorBody` JSON."""

import logging
from typing import Any

import msgspec
import psycopg
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap
from psycopg_pool import PoolTimeout

from training_contracts import ApiErrorCode, ErrorBody, ErrorDetail

logger = logging.getLogger("token_service")

_encode = msgspec.json.Encoder().encode

# The code a bare HTTP status gets when it did not come from an ApiError (routing, body limits).
_CODE_FOR_STATUS = {
    HTTP_400_BAD_REQUEST: ApiErrorCode.BAD_REQUEST,
    HTTP_401_UNAUTHORIZED: ApiErrorCode.UNAUTHORIZED,
    HTTP_403_FORBIDDEN: ApiErrorCode.FORBIDDEN,
    HTTP_404_NOT_FOUND: ApiErrorCode.NOT_FOUND,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: ApiErrorCode.PAYLOAD_TOO_LARGE,
    HTTP_503_SERVICE_UNAVAILABLE: ApiErrorCode.NOT_READY,
}


class ApiError(Exception):
    """A failure the client should see: HTTP status, a machine-readable code, a human message."""

    def __init__(self, status: int, code: ApiErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: ApiErrorCode, message: str) -> Response[bytes]:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return Response(_encode(body), status_code=status, media_type=MediaType.JSON)


def _api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
    return error_response(exc.status, exc.code, exc.message)


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
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
    return error_response(HTTP_400_BAD_REQUEST, ApiErrorCode.BAD_REQUEST, message)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR and status != HTTP_503_SERVICE_UNAVAILABLE:
        logger.error("HTTP %s: %s", status, exc.detail)
        return error_response(status, ApiErrorCode.INTERNAL_ERROR, "internal error")
    # 405 and other 4xx without a code of their own: the status carries the class of failure.
    code = _CODE_FOR_STATUS.get(status, ApiErrorCode.BAD_REQUEST)
    return error_response(status, code, exc.detail)


def _database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    logger.error("database unavailable in %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        HTTP_503_SERVICE_UNAVAILABLE, ApiErrorCode.NOT_READY, "the database is unavailable"
    )


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    logger.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        HTTP_500_INTERNAL_SERVER_ERROR, ApiErrorCode.INTERNAL_ERROR, "internal error"
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: _api_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    PoolTimeout: _database_unavailable,
    psycopg.OperationalError: _database_unavailable,
    Exception: _unexpected_error,
}
