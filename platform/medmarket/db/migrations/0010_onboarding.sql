-- Onboarding: partner hospitals' adapter configuration, doctors' applications with their
-- documents, credential checks and status history, and the daily re-verification's ledger.

ALTER TABLE hospitals
    ADD COLUMN updated_at            timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN adapter_configured_at timestamptz,
    ADD COLUMN adapter_configured_by uuid REFERENCES users (id);

ALTER TABLE doctors
    ADD COLUMN submitted_at        timestamptz,
    -- When an operator (or the checks) last approved or rejected the application.
    ADD COLUMN decided_at          timestamptz,
    -- Why the doctor is in their current state (rejection, suspension, ...): a stable code
    -- the pages translate, and the operator's own words when a person decided.
    ADD COLUMN status_reason_code  text,
    ADD COLUMN status_reason       text CHECK (length(status_reason) <= 1000),
    -- What the hospital last confirmed about the affiliation; NULL = open-ended.
    ADD COLUMN affiliation_ends_on date,
    -- The last time every check passed (application or daily re-verification).
    ADD COLUMN verified_at         timestamptz,
    -- The check run that owns a doctor in 'verifying'; a run whose id no longer matches
    -- (another process took over a stuck run) does not write its result.
    ADD COLUMN verification_run    uuid;

-- The application's state machine, enforced where every writer meets it. The service names
-- the same transitions (doctors/states.py); this is the last line of defence. It governs
-- changes only: a row may be inserted in any status (bulk seeding, benchmarks); the
-- service always creates applications as drafts.
CREATE FUNCTION doctors_status_transition_is_allowed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('draft', 'submitted'),
        ('submitted', 'verifying'),
        ('verifying', 'approved'),
        ('verifying', 'needs_review'),
        ('needs_review', 'verifying'),
        ('needs_review', 'approved'),
        ('needs_review', 'rejected'),
        ('approved', 'suspended'),
        ('suspended', 'approved'),
        ('rejected', 'draft')
    ) THEN
        RAISE EXCEPTION 'a doctor cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER doctors_status_transitions
    BEFORE UPDATE OF status ON doctors
    FOR EACH ROW EXECUTE FUNCTION doctors_status_transition_is_allowed();

-- Every transition, with who made it and why: what the doctor, their hospital's admins and
-- operators see as the application's history. Append-only, like the audit trail.
CREATE TABLE doctor_status_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doctor_id   uuid NOT NULL REFERENCES doctors (id),
    from_status text,
    to_status   text NOT NULL,
    reason_code text NOT NULL,
    reason      text CHECK (length(reason) <= 1000),
    params      jsonb NOT NULL DEFAULT '{}',
    actor_id    uuid REFERENCES users (id),
    actor_role  text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX doctor_status_changes_by_doctor ON doctor_status_changes (doctor_id, id);
REVOKE UPDATE, DELETE, TRUNCATE ON doctor_status_changes FROM medmarket_app;

-- Uploaded licence scans and ID documents. The bytes live on disk under the data directory
-- (never under a web root), named by these ids only; the type is what the content is.
CREATE TABLE doctor_documents (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id     uuid NOT NULL REFERENCES doctors (id),
    kind          text NOT NULL CHECK (kind IN (
                      'licence', 'identity', 'qualification', 'title_certificate', 'other')),
    content_type  text NOT NULL CHECK (content_type IN (
                      'application/pdf', 'image/jpeg', 'image/png')),
    size_bytes    integer NOT NULL CHECK (size_bytes > 0),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    original_name text NOT NULL DEFAULT '' CHECK (length(original_name) <= 255),
    uploaded_by   uuid NOT NULL REFERENCES users (id),
    uploaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX doctor_documents_by_doctor ON doctor_documents (doctor_id, uploaded_at);

-- Each credential check's result and the hospital's evidence, one row per check per run.
-- Kept for good: they justify why a doctor is (or is not) listed.
CREATE TABLE doctor_checks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doctor_id  uuid NOT NULL REFERENCES doctors (id),
    run_id     uuid NOT NULL,
    purpose    text NOT NULL CHECK (purpose IN (
                   'application', 'recheck', 'reverification', 'reinstatement')),
    kind       text NOT NULL CHECK (kind IN (
                   'licence_valid', 'licence_unexpired', 'affiliation', 'practice_years',
                   'title')),
    outcome    text NOT NULL CHECK (outcome IN ('passed', 'failed', 'inconclusive')),
    code       text NOT NULL,
    params     jsonb NOT NULL DEFAULT '{}',
    evidence   jsonb NOT NULL DEFAULT '{}',
    checked_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, kind)
);
CREATE INDEX doctor_checks_by_doctor ON doctor_checks (doctor_id, id);
REVOKE UPDATE, DELETE, TRUNCATE ON doctor_checks FROM medmarket_app;

-- Jobs that must run once per day however many workers run: the first to insert the day's
-- row runs it; a run that started long ago and never finished may be taken over.
CREATE TABLE scheduled_job_runs (
    job         text NOT NULL,
    run_on      date NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    summary     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (job, run_on)
);

-- Who may manage a hospital, and who may see a doctor's application: operators everything,
-- a hospital's admins their hospital and its doctors, a doctor their own application. One
-- definition, used by every query that answers "not found" to everyone else.
CREATE FUNCTION may_manage_hospital(viewer_role text, viewer_id uuid, hospital uuid)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT viewer_role = 'operator'
        OR (viewer_role = 'hospital_admin' AND EXISTS (
               SELECT 1 FROM hospital_admins ha
                WHERE ha.hospital_id = hospital AND ha.user_id = viewer_id))
$$;

CREATE FUNCTION may_see_doctor(
    viewer_role text, viewer_id uuid, doctor_user uuid, doctor_hospital uuid
) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT (viewer_role = 'doctor' AND doctor_user = viewer_id)
        OR may_manage_hospital(viewer_role, viewer_id, doctor_hospital)
$$;

-- The doctors patients may see and book: approved, at an active partner hospital. Other
-- domains (storefront, booking) may join this instead of repeating the rule.
CREATE VIEW bookable_doctors AS
    SELECT d.id, d.user_id, d.hospital_id
      FROM doctors d
      JOIN hospitals h ON h.id = d.hospital_id
     WHERE d.status = 'approved' AND h.status = 'active';
