"""The trainee: what the browser does, on the LiveKit Python SDK.

It asks the token service for a token (its token route, with `x-user-id`), joins the room,
publishes a microphone fed continuously at real-time pace (silence, or a speech clip when it
`say`s something: `microphone`), listens to the agent's audio track measuring its energy
(`listener`), and reads the agent's participant attributes (`trainee`).

`python -m devstack.trainee ...` runs one in its own process (`cli`).
"""

from ..speech import FRAME_MS
from .cli import main, spawn_trainee
from .errors import TraineeError
from .listener import ENERGY_THRESHOLD, AgentAudio, Listener
from .microphone import FRAME_SAMPLES, Microphone
from .token_request import fetch_token
from .trainee import ATTR_AGENT_STATE, Trainee

__all__ = [
    "ATTR_AGENT_STATE",
    "ENERGY_THRESHOLD",
    "FRAME_MS",
    "FRAME_SAMPLES",
    "AgentAudio",
    "Listener",
    "Microphone",
    "Trainee",
    "TraineeError",
    "fetch_token",
    "main",
    "spawn_trainee",
]
