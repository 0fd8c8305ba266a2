"""LIVEKIT_WEBHOOK_PATH: livekit-server's webhooks, verified with the API key (rooms/service.py
says what they change). No user and no internal key: the signature is the credential.

livekit-server retries a webhook that fails and drops it once it is 30 s old, so an answer
other than 2xx (the database is down: 503) is a request to send it again.
"""

from typing import Any

from google.protobuf.json_format import ParseError
from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.status_codes import HTTP_204_NO_CONTENT

from training_contracts import LIVEKIT_WEBHOOK_PATH, ApiErrorCode

from ..errors import ApiError
from ..openapi import BODY, DATABASE, WEBHOOK, documented
from ..services import services_of

_AUTHORIZATION = "authorization"
_WEBHOOK_BODY = RequestBody(
    required=True,
    description="LiveKit's WebhookEvent (protobuf JSON), as livekit-server posts it",
    content={
        "application/webhook+json": OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.OBJECT, title="WebhookEvent")
        )
    },
)


class WebhookController(Controller):
    tags = ("livekit",)

    @post(
        LIVEKIT_WEBHOOK_PATH,
        operation_id="livekitWebhook",
        summary="livekit-server's room and participant events",
        status_code=HTTP_204_NO_CONTENT,
        security=WEBHOOK,
        operation_class=documented(
            ApiErrorCode.UNAUTHORIZED, *BODY, *DATABASE, request_body=_WEBHOOK_BODY
        ),
    )
    async def receive(self, request: Request[Any, Any, State]) -> None:
        services = services_of(request.app.state)
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            event = services.webhook_receiver.receive(body, request.headers.get(_AUTHORIZATION, ""))
        except ParseError as exc:
            raise ApiError(ApiErrorCode.BAD_REQUEST, f"not a webhook event: {exc}") from exc
        except Exception as exc:  # livekit-api raises bare Exceptions and PyJWT's errors alike
            raise ApiError(
                ApiErrorCode.UNAUTHORIZED, f"webhook signature not accepted: {exc}"
            ) from exc
        await services.call_rooms.apply(event)
