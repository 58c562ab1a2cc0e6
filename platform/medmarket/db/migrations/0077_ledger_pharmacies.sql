-- Pharmacies in the ledger: a payment may name the pharmacy it pays (a pharmacy order), and
-- the money is then the pharmacy's, less the platform's commission
-- (MEDMARKET_PHARMACY_PLATFORM_RATE_BP). There is no doctor's or hospital's share of such a
-- payment: a hospital's own pharmacy is named by its pharmacy alone, and its hospital's
-- admins read its statement through pharmacies.hospital_id.

ALTER TABLE payments ADD COLUMN pharmacy_id uuid REFERENCES pharmacies (id);
-- A payment pays a pharmacy or a doctor (and their hospital), never both.
ALTER TABLE payments ADD CONSTRAINT payments_pharmacy_alone
    CHECK (pharmacy_id IS NULL OR (doctor_id IS NULL AND hospital_id IS NULL));
CREATE INDEX payments_by_pharmacy ON payments (pharmacy_id) WHERE pharmacy_id IS NOT NULL;

-- pharmacy_payable: owed to a pharmacy, one account per pharmacy and currency, like a
-- doctor's or a hospital's.
ALTER TABLE ledger_accounts ADD COLUMN pharmacy_id uuid REFERENCES pharmacies (id);
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN (
    'gateway_clearing', 'platform_commission', 'doctor_payable', 'hospital_payable',
    'pharmacy_payable'));
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_pharmacy_check
    CHECK ((pharmacy_id IS NOT NULL) = (kind = 'pharmacy_payable'));
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_identity;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_identity
    UNIQUE NULLS NOT DISTINCT (kind, gateway_id, doctor_id, hospital_id, pharmacy_id, currency);
