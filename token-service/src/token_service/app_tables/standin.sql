-- A STAND-IN FOR THE NEXT.JS APPLICATION'S MIGRATIONS, for standalone runs and tests only.
--
-- The application owns these tables and creates them with its own (Prisma) migrations; in a real
-- deployment this file is never applied. It describes the application's tables as they stand
-- after its migrations of 2026-02-14 (docs/app-database.md), with the application's own names for
-- every table, column, index and constraint, so that a database holding the stand-in looks to
-- the token service, and to pg_dump, like one the application migrated. `token-service seed-demo`
-- applies it only to a database that has none of these tables; compose's Postgres runs it once,
-- when its volume is created.
--
-- The application's conventions: ids are text holding UUIDs, with no database default (the writer
-- generates them); timestamps are timestamp(3) without time zone, in UTC; `updated_at` has no
-- default; enumerations are plain text.

CREATE TABLE users (
    id           text NOT NULL,
    external_id  text NOT NULL,
    display_name text,
    email        text,
    role         text NOT NULL DEFAULT 'counselor',  -- the application writes 'learner' or 'supervisor'
    created_at   timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at   timestamp(3) NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

CREATE TABLE accounts (
    id                       text NOT NULL,
    name                     text NOT NULL,
    policies_procedures_path text,
    vector_store_id          text,
    created_at               timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at               timestamp(3) NOT NULL,
    account_number           text,
    procedure_history        jsonb,
    CONSTRAINT accounts_pkey PRIMARY KEY (id)
);

CREATE TABLE scenarios (
    id                       text NOT NULL,
    title                    text NOT NULL,
    description              text,
    prompt                   text NOT NULL,  -- the caller's instructions
    evaluator_context_path   text,
    account_id               text NOT NULL,
    created_by               text NOT NULL,
    created_at               timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at               timestamp(3) NOT NULL,
    is_one_time              boolean NOT NULL DEFAULT false,
    mode                     text NOT NULL DEFAULT 'phone',  -- 'phone' or 'chat'
    relevant_policy_sections text,
    category                 text,
    skill                    text,
    skills                   text[] DEFAULT ARRAY[]::text[],
    difficulty               text DEFAULT 'intermediate',
    estimated_time           integer DEFAULT 15,
    CONSTRAINT scenarios_pkey PRIMARY KEY (id)
);

CREATE TABLE assignments (
    id                text NOT NULL,
    account_id        text,
    scenario_id       text NOT NULL,
    counselor_id      text NOT NULL,  -- the learner: the column kept its name when the role was renamed
    assigned_by       text NOT NULL,  -- a supervisor
    status            text NOT NULL DEFAULT 'pending',  -- pending, in_progress, completed
    created_at        timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    due_date          timestamp(3),
    started_at        timestamp(3),
    completed_at      timestamp(3),
    supervisor_notes  text,
    require_recording boolean NOT NULL DEFAULT false,
    CONSTRAINT assignments_pkey PRIMARY KEY (id)
);

CREATE TABLE sessions (
    id              text NOT NULL,
    assignment_id   text,
    user_id         text,
    scenario_id     text,
    model_type      text NOT NULL DEFAULT 'chat',  -- 'phone' or 'chat'
    status          text NOT NULL DEFAULT 'active',  -- active, completed, abandoned
    started_at      timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    ended_at        timestamp(3),
    current_attempt integer NOT NULL DEFAULT 1,
    CONSTRAINT sessions_pkey PRIMARY KEY (id)
);

-- No unique key on (session_id, attempt_number, turn_order): the application's readers take every
-- row of an attempt, so its writers must store each turn once.
CREATE TABLE transcript_turns (
    id             text NOT NULL,
    session_id     text NOT NULL,
    role           text NOT NULL,  -- 'user' (the trainee) or 'assistant' (the caller)
    content        text NOT NULL,
    turn_order     integer NOT NULL,
    created_at     timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    attempt_number integer NOT NULL DEFAULT 1,
    CONSTRAINT transcript_turns_pkey PRIMARY KEY (id)
);

CREATE TABLE evaluations (
    id               text NOT NULL,
    assignment_id    text,
    overall_score    double precision NOT NULL,
    feedback_json    text NOT NULL,  -- markdown, whatever the name says
    strengths        text NOT NULL,  -- a grade letter
    areas_to_improve text NOT NULL,
    raw_response     text,
    created_at       timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    session_id       text,
    CONSTRAINT evaluations_pkey PRIMARY KEY (id),
    CONSTRAINT evaluations_must_have_parent CHECK (assignment_id IS NOT NULL OR session_id IS NOT NULL)
);

CREATE TABLE recordings (
    id              text NOT NULL,
    session_id      text NOT NULL,
    file_path       text NOT NULL,
    duration        integer,
    file_size_bytes integer,
    created_at      timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT recordings_pkey PRIMARY KEY (id)
);

CREATE TABLE session_flags (
    id         text NOT NULL,
    session_id text NOT NULL,
    type       text NOT NULL,
    severity   text NOT NULL DEFAULT 'info',
    details    text NOT NULL,
    metadata   jsonb,
    status     text NOT NULL DEFAULT 'pending',
    created_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    source     text NOT NULL DEFAULT 'evaluation',
    updated_at timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT session_flags_pkey PRIMARY KEY (id)
);

CREATE TABLE document_reviews (
    id                    text NOT NULL,
    session_id            text NOT NULL,
    file_name             text NOT NULL,
    transcript_accuracy   integer NOT NULL,
    guidelines_compliance integer NOT NULL,
    overall_score         integer NOT NULL,
    specific_gaps         jsonb NOT NULL,
    review_text           text NOT NULL,
    created_at            timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT document_reviews_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX users_external_id_key ON users (external_id);
CREATE INDEX scenarios_is_one_time_created_at_idx ON scenarios (is_one_time, created_at);
CREATE INDEX assignments_counselor_id_idx ON assignments (counselor_id);
CREATE INDEX assignments_scenario_id_idx ON assignments (scenario_id);
CREATE INDEX assignments_status_idx ON assignments (status);
-- One assignment not yet completed per learner and scenario.
CREATE UNIQUE INDEX unique_active_assignment ON assignments (counselor_id, scenario_id)
    WHERE status <> 'completed';
-- One session per assignment: its retries are counted in current_attempt.
CREATE UNIQUE INDEX sessions_assignment_id_key ON sessions (assignment_id);
CREATE INDEX sessions_assignment_id_idx ON sessions (assignment_id);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_scenario_id_idx ON sessions (scenario_id);
CREATE INDEX transcript_turns_session_id_idx ON transcript_turns (session_id);
CREATE INDEX transcript_turns_session_id_attempt_number_idx
    ON transcript_turns (session_id, attempt_number);
CREATE UNIQUE INDEX evaluations_assignment_id_key ON evaluations (assignment_id);
CREATE UNIQUE INDEX evaluations_session_id_key ON evaluations (session_id);
CREATE UNIQUE INDEX recordings_session_id_key ON recordings (session_id);
CREATE INDEX session_flags_session_id_idx ON session_flags (session_id);
CREATE INDEX session_flags_status_severity_idx ON session_flags (status, severity);
CREATE INDEX session_flags_session_id_source_idx ON session_flags (session_id, source);
CREATE UNIQUE INDEX document_reviews_session_id_key ON document_reviews (session_id);

ALTER TABLE scenarios
    ADD CONSTRAINT scenarios_account_id_fkey FOREIGN KEY (account_id)
        REFERENCES accounts (id) ON DELETE RESTRICT ON UPDATE CASCADE,
    ADD CONSTRAINT scenarios_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES users (id) ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE assignments
    ADD CONSTRAINT assignments_account_id_fkey FOREIGN KEY (account_id)
        REFERENCES accounts (id) ON DELETE SET NULL ON UPDATE CASCADE,
    ADD CONSTRAINT assignments_scenario_id_fkey FOREIGN KEY (scenario_id)
        REFERENCES scenarios (id) ON DELETE RESTRICT ON UPDATE CASCADE,
    ADD CONSTRAINT assignments_counselor_id_fkey FOREIGN KEY (counselor_id)
        REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE,
    ADD CONSTRAINT assignments_assigned_by_fkey FOREIGN KEY (assigned_by)
        REFERENCES users (id) ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE sessions
    ADD CONSTRAINT sessions_assignment_id_fkey FOREIGN KEY (assignment_id)
        REFERENCES assignments (id) ON DELETE SET NULL ON UPDATE CASCADE,
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE SET NULL ON UPDATE CASCADE,
    ADD CONSTRAINT sessions_scenario_id_fkey FOREIGN KEY (scenario_id)
        REFERENCES scenarios (id) ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE transcript_turns
    ADD CONSTRAINT transcript_turns_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE evaluations
    ADD CONSTRAINT evaluations_assignment_id_fkey FOREIGN KEY (assignment_id)
        REFERENCES assignments (id) ON DELETE RESTRICT ON UPDATE CASCADE,
    ADD CONSTRAINT evaluations_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE recordings
    ADD CONSTRAINT recordings_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE session_flags
    ADD CONSTRAINT session_flags_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE document_reviews
    ADD CONSTRAINT document_reviews_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES sessions (id) ON DELETE CASCADE ON UPDATE CASCADE;
