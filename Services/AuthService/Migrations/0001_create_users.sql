-- Accounts. Email is stored lowercased; usernames are unique case-insensitively.
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username text NOT NULL,
    email text NOT NULL,
    password_hash text,
    auth_provider text NOT NULL DEFAULT 'local' CHECK (auth_provider IN ('local', 'google')),
    google_sub text UNIQUE,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
