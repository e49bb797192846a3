-- Security review M4: the brute-force limit counts per (email, client address), so that failures sent
-- from an attacker's address cannot lock the account's owner out. Rows written before this migration
-- (and by a release that does not know the column) get the empty client.
ALTER TABLE login_attempts ADD COLUMN client text NOT NULL DEFAULT '';
CREATE INDEX login_attempts_email_client_time_idx ON login_attempts (email, client, attempted_at);
-- The new index serves lookups by email alone (account deletion) as well.
DROP INDEX login_attempts_email_time_idx;
