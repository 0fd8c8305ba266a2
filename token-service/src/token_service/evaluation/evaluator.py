"""Feedback on one attempt of a training call, from a chat model, in the contract's shape."""

import textwrap
from collections.abc import Sequence
from typing import Any, Final

import msgspec

from training_contracts import ModelUsage, Observation, Role, TurnView

from .client import ChatCompletionsClient, ModelUnavailable

FREE_PRACTICE_SCENARIO: Final = textwrap.dedent(
    """\
    Free practice (no assigned scenario). The caller is an anonymous adult who has reached the
    crisis line after a very hard week: they feel overwhelmed and alone, are unsure whether their
    situation is "bad enough" to call about, and may test whether the counselor really listens.
    The caller's risk level is not known in advance; the counselor is expected to find out.
    """
)

SYSTEM_PROMPT: Final = textwrap.dedent(
    """\
    You are an experienced clinical supervisor at a crisis line. You review practice calls in
    which a counselor in training talks with a simulated caller, and you give feedback the trainee
    can act on in their next call.

    Judge the COUNSELOR's turns only; the caller is simulated and is not being evaluated. Weigh:
    - Engagement and rapport: a warm, calm opening; the caller feels heard, not processed.
    - Active listening: open questions, reflections, summaries; letting the caller finish;
      not rushing to fix or to reassure.
    - Validation and empathy: naming feelings without judging, minimising or lecturing.
    - Safety: asking directly and plainly about suicidal thoughts when there are warning signs,
      exploring plan, means, timing and protective factors, and responding in proportion to the
      risk it finds.
    - Collaboration: exploring the caller's own coping and supports, agreeing on realistic next
      steps and referrals, and a clear, caring close.
    - Boundaries: no false promises, no personal opinions or advice beyond the role.

    Ground every point in the transcript: each strength and improvement lists the numbers of the
    turns it is about (the numbers in square brackets). Be specific and kind; quote briefly when
    it helps. Give two to four strengths and two to four improvements, most important first.
    overallScore is 0-100: 90+ exemplary, 75-89 solid with minor gaps, 50-74 adequate with clear
    gaps, below 50 unsafe or unhelpful handling. The summary is two to four sentences addressed
    to the trainee ("you").
    """
)

_OBSERVATION_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "point": {"type": "string", "description": "One specific, actionable observation."},
        "turnOrders": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "The numbers of the transcript turns this observation is about.",
        },
    },
    "required": ["point", "turnOrders"],
    "additionalProperties": False,
}

EVALUATION_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "overallScore": {"type": "integer", "minimum": 0, "maximum": 100},
        "summary": {"type": "string"},
        "strengths": {"type": "array", "items": _OBSERVATION_SCHEMA},
        "improvements": {"type": "array", "items": _OBSERVATION_SCHEMA},
    },
    "required": ["overallScore", "summary", "strengths", "improvements"],
    "additionalProperties": False,
}


class Feedback(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """What the model answers, before it is tied to a session and stored."""

    overall_score: int
    summary: str
    strengths: list[Observation]
    improvements: list[Observation]


_decode_feedback = msgspec.json.Decoder(Feedback).decode

_SPEAKER = {Role.USER: "Counselor (trainee)", Role.ASSISTANT: "Caller"}


def format_transcript(turns: Sequence[TurnView]) -> str:
    lines = []
    for turn in turns:
        cut = " (interrupted)" if turn.interrupted else ""
        lines.append(f"[{turn.turn_order}] {_SPEAKER[turn.role]}{cut}: {turn.content}")
    return "\n".join(lines)


def build_request(
    model: str, scenario_title: str | None, caller_prompt: str | None, turns: Sequence[TurnView]
) -> dict[str, Any]:
    if caller_prompt:
        scenario = (
            f"Scenario: {scenario_title or 'untitled'}\n\n"
            f"The caller was briefed as follows:\n{caller_prompt}"
        )
    else:
        scenario = FREE_PRACTICE_SCENARIO
    user_message = (
        f"{scenario}\n\nTranscript of the call, one numbered turn per line:\n"
        f"{format_transcript(turns)}\n\nEvaluate the counselor."
    )
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "counselor_evaluation",
                "strict": True,
                "schema": EVALUATION_SCHEMA,
            },
        },
        "temperature": 0.2,
    }


def parse_feedback(content: str, turn_orders: set[int]) -> Feedback:
    """The model's JSON in the contract's shape: the score clamped to 0-100, references to turns
    that do not exist dropped, empty points dropped."""
    try:
        raw = _decode_feedback(content)
    except msgspec.DecodeError as exc:
        raise ModelUnavailable(f"the model's evaluation does not fit the schema: {exc}") from exc

    def keep(observations: list[Observation]) -> list[Observation]:
        return [
            Observation(
                point=item.point.strip(),
                turn_orders=sorted({n for n in item.turn_orders if n in turn_orders}),
            )
            for item in observations
            if item.point.strip()
        ]

    return Feedback(
        overall_score=min(100, max(0, raw.overall_score)),
        summary=raw.summary.strip(),
        strengths=keep(raw.strengths),
        improvements=keep(raw.improvements),
    )


class Evaluator:
    def __init__(self, client: ChatCompletionsClient, model: str) -> None:
        self._client = client
        self.model = model

    async def evaluate(
        self, scenario_title: str | None, caller_prompt: str | None, turns: Sequence[TurnView]
    ) -> tuple[Feedback, ModelUsage | None]:
        """The feedback and what it cost; ModelUnavailable when no usable evaluation can be had."""
        body = build_request(self.model, scenario_title, caller_prompt, turns)
        reply = await self._client.complete(body)
        return parse_feedback(reply.content, {turn.turn_order for turn in turns}), reply.usage
