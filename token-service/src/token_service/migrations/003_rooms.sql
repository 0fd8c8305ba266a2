-- LiveKit rooms as their webhooks describe them, so that any token service process can act on a
-- room whose caller is missing (rooms/): a trainee left waiting gets a new dispatch, an attempt
-- whose caller was lost is closed.
CREATE TABLE call_rooms (
    room_name        text PRIMARY KEY,
    session_id       uuid REFERENCES sessions (id) ON DELETE SET NULL,
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

-- Attempts closed by the token service because their caller was lost (the agent left a room its
-- trainee was still in, or the room finished) before the agent's final transcript came. The row
-- goes when that final transcript arrives after all.
CREATE TABLE attempt_cut_short (
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    attempt    integer NOT NULL CHECK (attempt >= 1),
    reason     text NOT NULL CHECK (reason IN ('agent_left', 'room_finished')),
    closed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, attempt)
);
