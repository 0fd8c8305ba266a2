-- Users, scenarios and assignments mirror the Next.js application's tables that voice training reads.
CREATE TABLE users (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE scenarios (
    id            uuid PRIMARY KEY,
    title         text NOT NULL,
    caller_prompt text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE assignments (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    scenario_id uuid NOT NULL REFERENCES scenarios (id),
    status      text NOT NULL DEFAULT 'assigned'
                CHECK (status IN ('assigned', 'in_progress', 'completed')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignments_user_id_idx ON assignments (user_id);

-- One session per assignment (its attempts are counted in current_attempt); free practice gets a
-- new session every call.
CREATE TABLE sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type            text NOT NULL CHECK (type IN ('assignment', 'free_practice')),
    user_id         uuid NOT NULL REFERENCES users (id),
    assignment_id   uuid REFERENCES assignments (id),
    scenario_id     uuid REFERENCES scenarios (id),
    current_attempt integer NOT NULL DEFAULT 1 CHECK (current_attempt >= 1),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    CHECK ((type = 'assignment') = (assignment_id IS NOT NULL))
);
CREATE UNIQUE INDEX sessions_assignment_id_key ON sessions (assignment_id)
    WHERE assignment_id IS NOT NULL;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE transcript_turns (
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    attempt     integer NOT NULL CHECK (attempt >= 1),
    turn_order  integer NOT NULL CHECK (turn_order >= 1),
    role        text NOT NULL CHECK (role IN ('user', 'assistant')),
    content     text NOT NULL,
    interrupted boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, attempt, turn_order)
);

CREATE TABLE evaluations (
    session_id    uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    attempt       integer NOT NULL CHECK (attempt >= 1),
    overall_score integer NOT NULL CHECK (overall_score BETWEEN 0 AND 100),
    summary       text NOT NULL,
    strengths     jsonb NOT NULL,
    improvements  jsonb NOT NULL,
    model         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, attempt)
);
