-- Users' own data (issue 16): sign out everywhere, change password, delete the account.
-- A family now remembers how its login was proven, so that deleting a Google-only account can ask
-- for a fresh Google sign-in (the family's created_at is the moment of that login); and the new
-- ways a family ends are allowed reasons. Rows from before default to a password login.
ALTER TABLE refresh_families ADD COLUMN authenticated_with text NOT NULL DEFAULT 'password'
    CHECK (authenticated_with IN ('password', 'google'));
ALTER TABLE refresh_families DROP CONSTRAINT refresh_families_revoked_reason_check;
ALTER TABLE refresh_families ADD CONSTRAINT refresh_families_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'reuse', 'inactive', 'logout_all', 'password_change'));
