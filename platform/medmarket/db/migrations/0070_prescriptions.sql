-- E-prescriptions: what a consultation's doctor prescribes for its patient, checked by the
-- safety rules and issued; a pharmacist reviews an issued prescription before anything is
-- dispensed. A prescription's content never changes once written: a correction is a new
-- version that voids the old one. Only its status (and, when voided, who voided it, when
-- and why) may change, along the state machine below.
--
--   issued ──pharmacist──▶ approved ──dispensed──▶ dispensed
--     │    └─pharmacist──▶ rejected
--     └──── issued, approved or rejected ──doctor voids (or corrects)──▶ voided
--
-- ``document`` holds the exact bytes the doctor's signature will cover (the canonical
-- document, prescriptions/document.py). The signature and its key are added by the
-- migration that brings doctors' signing keys.

CREATE TABLE prescriptions (
    id                uuid PRIMARY KEY,
    consultation_id   uuid NOT NULL REFERENCES consultations (id),
    doctor_id         uuid NOT NULL REFERENCES doctors (id),
    patient_id        uuid NOT NULL REFERENCES patients (id),
    -- Versions: the first version's id names the line; each correction supersedes the one
    -- before it (once: one successor each) and counts one higher.
    lineage_id        uuid NOT NULL,
    version           integer NOT NULL CHECK (version BETWEEN 1 AND 100),
    supersedes        uuid UNIQUE,
    diagnosis         text NOT NULL
                      CHECK (length(diagnosis) BETWEEN 1 AND 500 AND diagnosis = btrim(diagnosis)),
    -- The doctor states this is follow-up of a chronic disease on the patient's record.
    chronic_follow_up boolean NOT NULL,
    written_at        timestamptz NOT NULL DEFAULT now(),
    -- Valid on the platform's days valid_from .. valid_until: the day written, extended to
    -- at most three days when the doctor says so. expires_at is the end of valid_until on
    -- the platform's calendar (the first instant it no longer holds).
    valid_from        date NOT NULL,
    valid_until       date NOT NULL,
    expires_at        timestamptz NOT NULL,
    status            text NOT NULL DEFAULT 'issued' CHECK (status IN (
                          'issued', 'approved', 'rejected', 'dispensed', 'voided')),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    voided_at         timestamptz,
    voided_by         uuid REFERENCES users (id),
    void_reason       text CHECK (length(void_reason) BETWEEN 1 AND 500),
    document          bytea NOT NULL CHECK (length(document) BETWEEN 2 AND 200000),
    document_sha256   bytea GENERATED ALWAYS AS (sha256(document)) STORED,
    CONSTRAINT prescriptions_validity_days CHECK (valid_until - valid_from BETWEEN 0 AND 2),
    CONSTRAINT prescriptions_expires_after_writing CHECK (expires_at > written_at),
    CONSTRAINT prescriptions_first_version
        CHECK ((version = 1) = (supersedes IS NULL) AND (version > 1 OR lineage_id = id)),
    CONSTRAINT prescriptions_voided_with_reason CHECK (
        (status = 'voided') = (voided_at IS NOT NULL)
        AND (voided_at IS NULL) = (voided_by IS NULL)
        AND (voided_at IS NULL) = (void_reason IS NULL)),
    UNIQUE (lineage_id, version),
    -- A new version stays in its line, its consultation and with its patient.
    UNIQUE (id, lineage_id, consultation_id, patient_id),
    FOREIGN KEY (supersedes, lineage_id, consultation_id, patient_id)
        REFERENCES prescriptions (id, lineage_id, consultation_id, patient_id)
);
CREATE INDEX prescriptions_by_consultation ON prescriptions (consultation_id, written_at);
CREATE INDEX prescriptions_by_patient ON prescriptions (patient_id, written_at DESC);
-- The pharmacist's queue (the review desk reads it).
CREATE INDEX prescriptions_to_review ON prescriptions (written_at) WHERE status = 'issued';

-- Only the consultation's approved doctor prescribes, for the consultation's patient, while
-- the visit is in progress or after it was completed (how long after is the service's
-- setting); a new version supersedes the one before it in its line, which must still stand.
CREATE FUNCTION prescriptions_are_written_in_their_visit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    previous record;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM consultations c
          JOIN bookings b ON b.id = c.booking_id
          JOIN doctors d ON d.id = b.doctor_id
         WHERE c.id = NEW.consultation_id AND b.doctor_id = NEW.doctor_id
           AND b.patient_id = NEW.patient_id AND d.status = 'approved'
           AND c.status IN ('in_progress', 'completed')
    ) THEN
        RAISE EXCEPTION 'only the consultation''s approved doctor prescribes, for its patient, '
                        'during or after the visit'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescriptions_own_visit';
    END IF;
    IF NEW.supersedes IS NOT NULL THEN
        SELECT version, status INTO previous FROM prescriptions WHERE id = NEW.supersedes;
        IF previous.version <> NEW.version - 1
           OR previous.status NOT IN ('issued', 'approved', 'rejected') THEN
            RAISE EXCEPTION 'version % must follow a standing version %', NEW.version,
                            NEW.version - 1
                USING ERRCODE = 'check_violation', CONSTRAINT = 'prescriptions_next_version';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER prescriptions_written_in_their_visit
    BEFORE INSERT ON prescriptions
    FOR EACH ROW EXECUTE FUNCTION prescriptions_are_written_in_their_visit();

-- The state machine, enforced where every writer meets it; prescriptions/states.py names
-- the same transitions (a test compares them). What was written never changes: any other
-- column is refused, whoever updates. Nothing expired is approved or dispensed.
CREATE FUNCTION prescriptions_change_only_their_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changeable CONSTANT text[] := ARRAY[
        'status', 'status_changed_at', 'voided_at', 'voided_by', 'void_reason',
        'document_sha256'];
BEGIN
    IF to_jsonb(NEW) - changeable IS DISTINCT FROM to_jsonb(OLD) - changeable THEN
        RAISE EXCEPTION 'a prescription''s content never changes: write a new version'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescriptions_content_frozen';
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        IF (NEW.status_changed_at, NEW.voided_at, NEW.voided_by, NEW.void_reason)
           IS DISTINCT FROM (OLD.status_changed_at, OLD.voided_at, OLD.voided_by,
                             OLD.void_reason) THEN
            RAISE EXCEPTION 'a prescription''s status history never changes'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'prescriptions_content_frozen';
        END IF;
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) NOT IN (
        ('issued', 'approved'),
        ('issued', 'rejected'),
        ('approved', 'dispensed'),
        ('issued', 'voided'),
        ('approved', 'voided'),
        ('rejected', 'voided')
    ) THEN
        RAISE EXCEPTION 'a prescription cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescriptions_status_transition';
    END IF;
    IF NEW.status IN ('approved', 'dispensed') AND now() >= NEW.expires_at THEN
        RAISE EXCEPTION 'the prescription expired at %: it cannot be %', NEW.expires_at,
                        NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescriptions_expired';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER prescriptions_status_only
    BEFORE UPDATE ON prescriptions
    FOR EACH ROW EXECUTE FUNCTION prescriptions_change_only_their_status();

-- What is prescribed: a drug of the catalog (a retired one keeps its row), how much of it,
-- how, how often, for how long, and how much is handed over. The values are the ones
-- prescriptions/model.py and the drug catalog name.
CREATE TABLE prescription_items (
    prescription_id uuid NOT NULL REFERENCES prescriptions (id),
    -- The item's index in the prescription, as the safety rules' findings name it.
    position        integer NOT NULL CHECK (position BETWEEN 0 AND 19),
    drug_id         uuid NOT NULL REFERENCES drugs (id),
    dose            numeric(12, 4) NOT NULL CHECK (dose > 0),
    dose_unit       text NOT NULL CHECK (dose_unit IN (
                        'mg', 'g', 'μg', 'IU', 'U', 'mL', 'tablet', 'capsule', 'sachet', 'puff',
                        'drop', 'suppository', 'patch', 'application')),
    route           text NOT NULL CHECK (route IN (
                        'oral', 'sublingual', 'inhalation', 'nasal', 'ophthalmic', 'otic',
                        'cutaneous', 'transdermal', 'rectal', 'vaginal', 'intravenous',
                        'intramuscular', 'subcutaneous', 'parenteral', 'local_injection')),
    frequency       text NOT NULL CHECK (frequency IN (
                        'qd', 'bid', 'tid', 'qid', 'q6h', 'q8h', 'q12h', 'qn', 'qod', 'qw',
                        'prn', 'once')),
    duration_days   integer NOT NULL CHECK (duration_days BETWEEN 1 AND 366),
    quantity        numeric(12, 4) NOT NULL CHECK (quantity > 0),
    quantity_unit   text NOT NULL CHECK (quantity_unit IN (
                        'tablet', 'capsule', 'sachet', 'vial', 'ampoule', 'bottle', 'tube',
                        'box', 'inhaler', 'patch', 'suppository', 'mL', 'g')),
    instructions    text NOT NULL DEFAULT '' CHECK (length(instructions) <= 500),
    PRIMARY KEY (prescription_id, position)
);
CREATE INDEX prescription_items_by_drug ON prescription_items (drug_id);

-- What the safety rules said of the prescription when it was written, with the doctor's
-- reason for going ahead despite each warning. Errors are never here: they block.
CREATE TABLE prescription_findings (
    prescription_id uuid NOT NULL REFERENCES prescriptions (id),
    position        integer NOT NULL CHECK (position BETWEEN 0 AND 199),
    rule            text NOT NULL CHECK (rule ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
    severity        text NOT NULL CHECK (severity IN ('warning', 'info')),
    message_zh      text NOT NULL CHECK (length(message_zh) BETWEEN 1 AND 1000),
    message_en      text NOT NULL CHECK (length(message_en) BETWEEN 1 AND 1000),
    item            integer,
    field           text CHECK (length(field) BETWEEN 1 AND 200),
    reason          text CHECK (length(reason) BETWEEN 1 AND 500 AND reason = btrim(reason)),
    PRIMARY KEY (prescription_id, position),
    FOREIGN KEY (prescription_id, item) REFERENCES prescription_items (prescription_id, position),
    CONSTRAINT prescription_findings_warnings_explained
        CHECK ((severity = 'warning') = (reason IS NOT NULL))
);

-- Items and findings are written with their prescription, in its transaction (now() is the
-- transaction's start, as the prescription's written_at), and never afterwards.
CREATE FUNCTION prescription_parts_are_written_with_it() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM prescriptions p
                    WHERE p.id = NEW.prescription_id AND p.written_at = now()) THEN
        RAISE EXCEPTION 'a prescription''s items and findings are written with it, never later'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescription_parts_with_it';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER prescription_items_with_it
    BEFORE INSERT ON prescription_items
    FOR EACH ROW EXECUTE FUNCTION prescription_parts_are_written_with_it();
CREATE TRIGGER prescription_findings_with_it
    BEFORE INSERT ON prescription_findings
    FOR EACH ROW EXECUTE FUNCTION prescription_parts_are_written_with_it();

-- Append-only for the application: nothing is deleted, items and findings never change,
-- and of a prescription only its status columns may be updated.
REVOKE UPDATE, DELETE, TRUNCATE ON prescription_items FROM medmarket_app;
REVOKE UPDATE, DELETE, TRUNCATE ON prescription_findings FROM medmarket_app;
REVOKE UPDATE, DELETE, TRUNCATE ON prescriptions FROM medmarket_app;
GRANT UPDATE (status, status_changed_at, voided_at, voided_by, void_reason)
    ON prescriptions TO medmarket_app;
