-- Video records: one per presigned upload, owned by a user of auth-service (by id, no foreign key across schemas).
-- declared_size_bytes is what the client announced (signed into the upload URL as Content-Length);
-- size_bytes is what S3 reports once the object exists.
CREATE TABLE videos (
    file_key text PRIMARY KEY,
    owner_id bigint NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    declared_size_bytes bigint CHECK (declared_size_bytes >= 0),
    size_bytes bigint CHECK (size_bytes >= 0),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'uploaded')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    uploaded_at timestamptz,
    CHECK ((status = 'uploaded') = (uploaded_at IS NOT NULL AND size_bytes IS NOT NULL))
);
CREATE INDEX videos_owner_created_idx ON videos (owner_id, created_at DESC, file_key DESC);
