-- Repeat prescriptions (复诊续方, issue 13): a patient with a stable chronic condition asks the
-- doctor who prescribed for them to renew that prescription without a call, within a
-- follow-up window; the doctor renews it (a new prescription, written through the same
-- checks) or asks for a visit. Paid like a consultation, at the doctor's own price for it;
-- refunded in full when the doctor asks for a visit or does not answer in time.
--
--   requested ──paid──▶ awaiting_doctor ──doctor renews──▶ renewed
--       │                     ├──doctor asks for a visit──▶ visit_requested (refunded)
--       │                     └──not answered by answer_due_at──▶ expired (refunded)
--       └──patient withdraws, or not paid by pay_by──▶ cancelled
--
-- prescriptions/renewals/states.py names the same transitions (a test compares them).

-- A doctor prices renewals as an offering of its own kind, off until they set it. A renewal
-- has no slot: slot_minutes is for the kinds that are booked (video, text) only.
ALTER TABLE consult_offerings DROP CONSTRAINT consult_offerings_kind_check;
ALTER TABLE consult_offerings
    ADD CONSTRAINT consult_offerings_kind_check CHECK (kind IN ('video', 'text', 'renewal'));
ALTER TABLE consult_offerings ALTER COLUMN slot_minutes DROP NOT NULL;
ALTER TABLE consult_offerings
    ADD CONSTRAINT consult_offerings_slot_minutes_booked
    CHECK ((kind = 'renewal') = (slot_minutes IS NULL));

-- A prescription that renews an earlier one says so: the same consultation (the visit the
-- doctor last saw the patient in), the same patient, and so the same doctor. A renewal is a
-- line of its own (version 1); the earlier one is left as it stands.
ALTER TABLE prescriptions ADD COLUMN renews uuid;
ALTER TABLE prescriptions
    ADD CONSTRAINT prescriptions_renewed_of_one_visit UNIQUE (id, consultation_id, patient_id);
ALTER TABLE prescriptions
    ADD CONSTRAINT prescriptions_renews_fkey FOREIGN KEY (renews, consultation_id, patient_id)
    REFERENCES prescriptions (id, consultation_id, patient_id);
ALTER TABLE prescriptions
    ADD CONSTRAINT prescriptions_renewal_is_its_own_line
    CHECK (renews IS NULL OR (version = 1 AND renews <> id));
-- What a renewal request refers to (its patient and doctor; what renewed it).
ALTER TABLE prescriptions
    ADD CONSTRAINT prescriptions_of_patient_and_doctor UNIQUE (id, patient_id, doctor_id);
ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_renewing UNIQUE (id, renews);
CREATE INDEX prescriptions_by_renewed ON prescriptions (renews) WHERE renews IS NOT NULL;

CREATE TABLE prescription_renewals (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The earlier prescription, of this patient by this doctor.
    prescription_id     uuid NOT NULL,
    patient_id          uuid NOT NULL REFERENCES patients (id),
    doctor_id           uuid NOT NULL REFERENCES doctors (id),
    -- The patient's account that asked, and pays.
    requested_by        uuid NOT NULL REFERENCES users (id),
    -- How the patient is doing, in their words, for the doctor to read.
    note                text NOT NULL
                        CHECK (length(note) BETWEEN 1 AND 1000 AND note = btrim(note)),
    -- The doctor's price for a renewal when it was asked for.
    price_fen           integer NOT NULL CHECK (price_fen BETWEEN 100 AND 10000000),
    currency            text NOT NULL DEFAULT 'CNY' CHECK (currency = 'CNY'),
    status              text NOT NULL DEFAULT 'requested' CHECK (status IN (
                            'requested', 'awaiting_doctor', 'renewed', 'visit_requested',
                            'expired', 'cancelled')),
    requested_at        timestamptz NOT NULL DEFAULT now(),
    status_changed_at   timestamptz NOT NULL DEFAULT now(),
    -- Unpaid by then, it is cancelled (a payment after it is refunded).
    pay_by              timestamptz NOT NULL,
    -- Paid: the doctor answers before answer_due_at, or the patient gets their money back.
    paid_at             timestamptz,
    answer_due_at       timestamptz,
    -- Renewed, a visit asked for, expired or cancelled.
    closed_at           timestamptz,
    -- The prescription that renewed it, which renews prescription_id.
    renewal_id          uuid UNIQUE,
    -- What the doctor tells the patient when asking for a visit.
    visit_message       text CHECK (length(visit_message) BETWEEN 1 AND 1000
                                    AND visit_message = btrim(visit_message)),
    CONSTRAINT prescription_renewals_pay_by CHECK (pay_by > requested_at),
    CONSTRAINT prescription_renewals_paid CHECK (
        (status IN ('awaiting_doctor', 'renewed', 'visit_requested', 'expired'))
        = (paid_at IS NOT NULL)
        AND (paid_at IS NULL) = (answer_due_at IS NULL)
        AND (answer_due_at IS NULL OR answer_due_at > paid_at)),
    CONSTRAINT prescription_renewals_closed CHECK (
        (status IN ('renewed', 'visit_requested', 'expired', 'cancelled'))
        = (closed_at IS NOT NULL)),
    CONSTRAINT prescription_renewals_renewed CHECK ((status = 'renewed') = (renewal_id IS NOT NULL)),
    CONSTRAINT prescription_renewals_visit CHECK (
        (status = 'visit_requested') = (visit_message IS NOT NULL)),
    FOREIGN KEY (prescription_id, patient_id, doctor_id)
        REFERENCES prescriptions (id, patient_id, doctor_id),
    FOREIGN KEY (renewal_id, prescription_id) REFERENCES prescriptions (id, renews)
);
-- One open request per earlier prescription: a second one is refused while the first is
-- unpaid or awaits the doctor.
CREATE UNIQUE INDEX prescription_renewals_one_open ON prescription_renewals (prescription_id)
    WHERE status IN ('requested', 'awaiting_doctor');
CREATE INDEX prescription_renewals_by_account
    ON prescription_renewals (requested_by, requested_at DESC);
-- The doctor's queue, oldest first, and the job's: what is due.
CREATE INDEX prescription_renewals_awaiting ON prescription_renewals (doctor_id, paid_at)
    WHERE status = 'awaiting_doctor';
CREATE INDEX prescription_renewals_due ON prescription_renewals (answer_due_at)
    WHERE status = 'awaiting_doctor';
CREATE INDEX prescription_renewals_unpaid ON prescription_renewals (pay_by)
    WHERE status = 'requested';

-- The state machine, enforced where every writer meets it: a request starts as requested
-- and moves only as drawn above. What was asked never changes;
-- the doctor answers only before answer_due_at, and only after it does a request expire.
CREATE FUNCTION prescription_renewals_follow_their_states() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changeable CONSTANT text[] := ARRAY[
        'status', 'status_changed_at', 'paid_at', 'answer_due_at', 'closed_at', 'renewal_id',
        'visit_message'];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'requested' THEN
            RAISE EXCEPTION 'a renewal request is asked for before anything else happens to it'
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'prescription_renewals_status_transition';
        END IF;
        RETURN NEW;
    END IF;
    IF to_jsonb(NEW) - changeable IS DISTINCT FROM to_jsonb(OLD) - changeable THEN
        RAISE EXCEPTION 'what a renewal request asked never changes'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescription_renewals_frozen';
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        IF to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
            RAISE EXCEPTION 'a renewal request changes only as its status moves'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'prescription_renewals_frozen';
        END IF;
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) NOT IN (
        ('requested', 'awaiting_doctor'),
        ('requested', 'cancelled'),
        ('awaiting_doctor', 'renewed'),
        ('awaiting_doctor', 'visit_requested'),
        ('awaiting_doctor', 'expired')
    ) THEN
        RAISE EXCEPTION 'a renewal request cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'prescription_renewals_status_transition';
    END IF;
    IF OLD.status = 'awaiting_doctor'
       AND (OLD.paid_at, OLD.answer_due_at) IS DISTINCT FROM (NEW.paid_at, NEW.answer_due_at) THEN
        RAISE EXCEPTION 'when a renewal request was paid, and is due, never changes'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescription_renewals_frozen';
    END IF;
    IF NEW.status IN ('renewed', 'visit_requested') AND now() >= NEW.answer_due_at THEN
        RAISE EXCEPTION 'the answer was due at %: the request has expired', NEW.answer_due_at
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescription_renewals_answer_due';
    END IF;
    IF NEW.status = 'expired' AND now() < NEW.answer_due_at THEN
        RAISE EXCEPTION 'the doctor may answer until %: the request has not expired',
                        NEW.answer_due_at
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescription_renewals_answer_due';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER prescription_renewals_states
    BEFORE INSERT OR UPDATE ON prescription_renewals
    FOR EACH ROW EXECUTE FUNCTION prescription_renewals_follow_their_states();

-- Nothing is deleted; of a request only what its status moves may change.
REVOKE UPDATE, DELETE, TRUNCATE ON prescription_renewals FROM medmarket_app;
GRANT UPDATE (status, status_changed_at, paid_at, answer_due_at, closed_at, renewal_id,
              visit_message)
    ON prescription_renewals TO medmarket_app;
