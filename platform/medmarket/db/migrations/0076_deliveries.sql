-- Deliveries by courier plugins (delivery/interface.py): what the core asked a courier to
-- carry, the waybill it got back, and every event the courier reported, by call-back or by
-- polling. The delivery domain knows nothing of what it carries: a delivery names its
-- purpose ("pharmacy_order") and subject, and the purpose's listener hears each event.
--
--   requested ──courier took the waybill──▶ created ──▶ picked_up ──▶ in_transit ──▶ delivered
--                                             └───────────┴──────────────┴──▶ failed ──▶ returned
--   requested, created ──cancelled──▶ cancelled
--
-- A delivery is committed (requested) before the courier is called, with its own reference,
-- and dispatched from the outbox: a crash between the courier's answer and our commit is
-- healed by dispatching again with the same reference, which the courier answers with the
-- same waybill.

CREATE TABLE deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- What the courier is given as DeliveryRequest.reference: the same on every retry.
    reference       text NOT NULL UNIQUE CHECK (reference ~ '^dlv_[0-9a-f]{32}$'),
    courier_id      text NOT NULL CHECK (length(courier_id) BETWEEN 1 AND 100),
    purpose         text NOT NULL CHECK (purpose ~ '^[a-z][a-z_]{0,39}$'),
    subject_id      uuid NOT NULL,
    -- The DeliveryRequest as sent (addresses, parcel, handover code).
    request         jsonb NOT NULL,
    cold_chain      boolean NOT NULL,
    status          text NOT NULL DEFAULT 'requested' CHECK (status IN (
                        'requested', 'created', 'picked_up', 'in_transit', 'delivered',
                        'failed', 'returned', 'cancelled')),
    tracking_number text CHECK (length(tracking_number) BETWEEN 1 AND 100),
    label_url       text CHECK (length(label_url) BETWEEN 1 AND 2000),
    dispatched_at   timestamptz,
    -- Proof of delivery as the courier gave it (recipient, time, code or photo).
    proof           jsonb,
    failure_reason  text CHECK (length(failure_reason) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    -- When the core last asked the courier where the parcel is.
    polled_at       timestamptz,
    CONSTRAINT deliveries_dispatched_with_waybill
        CHECK ((status IN ('requested', 'cancelled')) OR tracking_number IS NOT NULL),
    CONSTRAINT deliveries_delivered_with_proof CHECK ((status = 'delivered') <= (proof IS NOT NULL)),
    UNIQUE (courier_id, tracking_number)
);
-- One delivery per subject (an order is sent once).
CREATE UNIQUE INDEX deliveries_one_per_subject ON deliveries (purpose, subject_id);
-- The polling job's work: parcels on their way.
CREATE INDEX deliveries_on_their_way ON deliveries (polled_at NULLS FIRST)
    WHERE status IN ('created', 'picked_up', 'in_transit', 'failed');

-- Each event once: by the courier's event id, or by status and time when it has none.
CREATE TABLE delivery_events (
    delivery_id uuid NOT NULL REFERENCES deliveries (id),
    event_key   text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 200),
    status      text NOT NULL CHECK (status IN (
                    'created', 'picked_up', 'in_transit', 'delivered', 'failed', 'returned',
                    'cancelled')),
    at          timestamptz NOT NULL,
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    reason      text CHECK (length(reason) BETWEEN 1 AND 200),
    proof       jsonb,
    source      text NOT NULL CHECK (source IN ('dispatch', 'callback', 'poll', 'core')),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery_id, event_key)
);
CREATE INDEX delivery_events_in_order ON delivery_events (delivery_id, at);

-- Where a delivery may go next; delivery/states.py names the same moves (a test compares).
CREATE FUNCTION deliveries_move_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('requested', 'created'), ('requested', 'cancelled'),
        ('created', 'picked_up'), ('created', 'in_transit'), ('created', 'delivered'),
        ('created', 'failed'), ('created', 'cancelled'),
        ('picked_up', 'in_transit'), ('picked_up', 'delivered'), ('picked_up', 'failed'),
        ('in_transit', 'delivered'), ('in_transit', 'failed'),
        ('failed', 'returned'), ('failed', 'in_transit'), ('failed', 'delivered')
    ) THEN
        RAISE EXCEPTION 'a delivery cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'deliveries_status_transition';
    END IF;
    IF (NEW.reference, NEW.courier_id, NEW.purpose, NEW.subject_id, NEW.request)
       IS DISTINCT FROM (OLD.reference, OLD.courier_id, OLD.purpose, OLD.subject_id, OLD.request)
       OR (OLD.tracking_number IS NOT NULL
           AND NEW.tracking_number IS DISTINCT FROM OLD.tracking_number) THEN
        RAISE EXCEPTION 'a delivery keeps what was asked and its waybill'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'deliveries_frozen';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER deliveries_state_machine BEFORE UPDATE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION deliveries_move_forward();

CREATE TRIGGER deliveries_no_delete BEFORE DELETE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
CREATE TRIGGER delivery_events_no_delete BEFORE DELETE ON delivery_events
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
REVOKE DELETE, TRUNCATE ON deliveries, delivery_events FROM medmarket_app;
