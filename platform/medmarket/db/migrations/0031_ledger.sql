-- A double-entry ledger in integer minor units. Debits are positive, credits negative; the
-- entries of every transaction sum to zero, checked by the database at commit.

-- The share each partner hospital's agreement gives the platform and the hospital, in basis
-- points of the charge; the doctor receives the rest. A new agreement is a new row: a charge
-- is split by the agreement in force when it succeeded.
CREATE TABLE hospital_agreements (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hospital_id      uuid NOT NULL REFERENCES hospitals (id),
    platform_rate_bp integer NOT NULL CHECK (platform_rate_bp BETWEEN 0 AND 10000),
    hospital_rate_bp integer NOT NULL CHECK (hospital_rate_bp BETWEEN 0 AND 10000),
    effective_from   timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       uuid REFERENCES users (id),
    CHECK (platform_rate_bp + hospital_rate_bp <= 10000),
    UNIQUE (hospital_id, effective_from)
);
REVOKE UPDATE, DELETE, TRUNCATE ON hospital_agreements FROM medmarket_app;

CREATE TABLE ledger_accounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- gateway_clearing: money the gateway holds for us (the patient's charge);
    -- platform_commission: our revenue; doctor_payable / hospital_payable: owed to them.
    kind        text NOT NULL CHECK (kind IN (
                    'gateway_clearing', 'platform_commission', 'doctor_payable',
                    'hospital_payable')),
    gateway_id  text,
    doctor_id   uuid REFERENCES doctors (id),
    hospital_id uuid REFERENCES hospitals (id),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_accounts_identity
        UNIQUE NULLS NOT DISTINCT (kind, gateway_id, doctor_id, hospital_id, currency),
    UNIQUE (id, currency),
    CHECK ((gateway_id IS NOT NULL) = (kind = 'gateway_clearing')),
    CHECK ((doctor_id IS NOT NULL) = (kind = 'doctor_payable')),
    CHECK ((hospital_id IS NOT NULL) = (kind = 'hospital_payable'))
);

CREATE TABLE ledger_transactions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('charge', 'refund')),
    payment_id  uuid NOT NULL REFERENCES payments (id),
    refund_id   uuid REFERENCES payment_refunds (id),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, currency),
    CHECK ((kind = 'refund') = (refund_id IS NOT NULL))
);
-- A payment is booked once, a refund reversed once.
CREATE UNIQUE INDEX ledger_one_charge_per_payment ON ledger_transactions (payment_id)
    WHERE kind = 'charge';
CREATE UNIQUE INDEX ledger_one_transaction_per_refund ON ledger_transactions (refund_id)
    WHERE refund_id IS NOT NULL;
CREATE INDEX ledger_transactions_by_time ON ledger_transactions (occurred_at);

CREATE TABLE ledger_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id bigint NOT NULL,
    account_id     bigint NOT NULL,
    currency       text NOT NULL,
    amount         bigint NOT NULL CHECK (amount <> 0),
    -- An entry's currency is its transaction's and its account's.
    FOREIGN KEY (transaction_id, currency) REFERENCES ledger_transactions (id, currency),
    FOREIGN KEY (account_id, currency) REFERENCES ledger_accounts (id, currency)
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id, transaction_id);
CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id);

-- At commit: every transaction touched has at least two entries and sums to zero.
CREATE FUNCTION ledger_transaction_balances() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    checked bigint;
    total   numeric;
    lines   bigint;
BEGIN
    IF TG_TABLE_NAME = 'ledger_entries' THEN
        checked := NEW.transaction_id;
    ELSE
        checked := NEW.id;
    END IF;
    SELECT coalesce(sum(amount), 0), count(*) INTO total, lines
      FROM ledger_entries WHERE transaction_id = checked;
    IF total <> 0 OR lines < 2 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (% entries, sum %)',
            checked, lines, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_entries_balance
    AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();
CREATE CONSTRAINT TRIGGER ledger_transactions_balance
    AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();

-- Booked is booked: corrections are new transactions, never edits.
CREATE FUNCTION ledger_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER ledger_transactions_append_only
    BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER ledger_entries_append_only
    BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER hospital_agreements_append_only
    BEFORE UPDATE OR DELETE ON hospital_agreements
    FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_transactions, ledger_entries FROM medmarket_app;
