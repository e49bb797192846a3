-- Analysis jobs and their state machine: processing → completed | failed.
-- user_id is auth-service's user id as carried in the token's `sub` (no foreign key across schemas).
CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    user_id text NOT NULL,
    video_file_key text NOT NULL,
    analysis_type text NOT NULL CHECK (analysis_type IN ('emotion_analysis', 'caption_generation', 'full_analysis')),
    status text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'completed', 'failed')),
    progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    stage text,
    worker_id text,
    result jsonb,
    error jsonb,
    idempotency_key text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- The last sign of life from a worker (or the request itself): the timeout sweeper reads it.
    last_event_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_user_created_idx ON jobs (user_id, created_at DESC);
CREATE UNIQUE INDEX jobs_user_idempotency_key ON jobs (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_processing_idx ON jobs (last_event_at) WHERE status = 'processing';
