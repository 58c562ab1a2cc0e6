-- Network QoS sessions that video providers (a 5G carrier) opened for a participant's device.
-- They cost money and must be closed when the call ends, so they are a record: the sweeper
-- extends the ones whose call runs long and closes the ones whose participant left.
-- consultation_id gets its foreign key when the consultations table lands.

CREATE TABLE video_qos_sessions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consultation_id    uuid NOT NULL,
    participant_id     text NOT NULL CHECK (participant_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    provider_id        text NOT NULL,
    session_id         text NOT NULL,
    profile            text NOT NULL,
    opened_at          timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz,
    -- The booked slot's end: QoS is never kept (or extended) much beyond it.
    slot_ends_at       timestamptz NOT NULL,
    next_check_at      timestamptz NOT NULL DEFAULT now(),
    -- Set when the participant was first seen gone; closed if still gone at the next check.
    absent_since       timestamptz,
    close_requested_at timestamptz,
    closed_at          timestamptz,
    close_reason       text CHECK (close_reason IN (
                           'teardown', 'participant-left', 'slot-over', 'expired', 'provider-gone')),
    failed_attempts    integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    UNIQUE (provider_id, session_id),
    CHECK ((closed_at IS NULL) = (close_reason IS NULL))
);

-- One open QoS session per participant of a consultation: a page reload reuses it.
CREATE UNIQUE INDEX video_qos_sessions_one_open
    ON video_qos_sessions (consultation_id, participant_id) WHERE closed_at IS NULL;
CREATE INDEX video_qos_sessions_due
    ON video_qos_sessions (next_check_at) WHERE closed_at IS NULL;
