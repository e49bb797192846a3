-- Issue 13: the bytes each user's videos count against MAX_USER_STORAGE_BYTES, kept in one row per
-- user instead of summed over the user's videos on every generate-url (which held a per-user lock
-- across three round trips). reserved_bytes = the sum over the user's videos of
-- coalesce(size_bytes, declared_size_bytes, 0), kept in step by the statements that insert
-- (generate-url reserves and inserts in one statement), complete and delete video rows
-- (PostgresVideoRepository). No row means nothing reserved.
CREATE TABLE storage_usage (
    owner_id bigint PRIMARY KEY,
    reserved_bytes bigint NOT NULL CHECK (reserved_bytes >= 0)
);
-- No video row may change while the sums are taken (a replica of the previous build still serving).
LOCK TABLE videos IN SHARE MODE;
INSERT INTO storage_usage (owner_id, reserved_bytes)
SELECT owner_id, sum(coalesce(size_bytes, declared_size_bytes, 0))
FROM videos
GROUP BY owner_id;
