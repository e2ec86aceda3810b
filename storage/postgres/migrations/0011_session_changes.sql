-- Tsubasa schema: the end of a browser session, and any change of its
-- member, device or lifetime, is announced to every process, so that each
-- may keep the sessions it reads for SSO answers in memory (newSessionCache,
-- cache.go) and drop one as soon as any replica ends it.
--
-- A trigger, not the writes in Go: a session row ends in many places (a
-- logout, sign-out-everywhere, a credential change, an erasure, the
-- janitor, an import, an operator's SQL), and every one of them must be
-- heard. The notification goes out when the transaction commits, or
-- never, as the other notifications of tsubasa_changes do (feed.go):
-- "s<id>" for one session, "S" for all (an id too long for a payload, a
-- TRUNCATE).
--
-- Updates that change only the record's JSON (the login UI's flow state,
-- the relying parties given codes, the last use, a step-up's stronger
-- method) announce nothing: a login saves its session several times, and
-- PostgreSQL serialises the commits of notifying transactions. What the
-- cache serves may lack such an update for at most the revocation delay,
-- and the one reader of it (the SSO answer) only becomes more cautious
-- with an older copy (see storage.CachedSessions).
--
-- The janitor's deletion of a session that expired more than a minute
-- ago announces nothing either: every process already judges it expired
-- by its ExpiresAt, cached or not, and the janitor would otherwise send
-- one notification per expired session.
CREATE FUNCTION tsubasa_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('tsubasa_changes', 'S');
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.expires_at < now() - interval '1 minute' THEN
        RETURN NULL;
    END IF;
    IF octet_length(OLD.id) > 3500 THEN
        PERFORM pg_notify('tsubasa_changes', 'S');
    ELSE
        PERFORM pg_notify('tsubasa_changes', 's' || OLD.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION tsubasa_session_changed();
CREATE TRIGGER sessions_changed AFTER UPDATE ON sessions
    FOR EACH ROW WHEN (OLD.member_id IS DISTINCT FROM NEW.member_id OR OLD.device_id IS DISTINCT FROM NEW.device_id
        OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.expires_ns IS DISTINCT FROM NEW.expires_ns)
    EXECUTE FUNCTION tsubasa_session_changed();
CREATE TRIGGER sessions_truncated AFTER TRUNCATE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION tsubasa_session_changed();
