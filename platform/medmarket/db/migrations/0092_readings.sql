-- Remote reading (远程影像 / 心电 / 病理): a county or township doctor sends a study (a CT, an
-- ECG, a pathology slide) to a partner hospital's reading centre, whose readers claim it,
-- write a structured report and sign it, without a call.

-- A partner hospital's specialty centre, with its turnaround targets per urgency.
CREATE TABLE reading_centres (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    hospital_id               uuid NOT NULL REFERENCES hospitals (id),
    kind                      text NOT NULL CHECK (kind IN ('imaging', 'ecg', 'pathology')),
    name                      text NOT NULL CHECK (length(name) BETWEEN 2 AND 100),
    target_routine_minutes    integer NOT NULL CHECK (target_routine_minutes BETWEEN 1 AND 20160),
    target_urgent_minutes     integer NOT NULL CHECK (target_urgent_minutes >= 1),
    target_emergency_minutes  integer NOT NULL CHECK (target_emergency_minutes >= 1),
    created_by                uuid NOT NULL REFERENCES users (id),
    created_at                timestamptz NOT NULL DEFAULT now(),
    UNIQUE (hospital_id, name),
    -- The more urgent, the sooner.
    CHECK (target_emergency_minutes <= target_urgent_minutes
           AND target_urgent_minutes <= target_routine_minutes)
);

-- Who reads for a centre: approved doctors of its hospital, added by its admins.
CREATE TABLE reading_centre_readers (
    centre_id  uuid NOT NULL REFERENCES reading_centres (id),
    doctor_id  uuid NOT NULL REFERENCES doctors (id),
    added_by   uuid NOT NULL REFERENCES users (id),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (centre_id, doctor_id)
);
CREATE INDEX reading_centre_readers_by_doctor ON reading_centre_readers (doctor_id);

CREATE TABLE reading_requests (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    centre_id          uuid NOT NULL REFERENCES reading_centres (id),
    requester_id       uuid NOT NULL REFERENCES doctors (id),
    -- The visit whose patient it is: one of the requester's own.
    booking_id         uuid NOT NULL REFERENCES bookings (id),
    patient_id         uuid NOT NULL REFERENCES patients (id),
    kind               text NOT NULL CHECK (kind IN ('imaging', 'ecg', 'pathology')),
    urgency            text NOT NULL CHECK (urgency IN ('routine', 'urgent', 'emergency')),
    question           text NOT NULL CHECK (length(question) BETWEEN 2 AND 2000),
    -- The patient agreed to share the study with the centre: recorded by the requester.
    consent_recorded_at timestamptz NOT NULL,
    status             text NOT NULL DEFAULT 'received' CHECK (status IN (
                           'received', 'claimed', 'reported', 'cancelled')),
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    received_at        timestamptz NOT NULL DEFAULT now(),
    -- received_at + the centre's target for the urgency, fixed when it arrives.
    due_at             timestamptz NOT NULL,
    reported_at        timestamptz,
    cancel_reason      text CHECK (length(cancel_reason) <= 500),
    CHECK (due_at > received_at),
    CHECK ((status = 'reported') = (reported_at IS NOT NULL))
);
CREATE INDEX reading_requests_queue ON reading_requests (centre_id, due_at)
    WHERE status IN ('received', 'claimed');
CREATE INDEX reading_requests_by_requester ON reading_requests (requester_id, received_at DESC);
CREATE INDEX reading_requests_reported ON reading_requests (centre_id, reported_at)
    WHERE status = 'reported';

CREATE FUNCTION reading_requests_move_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.centre_id, NEW.requester_id, NEW.booking_id, NEW.patient_id, NEW.kind, NEW.urgency,
        NEW.question, NEW.consent_recorded_at, NEW.received_at, NEW.due_at)
       IS DISTINCT FROM
       (OLD.centre_id, OLD.requester_id, OLD.booking_id, OLD.patient_id, OLD.kind, OLD.urgency,
        OLD.question, OLD.consent_recorded_at, OLD.received_at, OLD.due_at)
    THEN
        RAISE EXCEPTION 'a reading request keeps what was sent'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reading_requests_frozen';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('received', 'claimed'), ('received', 'cancelled'),
        ('claimed', 'received'), ('claimed', 'reported'), ('claimed', 'cancelled')
    ) THEN
        RAISE EXCEPTION 'a reading request cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reading_requests_status_transition';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reading_requests_state_machine BEFORE UPDATE ON reading_requests
    FOR EACH ROW EXECUTE FUNCTION reading_requests_move_forward();

-- A reader's claim. One claim is held at a time: when two readers claim at once, the unique
-- index decides who has it; a released claim stays on record.
CREATE TABLE reading_claims (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  uuid NOT NULL REFERENCES reading_requests (id),
    reader_id   uuid NOT NULL REFERENCES doctors (id),
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz,
    CHECK (released_at IS NULL OR released_at >= claimed_at)
);
CREATE UNIQUE INDEX reading_claims_one_held ON reading_claims (request_id)
    WHERE released_at IS NULL;

-- The study's files, as stored (a DICOM file without the patient's identifying tags) with
-- what the platform read from them.
CREATE TABLE reading_files (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id    uuid NOT NULL REFERENCES reading_requests (id),
    -- The order the requester sent them in.
    position      integer NOT NULL CHECK (position >= 0),
    original_name text NOT NULL CHECK (length(original_name) <= 255),
    content_type  text NOT NULL CHECK (content_type IN (
                      'application/dicom', 'application/pdf', 'image/jpeg', 'image/png')),
    size_bytes    integer NOT NULL CHECK (size_bytes > 0),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    modality      text CHECK (length(modality) <= 16),
    study_date    date,
    body_part     text CHECK (length(body_part) <= 64),
    pixel_rows    integer CHECK (pixel_rows > 0),
    pixel_columns integer CHECK (pixel_columns > 0),
    frames        integer CHECK (frames > 0),
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (request_id, position)
);

-- The signed report: what the reader wrote, and the SHA-256 of its canonical form with the
-- reader and the time, so that a changed word shows.
CREATE TABLE reading_reports (
    request_id     uuid PRIMARY KEY REFERENCES reading_requests (id),
    reader_id      uuid NOT NULL REFERENCES doctors (id),
    findings       text NOT NULL CHECK (length(findings) BETWEEN 2 AND 8000),
    impression     text NOT NULL CHECK (length(impression) BETWEEN 2 AND 4000),
    critical       boolean NOT NULL,
    critical_note  text CHECK (length(critical_note) BETWEEN 2 AND 1000),
    signed_at      timestamptz NOT NULL,
    content_sha256 bytea NOT NULL CHECK (length(content_sha256) = 32),
    CHECK (NOT critical OR critical_note IS NOT NULL)
);

-- The request's timeline: each status it took, who moved it, when.
CREATE TABLE reading_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  uuid NOT NULL REFERENCES reading_requests (id),
    status      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid REFERENCES users (id),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000)
);
CREATE INDEX reading_events_by_request ON reading_events (request_id, id);

CREATE FUNCTION reading_records_are_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reading records are kept'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'reading_records_kept';
END
$$;
CREATE TRIGGER reading_requests_no_delete BEFORE DELETE ON reading_requests
    FOR EACH ROW EXECUTE FUNCTION reading_records_are_never_deleted();
CREATE TRIGGER reading_reports_no_delete BEFORE DELETE ON reading_reports
    FOR EACH ROW EXECUTE FUNCTION reading_records_are_never_deleted();
CREATE TRIGGER reading_events_no_delete BEFORE DELETE ON reading_events
    FOR EACH ROW EXECUTE FUNCTION reading_records_are_never_deleted();
-- A signed report is not rewritten.
CREATE TRIGGER reading_reports_no_update BEFORE UPDATE ON reading_reports
    FOR EACH ROW EXECUTE FUNCTION reading_records_are_never_deleted();
REVOKE DELETE, TRUNCATE ON reading_requests, reading_claims, reading_files, reading_reports,
    reading_events FROM medmarket_app;
