-- Voice training's own state, in a schema of its own beside the Next.js application's tables
-- (docs/app-database.md). Every statement here runs with search_path set to that schema alone.
-- Rows refer to the application's sessions by their text id, without foreign keys: the
-- application deletes its rows as it always did, and `token-service purge-recordings` removes
-- the voice state of sessions that are gone.

-- One row per attempt the token service started (an assignment's call, or a free practice
-- session's only one): what the application's tables have no column for.
CREATE TABLE attempts (
    session_id  text NOT NULL,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    -- the idempotency key of the request that started it (the agent's job id, or the request's
    -- own key for a replay): the same key again gets this attempt back
    request_key text UNIQUE,
    started_at  timestamptz NOT NULL DEFAULT now(),
    -- the agent's final transcript batch arrived: the attempt's call is over
    final_at    timestamptz,
    -- closed by the token service because its caller was lost before the final batch came
    cut_short   text CHECK (cut_short IN ('agent_left', 'room_finished')),
    closed_at   timestamptz,
    PRIMARY KEY (session_id, attempt)
);

-- The ledger of turns written to the application's transcript_turns, which has no unique key
-- on (session, attempt, turn): a turn is written there only by the statement that inserts its
-- row here, so a turn sent again, or by two requests at once, is stored once.
CREATE TABLE stored_turns (
    session_id  text NOT NULL,
    attempt     integer NOT NULL,
    turn_order  integer NOT NULL,
    turn_id     text NOT NULL,  -- transcript_turns.id
    interrupted boolean NOT NULL DEFAULT false,  -- the caller's turn was cut off by barge-in
    stored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, attempt, turn_order)
);

-- One row per recorded attempt, created with the attempt ('pending') so the API can tell "still
-- being delivered" (409) from "not recorded" (404). The audio lives in the recording store under
-- storage_key; size_bytes and stored_at are set when it arrives.
CREATE TABLE attempt_recordings (
    session_id  text NOT NULL,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'stored', 'failed')),
    storage_key text,
    size_bytes  bigint CHECK (size_bytes >= 0),
    failure     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    stored_at   timestamptz,
    PRIMARY KEY (session_id, attempt),
    CHECK ((status = 'stored') = (storage_key IS NOT NULL AND stored_at IS NOT NULL))
);
-- purge-recordings walks recordings by age.
CREATE INDEX attempt_recordings_created_at_idx ON attempt_recordings (created_at);

-- The structured feedback of this service's evaluation endpoint, one per attempt, written once.
-- The application's own evaluations table is left to the application's evaluate endpoint.
CREATE TABLE attempt_evaluations (
    session_id    text NOT NULL,
    attempt       integer NOT NULL CHECK (attempt >= 1),
    overall_score integer NOT NULL CHECK (overall_score BETWEEN 0 AND 100),
    summary       text NOT NULL,
    strengths     jsonb NOT NULL,
    improvements  jsonb NOT NULL,
    model         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, attempt)
);

-- Model tokens spent per attempt, one row per model role: the call's Realtime model ('realtime',
-- running totals the agent sends with its transcript batches) and the evaluation's chat model
-- ('evaluation').
CREATE TABLE attempt_usage (
    session_id          text NOT NULL,
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

-- LiveKit rooms as their webhooks describe them, so that any token service process can act on a
-- room whose caller is missing (rooms/): a trainee left waiting gets a new dispatch, an attempt
-- whose caller was lost is closed.
CREATE TABLE call_rooms (
    room_name        text PRIMARY KEY,
    session_id       text,
    attempt          integer CHECK (attempt >= 1),
    -- the participants as the latest webhooks left them; a sid tells a rejoin from a leave
    trainee_sid      text,
    agent_sid        text,
    agent_seen       boolean NOT NULL DEFAULT false,
    -- since when the trainee has been in the room without a caller (NULL: not waiting)
    waiting_since    timestamptz,
    dispatches       integer NOT NULL DEFAULT 0,
    next_dispatch_at timestamptz,
    gave_up_at       timestamptz,
    -- the RoomNotice the room's metadata carries (NULL: none)
    notice           text,
    finished_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The sweeper's question: which rooms have a trainee waiting whose next dispatch is due.
CREATE INDEX call_rooms_due_idx ON call_rooms (next_dispatch_at)
    WHERE next_dispatch_at IS NOT NULL;
CREATE INDEX call_rooms_session_idx ON call_rooms (session_id, attempt);
