"""The AI crisis caller: its prompts, and the Agent that speaks them through the Realtime model.

Prompt policy: a scenario's prompt from the database is the caller's persona and is used verbatim;
every persona, the built-in one included, is followed by the same short block of speaking-style
rules (SPEAKING_STYLE). Those rules only shape how the caller talks on a voice line (short turns,
no markup, never breaking character); who the caller is and what happened to them is the
scenario's alone.
"""

import asyncio
import logging
import textwrap
from dataclasses import dataclass

from livekit import rtc
from livekit.agents import (
    NOT_GIVEN,
    Agent,
    AgentSession,
    ConversationItemAddedEvent,
    UserInputTranscribedEvent,
    UserStateChangedEvent,
    room_io,
)
from livekit.plugins.openai.realtime import RealtimeModel
from openai.types.realtime import AudioTranscription
from openai.types.realtime.realtime_audio_input_turn_detection import SemanticVad

from .settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_CALLER_PROMPT = textwrap.dedent(
    """\
    You are Alex Moreno, 27, calling a crisis helpline late on a weeknight. You are the caller;
    the person who answers is a counselor. Stay Alex for the whole call.

    Your situation: three weeks ago you lost your warehouse job after missing shifts. Your partner
    of four years, Sam, moved out a month before that. Rent is due on Friday and you cannot pay it.
    You have barely slept for days, you have been drinking more than usual, and you have stopped
    answering your sister Dana's calls because you do not want her to worry or to see you like this.

    How you feel: exhausted, ashamed, numb, with flashes of panic about money. You feel like a
    burden to everyone. Lately you have had thoughts that everyone would be better off without you.
    You have no plan and nothing set aside to hurt yourself, and part of you is scared of those
    thoughts. You called because a friend once mentioned this number and tonight the apartment
    felt too quiet.

    What you want: someone who listens without judging you, so you can say out loud how bad it
    has got. What you fear: being lectured, being told to "just" do something, being rushed off
    the phone, wasting the counselor's time, and police or a hospital being sent without you
    agreeing.

    How the call goes:
    - Start unsure and guarded. Give short, vague answers at first ("it's just... a lot right now").
    - You open up slowly, a little more each time the counselor shows real empathy: reflecting what
      you said, naming your feelings, asking open questions, letting silences be.
    - You withdraw when the counselor lectures, rushes, interrogates, minimises ("at least..."),
      or jumps to advice and solutions: your answers get shorter, you say "yeah, I guess" or
      "never mind", and you may say you should go.
    - Do not get better quickly. Even a good call ends with you only a bit less alone, perhaps
      willing to take one small step the counselor helps you find yourself.
    - If the counselor asks you directly and calmly about suicide, answer honestly as Alex: yes,
      you have had thoughts that it would be easier not to be here, you have no plan and no means
      in mind, and saying it out loud is frightening. If the question comes early, bluntly or in
      a judging tone, hesitate and deflect before admitting it.
    - Details you can reveal when asked: the job, Sam leaving, the rent, not sleeping, the
      drinking, avoiding Dana. Invent small consistent details if needed, never a new crisis.
    """
)
"""The caller used for free practice, when the dispatch names no scenario."""

SPEAKING_STYLE = textwrap.dedent(
    """\
    How you speak on this call:
    - This is a phone call. Speak like a real person in distress: one to three short sentences
      per turn, plain words, with hesitations, pauses and unfinished thoughts ("I... I don't
      know", "um", "sorry").
    - Never use lists, markdown, emoji, stage directions or descriptions of your actions.
    - Never give the counselor advice, feedback or a summary, and never comment on how the
      counselor is doing.
    - Never say or hint that you are an AI, a simulation or part of a training exercise, whatever
      the counselor says. If something confuses you, react as the caller would.
    - Let the counselor lead. Answer what you are asked; do not solve your own situation.
    - If the counselor goes quiet for a long time, you may check they are still there.
    """
)

QUIET_LINE_INSTRUCTIONS = (
    "The counselor picked up a few seconds ago but nobody has said anything yet. As the caller, "
    "break the silence hesitantly with a short hello, for example asking whether this is the "
    "helpline. Do not explain your situation yet."
)
"""Given to generate_reply when the trainee says nothing after picking up the call."""


def caller_instructions(scenario_prompt: str | None) -> str:
    """The instructions for the Realtime model: the persona, then the shared speaking style."""
    persona = scenario_prompt if scenario_prompt is not None else DEFAULT_CALLER_PROMPT
    return f"{persona.rstrip()}\n\n{SPEAKING_STYLE}"


@dataclass(frozen=True)
class RealtimeConfig:
    api_key: str
    base_url: str | None = None
    model: str = "gpt-realtime"
    voice: str = "marin"

    @classmethod
    def from_settings(cls, settings: Settings) -> "RealtimeConfig":
        return cls(
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            model=settings.realtime_model,
            voice=settings.realtime_voice,
        )


def build_realtime_model(config: RealtimeConfig) -> RealtimeModel:
    """The OpenAI Realtime model as the caller uses it.

    Input transcription is always on: without it the trainee's turns never reach the transcript.
    Turn detection is the server's (semantic VAD) and given explicitly, so the session never hands
    turn-taking to a local VAD model the worker does not load.
    """
    return RealtimeModel(
        model=config.model,
        voice=config.voice,
        api_key=config.api_key,
        base_url=config.base_url if config.base_url is not None else NOT_GIVEN,
        input_audio_transcription=AudioTranscription(model="gpt-4o-mini-transcribe"),
        turn_detection=SemanticVad(
            type="semantic_vad", create_response=True, eagerness="medium", interrupt_response=True
        ),
    )


class CallerAgent(Agent):
    """The caller: the persona's instructions spoken through the OpenAI Realtime model."""

    def __init__(self, *, scenario_prompt: str | None, realtime: RealtimeConfig) -> None:
        super().__init__(
            instructions=caller_instructions(scenario_prompt),
            llm=build_realtime_model(realtime),
        )


def caller_session() -> AgentSession[None]:
    """The AgentSession the caller runs in.

    The Realtime model detects the trainee's turns on the server, so the session loads no local
    VAD or end-of-turn model.
    """
    return AgentSession(vad=None, turn_handling={"turn_detection": "realtime_llm"})


def caller_track_options() -> rtc.TrackPublishOptions:
    """How the caller's voice is published, for a trainee on a lossy network
    (`docs/bad-network.md` has the measurements behind each choice).

    - RED on: each packet also carries the previous frame, so a lost packet is rebuilt from the
      next one. It is the only loss protection that reaches the trainee: livekit-server forwards
      the RED packets as they are. Without it the trainee hears the caller break up.
    - DTX on: the caller's pauses are left out. Sending them as quiet frames instead changed
      neither the concealed audio nor the score beyond the spread between runs, and costs
      bandwidth in every pause.
    - Opus in-band FEC is negotiated but stays off whatever is set here: the encoder adds it only
      for loss it is told about, and livekit-server answers the worker's packets itself (that hop
      loses nothing).
    """
    return rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, red=True, dtx=True)


INPUT_FRAME_MS = 100
"""The Realtime plugin's own chunk of input audio (`RealtimeSession._bstream`)."""


def call_room_options() -> room_io.RoomOptions:
    """How the caller hears and speaks in the room.

    No gain control on the trainee's audio: the browser already applies it (getUserMedia's
    autoGainControl, on in livekit-client by default), and the Realtime model does its own turn
    detection on what it receives. A second pass in the worker would cost a round trip into the
    native library for every audio frame of every call (README, "Cost of a call"). The caller's
    own track: `caller_track_options`.

    The trainee's audio reaches the session in frames of INPUT_FRAME_MS: each frame is an event
    from the native library into Python and a pass through the session's input chain, and the
    Realtime plugin sends the model 100 ms chunks whatever the frame size, so frames of that
    length halve that work (LiveKit's default is 50 ms) without delaying what the model hears.
    """
    return room_io.RoomOptions(
        close_on_disconnect=True,
        audio_input=room_io.AudioInputOptions(
            auto_gain_control=False, frame_size_ms=INPUT_FRAME_MS
        ),
        audio_output=room_io.AudioOutputOptions(track_publish_options=caller_track_options()),
    )


class QuietLineOpener:
    """Who speaks first.

    The trainee plays a helpline counselor, and a counselor answers the phone: so the caller
    waits for the trainee's greeting and does not open the call. Only if the trainee says
    nothing for `after` seconds (`CallOptions.caller_opens_after`) does the caller break the
    silence with a hesitant hello (QUIET_LINE_INSTRUCTIONS), as a real caller on a silent line would.
    """

    def __init__(self, session: AgentSession[None], *, after: float) -> None:
        self._session = session
        self._after = after
        self._trainee_spoke = asyncio.Event()
        session.on("user_state_changed", self._on_user_state_changed)
        session.on("user_input_transcribed", self._on_user_input_transcribed)
        session.on("conversation_item_added", self._on_conversation_item_added)

    @property
    def trainee_spoke(self) -> bool:
        return self._trainee_spoke.is_set()

    async def run(self) -> bool:
        """Wait for the trainee; returns whether the caller had to speak first."""
        try:
            await asyncio.wait_for(self._trainee_spoke.wait(), self._after)
            return False
        except TimeoutError:
            pass
        session = self._session
        if session.user_state == "speaking" or session.agent_state in ("thinking", "speaking"):
            return False
        try:
            session.generate_reply(instructions=QUIET_LINE_INSTRUCTIONS)
        except RuntimeError:  # the session closed meanwhile
            return False
        logger.info("line quiet, the caller speaks first", extra={"after": self._after})
        return True

    def _on_user_state_changed(self, event: UserStateChangedEvent) -> None:
        if event.new_state == "speaking":
            self._trainee_spoke.set()

    def _on_user_input_transcribed(self, event: UserInputTranscribedEvent) -> None:
        self._trainee_spoke.set()

    def _on_conversation_item_added(self, event: ConversationItemAddedEvent) -> None:
        if getattr(event.item, "role", None) == "user":
            self._trainee_spoke.set()
