-- Bookings: a patient holds a slot while paying; payment confirms it. The exclusion
-- constraints make double-booking impossible in the database itself: no two live bookings
-- of one doctor's time overlap, and one person is not booked twice at the same time.

CREATE TABLE bookings (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slot_id            uuid NOT NULL REFERENCES slots (id),
    doctor_id          uuid NOT NULL REFERENCES doctors (id),
    patient_id         uuid NOT NULL REFERENCES patients (id),
    booked_by          uuid NOT NULL REFERENCES users (id),
    kind               text NOT NULL CHECK (kind IN ('video', 'text')),
    during             tstzrange NOT NULL CHECK (NOT isempty(during)),
    status             text NOT NULL CHECK (status IN (
                           'held', 'confirmed', 'expired', 'cancelled', 'completed', 'no_show',
                           'terminated')),
    hold_expires_at    timestamptz,
    price_fen          integer NOT NULL CHECK (price_fen > 0),
    currency           text NOT NULL DEFAULT 'CNY',
    -- The policy in force when the patient booked; later price or policy changes do not apply.
    free_cancel_hours  integer NOT NULL,
    late_cancel_refund_percent integer NOT NULL,
    -- A child under six must attend with a guardian.
    guardian_required  boolean NOT NULL DEFAULT false,
    -- Online care is for follow-up: the earlier offline diagnosis this visit follows.
    prior_institution  text NOT NULL CHECK (length(prior_institution) BETWEEN 2 AND 200),
    prior_diagnosed_on date NOT NULL,
    prior_diagnosis    text NOT NULL CHECK (length(prior_diagnosis) BETWEEN 2 AND 500),
    prior_document_id  uuid,
    consent_id         uuid NOT NULL REFERENCES health_data_consents (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    confirmed_at       timestamptz,
    ended_at           timestamptz,
    ended_by           uuid REFERENCES users (id),
    end_reason         text,
    refund_percent     integer CHECK (refund_percent BETWEEN 0 AND 100),
    -- Set when the doctor was suspended after this booking was made: patients must be told.
    flagged_reason     text,
    CHECK ((status = 'held') = (hold_expires_at IS NOT NULL)),
    EXCLUDE USING gist (doctor_id WITH =, during WITH &&) WHERE (status IN ('held', 'confirmed')),
    EXCLUDE USING gist (patient_id WITH =, during WITH &&) WHERE (status IN ('held', 'confirmed'))
);
CREATE INDEX bookings_by_account ON bookings (booked_by, lower(during) DESC);
CREATE INDEX bookings_by_doctor ON bookings (doctor_id, lower(during));
CREATE INDEX bookings_holds ON bookings (hold_expires_at) WHERE status = 'held';

CREATE TRIGGER bookings_need_consent
    BEFORE INSERT ON bookings
    FOR EACH ROW EXECUTE FUNCTION require_active_consent();

-- Reviews: one per completed booking, by the account that booked it; the doctor may reply.
CREATE TABLE reviews (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id  uuid NOT NULL UNIQUE REFERENCES bookings (id),
    doctor_id   uuid NOT NULL REFERENCES doctors (id),
    author_id   uuid NOT NULL REFERENCES users (id),
    rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body        text NOT NULL DEFAULT '' CHECK (length(body) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    reply       text CHECK (length(reply) <= 2000),
    replied_at  timestamptz,
    CHECK ((reply IS NULL) = (replied_at IS NULL))
);
CREATE INDEX reviews_by_doctor ON reviews (doctor_id, created_at DESC, id DESC);

-- The rating shown on the storefront, kept equal to the reviews by the database itself.
ALTER TABLE doctors
    ADD COLUMN review_count integer NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    ADD COLUMN rating_sum   integer NOT NULL DEFAULT 0 CHECK (rating_sum >= 0);

CREATE FUNCTION reviews_keep_rating() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE doctors SET review_count = review_count - 1, rating_sum = rating_sum - OLD.rating
         WHERE id = OLD.doctor_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE doctors SET review_count = review_count + 1, rating_sum = rating_sum + NEW.rating
         WHERE id = NEW.doctor_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER reviews_rating_aggregate
    AFTER INSERT OR UPDATE OF rating, doctor_id OR DELETE ON reviews
    FOR EACH ROW EXECUTE FUNCTION reviews_keep_rating();
