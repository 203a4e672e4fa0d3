-- Supabase-like source fixture, step 1 of 4: cluster-global roles.
--
-- Run as a superuser. Roles are global to the cluster while the other fixture
-- files are per database, so this file must be safe to run once per seeded
-- database: every role is created only when missing, and the GRANTs and
-- ALTER ROLE ... SET that follow are idempotent by nature. It is one DO
-- block so that parallel runs can be serialised (see the LOCK below).
--
-- Attributes follow supabase/postgres init scripts and later role migrations
-- (see /work/shared/SUPABASE_FACTS.md §2). Passwords are deliberately absent:
-- the test clusters use trust auth and the migrator must never need them.
-- No psql meta-commands anywhere in the fixture, so the files also load
-- through a plain driver as one simple-query batch each.

DO $roles$
DECLARE
  -- name, attributes for CREATE ROLE
  spec text[][] := ARRAY[
    ['anon',                   'NOLOGIN INHERIT'],
    ['authenticated',          'NOLOGIN INHERIT'],
    -- BYPASSRLS is what the target cannot give a non-superuser: keep it here
    ['service_role',           'NOLOGIN INHERIT BYPASSRLS'],
    -- PostgREST's login role: NOINHERIT so it only gets rights via SET ROLE
    ['authenticator',          'LOGIN NOINHERIT'],
    ['supabase_admin',         'SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS LOGIN'],
    -- CREATEROLE was revoked from the auth admin in 2026-08; model the current state
    ['supabase_auth_admin',    'LOGIN NOINHERIT NOREPLICATION'],
    ['supabase_storage_admin', 'LOGIN NOINHERIT CREATEROLE NOREPLICATION'],
    ['dashboard_user',         'NOLOGIN CREATEDB CREATEROLE REPLICATION']
  ];
  i int;
BEGIN
  -- Tests may seed several databases of one cluster in parallel. Role
  -- catalogs are cluster-wide, so serialise on pg_authid (advisory locks are
  -- per database and would not help); logins only need ACCESS SHARE.
  LOCK TABLE pg_catalog.pg_authid IN SHARE ROW EXCLUSIVE MODE;

  FOR i IN 1 .. array_length(spec, 1) LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = spec[i][1]) THEN
      EXECUTE format('CREATE ROLE %I %s', spec[i][1], spec[i][2]);
    END IF;
  END LOOP;

  -- On Supabase "postgres" is a demoted (non-superuser) admin. In a test
  -- cluster it is usually the bootstrap superuser already: then it is left
  -- exactly as it is, because demoting it would lock the test rig out.
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'postgres') THEN
    CREATE ROLE postgres NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS;
  END IF;

  IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'postgres') THEN
    -- the memberships Supabase gives its demoted postgres
    GRANT anon, authenticated, service_role TO postgres;
    GRANT pg_read_all_data, pg_monitor, pg_signal_backend TO postgres;
    ALTER ROLE postgres SET search_path = "$user", public, extensions;
  END IF;

  -- PostgREST switches from authenticator to the API roles per request.
  GRANT anon, authenticated, service_role TO authenticator;
  -- storage-api impersonates the API roles so RLS applies to its queries.
  GRANT anon, authenticated, service_role TO supabase_storage_admin;

  -- Per-role settings as on Supabase. The migrator must keep
  -- statement_timeout and drop the rest. authenticator's
  -- session_preload_libraries = 'safeupdate' is NOT set: on vanilla
  -- PostgreSQL it makes every authenticator login fail ("could not access
  -- file safeupdate"); tests for that rule add it themselves.
  ALTER ROLE anon                   SET statement_timeout = '3s';
  ALTER ROLE authenticated          SET statement_timeout = '8s';
  ALTER ROLE authenticator          SET statement_timeout = '8s';
  ALTER ROLE authenticator          SET lock_timeout = '8s';
  ALTER ROLE supabase_admin         SET search_path = "$user", public, auth, extensions;
  ALTER ROLE supabase_auth_admin    SET search_path = auth;
  ALTER ROLE supabase_auth_admin    SET idle_in_transaction_session_timeout = 60000;
  ALTER ROLE supabase_storage_admin SET search_path = storage;
END
$roles$;
