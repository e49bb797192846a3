-- Security review M3: within the grace window a rotated token gets the successor it already has, not a
-- new sibling (which forked the family into two chains that were never detected). The successor is kept
-- sealed (AES-GCM) under a key derived from the rotated token itself, so only whoever holds that token
-- can open it; the database alone reveals nothing usable.
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed bytea;
