-- An absolute lifetime for a login's refresh family (security review M3's follow-up): rotation renews each
-- token's expiry, but never beyond the family's `expires_at`, set once when the family starts
-- (REFRESH_FAMILY_MAX_AGE_SECONDS). Existing families get the default 90 days from their creation. The
-- column default keeps a release that does not know the column (expand/contract) able to start families.
ALTER TABLE refresh_families ADD COLUMN expires_at timestamptz NOT NULL DEFAULT (now() + interval '90 days');
UPDATE refresh_families SET expires_at = created_at + interval '90 days';
