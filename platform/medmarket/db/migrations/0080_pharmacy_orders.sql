-- Pharmacy orders: a patient turns an approved prescription into medicine at their door or
-- at a pharmacy's counter, and pays for it (payment purpose "pharmacy_order").
--
--   created ──paid──▶ paid ──pharmacy accepts──▶ accepted ──▶ packed ──▶ dispatched ──▶ in_transit ──▶ delivered
--     │                │                         │                          └──────────┴──▶ failed ──▶ returned ──▶ refunded
--     │                │                         └──(self-pickup) ready ──pickup code──▶ collected
--     │                ├──pharmacy: part out of stock──▶ short ──patient agrees──▶ accepted (partial refund)
--     │                │                                   └──patient declines──▶ rejected
--     │                ├──pharmacy: out of stock──▶ rejected ──▶ refunded
--     │                └──patient cancels──▶ cancelled ──▶ refunded
--     └──patient cancels, or unpaid by pay_by──▶ cancelled
--
-- orders/states.py names the same moves (a test compares them). A prescription is filled
-- once: at most one order of it is live (not cancelled, rejected or refunded), whoever
-- orders and however many at once; the pharmacy's acceptance dispenses the prescription.

CREATE TABLE pharmacy_orders (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    prescription_id   uuid NOT NULL REFERENCES prescriptions (id),
    patient_id        uuid NOT NULL REFERENCES patients (id),
    -- The account that ordered and pays (the patient's, or the parent's of a child).
    account_id        uuid NOT NULL REFERENCES users (id),
    pharmacy_id       uuid NOT NULL REFERENCES pharmacies (id),
    fulfilment        text NOT NULL CHECK (fulfilment IN ('delivery', 'pickup')),
    -- Delivery: the address-book entry it was taken from, and the address as it was then.
    address_id        uuid REFERENCES patient_addresses (id),
    dropoff           jsonb,
    courier_id        text CHECK (length(courier_id) BETWEEN 1 AND 100),
    quote_id          text CHECK (length(quote_id) BETWEEN 1 AND 200),
    drugs_fen         integer NOT NULL CHECK (drugs_fen > 0),
    delivery_fen      integer NOT NULL CHECK (delivery_fen >= 0),
    total_fen         integer GENERATED ALWAYS AS (drugs_fen + delivery_fen) STORED,
    currency          text NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
    cold_chain        boolean NOT NULL DEFAULT false,
    -- What the patient shows at the counter (pickup) or the courier asks at the door.
    handover_code     text NOT NULL CHECK (handover_code ~ '^[0-9]{6}$'),
    status            text NOT NULL DEFAULT 'created' CHECK (status IN (
                          'created', 'paid', 'accepted', 'short', 'packed', 'dispatched',
                          'in_transit', 'delivered', 'ready', 'collected', 'failed',
                          'returned', 'rejected', 'cancelled', 'refunded')),
    pay_by            timestamptz NOT NULL,
    paid_at           timestamptz,
    -- Why the pharmacy rejected it, or the delivery failed.
    reason            text CHECK (length(reason) BETWEEN 1 AND 500),
    created_at        timestamptz NOT NULL DEFAULT now(),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pharmacy_orders_delivery_address CHECK (
        (fulfilment = 'delivery') = (dropoff IS NOT NULL AND courier_id IS NOT NULL)
        AND (fulfilment = 'delivery' OR delivery_fen = 0)),
    CONSTRAINT pharmacy_orders_paid_at CHECK (
        CASE status WHEN 'created' THEN paid_at IS NULL
                    WHEN 'cancelled' THEN true
                    ELSE paid_at IS NOT NULL END),
    CONSTRAINT pharmacy_orders_pickup_states CHECK (
        fulfilment = 'pickup'
        OR status NOT IN ('ready', 'collected')),
    CONSTRAINT pharmacy_orders_delivery_states CHECK (
        fulfilment = 'delivery'
        OR status NOT IN ('packed', 'dispatched', 'in_transit', 'delivered', 'failed', 'returned'))
);
-- The database decides between two orders of one prescription placed at the same instant.
CREATE UNIQUE INDEX pharmacy_orders_one_per_prescription ON pharmacy_orders (prescription_id)
    WHERE status NOT IN ('cancelled', 'rejected', 'refunded');
CREATE INDEX pharmacy_orders_by_account ON pharmacy_orders (account_id, created_at DESC);
CREATE INDEX pharmacy_orders_by_pharmacy ON pharmacy_orders (pharmacy_id, created_at DESC);
CREATE INDEX pharmacy_orders_unpaid ON pharmacy_orders (pay_by) WHERE status = 'created';

-- The prescription's items as ordered, at the pharmacy's price then. A pharmacy short of an
-- item marks it unavailable; the patient who agrees is refunded its line.
CREATE TABLE pharmacy_order_items (
    order_id       uuid NOT NULL REFERENCES pharmacy_orders (id),
    position       integer NOT NULL CHECK (position BETWEEN 0 AND 19),
    drug_id        uuid NOT NULL REFERENCES drugs (id),
    quantity       numeric(12, 4) NOT NULL CHECK (quantity > 0),
    unit           text NOT NULL,
    unit_price_fen integer NOT NULL CHECK (unit_price_fen > 0),
    line_fen       integer NOT NULL CHECK (line_fen > 0),
    available      boolean NOT NULL DEFAULT true,
    PRIMARY KEY (order_id, position)
);

-- What happened to an order, in order: every status it went through, with who and when,
-- and what the courier reported on the way. The patient's order page shows it.
CREATE TABLE pharmacy_order_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES pharmacy_orders (id),
    status   text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now(),
    actor_id uuid REFERENCES users (id),
    note     text NOT NULL DEFAULT '' CHECK (length(note) <= 500)
);
CREATE INDEX pharmacy_order_events_by_order ON pharmacy_order_events (order_id, at, id);

CREATE FUNCTION pharmacy_orders_move_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    -- total_fen is generated: a BEFORE trigger sees it unset in NEW.
    changeable CONSTANT text[] := ARRAY['status', 'status_changed_at', 'paid_at', 'reason', 'total_fen'];
BEGIN
    IF to_jsonb(NEW) - changeable IS DISTINCT FROM to_jsonb(OLD) - changeable THEN
        RAISE EXCEPTION 'an order keeps what was ordered; only its status moves'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pharmacy_orders_frozen';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('created', 'paid'), ('created', 'cancelled'),
        ('paid', 'accepted'), ('paid', 'short'), ('paid', 'rejected'), ('paid', 'cancelled'),
        ('short', 'accepted'), ('short', 'rejected'),
        ('accepted', 'packed'), ('accepted', 'ready'),
        ('packed', 'dispatched'),
        ('dispatched', 'in_transit'), ('dispatched', 'delivered'), ('dispatched', 'failed'),
        ('in_transit', 'delivered'), ('in_transit', 'failed'),
        ('failed', 'in_transit'), ('failed', 'delivered'), ('failed', 'returned'),
        ('ready', 'collected'),
        ('returned', 'refunded'), ('rejected', 'refunded'), ('cancelled', 'refunded')
    ) THEN
        RAISE EXCEPTION 'an order cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pharmacy_orders_status_transition';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pharmacy_orders_state_machine BEFORE UPDATE ON pharmacy_orders
    FOR EACH ROW EXECUTE FUNCTION pharmacy_orders_move_forward();

-- Items are frozen except the pharmacy's "not available" (while the order waits for it).
CREATE FUNCTION pharmacy_order_items_keep_what_was_ordered() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.order_id, NEW.position, NEW.drug_id, NEW.quantity, NEW.unit, NEW.unit_price_fen,
        NEW.line_fen) IS DISTINCT FROM (OLD.order_id, OLD.position, OLD.drug_id, OLD.quantity,
        OLD.unit, OLD.unit_price_fen, OLD.line_fen) THEN
        RAISE EXCEPTION 'an order''s items keep what was ordered'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pharmacy_order_items_frozen';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pharmacy_orders o WHERE o.id = NEW.order_id
                      AND o.status = 'paid') THEN
        RAISE EXCEPTION 'items are marked unavailable only while the pharmacy decides'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pharmacy_order_items_frozen';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pharmacy_order_items_frozen BEFORE UPDATE ON pharmacy_order_items
    FOR EACH ROW EXECUTE FUNCTION pharmacy_order_items_keep_what_was_ordered();

CREATE TRIGGER pharmacy_orders_no_delete BEFORE DELETE ON pharmacy_orders
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
CREATE TRIGGER pharmacy_order_items_no_delete BEFORE DELETE ON pharmacy_order_items
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
CREATE TRIGGER pharmacy_order_events_no_delete BEFORE DELETE ON pharmacy_order_events
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
REVOKE DELETE, TRUNCATE ON pharmacy_orders, pharmacy_order_items, pharmacy_order_events
    FROM medmarket_app;
