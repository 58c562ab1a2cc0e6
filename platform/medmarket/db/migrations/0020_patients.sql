-- Patients: the people who receive care. An account (users.role = 'patient') owns one
-- record for its holder (relationship 'self') and records for family members it books for.
-- Health data is stored only under an active, recorded consent: every health-data row names
-- the consent it was collected under, and the database refuses rows without a live one.

CREATE TABLE patients (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id    uuid NOT NULL REFERENCES users (id),
    relationship  text NOT NULL CHECK (relationship IN (
                      'self', 'child', 'parent', 'spouse', 'sibling', 'grandparent', 'other')),
    real_name     text NOT NULL CHECK (length(real_name) BETWEEN 1 AND 60),
    date_of_birth date NOT NULL CHECK (date_of_birth > '1900-01-01'),
    sex           text CHECK (sex IN ('female', 'male')),
    phone         text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    removed_at    timestamptz
);
-- Exactly one record of the account holder.
CREATE UNIQUE INDEX patients_one_self_per_account ON patients (account_id)
    WHERE relationship = 'self';
CREATE INDEX patients_by_account ON patients (account_id) WHERE removed_at IS NULL;

CREATE TABLE health_data_consents (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id     uuid NOT NULL REFERENCES users (id),
    policy_version text NOT NULL,
    granted_at     timestamptz NOT NULL DEFAULT now(),
    withdrawn_at   timestamptz,
    ip             inet,
    user_agent     text,
    CHECK (withdrawn_at IS NULL OR withdrawn_at >= granted_at)
);
CREATE UNIQUE INDEX consents_one_active_per_account ON health_data_consents (account_id)
    WHERE withdrawn_at IS NULL;

-- Refuses a health-data row whose consent is withdrawn or belongs to another account.
CREATE FUNCTION require_active_consent() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    owner uuid;
BEGIN
    SELECT p.account_id INTO owner FROM patients p WHERE p.id = NEW.patient_id;
    IF NOT EXISTS (
        SELECT 1 FROM health_data_consents c
         WHERE c.id = NEW.consent_id AND c.account_id = owner AND c.withdrawn_at IS NULL
    ) THEN
        RAISE EXCEPTION 'health data needs the account''s active consent'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'health_data_consent';
    END IF;
    RETURN NEW;
END
$$;

CREATE TABLE patient_health_profiles (
    patient_id          uuid PRIMARY KEY REFERENCES patients (id),
    allergies           text[] NOT NULL DEFAULT '{}',
    chronic_conditions  text[] NOT NULL DEFAULT '{}',
    current_medications text[] NOT NULL DEFAULT '{}',
    consent_id          uuid NOT NULL REFERENCES health_data_consents (id),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER health_profiles_need_consent
    BEFORE INSERT OR UPDATE ON patient_health_profiles
    FOR EACH ROW EXECUTE FUNCTION require_active_consent();
