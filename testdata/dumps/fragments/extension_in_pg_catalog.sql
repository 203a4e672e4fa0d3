CREATE EXTENSION IF NOT EXISTS pg_cron WITH SCHEMA pg_catalog;

COMMENT ON EXTENSION pg_cron IS 'Job scheduler for PostgreSQL';

CREATE EXTENSION IF NOT EXISTS plpgsql WITH SCHEMA pg_catalog;

COMMENT ON EXTENSION plpgsql IS 'PL/pgSQL procedural language';

GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION;
