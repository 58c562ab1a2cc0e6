-- Prescriptions are signed (issue 13): the doctor's Ed25519 signature over ``document`` (its
-- RFC 8785 canonical form, prescriptions/document.py) and the key that made it, stored when
-- the prescription is issued. Like the rest of what was written they never change (the
-- trigger of 0070 freezes every column but the status ones).
ALTER TABLE prescriptions
    ADD COLUMN signature      bytea CHECK (length(signature) = 64),
    ADD COLUMN signing_key_id text REFERENCES doctor_signing_keys (key_id);

-- Every prescription issued from now on is signed. NOT VALID: rows issued before signing
-- existed (none outside development databases) keep no signature and say so.
ALTER TABLE prescriptions
    ADD CONSTRAINT prescriptions_signed
    CHECK (signature IS NOT NULL AND signing_key_id IS NOT NULL) NOT VALID;
