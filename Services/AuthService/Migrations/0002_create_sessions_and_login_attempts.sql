-- Case-insensitive usernames, decided in Swift (NFKC, then full Unicode lowercasing: Validators.usernameKey) rather
-- than by lower(), whose behaviour on non-ASCII letters depends on the database's locale.
ALTER TABLE users ADD COLUMN username_key text;
UPDATE users SET username_key = lower(username);
ALTER TABLE users ALTER COLUMN username_key SET NOT NULL;
CREATE UNIQUE INDEX users_username_key_key ON users (username_key);
DROP INDEX users_username_lower_key;

-- Refresh sessions. Every login starts a family; each refresh token (an opaque 256-bit random
-- string, stored only as its SHA-256) belongs to one family. Rotation marks the presented token
-- `rotated_at` and adds a child. Revoking a family (logout, or reuse after the grace window) revokes
-- every token in it at once; exchanges lock the family row, so a revocation never misses a child.
CREATE TABLE refresh_families (
    id uuid PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'reuse', 'inactive'))
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id);

CREATE TABLE refresh_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash bytea NOT NULL,
    family_id uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    parent_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz
);
CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id, expires_at);

-- Password checks per email (lowercased), for the brute-force limit. A row is written before the
-- password is checked and deleted by a successful login, so the limit holds across replicas.
CREATE TABLE login_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email_time_idx ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_time_idx ON login_attempts (attempted_at);
