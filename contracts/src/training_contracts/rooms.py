"""What the frontend learns about its caller from the room itself, and what the page shows.

The caller is the room's agent participant (`kind` AGENT). The token service follows each room
through LiveKit's webhooks and writes a `RoomNotice` into the room's metadata when the caller
is missing; the frontend reads `room.metadata` on connect and on `room_metadata_changed`.

What the page shows:

- Joined, no agent participant yet: "Connecting you to a caller…". When none has joined CALLER_JOIN_BOUND_S after the trainee did (no worker
  could take the job, e.g. during a deploy), the token service dispatches the caller again, a
  bounded number of times, and the room metadata says `{"caller":"redialing"}`: keep showing
  "Connecting you to a caller…".
- The agent participant publishes `session.id`: the call runs. `error` instead: see
  attributes.py; that caller leaves by itself and none is dispatched in its place.
- The agent participant disconnects while the trainee is still in the room: its worker was
  lost. The token service closes that attempt with the turns stored so far (SessionView and
  Evaluation say `cutShort: true`) and dispatches a new caller; the metadata says `redialing`.
  Show "The caller's line dropped. Connecting you to a new caller…". A new caller joins as a
  new agent participant with its own `session.id` (the assignment's next attempt, or a new free
  practice session) and the conversation starts over. The cut-short attempt's feedback is
  `POST /api/sessions/{id}/evaluation?attempt=N`.
- `{"caller":"unavailable"}`: no caller came after the last dispatch. Show "No caller is
  available right now. Please try again in a few minutes." and leave the room; a cut-short
  attempt's feedback can still be asked for.
"""

from enum import StrEnum
from typing import Final

from .wire import WireStruct

CALLER_JOIN_BOUND_S: Final = 8
"""The token service's default bound: a trainee without a caller this long gets a new dispatch."""


class CallerStatus(StrEnum):
    REDIALING = "redialing"
    """No caller in the room: one is being dispatched again."""
    UNAVAILABLE = "unavailable"
    """No caller came after the last dispatch: the page tells the trainee to try again later."""


class RoomNotice(WireStruct, frozen=True, kw_only=True):
    """The room's metadata, written by the token service: `{"caller":"redialing"}`."""

    caller: CallerStatus
