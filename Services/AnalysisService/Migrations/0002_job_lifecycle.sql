-- Users' own data (cancel, retry, pages): whether a failure may be retried, the language the job
-- asked for (so a retry asks for it again), and the index of the newest-first keyset pages.
ALTER TABLE jobs ADD COLUMN retryable boolean;
ALTER TABLE jobs ADD COLUMN language text;
CREATE INDEX jobs_user_page_idx ON jobs (user_id, created_at DESC, id DESC);
DROP INDEX jobs_user_created_idx;
CREATE INDEX jobs_user_video_idx ON jobs (user_id, video_file_key);
