-- Payments: one row per attempt at a gateway, refunds against a succeeded attempt, and the
-- webhook events already seen. The constraints here are what stops a second charge.

CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TABLE payments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Our idempotency key for this attempt, sent to the gateway before anything happens there.
    reference        text NOT NULL UNIQUE CHECK (length(reference) BETWEEN 8 AND 64),
    -- What is paid for: a booking, a pharmacy order, ... (a registered purpose) and its id.
    purpose          text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]{1,39}$'),
    subject_id       uuid NOT NULL,
    payer_id         uuid NOT NULL REFERENCES users (id),
    amount           bigint NOT NULL CHECK (amount > 0),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    description      text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    -- Who shares the money (the ledger splits by the hospital's agreement).
    doctor_id        uuid REFERENCES doctors (id),
    hospital_id      uuid REFERENCES hospitals (id),
    gateway_id       text NOT NULL,
    external_id      text,
    -- pending: committed, the gateway may not know it yet; open: the gateway has it and
    -- nothing is charged; succeeded: money taken; failed / canceled: will never charge.
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'open', 'succeeded', 'failed', 'canceled')),
    gateway_status   text,
    -- A second successful charge for a payable that was already paid (a late success of a
    -- canceled attempt): kept, and refunded in full automatically.
    is_duplicate     boolean NOT NULL DEFAULT false,
    failure_code     text,
    failure_message  text,
    -- Committed before each gateway call: a later call knows an earlier one may have landed.
    create_attempts  integer NOT NULL DEFAULT 0 CHECK (create_attempts >= 0),
    confirm_attempts integer NOT NULL DEFAULT 0 CHECK (confirm_attempts >= 0),
    -- Sum of refunds not failed; reserved when a refund is requested.
    refunded_amount  bigint NOT NULL DEFAULT 0,
    last_event_at    timestamptz,
    -- The payable stops accepting money then (a booking hold's end); passed to the gateway.
    expires_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    succeeded_at     timestamptz,
    -- When a failed or canceled attempt was also closed at the gateway.
    closed_at        timestamptz,
    UNIQUE (gateway_id, external_id),
    CHECK (refunded_amount BETWEEN 0 AND amount),
    CHECK (refunded_amount = 0 OR status = 'succeeded'),
    CHECK (status IN ('pending', 'failed', 'canceled') OR external_id IS NOT NULL),
    CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL)),
    CHECK (NOT is_duplicate OR status = 'succeeded')
);
-- At most one attempt in flight per payable, and at most one charge that counts.
CREATE UNIQUE INDEX payments_one_live_attempt ON payments (purpose, subject_id)
    WHERE status IN ('pending', 'open');
CREATE UNIQUE INDEX payments_one_success ON payments (purpose, subject_id)
    WHERE status = 'succeeded' AND NOT is_duplicate;
CREATE INDEX payments_by_payer ON payments (payer_id, created_at DESC);
CREATE INDEX payments_unsettled ON payments (updated_at)
    WHERE status IN ('pending', 'open')
       OR (status IN ('failed', 'canceled') AND closed_at IS NULL AND external_id IS NOT NULL);
CREATE TRIGGER payments_touch BEFORE UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- Money records are never deleted.
REVOKE DELETE, TRUNCATE ON payments FROM medmarket_app;

CREATE TABLE payment_refunds (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    payment_id      uuid NOT NULL REFERENCES payments (id),
    reference       text NOT NULL UNIQUE CHECK (length(reference) BETWEEN 8 AND 64),
    -- The requester's own key ("cancel", "no-show", "item:123"): asking twice refunds once.
    request_key     text NOT NULL CHECK (length(request_key) BETWEEN 1 AND 200),
    amount          bigint NOT NULL CHECK (amount > 0),
    reason          text NOT NULL CHECK (reason ~ '^[a-z][a-z0-9_]{1,39}$'),
    note            text CHECK (length(note) <= 1000),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'succeeded', 'failed')),
    external_id     text UNIQUE,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    failure_message text,
    requested_by    uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    succeeded_at    timestamptz,
    UNIQUE (payment_id, request_key),
    CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL))
);
CREATE INDEX payment_refunds_unsettled ON payment_refunds (updated_at)
    WHERE status IN ('pending', 'processing');
CREATE TRIGGER payment_refunds_touch BEFORE UPDATE ON payment_refunds
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
REVOKE DELETE, TRUNCATE ON payment_refunds FROM medmarket_app;

-- Each gateway event has its effect once: the id is recorded in the transaction that
-- applies it. Only a summary is kept (events can carry client secrets).
CREATE TABLE payment_webhook_events (
    gateway_id  text NOT NULL,
    event_id    text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
    type        text NOT NULL,
    summary     jsonb NOT NULL DEFAULT '{}',
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (gateway_id, event_id)
);
REVOKE UPDATE, DELETE, TRUNCATE ON payment_webhook_events FROM medmarket_app;
