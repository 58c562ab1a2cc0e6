-- The patient account's address book: where drugs are delivered. An order copies the
-- address it is sent to (pharmacy_orders.dropoff), so editing or removing an entry later
-- never changes where an order went. Entries are removed, never deleted (an order's
-- address_id keeps pointing at the entry it was taken from).

CREATE TABLE patient_addresses (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES users (id),
    -- "家", "公司", "父母家": what the patient calls it.
    label       text CHECK (length(label) BETWEEN 1 AND 20 AND label = btrim(label)),
    recipient   text NOT NULL
                CHECK (length(recipient) BETWEEN 1 AND 60 AND recipient = btrim(recipient)),
    -- E.164, as every phone number is stored.
    phone       text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- As pharmacies' addresses (migration 0066): 省, 市, 区/县 (not every city has
    -- districts), then the street address.
    province    text NOT NULL
                CHECK (length(province) BETWEEN 2 AND 50 AND province = btrim(province)),
    city        text NOT NULL CHECK (length(city) BETWEEN 2 AND 50 AND city = btrim(city)),
    district    text CHECK (length(district) BETWEEN 2 AND 50 AND district = btrim(district)),
    street      text NOT NULL
                CHECK (length(street) BETWEEN 2 AND 200 AND street = btrim(street)),
    postal_code text CHECK (postal_code ~ '^[0-9]{6}$'),
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    removed_at  timestamptz,
    CONSTRAINT patient_addresses_removed_not_default CHECK (removed_at IS NULL OR NOT is_default)
);
CREATE INDEX patient_addresses_by_account ON patient_addresses (account_id)
    WHERE removed_at IS NULL;
-- At most one default address per account.
CREATE UNIQUE INDEX patient_addresses_one_default ON patient_addresses (account_id)
    WHERE is_default;

CREATE TRIGGER patient_addresses_no_delete BEFORE DELETE ON patient_addresses
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
REVOKE DELETE, TRUNCATE ON patient_addresses FROM medmarket_app;
