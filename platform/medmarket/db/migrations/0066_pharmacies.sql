-- Partner pharmacies and the pharmacists who work in them. A pharmacy is a partner hospital's
-- own (kind 'hospital') or an independent licensed retail pharmacy. Pharmacists review
-- signed prescriptions routed to their pharmacy (审方, issue 13) and pharmacies that dispense
-- fill patients' orders (issue 14). What those build on a pharmacy hangs off its id in
-- tables of their own (stock and prices of catalog drugs by (pharmacy_id, drug_id), the
-- delivery area as rows of regions), so this table stays the pharmacy's own record.
--
-- Nothing here is ever deleted: a pharmacy is closed, a pharmacist's membership ended, and
-- prescriptions and orders keep pointing at both.

CREATE TABLE pharmacies (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name_zh               text NOT NULL
                          CHECK (length(name_zh) BETWEEN 2 AND 100 AND name_zh = btrim(name_zh)),
    name_en               text
                          CHECK (length(name_en) BETWEEN 2 AND 200 AND name_en = btrim(name_en)),
    kind                  text NOT NULL CHECK (kind IN ('hospital', 'independent')),
    -- The partner hospital whose own pharmacy this is; only hospital pharmacies have one.
    hospital_id           uuid REFERENCES hospitals (id),
    -- 药品经营许可证: what an independent (retail) pharmacy operates under. A hospital's own
    -- pharmacy dispenses under the hospital's licence to practise and need not have one.
    licence_number        text,
    -- Where it is, as people write an address in China: 省, 市, 区/县 (not every city has
    -- districts), then the street address.
    province              text NOT NULL
                          CHECK (length(province) BETWEEN 2 AND 50 AND province = btrim(province)),
    city                  text NOT NULL
                          CHECK (length(city) BETWEEN 2 AND 50 AND city = btrim(city)),
    district              text
                          CHECK (length(district) BETWEEN 2 AND 50 AND district = btrim(district)),
    address               text NOT NULL
                          CHECK (length(address) BETWEEN 2 AND 200 AND address = btrim(address)),
    -- E.164, as patients' phone numbers are stored.
    phone                 text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- Its pharmacists review prescriptions (审方), and it dispenses them (to a counter or by
    -- delivery); a pharmacy does one or both.
    reviews_prescriptions boolean NOT NULL,
    dispenses             boolean NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    created_by            uuid REFERENCES users (id),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    closed_at             timestamptz,
    CONSTRAINT pharmacies_hospital_id_check
        CHECK ((kind = 'hospital') = (hospital_id IS NOT NULL)),
    CONSTRAINT pharmacies_licence_number_check
        CHECK ((kind = 'hospital' OR licence_number IS NOT NULL)
               AND (licence_number IS NULL
                    OR (length(licence_number) BETWEEN 5 AND 40 AND licence_number !~ '\s'))),
    CONSTRAINT pharmacies_dispenses_check CHECK (reviews_prescriptions OR dispenses),
    CHECK (closed_at IS NULL OR closed_at >= created_at)
);
-- One open pharmacy per licence; a closed one's licence may be taken up by its successor.
CREATE UNIQUE INDEX pharmacies_open_licence ON pharmacies (licence_number)
    WHERE closed_at IS NULL;
CREATE INDEX pharmacies_by_hospital ON pharmacies (hospital_id) WHERE hospital_id IS NOT NULL;
CREATE INDEX pharmacies_open_dispensing ON pharmacies (province, city)
    WHERE closed_at IS NULL AND dispenses;

-- Opening hours: one row per window, in wall-clock time of the platform's calendar
-- (Asia/Shanghai). A day with no row is a closed day; a lunch break is two windows; a
-- window ends by 24:00 (PostgreSQL's time holds it), so a 24-hour pharmacy opens 00:00 to
-- 24:00 and a night that runs past midnight is two windows on two days. Windows of one day
-- never overlap. Rows rather than a document, so "open now" is a query.
CREATE TYPE time_of_day_range AS RANGE (subtype = time);

CREATE TABLE pharmacy_opening_hours (
    pharmacy_id uuid NOT NULL REFERENCES pharmacies (id),
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO: Monday = 1
    opens       time NOT NULL CHECK (opens < '24:00'),
    closes      time NOT NULL,
    CONSTRAINT pharmacy_opening_hours_closes_check CHECK (closes > opens),
    CONSTRAINT pharmacy_opening_hours_no_overlap EXCLUDE USING gist (
        pharmacy_id WITH =, weekday WITH =, time_of_day_range(opens, closes) WITH &&)
);

-- Who may manage a pharmacy: operators every one, a hospital's admins their hospital's own
-- (may_manage_hospital, migration 0010). One definition, used by every query that answers
-- "not found" to everyone else.
CREATE FUNCTION may_manage_pharmacy(viewer_role text, viewer_id uuid, pharmacy_hospital uuid)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT viewer_role = 'operator'
        OR (pharmacy_hospital IS NOT NULL
            AND may_manage_hospital(viewer_role, viewer_id, pharmacy_hospital))
$$;

-- A pharmacist's membership of a pharmacy, from joining to leaving. users.role must be
-- 'pharmacist': the foreign key names the role too (users (id, role) is unique since the
-- id is), so another role's account cannot be added, and a member's role cannot change.
ALTER TABLE users ADD CONSTRAINT users_id_role_key UNIQUE (id, role);

CREATE TABLE pharmacy_pharmacists (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pharmacy_id    uuid NOT NULL REFERENCES pharmacies (id),
    user_id        uuid NOT NULL,
    user_role      text NOT NULL DEFAULT 'pharmacist' CHECK (user_role = 'pharmacist'),
    -- 执业药师注册证号. May be recorded after joining (an invitation does not carry it);
    -- the review desk asks for it before a pharmacist reviews.
    licence_number text CHECK (length(licence_number) BETWEEN 5 AND 40
                               AND licence_number !~ '\s'),
    joined_at      timestamptz NOT NULL DEFAULT now(),
    joined_by      uuid REFERENCES users (id),
    left_at        timestamptz,
    left_by        uuid REFERENCES users (id),
    FOREIGN KEY (user_id, user_role) REFERENCES users (id, role),
    CHECK (left_at IS NULL OR left_at >= joined_at)
);
-- A pharmacist works in at most one pharmacy at a time, under a licence nobody else uses.
CREATE UNIQUE INDEX pharmacy_pharmacists_one_pharmacy ON pharmacy_pharmacists (user_id)
    WHERE left_at IS NULL;
CREATE UNIQUE INDEX pharmacy_pharmacists_live_licence ON pharmacy_pharmacists (licence_number)
    WHERE left_at IS NULL;
CREATE INDEX pharmacy_pharmacists_by_pharmacy ON pharmacy_pharmacists (pharmacy_id)
    WHERE left_at IS NULL;

-- A closed pharmacy is a record: it does not change again (closing is final; a pharmacy
-- that opens again is registered again), and a pharmacy never changes kind or hospital.
CREATE FUNCTION pharmacies_keep_their_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'pharmacy % is closed; its record no longer changes', OLD.id
            USING ERRCODE = 'check_violation', COLUMN = 'closed_at';
    END IF;
    IF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.hospital_id IS DISTINCT FROM OLD.hospital_id
    THEN
        RAISE EXCEPTION 'a pharmacy keeps its kind and hospital'
            USING ERRCODE = 'check_violation', COLUMN = 'kind';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pharmacies_record BEFORE UPDATE ON pharmacies
    FOR EACH ROW EXECUTE FUNCTION pharmacies_keep_their_record();

-- Pharmacists join open pharmacies only, and an ended membership stays ended (joining
-- again is a new row). The pharmacy's row is share-locked, so a membership and the closing
-- of its pharmacy cannot pass each other: closing waits, then ends the new membership too.
CREATE FUNCTION pharmacy_memberships_keep_their_record() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    closed timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.left_at IS NOT NULL THEN
            RAISE EXCEPTION 'this membership has ended; it no longer changes'
                USING ERRCODE = 'check_violation', COLUMN = 'left_at';
        END IF;
        IF NEW.pharmacy_id <> OLD.pharmacy_id OR NEW.user_id <> OLD.user_id
           OR NEW.joined_at <> OLD.joined_at THEN
            RAISE EXCEPTION 'a membership keeps its pharmacy, pharmacist and start'
                USING ERRCODE = 'check_violation', COLUMN = 'pharmacy_id';
        END IF;
        RETURN NEW;
    END IF;
    SELECT p.closed_at INTO closed FROM pharmacies p WHERE p.id = NEW.pharmacy_id FOR SHARE;
    IF closed IS NOT NULL AND NEW.left_at IS NULL THEN
        RAISE EXCEPTION 'pharmacy % is closed', NEW.pharmacy_id
            USING ERRCODE = 'check_violation', COLUMN = 'pharmacy_id';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pharmacy_memberships_record BEFORE INSERT OR UPDATE ON pharmacy_pharmacists
    FOR EACH ROW EXECUTE FUNCTION pharmacy_memberships_keep_their_record();

CREATE FUNCTION pharmacy_records_are_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% keeps every row: close or end instead (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER pharmacies_no_delete BEFORE DELETE ON pharmacies
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
CREATE TRIGGER pharmacies_no_truncate BEFORE TRUNCATE ON pharmacies
    FOR EACH STATEMENT EXECUTE FUNCTION pharmacy_records_are_never_deleted();
CREATE TRIGGER pharmacy_pharmacists_no_delete BEFORE DELETE ON pharmacy_pharmacists
    FOR EACH ROW EXECUTE FUNCTION pharmacy_records_are_never_deleted();
CREATE TRIGGER pharmacy_pharmacists_no_truncate BEFORE TRUNCATE ON pharmacy_pharmacists
    FOR EACH STATEMENT EXECUTE FUNCTION pharmacy_records_are_never_deleted();
REVOKE DELETE, TRUNCATE ON pharmacies, pharmacy_pharmacists FROM medmarket_app;
