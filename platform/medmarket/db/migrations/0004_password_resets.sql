-- Password resets: a link sent through the notification channels, which works once, for a
-- short while. Only a hash of each token is stored, like sessions' tokens.

-- When the password last changed: sessions, known addresses and known-device cookies from
-- before it no longer count (accounts/devices.py, accounts/throttle.py).
ALTER TABLE users ADD COLUMN password_changed_at timestamptz;

CREATE TABLE password_resets (
    token_hash    bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    requested_ip  inet,
    -- Ended when used, or when another of the account's links changed the password first.
    ended_at      timestamptz,
    ended_because text CHECK (ended_because IN ('used', 'password_changed')),
    CHECK (expires_at > created_at),
    CHECK ((ended_at IS NULL) = (ended_because IS NULL)),
    CHECK (ended_at IS NULL OR ended_at >= created_at)
);
CREATE INDEX password_resets_open_by_user ON password_resets (user_id) WHERE ended_at IS NULL;

REVOKE DELETE, TRUNCATE ON password_resets FROM medmarket_app;

-- A link that has ended never works again, whatever a statement tries.
CREATE FUNCTION password_resets_stay_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.ended_at IS NOT NULL THEN
        RAISE EXCEPTION 'a password reset that has ended cannot change'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER password_resets_ended_is_final
    BEFORE UPDATE ON password_resets
    FOR EACH ROW EXECUTE FUNCTION password_resets_stay_ended();
