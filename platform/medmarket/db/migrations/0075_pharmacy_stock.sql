-- What a dispensing pharmacy sells and where it delivers: its stock and prices of catalog
-- drugs, and its delivery area. A patient's order (migration 0080) goes to a pharmacy that
-- stocks every item of the prescription, and by courier only where the pharmacy delivers.

-- A drug that must be kept at 2–8 °C (insulin, vaccines, some biologics): a courier carries
-- it cold or not at all (delivery/interface.py, Parcel.cold_chain).
ALTER TABLE drugs ADD COLUMN cold_chain boolean NOT NULL DEFAULT false;

-- One row per drug and unit of sale a pharmacy sells it in: a price per unit (what a
-- prescription item's quantity_unit counts: tablets, boxes, bottles), and how many units
-- it has on hand. The pharmacy edits these (or its plugin syncs them); accepting an order
-- takes its items off on_hand, which never goes below zero.
CREATE TABLE pharmacy_stock (
    pharmacy_id uuid NOT NULL REFERENCES pharmacies (id),
    drug_id     uuid NOT NULL REFERENCES drugs (id),
    unit        text NOT NULL CHECK (unit IN (
                    'tablet', 'capsule', 'sachet', 'vial', 'ampoule', 'bottle', 'tube',
                    'box', 'inhaler', 'patch', 'suppository', 'mL', 'g')),
    price_fen   integer NOT NULL CHECK (price_fen BETWEEN 1 AND 100000000),
    on_hand     numeric(12, 4) NOT NULL CHECK (on_hand >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  uuid REFERENCES users (id),
    PRIMARY KEY (pharmacy_id, drug_id, unit)
);
-- "Which pharmacies stock this drug": the order's pharmacy search.
CREATE INDEX pharmacy_stock_by_drug ON pharmacy_stock (drug_id, unit) WHERE on_hand > 0;

-- Where a pharmacy sends orders by courier: whole cities, or districts of them. Self-pickup
-- at the counter needs no area.
CREATE TABLE pharmacy_delivery_areas (
    pharmacy_id uuid NOT NULL REFERENCES pharmacies (id),
    province    text NOT NULL
                CHECK (length(province) BETWEEN 2 AND 50 AND province = btrim(province)),
    city        text NOT NULL CHECK (length(city) BETWEEN 2 AND 50 AND city = btrim(city)),
    -- NULL: the whole city.
    district    text CHECK (length(district) BETWEEN 2 AND 50 AND district = btrim(district)),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pharmacy_delivery_areas_once
    ON pharmacy_delivery_areas (pharmacy_id, province, city, coalesce(district, ''));
CREATE INDEX pharmacy_delivery_areas_by_place ON pharmacy_delivery_areas (province, city);

-- Whether a pharmacy delivers to an address: one definition for the search and the order.
CREATE FUNCTION pharmacy_delivers_to(
    pharmacy uuid, to_province text, to_city text, to_district text
) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM pharmacy_delivery_areas a
         WHERE a.pharmacy_id = pharmacy AND a.province = to_province AND a.city = to_city
           AND (a.district IS NULL OR a.district = to_district))
$$;
