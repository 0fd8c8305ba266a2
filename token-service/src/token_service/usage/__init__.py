"""Model tokens spent per attempt: the call's Realtime model and the evaluation's chat model."""
