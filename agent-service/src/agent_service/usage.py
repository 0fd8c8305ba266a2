"""The Realtime model's usage of one call, as the contract carries it.

AgentSession adds up every model's `metrics_collected` into `session.usage` (one LLMModelUsage
per provider and model, RealtimeModelMetrics included); the caller runs a single Realtime model,
so its entry is the call's cost.
"""

from __future__ import annotations

from livekit.agents.metrics.usage import AgentSessionUsage, LLMModelUsage

from training_contracts import ModelUsage

__all__ = ["realtime_usage"]


def realtime_usage(usage: AgentSessionUsage, model: str) -> ModelUsage | None:
    """The figures of `model` (None before its first response)."""
    for entry in usage.model_usage:
        if isinstance(entry, LLMModelUsage) and entry.model == model:
            return ModelUsage(
                model=entry.model,
                input_text_tokens=entry.input_text_tokens,
                input_audio_tokens=entry.input_audio_tokens,
                input_cached_tokens=entry.input_cached_tokens,
                output_text_tokens=entry.output_text_tokens,
                output_audio_tokens=entry.output_audio_tokens,
            )
    return None
