-- The drug catalog: one row per product (generic name, dosage form, strength), coded with its
-- WHO ATC code. Prescriptions, stock and prices refer to a drug by its id, so a drug is never
-- deleted: it is retired (no longer offered) and keeps its row.

CREATE TABLE drugs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- 通用名 as the national essential-medicines list writes it (the active ingredient,
    -- without the dosage form), and the INN as WHO writes it.
    generic_name_zh  text NOT NULL
                     CHECK (length(generic_name_zh) BETWEEN 1 AND 100
                            AND generic_name_zh = btrim(generic_name_zh)),
    generic_name_en  text NOT NULL
                     CHECK (length(generic_name_en) BETWEEN 1 AND 200
                            AND generic_name_en = btrim(generic_name_en)),
    -- Other names people type: aspirin, acetaminophen, 扑热息痛.
    aliases          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(aliases) <= 10),
    dosage_form      text NOT NULL CHECK (dosage_form IN (
                         'tablet', 'enteric_coated_tablet', 'sustained_release_tablet',
                         'controlled_release_tablet', 'dispersible_tablet', 'chewable_tablet',
                         'sublingual_tablet', 'effervescent_tablet', 'vaginal_tablet',
                         'capsule', 'enteric_coated_capsule', 'sustained_release_capsule',
                         'granules', 'powder', 'oral_solution', 'syrup', 'oral_suspension',
                         'injection', 'powder_for_injection', 'injectable_emulsion',
                         'inhalation_aerosol', 'inhalation_powder', 'inhalation_solution',
                         'nasal_spray', 'nasal_drops', 'eye_drops', 'eye_ointment', 'eye_gel',
                         'ear_drops', 'ointment', 'cream', 'gel', 'topical_solution',
                         'suppository', 'transdermal_patch')),
    -- The amount per dose unit (tablet, vial, puff) or the concentration of a liquid;
    -- combinations list each ingredient's amount in the order of the name: 500/125.
    strength         text NOT NULL
                     CHECK (strength ~ '^[0-9]+(\.[0-9]+)?(/[0-9]+(\.[0-9]+)?)*$'
                            AND length(strength) <= 40),
    unit             text NOT NULL CHECK (unit IN (
                         'mg', 'g', 'μg', 'IU', 'U', '%', 'mg/mL', 'μg/mL', 'IU/mL', 'U/mL',
                         'μg/dose', 'MBq/mL')),
    route            text NOT NULL CHECK (route IN (
                         'oral', 'sublingual', 'inhalation', 'nasal', 'ophthalmic', 'otic',
                         'cutaneous', 'transdermal', 'rectal', 'vaginal', 'intravenous',
                         'intramuscular', 'subcutaneous', 'parenteral', 'local_injection')),
    -- Level 5 (chemical substance) of the WHO ATC classification; its levels are prefixes
    -- (atc_level below): allergy by class and duplicate therapy compare them.
    atc_code         text NOT NULL CHECK (atc_code ~ '^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$'),
    prescription_only boolean NOT NULL,
    -- China's specially managed drugs (特殊管理药品), which may not be prescribed online.
    special_class    text CHECK (special_class IN (
                         'narcotic', 'psychotropic_1', 'psychotropic_2', 'medical_toxic',
                         'radioactive', 'precursor', 'doping')),
    -- Computed from the Chinese names when a drug is saved (pypinyin): the generic name's
    -- first, then each Chinese alias's, separated by spaces. "阿莫西林" is "amxl" / "amoxilin".
    pinyin_initials  text NOT NULL CHECK (pinyin_initials ~ '^[a-z0-9]*( [a-z0-9]+)*$'),
    pinyin           text NOT NULL CHECK (pinyin ~ '^[a-z0-9]*( [a-z0-9]+)*$'),
    source           text NOT NULL CHECK (source IN ('seed', 'operator')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    retired_at       timestamptz,
    CONSTRAINT drugs_prescription_only_check CHECK (special_class IS NULL OR prescription_only)
);

-- One row per product: the same generic name, form and strength twice is a duplicate,
-- whichever language names it (English without regard to case).
CREATE UNIQUE INDEX drugs_product_zh ON drugs (generic_name_zh, dosage_form, strength, unit);
CREATE UNIQUE INDEX drugs_product_en ON drugs (lower(generic_name_en), dosage_form, strength, unit);

-- The ATC level of a code: 1 anatomical main group (C), 2 therapeutic subgroup (C08),
-- 3 pharmacological subgroup (C08C), 4 chemical subgroup (C08CA), 5 substance (C08CA01).
CREATE FUNCTION atc_level(code text, level integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE level WHEN 1 THEN left(code, 1) WHEN 2 THEN left(code, 3)
                      WHEN 3 THEN left(code, 4) WHEN 4 THEN left(code, 5)
                      WHEN 5 THEN left(code, 7) END
$$;
-- "Every drug in C08CA" is a prefix search.
CREATE INDEX drugs_by_atc ON drugs (atc_code text_pattern_ops);

-- What search-as-you-type matches: both names, the aliases, the pinyin and the ATC code,
-- lower-cased. Declared immutable so it can be stored; array_to_string of text[] is
-- deterministic.
CREATE FUNCTION drug_search_words(
    generic_name_zh text, generic_name_en text, aliases text[], pinyin_initials text,
    pinyin text, atc_code text
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(generic_name_zh || ' ' || generic_name_en || ' '
                 || array_to_string(aliases, ' ') || ' ' || pinyin_initials || ' ' || pinyin
                 || ' ' || atc_code)
$$;
ALTER TABLE drugs
    ADD COLUMN search_text text GENERATED ALWAYS AS (
        drug_search_words(generic_name_zh, generic_name_en, aliases, pinyin_initials, pinyin,
                          atc_code)) STORED;
-- Substring (LIKE '%...%') and typo-tolerant (word_similarity, <%) matches, Chinese included.
CREATE INDEX drugs_search_trgm ON drugs USING gin (search_text gin_trgm_ops);

-- Retired, never deleted: prescriptions keep pointing at the drugs they named.
CREATE FUNCTION drugs_are_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'drugs are retired, never deleted (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER drugs_no_delete BEFORE DELETE ON drugs
    FOR EACH ROW EXECUTE FUNCTION drugs_are_never_deleted();
CREATE TRIGGER drugs_no_truncate BEFORE TRUNCATE ON drugs
    FOR EACH STATEMENT EXECUTE FUNCTION drugs_are_never_deleted();
REVOKE DELETE, TRUNCATE ON drugs FROM medmarket_app;
