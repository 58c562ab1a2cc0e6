-- Two-way referral with partner hospitals (双向转诊): a doctor sends a patient whose condition
-- is not fit for online care to a partner hospital's department (up), and the hospital
-- sends a discharged patient back to a doctor on the platform for follow-up (down).

CREATE TABLE referrals (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The visit it came from; "visit_unsuitable": the doctor ended a first visit as not fit
    -- for online care, and the platform drafted this for them to complete.
    booking_id         uuid REFERENCES bookings (id),
    origin             text NOT NULL CHECK (origin IN ('doctor', 'visit_unsuitable')),
    patient_id         uuid NOT NULL REFERENCES patients (id),
    -- The account that holds the patient's record: it consents, and it sees the referral.
    account_id         uuid NOT NULL REFERENCES users (id),
    doctor_id          uuid NOT NULL REFERENCES doctors (id),
    -- Where to, how soon, why: NULL only in a draft.
    hospital_id        uuid REFERENCES hospitals (id),
    department         text CHECK (length(department) BETWEEN 1 AND 50),
    urgency            text CHECK (urgency IN ('routine', 'urgent', 'emergency')),
    reason             text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    clinical_summary   text NOT NULL DEFAULT '' CHECK (length(clinical_summary) <= 4000),
    -- For an emergency: what the patient must do now, shown to them at once.
    emergency_advice   text CHECK (length(emergency_advice) BETWEEN 2 AND 500),
    status             text NOT NULL CHECK (status IN (
                           'draft', 'awaiting_consent', 'declined', 'pending', 'received',
                           'accepted', 'refused', 'cancelled', 'seen', 'admitted',
                           'discharged', 'referred_back', 'no_show')),
    status_changed_at  timestamptz NOT NULL DEFAULT now(),
    -- The hospital's answer.
    hospital_reference text CHECK (length(hospital_reference) <= 200),
    appointment_at     timestamptz,
    place              text CHECK (length(place) <= 300),
    appointment_department text CHECK (length(appointment_department) <= 100),
    ticket             text CHECK (length(ticket) <= 100),
    instructions       text CHECK (length(instructions) <= 2000),
    refusal_code       text CHECK (length(refusal_code) <= 60),
    refusal            text CHECK (length(refusal) <= 1000),
    decision_evidence  jsonb,
    -- Sending to the hospital: each try's number and what went wrong last.
    send_attempts      integer NOT NULL DEFAULT 0 CHECK (send_attempts >= 0),
    last_send_error    text,
    -- Whether the hospital was asked at all (a cancellation tells it only then).
    sent_at            timestamptz,
    last_polled_at     timestamptz,
    consented_at       timestamptz,
    cancelled_by       uuid REFERENCES users (id),
    cancel_reason      text CHECK (length(cancel_reason) <= 500),
    created_at         timestamptz NOT NULL DEFAULT now(),
    submitted_at       timestamptz,
    CHECK (status = 'draft' OR (status = 'cancelled' AND submitted_at IS NULL)
           OR (hospital_id IS NOT NULL AND department IS NOT NULL AND urgency IS NOT NULL
               AND length(reason) >= 2 AND submitted_at IS NOT NULL)),
    CHECK (urgency IS DISTINCT FROM 'emergency' OR emergency_advice IS NOT NULL),
    CHECK (status NOT IN ('pending', 'received', 'accepted', 'refused', 'seen', 'admitted',
                          'discharged', 'referred_back', 'no_show') OR consented_at IS NOT NULL),
    CHECK (status NOT IN ('accepted', 'seen', 'admitted', 'discharged', 'referred_back',
                          'no_show')
           OR (appointment_at IS NOT NULL AND ticket IS NOT NULL AND place IS NOT NULL)),
    CHECK (status <> 'refused' OR refusal_code IS NOT NULL),
    CHECK (origin <> 'visit_unsuitable' OR booking_id IS NOT NULL)
);
-- A visit has one live referral at a time (a refused or cancelled one may be sent again,
-- to another hospital); the platform drafts one for a visit once.
CREATE UNIQUE INDEX referrals_one_live_per_visit ON referrals (booking_id)
    WHERE status IN ('draft', 'awaiting_consent', 'pending', 'received', 'accepted');
CREATE UNIQUE INDEX referrals_drafted_once_per_visit ON referrals (booking_id)
    WHERE origin = 'visit_unsuitable';
CREATE INDEX referrals_by_doctor ON referrals (doctor_id, created_at DESC);
CREATE INDEX referrals_by_account ON referrals (account_id, created_at DESC);
CREATE INDEX referrals_by_hospital ON referrals (hospital_id, created_at DESC)
    WHERE hospital_id IS NOT NULL;
-- What the hospital still has to answer or report: polled, oldest poll first.
CREATE INDEX referrals_to_follow ON referrals (last_polled_at NULLS FIRST)
    WHERE status IN ('received', 'accepted', 'seen', 'admitted');

CREATE FUNCTION referrals_move_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.booking_id, NEW.origin, NEW.patient_id, NEW.account_id, NEW.doctor_id, NEW.created_at)
       IS DISTINCT FROM
       (OLD.booking_id, OLD.origin, OLD.patient_id, OLD.account_id, OLD.doctor_id, OLD.created_at)
    THEN
        RAISE EXCEPTION 'a referral keeps whose it is'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'referrals_frozen';
    END IF;
    IF OLD.status <> 'draft'
       AND (NEW.hospital_id, NEW.department, NEW.urgency, NEW.reason, NEW.clinical_summary,
            NEW.emergency_advice)
           IS DISTINCT FROM
           (OLD.hospital_id, OLD.department, OLD.urgency, OLD.reason, OLD.clinical_summary,
            OLD.emergency_advice)
    THEN
        RAISE EXCEPTION 'a submitted referral keeps what the doctor wrote'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'referrals_frozen';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('draft', 'awaiting_consent'), ('draft', 'cancelled'),
        ('awaiting_consent', 'pending'), ('awaiting_consent', 'declined'),
        ('awaiting_consent', 'cancelled'),
        ('pending', 'received'), ('pending', 'accepted'), ('pending', 'refused'),
        ('pending', 'cancelled'),
        ('received', 'accepted'), ('received', 'refused'), ('received', 'cancelled'),
        ('accepted', 'seen'), ('accepted', 'admitted'), ('accepted', 'discharged'),
        ('accepted', 'referred_back'), ('accepted', 'no_show'), ('accepted', 'cancelled'),
        ('seen', 'admitted'), ('seen', 'discharged'), ('seen', 'referred_back'),
        ('admitted', 'discharged'), ('admitted', 'referred_back')
    ) THEN
        RAISE EXCEPTION 'a referral cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'referrals_status_transition';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER referrals_state_machine BEFORE UPDATE ON referrals
    FOR EACH ROW EXECUTE FUNCTION referrals_move_forward();

-- The visit's files the doctor sends with it (CT images, ECG, reports).
CREATE TABLE referral_attachments (
    referral_id   uuid NOT NULL REFERENCES referrals (id),
    attachment_id uuid NOT NULL REFERENCES consultation_attachments (id),
    PRIMARY KEY (referral_id, attachment_id)
);

-- The referral's timeline: each status it took and each outcome the hospital reported,
-- who or what said it, and when. ``event_key`` keeps a hospital's event once however often
-- it is reported (its own event id, or its status and time).
CREATE TABLE referral_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id uuid NOT NULL REFERENCES referrals (id),
    status      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid REFERENCES users (id),
    source      text NOT NULL CHECK (source IN ('platform', 'doctor', 'patient', 'hospital_admin',
                                                'hospital_system')),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    event_key   text CHECK (length(event_key) <= 300),
    UNIQUE (referral_id, event_key)
);
CREATE INDEX referral_events_by_referral ON referral_events (referral_id, at, id);

-- Down-referral (下转): the hospital sends a discharged patient back to a doctor on the
-- platform (the county or township doctor who referred them, or another) for follow-up.
CREATE TABLE down_referrals (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    referral_id     uuid NOT NULL UNIQUE REFERENCES referrals (id),
    hospital_id     uuid NOT NULL REFERENCES hospitals (id),
    to_doctor_id    uuid NOT NULL REFERENCES doctors (id),
    patient_id      uuid NOT NULL REFERENCES patients (id),
    account_id      uuid NOT NULL REFERENCES users (id),
    summary         text NOT NULL CHECK (length(summary) BETWEEN 2 AND 4000),
    follow_up       text NOT NULL DEFAULT '' CHECK (length(follow_up) <= 2000),
    status          text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'acknowledged')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      uuid REFERENCES users (id),
    acknowledged_at timestamptz,
    CHECK ((status = 'acknowledged') = (acknowledged_at IS NOT NULL))
);
CREATE INDEX down_referrals_by_doctor ON down_referrals (to_doctor_id, created_at DESC);

CREATE FUNCTION referral_records_are_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'referral records are kept'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'referral_records_kept';
END
$$;
CREATE TRIGGER referrals_no_delete BEFORE DELETE ON referrals
    FOR EACH ROW EXECUTE FUNCTION referral_records_are_never_deleted();
CREATE TRIGGER referral_events_no_delete BEFORE DELETE ON referral_events
    FOR EACH ROW EXECUTE FUNCTION referral_records_are_never_deleted();
CREATE TRIGGER down_referrals_no_delete BEFORE DELETE ON down_referrals
    FOR EACH ROW EXECUTE FUNCTION referral_records_are_never_deleted();
REVOKE DELETE, TRUNCATE ON referrals, referral_attachments, referral_events, down_referrals
    FROM medmarket_app;
