"""LIVEKIT_WEBHOOK_PATH: livekit-server's webhooks (webhooks.py verifies them, service.py says what
they change). No user and no internal key: the signature is the credential.

livekit-server retries a webhook that fails and drops it once it is 30 s old, so an answer
other than 2xx (the database is down: 503) is a request to send it again.
"""

from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, RequestBody, Schema
from litestar.status_codes import HTTP_204_NO_CONTENT

from training_contracts import LIVEKIT_WEBHOOK_PATH, ApiErrorCode

from ..openapi import BODY, DATABASE, WEBHOOK, ApiOperation, errors
from .webhooks import RoomWebhooks


class _WebhookOperation(ApiOperation):
    """The body is LiveKit's protobuf event, which the handler hands over as it came."""

    body = RequestBody(
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
        responses=errors(ApiErrorCode.UNAUTHORIZED, *BODY, *DATABASE),
        operation_class=_WebhookOperation,
    )
    async def receive(
        self, request: Request[Any, Any, State], room_webhooks: NamedDependency[RoomWebhooks]
    ) -> None:
        await room_webhooks.take(await request.body(), request.headers.get("authorization", ""))
