-- Analysis jobs and their state machine: processing → completed | failed.
CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    user_id bigint NOT NULL,
    video_file_key text NOT NULL,
    analysis_type text NOT NULL CHECK (analysis_type IN ('emotion_analysis', 'caption_generation', 'full_analysis')),
    status text NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'completed', 'failed')),
    progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    result jsonb,
    error jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_user_created_idx ON jobs (user_id, created_at DESC);
