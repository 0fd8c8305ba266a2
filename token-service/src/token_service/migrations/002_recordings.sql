-- The Next.js application's assignments carry requireRecording; voice training honours it.
ALTER TABLE assignments ADD COLUMN require_recording boolean NOT NULL DEFAULT false;

-- One row per recorded attempt, created with the attempt ('pending') so the API can tell "still
-- being delivered" (409) from "not recorded" (404). The audio itself lives in the recording store
-- under storage_key; size_bytes and stored_at are set when it arrives.
CREATE TABLE recordings (
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
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
CREATE INDEX recordings_created_at_idx ON recordings (created_at);
