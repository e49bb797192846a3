-- Security review M5: the ETag of the object `complete` accepted, so that an object overwritten
-- afterwards through the still-valid PUT URL is detected (NULL for rows completed before this).
ALTER TABLE videos ADD COLUMN etag text;
