-- The application logs in as a role of its own, not as the owner that runs migrations:
-- ``medmarket_web`` holds only ``medmarket_app``'s privileges, so even a session that runs
-- RESET ROLE cannot rewrite the audit trail, the ledger or the credential checks.
-- It has no password here; where the server asks for one, set it
-- (ALTER ROLE medmarket_web PASSWORD '...') and give it as MEDMARKET_DATABASE_APP_PASSWORD.
DO $$
BEGIN
    CREATE ROLE medmarket_web LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

DO $$
BEGIN
    GRANT medmarket_app TO medmarket_web;
EXCEPTION WHEN OTHERS THEN
    NULL;  -- already a member, or granted concurrently by another database's migration
END
$$;
