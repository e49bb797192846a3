-- Video records: one per presigned upload, owned by a user of auth-service (by id, no foreign key across schemas).
CREATE TABLE videos (
    file_key text PRIMARY KEY,
    owner_id bigint NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'uploaded')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX videos_owner_created_idx ON videos (owner_id, created_at DESC);
