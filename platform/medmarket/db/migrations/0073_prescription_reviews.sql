-- The pharmacist's review of a prescription (审方, issue 13). Each issued prescription is
-- routed to one reviewing pharmacy as it is issued (its partner hospital's own pharmacy,
-- else an independent one), and a pharmacist of that pharmacy approves or rejects it. A
-- prescription no pharmacy reviews has no row here and stays issued (see the prescriptions
-- README, "Review").
--
-- Approval is always a person's act (the 2022 rules on online prescriptions forbid automatic
-- or AI approval): a prescription becomes approved or rejected only when its review row names
-- the decision and the pharmacist's account who made it, and the trigger below refuses the
-- status change otherwise, whoever updates.

CREATE TABLE prescription_reviews (
    prescription_id uuid PRIMARY KEY REFERENCES prescriptions (id),
    pharmacy_id     uuid NOT NULL REFERENCES pharmacies (id),
    routed_at       timestamptz NOT NULL DEFAULT now(),
    decision        text CHECK (decision IN ('approved', 'rejected')),
    decided_by      uuid,
    decided_role    text CHECK (decided_role = 'pharmacist'),
    decided_at      timestamptz,
    reason_code     text CHECK (reason_code IN (
                        'dose_inappropriate', 'interaction', 'contraindication',
                        'duplicate_therapy', 'allergy', 'diagnosis_mismatch', 'incomplete',
                        'other')),
    reason_text     text CHECK (length(reason_text) <= 500),
    -- Only a pharmacist's account decides (users (id, role) is unique: migration 0066).
    FOREIGN KEY (decided_by, decided_role) REFERENCES users (id, role),
    CONSTRAINT prescription_reviews_decided_by_someone CHECK (
        (decision IS NULL) = (decided_by IS NULL)
        AND (decision IS NULL) = (decided_role IS NULL)
        AND (decision IS NULL) = (decided_at IS NULL)),
    -- A rejection gives its reason from the list; "other" says it in words.
    CONSTRAINT prescription_reviews_reason CHECK (
        (decision IS DISTINCT FROM 'rejected' OR reason_code IS NOT NULL)
        AND (decision = 'rejected' OR reason_code IS NULL)
        AND (reason_code IS DISTINCT FROM 'other' OR length(btrim(reason_text)) > 0)),
    CHECK (decided_at IS NULL OR decided_at >= routed_at)
);
-- A desk: what a pharmacy has awaiting, oldest first.
CREATE INDEX prescription_reviews_awaiting ON prescription_reviews (pharmacy_id, routed_at)
    WHERE decision IS NULL;

-- Where a prescription of a doctor of ``doctor_hospital`` is reviewed: the hospital's own
-- pharmacy, else an independent one; open, reviewing, with a pharmacist working in it; the
-- fewest awaiting review first, then the oldest. NULL: no pharmacy reviews now. One
-- definition for routing at issue and for the job that routes what found none.
CREATE FUNCTION reviewing_pharmacy(doctor_hospital uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT p.id
      FROM pharmacies p
     WHERE p.closed_at IS NULL AND p.reviews_prescriptions
       AND (p.kind = 'independent' OR p.hospital_id = doctor_hospital)
       AND EXISTS (SELECT 1 FROM pharmacy_pharmacists m
                    WHERE m.pharmacy_id = p.id AND m.left_at IS NULL)
     ORDER BY (p.kind = 'hospital') DESC,
              (SELECT count(*) FROM prescription_reviews r
                 JOIN prescriptions x ON x.id = r.prescription_id
                WHERE r.pharmacy_id = p.id AND r.decision IS NULL AND x.status = 'issued'),
              p.created_at, p.id
     LIMIT 1
$$;

-- A decision is made once and never changes; nothing else of the row changes.
CREATE FUNCTION prescription_reviews_decide_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.decision IS NOT NULL THEN
        RAISE EXCEPTION 'the review of prescription % is decided: it does not change',
            OLD.prescription_id USING ERRCODE = 'check_violation',
            CONSTRAINT = 'prescription_reviews_decided';
    END IF;
    IF NEW.prescription_id <> OLD.prescription_id OR NEW.pharmacy_id <> OLD.pharmacy_id
       OR NEW.routed_at <> OLD.routed_at THEN
        RAISE EXCEPTION 'a review keeps its prescription, pharmacy and routing time'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'prescription_reviews_decided';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER prescription_reviews_decided_once
    BEFORE UPDATE ON prescription_reviews
    FOR EACH ROW EXECUTE FUNCTION prescription_reviews_decide_once();

-- No prescription is approved or rejected but by its review's pharmacist. Named to fire
-- after 0070's prescriptions_status_only (triggers fire in name order), so a move that
-- machine refuses, or an expired prescription, is refused with its own words first.
CREATE FUNCTION prescriptions_reviewed_by_a_pharmacist() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('approved', 'rejected') AND NEW.status IS DISTINCT FROM OLD.status
       AND NOT EXISTS (SELECT 1 FROM prescription_reviews r
                        WHERE r.prescription_id = NEW.id AND r.decision = NEW.status
                          AND r.decided_by IS NOT NULL AND r.decided_role = 'pharmacist') THEN
        RAISE EXCEPTION 'prescription % is % only by its pharmacist''s review', NEW.id,
            NEW.status USING ERRCODE = 'check_violation',
            CONSTRAINT = 'prescriptions_reviewed_by_a_pharmacist';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER prescriptions_status_reviewed
    BEFORE UPDATE OF status ON prescriptions
    FOR EACH ROW EXECUTE FUNCTION prescriptions_reviewed_by_a_pharmacist();

REVOKE DELETE, TRUNCATE ON prescription_reviews FROM medmarket_app;
