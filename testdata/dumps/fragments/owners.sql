CREATE SCHEMA app;

ALTER SCHEMA app OWNER TO postgres;

CREATE SCHEMA public;

ALTER SCHEMA public OWNER TO pg_database_owner;

COMMENT ON SCHEMA public IS 'standard public schema';

CREATE TABLE app.settings (key text NOT NULL, value jsonb);

ALTER TABLE app.settings OWNER TO supabase_admin;

CREATE SEQUENCE app.counter START WITH 1;

ALTER SEQUENCE app.counter OWNER TO app_owner;

CREATE TYPE app.mood AS ENUM ('ok', 'sad');

ALTER TYPE app.mood OWNER TO dashboard_user;
