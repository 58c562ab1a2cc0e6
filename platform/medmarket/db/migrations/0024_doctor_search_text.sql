-- The storefront's free-text search matches a stored column rather than computing the text
-- for every doctor on every search; the trigram index moves to it.

ALTER TABLE doctors
    ADD COLUMN search_text text
        GENERATED ALWAYS AS (doctor_search_text(full_name, specialties, department)) STORED;

DROP INDEX doctors_search_trgm;
CREATE INDEX doctors_search_trgm ON doctors USING gin (search_text gin_trgm_ops);
CREATE INDEX hospitals_name_trgm ON hospitals USING gin (lower(name) gin_trgm_ops);
