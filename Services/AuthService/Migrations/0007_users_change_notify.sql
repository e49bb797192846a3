-- Every change of an account row is announced on the channel `auth_user_changed` with the user's id
-- (issue 13): each replica's `/api/auth/me` cache (ChangeFeedCache) drops the user on the
-- notification, so a deactivation, a profile change or a deletion is seen on every replica within
-- milliseconds of the commit. A trigger rather than a call in each repository, so that every write
-- path, including one made by hand in psql, is announced. Notifications are delivered at commit and
-- never for a rolled-back change.
CREATE FUNCTION notify_user_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('auth_user_changed', OLD.id::text);
    ELSE
        PERFORM pg_notify('auth_user_changed', NEW.id::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_changed_notify
    AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_user_changed();
