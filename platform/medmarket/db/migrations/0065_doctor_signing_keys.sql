-- Doctors' signing keys (issue 13): each doctor signs what they prescribe with an Ed25519 key
-- of their own, made when they are approved (doctors/signing_keys.py). The public key is
-- published for anyone to verify with; the private key is kept only sealed under
-- MEDMARKET_SECRET_KEY (medmarket.sealed). docs/signatures.md says what is signed.
CREATE TABLE doctor_signing_keys (
    -- What an envelope names the key by: base64url, without padding, of the first 16 bytes of
    -- the public key's SHA-256 (medmarket.signatures.key_id), so checked against the key.
    key_id             text PRIMARY KEY,
    doctor_id          uuid NOT NULL REFERENCES doctors (id),
    -- The 32 raw bytes of RFC 8032.
    public_key         bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    -- The 32-byte private seed, base64url, sealed; never stored as it is.
    private_key_sealed text NOT NULL CHECK (private_key_sealed LIKE 'sealed:v1:%'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- A retired key signs nothing more; what it signed stays verifiable.
    retired_at         timestamptz,
    CHECK (key_id = rtrim(translate(
        encode(substring(sha256(public_key) FROM 1 FOR 16), 'base64'), '+/', '-_'), '=')),
    CHECK (retired_at IS NULL OR retired_at >= created_at)
);
-- One live key per doctor: two first signatures at once make one key, this index decides.
CREATE UNIQUE INDEX doctor_signing_keys_one_live ON doctor_signing_keys (doctor_id)
    WHERE retired_at IS NULL;
CREATE INDEX doctor_signing_keys_by_doctor ON doctor_signing_keys (doctor_id, created_at);

-- Append-only for the application: it adds keys and retires them, nothing else. A key that
-- changed or went would make what it signed unverifiable, so the trigger stops everyone.
REVOKE UPDATE, DELETE, TRUNCATE ON doctor_signing_keys FROM medmarket_app;
GRANT UPDATE (retired_at) ON doctor_signing_keys TO medmarket_app;

CREATE FUNCTION doctor_signing_keys_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
       AND (NEW.key_id, NEW.doctor_id, NEW.public_key, NEW.private_key_sealed, NEW.created_at)
           = (OLD.key_id, OLD.doctor_id, OLD.public_key, OLD.private_key_sealed, OLD.created_at)
    THEN
        RETURN NEW;  -- retiring a live key, the one change there is
    END IF;
    RAISE EXCEPTION 'signing keys are append-only: a key is retired, never changed or deleted '
                    '(% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER doctor_signing_keys_kept BEFORE UPDATE OR DELETE ON doctor_signing_keys
    FOR EACH ROW EXECUTE FUNCTION doctor_signing_keys_are_kept();
CREATE TRIGGER doctor_signing_keys_not_truncated BEFORE TRUNCATE ON doctor_signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION doctor_signing_keys_are_kept();
