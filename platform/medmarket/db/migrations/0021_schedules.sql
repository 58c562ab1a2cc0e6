-- What a doctor offers (consultation kinds and prices), when they are available, and the
-- bookable slots generated from that availability.

CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE consult_offerings (
    doctor_id                uuid NOT NULL REFERENCES doctors (id),
    kind                     text NOT NULL CHECK (kind IN ('video', 'text')),
    price_fen                integer NOT NULL CHECK (price_fen BETWEEN 100 AND 10000000),
    currency                 text NOT NULL DEFAULT 'CNY' CHECK (currency = 'CNY'),
    slot_minutes             integer NOT NULL CHECK (slot_minutes IN (10, 15, 20, 30, 45, 60)),
    -- Cancellation policy: free until this many hours before the start, then this share back.
    free_cancel_hours        integer NOT NULL DEFAULT 24 CHECK (free_cancel_hours BETWEEN 0 AND 168),
    late_cancel_refund_percent integer NOT NULL DEFAULT 50
                             CHECK (late_cancel_refund_percent BETWEEN 0 AND 100),
    active                   boolean NOT NULL DEFAULT true,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doctor_id, kind)
);
CREATE INDEX offerings_by_price ON consult_offerings (kind, price_fen) WHERE active;

-- Weekly windows in the doctor's own time zone (doctors.time_zone).
CREATE TABLE weekly_availability (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id  uuid NOT NULL REFERENCES doctors (id),
    weekday    smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO: Monday = 1
    starts_at  time NOT NULL,
    ends_at    time NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX weekly_availability_by_doctor ON weekly_availability (doctor_id);

-- A local date on which the week's windows do not apply ('unavailable', whole day or a
-- part of it) or an extra window is open ('extra').
CREATE TABLE availability_exceptions (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id  uuid NOT NULL REFERENCES doctors (id),
    on_date    date NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('unavailable', 'extra')),
    starts_at  time,
    ends_at    time,
    CHECK ((starts_at IS NULL) = (ends_at IS NULL)),
    CHECK (ends_at IS NULL OR ends_at > starts_at),
    CHECK (kind = 'unavailable' OR starts_at IS NOT NULL)
);
CREATE INDEX availability_exceptions_by_doctor ON availability_exceptions (doctor_id, on_date);

-- Published slots, in UTC. ``state`` mirrors the live booking (if any) so search can find
-- free time with an index; the bookings table's exclusion constraint is what actually
-- guarantees one booking per stretch of a doctor's time.
CREATE TABLE slots (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    doctor_id   uuid NOT NULL REFERENCES doctors (id),
    kind        text NOT NULL DEFAULT 'video' CHECK (kind IN ('video', 'text')),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'held', 'booked', 'withdrawn')),
    held_until  timestamptz,
    CHECK (ends_at > starts_at),
    CHECK ((state = 'held') = (held_until IS NOT NULL)),
    UNIQUE (doctor_id, starts_at),
    EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (state <> 'withdrawn')
);

-- A slot is free when nobody holds it, or the hold has run out (the sweeper may not have
-- released it yet). Simple enough for the planner to inline.
CREATE FUNCTION slot_is_free(state text, held_until timestamptz) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT state = 'open' OR (state = 'held' AND held_until < now())
$$;

-- Text the storefront's free-text search matches: name, specialties, department. Declared
-- immutable so it can be indexed; array_to_string of text[] is deterministic.
CREATE FUNCTION doctor_search_text(full_name text, specialties text[], department text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(full_name || ' ' || array_to_string(specialties, ' ') || ' '
                 || coalesce(department, ''))
$$;
CREATE INDEX doctors_search_trgm ON doctors
    USING gin (doctor_search_text(full_name, specialties, department) gin_trgm_ops);
CREATE INDEX doctors_specialties ON doctors USING gin (specialties);
CREATE INDEX doctors_languages ON doctors USING gin (languages);
