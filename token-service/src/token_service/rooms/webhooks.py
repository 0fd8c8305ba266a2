"""RoomWebhooks: one of livekit-server's webhooks verified (its signature is the credential: a JWT
of the API key holding the body's SHA-256) and taken into the room's state (service.py)."""

from google.protobuf.json_format import ParseError
from livekit import api

from training_contracts import ApiErrorCode

from ..errors import ApiError
from .service import CallRooms


class RoomWebhooks:
    """One per app."""

    __slots__ = ("_receiver", "_rooms")

    def __init__(self, receiver: api.WebhookReceiver, rooms: CallRooms) -> None:
        self._receiver = receiver
        self._rooms = rooms

    async def take(self, body: bytes, authorization: str) -> None:
        """400 for a body that is not a webhook event, 401 for a signature not accepted."""
        try:
            event = self._receiver.receive(body.decode("utf-8", errors="replace"), authorization)
        except ParseError as exc:
            raise ApiError(ApiErrorCode.BAD_REQUEST, f"not a webhook event: {exc}") from exc
        except Exception as exc:  # livekit-api raises bare Exceptions and PyJWT's errors alike
            raise ApiError(
                ApiErrorCode.UNAUTHORIZED, f"webhook signature not accepted: {exc}"
            ) from exc
        await self._rooms.apply(event)
