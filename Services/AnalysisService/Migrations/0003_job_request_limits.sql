-- Security review L12: a fingerprint (SHA-256, hex) of the request an Idempotency-Key was first used
-- with, so the same key with another body is refused (422 idempotency_key_reused) instead of silently
-- answering with the old job. NULL for jobs made before this migration (and without a key).
ALTER TABLE jobs ADD COLUMN idempotency_fingerprint text;
-- Security review L11: the per-user limit counts a user's jobs in processing.
CREATE INDEX jobs_user_processing_idx ON jobs (user_id) WHERE status = 'processing';
