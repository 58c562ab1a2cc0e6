-- Foundation: the application role, accounts, sessions, invitations, audit and outbox.

-- The role the application works as (the pool sets it at connect). Roles are cluster-wide,
-- so several databases in one cluster share it; creating it twice is not an error.
DO $$
BEGIN
    CREATE ROLE medmarket_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT medmarket_app TO %I', current_user);
EXCEPTION WHEN OTHERS THEN
    -- already a member, or granted concurrently by another database's migration
    NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO medmarket_app;
GRANT SELECT ON schema_migrations TO medmarket_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO medmarket_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO medmarket_app;

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    password_hash text NOT NULL,
    role          text NOT NULL
                  CHECK (role IN ('patient', 'doctor', 'pharmacist', 'hospital_admin', 'operator')),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    locale        text NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en')),
    time_zone     text NOT NULL DEFAULT 'Asia/Shanghai',
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

-- Only a hash of each session token is stored: a leaked table does not leak sessions.
CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('browser', 'api')),
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    ip          inet,
    user_agent  text,
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Staff roles (pharmacist, hospital admin, operator) join by invitation only.
CREATE TABLE invitations (
    token_hash       bytea PRIMARY KEY,
    email            text NOT NULL CHECK (email = lower(email)),
    role             text NOT NULL CHECK (role IN ('pharmacist', 'hospital_admin', 'operator')),
    scope            jsonb NOT NULL DEFAULT '{}',
    invited_by       uuid REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz,
    accepted_user_id uuid REFERENCES users (id)
);

-- Who did what to which record, when, from where, and how it ended. Append-only: the
-- application role may only INSERT and SELECT, and a trigger refuses changes from anyone.
CREATE TABLE audit_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid,
    actor_role      text,
    action          text NOT NULL,
    subject_type    text NOT NULL,
    subject_id      text,
    consultation_id uuid,
    outcome         text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
    ip              inet,
    user_agent      text,
    request_id      text,
    detail          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_subject ON audit_events (subject_type, subject_id, id);
CREATE INDEX audit_by_actor ON audit_events (actor_id, id);
CREATE INDEX audit_by_consultation ON audit_events (consultation_id, id)
    WHERE consultation_id IS NOT NULL;

REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM medmarket_app;

CREATE FUNCTION audit_events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_are_append_only();

-- Messages committed with the change that caused them; the worker delivers them at least
-- once. ``dedupe_key`` lets a producer enqueue the same message twice safely.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         text NOT NULL,
    dedupe_key    text UNIQUE,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    available_at  timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error    text,
    delivered_at  timestamptz,
    abandoned_at  timestamptz
);
CREATE INDEX outbox_due ON outbox (available_at, id)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
