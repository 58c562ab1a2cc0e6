-- Remote consultation between doctors (远程会诊 / MDT): a requesting doctor, with the patient
-- in front of them, asks one expert or a multi-disciplinary team for an opinion. Advisory:
-- the responsibility stays with the requesting doctor and their institution.

CREATE TABLE remote_consultations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    requester_id      uuid NOT NULL REFERENCES doctors (id),
    -- The institution that keeps the responsibility (the requester's hospital then).
    requester_hospital_id uuid NOT NULL REFERENCES hospitals (id),
    patient_id        uuid NOT NULL REFERENCES patients (id),
    -- The requester's latest visit with the patient: why the patient is theirs to present.
    booking_id        uuid NOT NULL REFERENCES bookings (id),
    question          text NOT NULL CHECK (length(question) BETWEEN 2 AND 2000),
    clinical_history  text NOT NULL CHECK (length(clinical_history) BETWEEN 2 AND 8000),
    urgency           text NOT NULL CHECK (urgency IN ('routine', 'urgent', 'emergency')),
    proposed_times    timestamptz[] NOT NULL
                      CHECK (cardinality(proposed_times) BETWEEN 1 AND 5),
    -- The patient's consent to share, recorded by the requester on the spot.
    consent_how       text NOT NULL CHECK (consent_how IN ('verbal_in_person', 'written')),
    consent_witnessed_by text CHECK (length(consent_witnessed_by) BETWEEN 1 AND 200),
    consent_at        timestamptz NOT NULL,
    status            text NOT NULL DEFAULT 'open' CHECK (status IN (
                          'open', 'scheduled', 'in_session', 'opinions', 'decided',
                          'cancelled', 'withdrawn')),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    scheduled_at      timestamptz,
    decision          text CHECK (length(decision) BETWEEN 2 AND 4000),
    decided_at        timestamptz,
    cancel_reason     text CHECK (length(cancel_reason) BETWEEN 2 AND 500),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (status IN ('open', 'withdrawn') OR scheduled_at IS NOT NULL),
    CHECK (status <> 'decided' OR (decision IS NOT NULL AND decided_at IS NOT NULL)),
    CHECK (decision IS NULL OR status IN ('opinions', 'decided')),
    CHECK (status NOT IN ('cancelled', 'withdrawn') OR cancel_reason IS NOT NULL)
);
CREATE INDEX remote_consultations_by_requester
    ON remote_consultations (requester_id, created_at DESC);

CREATE FUNCTION remote_consultations_move_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.requester_id, NEW.requester_hospital_id, NEW.patient_id, NEW.booking_id,
        NEW.question, NEW.clinical_history, NEW.urgency, NEW.proposed_times, NEW.consent_how,
        NEW.consent_witnessed_by, NEW.consent_at, NEW.created_at)
       IS DISTINCT FROM
       (OLD.requester_id, OLD.requester_hospital_id, OLD.patient_id, OLD.booking_id,
        OLD.question, OLD.clinical_history, OLD.urgency, OLD.proposed_times, OLD.consent_how,
        OLD.consent_witnessed_by, OLD.consent_at, OLD.created_at)
    THEN
        RAISE EXCEPTION 'a remote consultation keeps what the requester asked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'remote_consultations_frozen';
    END IF;
    IF OLD.decision IS NOT NULL AND NEW.decision IS DISTINCT FROM OLD.decision THEN
        RAISE EXCEPTION 'a decision is recorded once'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'remote_consultations_frozen';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('open', 'scheduled'), ('open', 'withdrawn'),
        ('scheduled', 'in_session'), ('scheduled', 'opinions'), ('scheduled', 'cancelled'),
        ('in_session', 'opinions'), ('in_session', 'cancelled'),
        ('opinions', 'decided')
    ) THEN
        RAISE EXCEPTION 'a remote consultation cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'remote_consultations_status_transition';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER remote_consultations_state_machine BEFORE UPDATE ON remote_consultations
    FOR EACH ROW EXECUTE FUNCTION remote_consultations_move_forward();

-- Each invited expert (several: an MDT) and their answer.
CREATE TABLE remote_consultation_invitations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consultation_id uuid NOT NULL REFERENCES remote_consultations (id),
    expert_id       uuid NOT NULL REFERENCES doctors (id),
    status          text NOT NULL DEFAULT 'invited' CHECK (status IN (
                        'invited', 'accepted', 'declined', 'proposed')),
    -- The time the expert accepted; the time they proposed instead.
    accepted_time   timestamptz,
    proposed_time   timestamptz,
    proposal_note   text NOT NULL DEFAULT '' CHECK (length(proposal_note) <= 500),
    decline_reason  text CHECK (length(decline_reason) BETWEEN 2 AND 500),
    answered_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consultation_id, expert_id),
    CHECK ((status = 'accepted') = (accepted_time IS NOT NULL)),
    CHECK ((status = 'proposed') = (proposed_time IS NOT NULL)),
    CHECK ((status = 'declined') = (decline_reason IS NOT NULL))
);
CREATE INDEX remote_consultation_invitations_by_expert
    ON remote_consultation_invitations (expert_id, created_at DESC);

CREATE FUNCTION remote_consultation_invitations_move_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.consultation_id, NEW.expert_id, NEW.created_at)
       IS DISTINCT FROM (OLD.consultation_id, OLD.expert_id, OLD.created_at)
    THEN
        RAISE EXCEPTION 'an invitation keeps whose it is'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'remote_consultation_invitations_frozen';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('invited', 'accepted'), ('invited', 'declined'), ('invited', 'proposed'),
        ('proposed', 'accepted'), ('proposed', 'declined'), ('proposed', 'invited')
    ) THEN
        RAISE EXCEPTION 'an invitation cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'remote_consultation_invitations_status_transition';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER remote_consultation_invitations_state_machine
    BEFORE UPDATE ON remote_consultation_invitations
    FOR EACH ROW EXECUTE FUNCTION remote_consultation_invitations_move_forward();

-- Files already shared in one of the patient's visits with the requester.
CREATE TABLE remote_consultation_attachments (
    consultation_id uuid NOT NULL REFERENCES remote_consultations (id),
    attachment_id   uuid NOT NULL REFERENCES consultation_attachments (id),
    PRIMARY KEY (consultation_id, attachment_id)
);

-- One opinion per expert who accepted, written once (README.md says why).
CREATE TABLE remote_consultation_opinions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consultation_id uuid NOT NULL REFERENCES remote_consultations (id),
    invitation_id   uuid NOT NULL UNIQUE REFERENCES remote_consultation_invitations (id),
    text            text NOT NULL CHECK (length(text) BETWEEN 2 AND 8000),
    assessment      text CHECK (length(assessment) <= 4000),
    recommendation  text CHECK (length(recommendation) <= 4000),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The case's timeline: each status the case or one of its invitations took, by whom.
CREATE TABLE remote_consultation_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultation_id uuid NOT NULL REFERENCES remote_consultations (id),
    invitation_id   uuid REFERENCES remote_consultation_invitations (id),
    status          text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid REFERENCES users (id),
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 2000)
);
CREATE INDEX remote_consultation_events_by_case
    ON remote_consultation_events (consultation_id, at, id);

CREATE FUNCTION remote_consultation_records_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'remote consultation records are kept'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'remote_consultation_records_kept';
END
$$;
CREATE TRIGGER remote_consultations_no_delete BEFORE DELETE ON remote_consultations
    FOR EACH ROW EXECUTE FUNCTION remote_consultation_records_are_kept();
CREATE TRIGGER remote_consultation_invitations_no_delete
    BEFORE DELETE ON remote_consultation_invitations
    FOR EACH ROW EXECUTE FUNCTION remote_consultation_records_are_kept();
CREATE TRIGGER remote_consultation_opinions_kept BEFORE UPDATE OR DELETE
    ON remote_consultation_opinions
    FOR EACH ROW EXECUTE FUNCTION remote_consultation_records_are_kept();
CREATE TRIGGER remote_consultation_events_no_delete BEFORE DELETE ON remote_consultation_events
    FOR EACH ROW EXECUTE FUNCTION remote_consultation_records_are_kept();
REVOKE DELETE, TRUNCATE ON remote_consultations, remote_consultation_invitations,
    remote_consultation_attachments, remote_consultation_opinions, remote_consultation_events
    FROM medmarket_app;
