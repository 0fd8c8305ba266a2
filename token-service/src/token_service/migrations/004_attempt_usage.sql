-- Model tokens spent per attempt, one row per model role: the call's Realtime model ('realtime',
-- running totals the agent sends with its transcript batches) and the evaluation's chat model
-- ('evaluation'). Kept apart from the shared tables so their meaning does not change.
CREATE TABLE attempt_usage (
    session_id          uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    attempt             integer NOT NULL CHECK (attempt >= 1),
    source              text NOT NULL CHECK (source IN ('realtime', 'evaluation')),
    model               text NOT NULL,
    input_text_tokens   bigint NOT NULL DEFAULT 0 CHECK (input_text_tokens >= 0),
    input_audio_tokens  bigint NOT NULL DEFAULT 0 CHECK (input_audio_tokens >= 0),
    input_cached_tokens bigint NOT NULL DEFAULT 0 CHECK (input_cached_tokens >= 0),
    output_text_tokens  bigint NOT NULL DEFAULT 0 CHECK (output_text_tokens >= 0),
    output_audio_tokens bigint NOT NULL DEFAULT 0 CHECK (output_audio_tokens >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, attempt, source)
);
