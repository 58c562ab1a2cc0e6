-- Chinese names are typed without the space a record may hold between family and given name:
-- "张三丰" must find "张 三丰". The stored search text carries the name both ways.

CREATE FUNCTION doctor_search_words(full_name text, specialties text[], department text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(full_name || ' ' || replace(full_name, ' ', '') || ' '
                 || array_to_string(specialties, ' ') || ' ' || coalesce(department, ''))
$$;

-- Dropping the column drops its trigram index too.
ALTER TABLE doctors DROP COLUMN search_text;
DROP FUNCTION doctor_search_text(text, text[], text);
ALTER TABLE doctors
    ADD COLUMN search_text text
        GENERATED ALWAYS AS (doctor_search_words(full_name, specialties, department)) STORED;
CREATE INDEX doctors_search_trgm ON doctors USING gin (search_text gin_trgm_ops);
