-- Supabase-like source fixture, step 2 of 4: per-database platform objects.
--
-- Run as a superuser in a fresh UTF8 database, after 00_roles.sql.
-- Models what a Supabase project database holds before any app migration:
-- schemas extensions / auth / storage / graphql_public / supabase_migrations,
-- the GoTrue and storage-api tables in their current shape, the RLS helper
-- functions, and the platform leftovers (event triggers, the realtime
-- publication, supabase_admin default privileges) that the migrator has to
-- recognise and drop. Written from the public GoTrue (supabase/auth) and
-- storage-api (supabase/storage) migrations; not a copy of them.
--
-- Objects are created under SET ROLE so owners come out as on Supabase
-- (supabase_admin owns the schemas, supabase_auth_admin / supabase_storage_admin
-- own their tables and functions, postgres owns extensions/public things).
-- Every name is schema-qualified, as in pg_dump output the migrator reads.

SET search_path = '';

-- Unicode edge cases in the seed are only meaningful in UTF8 (Supabase is UTF8).
DO $$
BEGIN
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'the Supabase fixture needs a UTF8 database, got %',
      current_setting('server_encoding')
      USING HINT = 'CREATE DATABASE ... ENCODING ''UTF8'' TEMPLATE template0';
  END IF;
END
$$;

-- On Supabase the project database belongs to postgres, which therefore owns
-- schema public through pg_database_owner. Needed when postgres is not the
-- cluster superuser; a no-op when it is.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I OWNER TO postgres', current_database());
END
$$;

-------------------------------------------------------------------------------
-- extensions
-------------------------------------------------------------------------------
SET ROLE supabase_admin;

CREATE SCHEMA extensions;
-- Supabase hands the extensions schema to postgres so users can enable more.
ALTER SCHEMA extensions OWNER TO postgres;

CREATE EXTENSION IF NOT EXISTS pgcrypto    WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm     WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS citext      WITH SCHEMA extensions;

GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA extensions TO dashboard_user;

-- Platform event-trigger functions. Real projects carry several of these
-- (grant_pg_cron_access, grant_pg_net_access, pgrst_ddl_watch, ...). They are
-- superuser-only objects the target cannot recreate: the migrator drops them.
CREATE FUNCTION extensions.grant_pg_cron_access() RETURNS event_trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
  -- Only reacts when pg_cron itself is being created; dynamic SQL because the
  -- cron schema does not exist until then.
  IF EXISTS (
    SELECT 1
      FROM pg_catalog.pg_event_trigger_ddl_commands() AS cmd
      JOIN pg_catalog.pg_extension AS ext ON ext.oid = cmd.objid
     WHERE ext.extname = 'pg_cron'
  ) THEN
    EXECUTE 'GRANT USAGE ON SCHEMA cron TO postgres WITH GRANT OPTION';
    EXECUTE 'GRANT ALL ON ALL TABLES IN SCHEMA cron TO postgres WITH GRANT OPTION';
    EXECUTE 'ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA cron '
            'GRANT ALL ON TABLES TO postgres WITH GRANT OPTION';
  END IF;
END
$fn$;
COMMENT ON FUNCTION extensions.grant_pg_cron_access() IS 'Platform hook: give postgres access to pg_cron once it is enabled';

CREATE FUNCTION extensions.pgrst_ddl_watch() RETURNS event_trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
  cmd record;
BEGIN
  -- PostgREST reloads its schema cache on this notification.
  FOR cmd IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
    IF cmd.schema_name IS DISTINCT FROM 'pg_temp' THEN
      NOTIFY pgrst, 'reload schema';
      EXIT;
    END IF;
  END LOOP;
END
$fn$;

CREATE FUNCTION extensions.pgrst_drop_watch() RETURNS event_trigger
LANGUAGE plpgsql
AS $fn$
DECLARE
  obj record;
BEGIN
  FOR obj IN SELECT * FROM pg_catalog.pg_event_trigger_dropped_objects() LOOP
    IF NOT obj.is_temporary THEN
      NOTIFY pgrst, 'reload schema';
      EXIT;
    END IF;
  END LOOP;
END
$fn$;

CREATE EVENT TRIGGER issue_pg_cron_access ON ddl_command_end
  WHEN TAG IN ('CREATE EXTENSION')
  EXECUTE FUNCTION extensions.grant_pg_cron_access();
CREATE EVENT TRIGGER pgrst_ddl_watch ON ddl_command_end
  EXECUTE FUNCTION extensions.pgrst_ddl_watch();
CREATE EVENT TRIGGER pgrst_drop_watch ON sql_drop
  EXECUTE FUNCTION extensions.pgrst_drop_watch();

-------------------------------------------------------------------------------
-- public: Supabase's grants and default privileges
-------------------------------------------------------------------------------
GRANT USAGE ON SCHEMA public TO postgres, anon, authenticated, service_role;

-- These two blocks are what makes every new table in public readable by the
-- API roles on Supabase. The supabase_admin one cannot be replayed on the
-- target (statement catalogue #4); the postgres one is remapped (#5).
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON TABLES    TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;

ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES    TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

-------------------------------------------------------------------------------
-- graphql_public (pg_graphql itself is not installed: it is not in contrib
-- and is off by default on new projects; the empty schema remains)
-------------------------------------------------------------------------------
CREATE SCHEMA graphql_public;
GRANT USAGE ON SCHEMA graphql_public TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA graphql_public
  GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;

-------------------------------------------------------------------------------
-- realtime publication: created empty; the app adds tables to it.
-------------------------------------------------------------------------------
CREATE PUBLICATION supabase_realtime;
ALTER PUBLICATION supabase_realtime OWNER TO postgres;

-------------------------------------------------------------------------------
-- auth (GoTrue). Schema owned by supabase_admin, everything inside by
-- supabase_auth_admin, which is how GoTrue's migrator leaves it.
-------------------------------------------------------------------------------
CREATE SCHEMA auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin, dashboard_user;
GRANT USAGE ON SCHEMA auth TO postgres;

SET ROLE supabase_auth_admin;

CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
CREATE TYPE auth.code_challenge_method AS ENUM ('s256', 'plain');
CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
CREATE TYPE auth.factor_type AS ENUM ('totp', 'webauthn', 'phone');
CREATE TYPE auth.one_time_token_type AS ENUM (
  'confirmation_token', 'reauthentication_token', 'recovery_token',
  'email_change_token_new', 'email_change_token_current', 'phone_change_token');

CREATE TABLE auth.instances (
  id              uuid NOT NULL,
  uuid            uuid,
  raw_base_config text,
  created_at      timestamptz,
  updated_at      timestamptz,
  CONSTRAINT instances_pkey PRIMARY KEY (id)
);

-- 35 columns, in GoTrue's column order (it grew by ALTER TABLE ADD COLUMN).
CREATE TABLE auth.users (
  instance_id                 uuid,
  id                          uuid NOT NULL,
  aud                         varchar(255),
  role                        varchar(255),
  email                       varchar(255),
  encrypted_password          varchar(255),
  email_confirmed_at          timestamptz,
  invited_at                  timestamptz,
  confirmation_token          varchar(255),
  confirmation_sent_at        timestamptz,
  recovery_token              varchar(255),
  recovery_sent_at            timestamptz,
  email_change_token_new      varchar(255),
  email_change                varchar(255),
  email_change_sent_at        timestamptz,
  last_sign_in_at             timestamptz,
  raw_app_meta_data           jsonb,
  raw_user_meta_data          jsonb,
  is_super_admin              boolean,
  created_at                  timestamptz,
  updated_at                  timestamptz,
  phone                       text DEFAULT NULL::varchar,
  phone_confirmed_at          timestamptz,
  phone_change                text DEFAULT ''::varchar,
  phone_change_token          varchar(255) DEFAULT ''::varchar,
  phone_change_sent_at        timestamptz,
  -- generated: must be left out of COPY column lists on export/import
  confirmed_at                timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
  email_change_token_current  varchar(255) DEFAULT ''::varchar,
  email_change_confirm_status smallint DEFAULT 0,
  banned_until                timestamptz,
  reauthentication_token      varchar(255) DEFAULT ''::varchar,
  reauthentication_sent_at    timestamptz,
  is_sso_user                 boolean NOT NULL DEFAULT false,
  deleted_at                  timestamptz,
  is_anonymous                boolean NOT NULL DEFAULT false,
  CONSTRAINT users_pkey PRIMARY KEY (id),
  CONSTRAINT users_phone_key UNIQUE (phone),
  CONSTRAINT users_email_change_confirm_status_check
    CHECK (email_change_confirm_status >= 0 AND email_change_confirm_status <= 2)
);
COMMENT ON TABLE auth.users IS 'Auth: login data of the project''s users.';
COMMENT ON COLUMN auth.users.is_sso_user IS 'Auth: true for accounts created through SSO; such accounts may share an email with a non-SSO account.';
-- Tokens are '' when unused, so uniqueness only applies to real tokens.
CREATE UNIQUE INDEX confirmation_token_idx ON auth.users (confirmation_token)
  WHERE confirmation_token::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX recovery_token_idx ON auth.users (recovery_token)
  WHERE recovery_token::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX email_change_token_new_idx ON auth.users (email_change_token_new)
  WHERE email_change_token_new::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX email_change_token_current_idx ON auth.users (email_change_token_current)
  WHERE email_change_token_current::text !~ '^[0-9 ]*$';
CREATE UNIQUE INDEX reauthentication_token_idx ON auth.users (reauthentication_token)
  WHERE reauthentication_token::text !~ '^[0-9 ]*$';
-- SSO users may duplicate an email, hence a partial rather than a plain unique key.
CREATE UNIQUE INDEX users_email_partial_key ON auth.users (email) WHERE is_sso_user = false;
CREATE INDEX users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX users_instance_id_email_idx ON auth.users (instance_id, lower(email::text));
CREATE INDEX users_is_anonymous_idx ON auth.users (is_anonymous);

CREATE TABLE auth.identities (
  provider_id     text NOT NULL,
  user_id         uuid NOT NULL,
  identity_data   jsonb NOT NULL,
  provider        text NOT NULL,
  last_sign_in_at timestamptz,
  created_at      timestamptz,
  updated_at      timestamptz,
  email           text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
  id              uuid NOT NULL DEFAULT gen_random_uuid(),
  CONSTRAINT identities_pkey PRIMARY KEY (id),
  CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider),
  CONSTRAINT identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE
);
COMMENT ON COLUMN auth.identities.email IS 'Auth: generated from identity_data; read only.';
CREATE INDEX identities_user_id_idx ON auth.identities (user_id);
CREATE INDEX identities_email_idx ON auth.identities (email text_pattern_ops);

CREATE TABLE auth.sessions (
  id                    uuid NOT NULL,
  user_id               uuid NOT NULL,
  created_at            timestamptz,
  updated_at            timestamptz,
  factor_id             uuid,
  aal                   auth.aal_level,
  not_after             timestamptz,
  refreshed_at          timestamp without time zone,
  user_agent            text,
  ip                    inet,
  tag                   text,
  oauth_client_id       uuid,
  refresh_token_hmac_key text,
  refresh_token_counter bigint,
  scopes                text,
  CONSTRAINT sessions_pkey PRIMARY KEY (id),
  CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_id_idx ON auth.sessions (user_id);
CREATE INDEX sessions_not_after_idx ON auth.sessions (not_after DESC);
CREATE INDEX user_id_created_at_idx ON auth.sessions (user_id, created_at);

-- user_id is varchar, not uuid: a 2020 leftover that apps sometimes trip on.
CREATE TABLE auth.refresh_tokens (
  instance_id uuid,
  id          bigserial NOT NULL,
  token       varchar(255),
  user_id     varchar(255),
  revoked     boolean,
  created_at  timestamptz,
  updated_at  timestamptz,
  parent      varchar(255),
  session_id  uuid,
  CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
  CONSTRAINT refresh_tokens_token_unique UNIQUE (token),
  CONSTRAINT refresh_tokens_session_id_fkey FOREIGN KEY (session_id) REFERENCES auth.sessions (id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_instance_id_idx ON auth.refresh_tokens (instance_id);
CREATE INDEX refresh_tokens_instance_id_user_id_idx ON auth.refresh_tokens (instance_id, user_id);
CREATE INDEX refresh_tokens_parent_idx ON auth.refresh_tokens (parent);
CREATE INDEX refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);
CREATE INDEX refresh_tokens_updated_at_idx ON auth.refresh_tokens (updated_at DESC);

CREATE TABLE auth.mfa_factors (
  id                   uuid NOT NULL,
  user_id              uuid NOT NULL,
  friendly_name        text,
  factor_type          auth.factor_type NOT NULL,
  status               auth.factor_status NOT NULL,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  secret               text,
  phone                text,
  last_challenged_at   timestamptz,
  web_authn_credential jsonb,
  web_authn_aaguid     uuid,
  CONSTRAINT mfa_factors_pkey PRIMARY KEY (id),
  CONSTRAINT mfa_factors_last_challenged_at_key UNIQUE (last_challenged_at),
  CONSTRAINT mfa_factors_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX mfa_factors_user_friendly_name_unique ON auth.mfa_factors (friendly_name, user_id)
  WHERE btrim(friendly_name) <> '';
CREATE UNIQUE INDEX unique_phone_factor_per_user ON auth.mfa_factors (user_id, phone);
CREATE INDEX mfa_factors_user_id_idx ON auth.mfa_factors (user_id);

CREATE TABLE auth.mfa_challenges (
  id                     uuid NOT NULL,
  factor_id              uuid NOT NULL,
  created_at             timestamptz NOT NULL,
  verified_at            timestamptz,
  ip_address             inet NOT NULL,
  otp_code               text,
  web_authn_session_data jsonb,
  CONSTRAINT mfa_challenges_pkey PRIMARY KEY (id),
  CONSTRAINT mfa_challenges_auth_factor_id_fkey FOREIGN KEY (factor_id) REFERENCES auth.mfa_factors (id) ON DELETE CASCADE
);

CREATE TABLE auth.mfa_amr_claims (
  session_id            uuid NOT NULL,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL,
  authentication_method text NOT NULL,
  id                    uuid NOT NULL,
  CONSTRAINT amr_id_pk PRIMARY KEY (id),
  CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method),
  CONSTRAINT mfa_amr_claims_session_id_fkey FOREIGN KEY (session_id) REFERENCES auth.sessions (id) ON DELETE CASCADE
);

CREATE TABLE auth.one_time_tokens (
  id         uuid NOT NULL,
  user_id    uuid NOT NULL,
  token_type auth.one_time_token_type NOT NULL,
  token_hash text NOT NULL,
  relates_to text NOT NULL,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  CONSTRAINT one_time_tokens_pkey PRIMARY KEY (id),
  CONSTRAINT one_time_tokens_token_hash_check CHECK (char_length(token_hash) > 0),
  CONSTRAINT one_time_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX one_time_tokens_user_id_token_type_key ON auth.one_time_tokens (user_id, token_type);
CREATE INDEX one_time_tokens_token_hash_hash_idx ON auth.one_time_tokens USING hash (token_hash);
CREATE INDEX one_time_tokens_relates_to_hash_idx ON auth.one_time_tokens USING hash (relates_to);

CREATE TABLE auth.flow_state (
  id                     uuid NOT NULL,
  user_id                uuid,
  auth_code              text,
  code_challenge_method  auth.code_challenge_method,
  code_challenge         text,
  provider_type          text NOT NULL,
  provider_access_token  text,
  provider_refresh_token text,
  created_at             timestamptz,
  updated_at             timestamptz,
  authentication_method  text NOT NULL,
  auth_code_issued_at    timestamptz,
  CONSTRAINT flow_state_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
CREATE INDEX flow_state_created_at_idx ON auth.flow_state (created_at DESC);

CREATE TABLE auth.sso_providers (
  id          uuid NOT NULL,
  resource_id text,
  created_at  timestamptz,
  updated_at  timestamptz,
  disabled    boolean,
  CONSTRAINT sso_providers_pkey PRIMARY KEY (id),
  CONSTRAINT "resource_id not empty" CHECK (resource_id = NULL OR char_length(resource_id) > 0)
);
CREATE UNIQUE INDEX sso_providers_resource_id_idx ON auth.sso_providers (lower(resource_id));

CREATE TABLE auth.sso_domains (
  id              uuid NOT NULL,
  sso_provider_id uuid NOT NULL,
  domain          text NOT NULL,
  created_at      timestamptz,
  updated_at      timestamptz,
  CONSTRAINT sso_domains_pkey PRIMARY KEY (id),
  CONSTRAINT "domain not empty" CHECK (char_length(domain) > 0),
  CONSTRAINT sso_domains_sso_provider_id_fkey FOREIGN KEY (sso_provider_id) REFERENCES auth.sso_providers (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sso_domains_domain_idx ON auth.sso_domains (lower(domain));

CREATE TABLE auth.saml_providers (
  id                uuid NOT NULL,
  sso_provider_id   uuid NOT NULL,
  entity_id         text NOT NULL,
  metadata_xml      text NOT NULL,
  metadata_url      text,
  attribute_mapping jsonb,
  created_at        timestamptz,
  updated_at        timestamptz,
  name_id_format    text,
  CONSTRAINT saml_providers_pkey PRIMARY KEY (id),
  CONSTRAINT saml_providers_entity_id_key UNIQUE (entity_id),
  CONSTRAINT "entity_id not empty" CHECK (char_length(entity_id) > 0),
  CONSTRAINT "metadata_xml not empty" CHECK (char_length(metadata_xml) > 0),
  CONSTRAINT "metadata_url not empty" CHECK (metadata_url = NULL OR char_length(metadata_url) > 0),
  CONSTRAINT saml_providers_sso_provider_id_fkey FOREIGN KEY (sso_provider_id) REFERENCES auth.sso_providers (id) ON DELETE CASCADE
);

CREATE TABLE auth.saml_relay_states (
  id              uuid NOT NULL,
  sso_provider_id uuid NOT NULL,
  request_id      text NOT NULL,
  for_email       text,
  redirect_to     text,
  created_at      timestamptz,
  updated_at      timestamptz,
  flow_state_id   uuid,
  CONSTRAINT saml_relay_states_pkey PRIMARY KEY (id),
  CONSTRAINT "request_id not empty" CHECK (char_length(request_id) > 0),
  CONSTRAINT saml_relay_states_sso_provider_id_fkey FOREIGN KEY (sso_provider_id) REFERENCES auth.sso_providers (id) ON DELETE CASCADE,
  CONSTRAINT saml_relay_states_flow_state_id_fkey FOREIGN KEY (flow_state_id) REFERENCES auth.flow_state (id) ON DELETE CASCADE
);

CREATE TABLE auth.audit_log_entries (
  instance_id uuid,
  id          uuid NOT NULL,
  payload     json,
  created_at  timestamptz,
  ip_address  varchar(64) NOT NULL DEFAULT ''::varchar,
  CONSTRAINT audit_log_entries_pkey PRIMARY KEY (id)
);
CREATE INDEX audit_logs_instance_id_idx ON auth.audit_log_entries (instance_id);

CREATE TABLE auth.schema_migrations (
  version varchar(255) NOT NULL,
  CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
);
COMMENT ON TABLE auth.schema_migrations IS 'Auth: GoTrue migration history; never copy into an initialised GoTrue.';

-- RLS helpers. Semantics per SUPABASE_FACTS §3.1: the legacy per-claim GUC
-- wins, then the JSON claim set; '' counts as unset; nothing set -> NULL.
CREATE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
           nullif(current_setting('request.jwt.claim.sub', true), ''),
           nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
         )::uuid
$fn$;
COMMENT ON FUNCTION auth.uid() IS 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

CREATE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
           nullif(current_setting('request.jwt.claim.role', true), ''),
           nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
         )::text
$fn$;
COMMENT ON FUNCTION auth.role() IS 'Deprecated. Use auth.jwt() -> ''role'' instead.';

CREATE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
           nullif(current_setting('request.jwt.claim.email', true), ''),
           nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
         )::text
$fn$;
COMMENT ON FUNCTION auth.email() IS 'Deprecated. Use auth.jwt() -> ''email'' instead.';

CREATE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
           nullif(current_setting('request.jwt.claim', true), ''),
           nullif(current_setting('request.jwt.claims', true), '')
         )::jsonb
$fn$;

-- GoTrue enabled RLS (without policies) on all its pre-2025 tables in 2024-06:
-- the API roles see nothing, postgres/service_role bypass.
ALTER TABLE auth.users              ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.identities         ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sessions           ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens     ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_factors        ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_challenges     ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.mfa_amr_claims     ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.one_time_tokens    ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.flow_state         ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_providers      ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_domains        ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_providers     ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.saml_relay_states  ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.audit_log_entries  ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.instances          ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.schema_migrations  ENABLE ROW LEVEL SECURITY;

-- postgres (the project's admin) may read and reference auth data, and may
-- put triggers on auth.users (handle_new_user). dashboard_user is platform.
GRANT ALL ON ALL TABLES IN SCHEMA auth TO postgres, dashboard_user;
GRANT ALL ON ALL SEQUENCES IN SCHEMA auth TO postgres, dashboard_user;
GRANT ALL ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt() TO dashboard_user;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt() TO postgres, anon, authenticated, service_role;

RESET ROLE;

-------------------------------------------------------------------------------
-- storage (storage-api). Schema owned by supabase_admin, contents by
-- supabase_storage_admin. Shape of tenant migrations up to 0061 (before the
-- 2026-08 object-versioning columns).
-------------------------------------------------------------------------------
SET ROLE supabase_admin;
CREATE SCHEMA storage;
GRANT USAGE ON SCHEMA storage TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin, dashboard_user;

SET ROLE supabase_storage_admin;

CREATE TYPE storage.buckettype AS ENUM ('STANDARD', 'ANALYTICS', 'VECTOR');

CREATE TABLE storage.migrations (
  id          integer NOT NULL,
  name        varchar(100) NOT NULL,
  hash        varchar(40) NOT NULL,
  executed_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT migrations_pkey PRIMARY KEY (id),
  CONSTRAINT migrations_name_key UNIQUE (name)
);

CREATE TABLE storage.buckets (
  id                 text NOT NULL,
  name               text NOT NULL,
  owner              uuid,
  created_at         timestamptz DEFAULT now(),
  updated_at         timestamptz DEFAULT now(),
  public             boolean DEFAULT false,
  avif_autodetection boolean DEFAULT false,
  file_size_limit    bigint,
  allowed_mime_types text[],
  owner_id           text,
  type               storage.buckettype NOT NULL DEFAULT 'STANDARD'::storage.buckettype,
  CONSTRAINT buckets_pkey PRIMARY KEY (id)
);
COMMENT ON COLUMN storage.buckets.owner IS 'Field is deprecated, use owner_id instead';
CREATE UNIQUE INDEX bname ON storage.buckets (name);

CREATE TABLE storage.objects (
  id               uuid NOT NULL DEFAULT gen_random_uuid(),
  bucket_id        text,
  name             text,
  owner            uuid,
  created_at       timestamptz DEFAULT now(),
  updated_at       timestamptz DEFAULT now(),
  last_accessed_at timestamptz DEFAULT now(),
  metadata         jsonb,
  -- generated: must be left out of COPY column lists
  path_tokens      text[] GENERATED ALWAYS AS (string_to_array(name, '/'::text)) STORED,
  version          text,
  owner_id         text,
  user_metadata    jsonb,
  CONSTRAINT objects_pkey PRIMARY KEY (id),
  -- the camel-case constraint name is storage-api's own and needs quoting
  CONSTRAINT "objects_bucketId_fkey" FOREIGN KEY (bucket_id) REFERENCES storage.buckets (id)
);
COMMENT ON COLUMN storage.objects.owner IS 'Field is deprecated, use owner_id instead';
CREATE UNIQUE INDEX bucketid_objname ON storage.objects (bucket_id, name);
CREATE INDEX name_prefix_search ON storage.objects (name text_pattern_ops);
CREATE INDEX idx_objects_bucket_id_name ON storage.objects (bucket_id, name COLLATE "C");

CREATE TABLE storage.s3_multipart_uploads (
  id               text NOT NULL,
  in_progress_size bigint NOT NULL DEFAULT 0,
  upload_signature text NOT NULL,
  bucket_id        text NOT NULL,
  key              text COLLATE "C" NOT NULL,
  version          text NOT NULL,
  owner_id         text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  user_metadata    jsonb,
  CONSTRAINT s3_multipart_uploads_pkey PRIMARY KEY (id),
  CONSTRAINT s3_multipart_uploads_bucket_id_fkey FOREIGN KEY (bucket_id) REFERENCES storage.buckets (id)
);
CREATE INDEX idx_multipart_uploads_list ON storage.s3_multipart_uploads (bucket_id, key, created_at);

CREATE TABLE storage.s3_multipart_uploads_parts (
  id          uuid NOT NULL DEFAULT gen_random_uuid(),
  upload_id   text NOT NULL,
  size        bigint NOT NULL DEFAULT 0,
  part_number integer NOT NULL,
  bucket_id   text NOT NULL,
  key         text COLLATE "C" NOT NULL,
  etag        text NOT NULL,
  owner_id    text,
  version     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT s3_multipart_uploads_parts_pkey PRIMARY KEY (id),
  CONSTRAINT s3_multipart_uploads_parts_upload_id_fkey FOREIGN KEY (upload_id) REFERENCES storage.s3_multipart_uploads (id) ON DELETE CASCADE,
  CONSTRAINT s3_multipart_uploads_parts_bucket_id_fkey FOREIGN KEY (bucket_id) REFERENCES storage.buckets (id)
);

-- Path helpers in their current form (SUPABASE_FACTS §3.2): IMMUTABLE,
-- extension() takes the text after the LAST dot of the file name, and the
-- whole name when there is no dot.
CREATE FUNCTION storage.foldername(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
  parts text[] := string_to_array(name, '/');
BEGIN
  RETURN parts[1 : array_length(parts, 1) - 1];
END
$fn$;

CREATE FUNCTION storage.filename(name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
  parts text[] := string_to_array(name, '/');
BEGIN
  RETURN parts[array_length(parts, 1)];
END
$fn$;

CREATE FUNCTION storage.extension(name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $fn$
DECLARE
  parts text[] := string_to_array(name, '/');
  base  text;
BEGIN
  base := parts[array_length(parts, 1)];
  IF strpos(base, '.') = 0 THEN
    RETURN base;
  END IF;
  RETURN reverse(split_part(reverse(base), '.', 1));
END
$fn$;

-- storage-api sets storage.operation per request; policies may read it.
CREATE FUNCTION storage.operation() RETURNS text
LANGUAGE plpgsql STABLE
AS $fn$
BEGIN
  RETURN current_setting('storage.operation', true);
END
$fn$;

CREATE FUNCTION storage.update_updated_at_column() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$fn$;

-- Direct SQL deletes would orphan the stored files, so storage-api blocks
-- them unless the transaction opts in (SET LOCAL storage.allow_delete_query).
CREATE FUNCTION storage.protect_delete() RETURNS trigger
LANGUAGE plpgsql
AS $fn$
BEGIN
  IF coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' THEN
    RAISE EXCEPTION 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      USING ERRCODE = '42501',
            HINT = 'Deleting rows here leaves the stored files behind; set storage.allow_delete_query = ''true'' locally if you really mean it.';
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER update_objects_updated_at
  BEFORE UPDATE ON storage.objects
  FOR EACH ROW EXECUTE FUNCTION storage.update_updated_at_column();
CREATE TRIGGER protect_objects_delete
  BEFORE DELETE ON storage.objects
  FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();
CREATE TRIGGER protect_buckets_delete
  BEFORE DELETE ON storage.buckets
  FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();

ALTER TABLE storage.migrations                 ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.buckets                    ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects                    ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.s3_multipart_uploads       ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.s3_multipart_uploads_parts ENABLE ROW LEVEL SECURITY;

-- The API roles reach storage tables directly; RLS policies (added by the
-- app) decide what they see. postgres gets grant option so it can pass
-- access on, as on Supabase.
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role;
GRANT ALL ON storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts TO service_role;
GRANT SELECT ON storage.s3_multipart_uploads, storage.s3_multipart_uploads_parts TO anon, authenticated;
GRANT ALL ON ALL TABLES IN SCHEMA storage TO postgres WITH GRANT OPTION;
GRANT ALL ON ALL TABLES IN SCHEMA storage TO dashboard_user;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA storage TO postgres, anon, authenticated, service_role;

RESET ROLE;

-------------------------------------------------------------------------------
-- supabase_migrations: the CLI's migration history, created by postgres.
-------------------------------------------------------------------------------
SET ROLE postgres;
CREATE SCHEMA supabase_migrations;
CREATE TABLE supabase_migrations.schema_migrations (
  version    text NOT NULL,
  statements text[],
  name       text,
  CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
);
RESET ROLE;
