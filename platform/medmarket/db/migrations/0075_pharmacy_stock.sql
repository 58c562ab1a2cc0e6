-- What a dispensing pharmacy sells and where it delivers: its stock and prices of catalog
-- drugs, and its delivery area. A patient's order (migration 0080) goes to a pharmacy that
-- stocks every item of the prescription, and by courier only where the pharmacy delivers.

-- A drug that must be kept at 2–8 °C (insulin, vaccines, some biologics): a courier carries
-- it cold or not at all (delivery/interface.py, Parcel.cold_chain).
ALTER TABLE drugs ADD COLUMN cold_chain boolean NOT NULL DEFAULT false;
-- A database seeded before this column holds the seed's drugs all false; the seed file
-- (drugs/data/essential_medicines.csv, column cold_chain) marks these, and loading it
-- again leaves existing rows alone, so they are marked here: insulins (A10A), immune sera
-- and immunoglobulins (J06), vaccines (J07), and the other 2–8 °C products by their seed
-- ids (uuid5 of their keys, drugs/seed.py). Operators' own drugs are theirs to mark.
UPDATE drugs SET cold_chain = true
 WHERE source = 'seed'
   AND (atc_code LIKE 'A10A%' OR atc_code LIKE 'J06%' OR atc_code LIKE 'J07%'
        OR id IN (
            'eef2dc7c-cfbe-5fdc-8999-1feafb6ea9a7',  -- epoetin-alfa-inj-3000iu-ml
            '623f1ddd-235b-5f79-83fb-5bb9a8ab7c33',  -- interferon-alfa-2b-inj-3000000iu-ml
            '3378d75d-191d-5552-8ffc-edc65999ad84',  -- oxytocin-inj-10iu-ml
            '760513de-db77-5554-a8e0-adba66163327',  -- octreotide-inj-0.1mg-ml
            'd563a515-6462-59d3-ba40-f0612256e38b',  -- vincristine-inj-1mg
            'db57cd94-4973-5129-85dd-596a387ef5f3',  -- suxamethonium-inj-50mg-ml
            '82b4f8a4-759c-59fd-b651-26ca008b6f44',  -- rocuronium-inj-10mg-ml
            'cdc8327b-d9ee-5812-9780-254b1aeac2e2',  -- botulinum-toxin-a-inj-100u
            'a74c93af-59f3-5a1e-8865-d3f81ecfc7d8',  -- latanoprost-eye-0.005pct
            '1b23d620-7cac-561d-bab5-aefca47ce3f0'   -- urokinase-inj-100000iu
        ));

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
