-- Supabase-like source fixture, step 4 of 4: deterministic data.
--
-- Run as a superuser after 20_app.sql, on a freshly created database.
-- Nothing here is random and no value depends on the clock: ids are derived
-- from md5 of a label, numbers from md5 arithmetic, timestamps from fixed
-- bases plus generate_series steps. Seeding two fresh databases therefore
-- gives identical rows, identity values and sequence positions, so tests can
-- hard-code counts and checksums.
--
-- Storage object bodies are NOT stored anywhere (the files live in S3, not in
-- PostgreSQL). Each body is reproducible from its row alone:
--   line = 'supamigrate-fixture:' || bucket_id || '/' || name || E'\n'
--   body = repeat(line, (metadata->>'size')::int / octet_length(line))   (UTF-8)
--   metadata->>'eTag' = '"' || md5(body) || '"'
-- except the one multipart-style object (eTag ends in "-2", not an MD5).

SET search_path = '';

-- uuid v4-shaped value derived from a label
CREATE FUNCTION pg_temp.fx_uuid(label text) RETURNS uuid
LANGUAGE sql IMMUTABLE
AS $fn$
  SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3)
          || substr('89ab', get_byte(decode(substr(h, 17, 2), 'hex'), 0) % 4 + 1, 1)
          || substr(h, 18, 15))::uuid
    FROM md5(label) AS h
$fn$;

-- non-negative 48-bit integer derived from a label
CREATE FUNCTION pg_temp.fx_int(label text) RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $fn$
  SELECT ('x' || substr(md5(label), 1, 12))::bit(48)::bigint
$fn$;

-- the body rule described in the header, in one place
CREATE FUNCTION pg_temp.fx_body(bucket text, name text, reps int) RETURNS text
LANGUAGE sql IMMUTABLE
AS $fn$
  SELECT repeat('supamigrate-fixture:' || bucket || '/' || name || E'\n', reps)
$fn$;

-------------------------------------------------------------------------------
-- auth.users (50). The on_auth_user_created trigger creates one profile each.
--   1..46 email sign-ups (every 5th unconfirmed), 3 also has a phone
--   47 phone only, 48 anonymous, 49 SSO sharing user 1's email,
--   50 soft-deleted and banned until 'infinity'
-------------------------------------------------------------------------------
INSERT INTO auth.users (
  instance_id, id, aud, role, email, encrypted_password,
  email_confirmed_at, invited_at, confirmation_token, confirmation_sent_at,
  recovery_token, recovery_sent_at, email_change_token_new, email_change, email_change_sent_at,
  last_sign_in_at, raw_app_meta_data, raw_user_meta_data, is_super_admin,
  created_at, updated_at, phone, phone_confirmed_at, phone_change, phone_change_token,
  phone_change_sent_at, email_change_token_current, email_change_confirm_status,
  banned_until, reauthentication_token, reauthentication_sent_at,
  is_sso_user, deleted_at, is_anonymous)
SELECT
  '00000000-0000-0000-0000-000000000000'::uuid,
  u.uid,
  'authenticated',
  'authenticated',
  u.email,
  CASE WHEN u.kind IN ('anon', 'sso') THEN ''
       -- bcrypt with a fixed salt: deterministic, and still a real hash
       ELSE extensions.crypt('matbakh-pass-' || u.i, '$2a$06$matbakhfixturesalt0123') END,
  CASE WHEN u.email_confirmed THEN u.created + interval '4 minutes 2 seconds' END,
  NULL,
  CASE WHEN u.kind = 'email' AND NOT u.email_confirmed THEN md5('confirm-' || u.i)
       WHEN u.i % 3 = 0 THEN NULL ELSE '' END,
  CASE WHEN u.kind IN ('email', 'deleted') THEN u.created END,
  CASE WHEN u.i = 4 THEN md5('recovery-4') WHEN u.i % 3 = 0 THEN NULL ELSE '' END,
  CASE WHEN u.i = 4 THEN u.created + interval '20 days' END,
  CASE WHEN u.i = 6 THEN md5('email-change-6') WHEN u.i % 3 = 0 THEN NULL ELSE '' END,
  CASE WHEN u.i = 6 THEN 'new06@matbakh.test' WHEN u.i % 3 = 0 THEN NULL ELSE '' END,
  CASE WHEN u.i = 6 THEN u.created + interval '30 days' END,
  u.last_sign_in,
  u.app_meta,
  u.user_meta,
  CASE WHEN u.i = 1 THEN false END,
  u.created,
  COALESCE(u.last_sign_in, u.created),
  u.phone,
  CASE WHEN u.phone IS NOT NULL THEN u.created + interval '1 day' END,
  '',
  '',
  NULL,
  '',
  0,
  CASE WHEN u.kind = 'deleted' THEN 'infinity'::timestamptz END,
  '',
  NULL,
  u.kind = 'sso',
  CASE WHEN u.kind = 'deleted' THEN u.created + interval '200 days' END,
  u.kind = 'anon'
FROM (
  SELECT g.i,
         pg_temp.fx_uuid('user-' || g.i) AS uid,
         k.kind,
         timestamptz '2024-06-01 08:00:00+00' + (g.i - 1) * interval '3 days 7 hours 13 minutes' AS created,
         CASE k.kind
           WHEN 'phone' THEN NULL
           WHEN 'anon'  THEN NULL
           WHEN 'sso'   THEN 'user01@matbakh.test'
           ELSE format('user%s@matbakh.test', lpad(g.i::text, 2, '0'))
         END AS email,
         (k.kind IN ('email', 'deleted', 'sso') AND g.i % 5 <> 0) AS email_confirmed,
         CASE WHEN k.kind IN ('email', 'deleted', 'sso', 'phone') AND g.i % 5 <> 0
              THEN timestamptz '2024-06-01 08:00:00+00' + (g.i - 1) * interval '3 days 7 hours 13 minutes'
                   + (g.i % 9 + 1) * interval '1 day 1 hour' END AS last_sign_in,
         CASE WHEN g.i IN (3, 47) THEN '49151000000' || lpad(g.i::text, 2, '0') END AS phone,
         CASE k.kind
           WHEN 'anon'  THEN '{"provider": "anonymous", "providers": ["anonymous"]}'::jsonb
           WHEN 'phone' THEN '{"provider": "phone", "providers": ["phone"]}'::jsonb
           WHEN 'sso'   THEN jsonb_build_object('provider', 'sso:' || pg_temp.fx_uuid('sso-provider-1'),
                                                'providers', jsonb_build_array('sso:' || pg_temp.fx_uuid('sso-provider-1')))
           ELSE jsonb_build_object('provider', 'email',
                                   'providers', CASE WHEN g.i IN (2, 4, 6, 8, 10)
                                                     THEN '["email", "google"]'::jsonb
                                                     ELSE '["email"]'::jsonb END)
         END
         -- the custom claim read by the "Admins read all reports" policy and
         -- by handle_new_user(); plain owners carry no key at all
         || CASE WHEN g.i = 1 THEN '{"matbakh_role": "admin"}'::jsonb
                 WHEN g.i % 10 = 0 THEN '{"matbakh_role": "manager"}'::jsonb
                 WHEN g.i % 7 = 0 THEN '{"matbakh_role": "staff"}'::jsonb
                 ELSE '{}'::jsonb END AS app_meta,
         CASE WHEN k.kind = 'anon' THEN '{}'::jsonb ELSE
           -- NULL name -> no full_name key (profile full_name NULL); '' stays ''
           CASE WHEN n.full_name IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('full_name', n.full_name) END
           || CASE WHEN g.i <= 10
                   THEN jsonb_build_object('avatar_url',
                          'https://matbakhdemoref000000.supabase.co/storage/v1/object/public/avatars/'
                          || pg_temp.fx_uuid('user-' || g.i) || '/'
                          || CASE WHEN g.i = 3 THEN 'avatar.JPG' ELSE 'avatar.png' END)
                   ELSE '{}'::jsonb END
           || CASE WHEN g.i % 4 = 0 THEN '{}'::jsonb
                   ELSE jsonb_build_object('preferences', jsonb_build_object(
                          'theme', CASE WHEN g.i % 2 = 0 THEN 'dark' ELSE 'light' END,
                          'language', (ARRAY['de', 'en', 'ar', 'tr', 'fr'])[1 + g.i % 5],
                          'notifications', jsonb_build_object('email', g.i % 3 <> 0, 'push', g.i % 2 = 0),
                          'weekly_digest_hour', g.i % 24))
              END
           || jsonb_build_object('email_verified', g.i % 5 <> 0)
         END AS user_meta
    FROM generate_series(1, 50) AS g(i)
    CROSS JOIN LATERAL (
      SELECT CASE g.i WHEN 47 THEN 'phone' WHEN 48 THEN 'anon' WHEN 49 THEN 'sso'
                      WHEN 50 THEN 'deleted' ELSE 'email' END AS kind) AS k
    CROSS JOIN LATERAL (
      SELECT (ARRAY[
        'Lina Haddad', 'Jürgen Müller', 'Zoë Ångström', '李雷', 'محمد العلي',
        'Ayşe Yılmaz', 'Chef 👩‍🍳 Marta', 'Seán O''Brien', '', NULL,
        'Renée "Rae" Dubois', E'Tab\there\nand newline', 'Back\slash Kitchen'
      ])[1 + (g.i - 1) % 13] AS full_name) AS n
) AS u
ORDER BY u.i;

-------------------------------------------------------------------------------
-- auth: identities, SSO, sessions, tokens, MFA, audit log, migrations
-------------------------------------------------------------------------------
INSERT INTO auth.sso_providers (id, resource_id, created_at, updated_at, disabled)
VALUES (pg_temp.fx_uuid('sso-provider-1'), 'okta-matbakh-partner',
        '2024-05-20 12:00:00+00', '2024-05-20 12:00:00+00', false);
INSERT INTO auth.sso_domains (id, sso_provider_id, domain, created_at, updated_at)
VALUES (pg_temp.fx_uuid('sso-domain-1'), pg_temp.fx_uuid('sso-provider-1'), 'matbakh-partner.test',
        '2024-05-20 12:00:00+00', '2024-05-20 12:00:00+00');
INSERT INTO auth.saml_providers (id, sso_provider_id, entity_id, metadata_xml, metadata_url,
                                 attribute_mapping, created_at, updated_at, name_id_format)
VALUES (pg_temp.fx_uuid('saml-provider-1'), pg_temp.fx_uuid('sso-provider-1'),
        'https://idp.matbakh-partner.test/metadata',
        '<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.matbakh-partner.test/metadata">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>
</md:EntityDescriptor>',
        NULL,
        '{"keys": {"email": {"name": "mail"}, "full_name": {"names": ["givenName", "sn"]}}}',
        '2024-05-20 12:00:00+00', '2024-05-20 12:00:00+00',
        'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');

-- one identity per non-anonymous user, plus a second (google) for 2,4,6,8,10
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider,
                             last_sign_in_at, created_at, updated_at, id)
SELECT x.provider_id, u.id, x.identity_data, x.provider,
       u.last_sign_in_at, u.created_at, COALESCE(u.last_sign_in_at, u.created_at),
       pg_temp.fx_uuid('identity-' || x.provider || '-' || u.id)
  FROM auth.users u
  CROSS JOIN LATERAL (
    SELECT CASE WHEN u.is_sso_user THEN 'saml|okta|user01' ELSE u.id::text END AS provider_id,
           CASE WHEN u.is_sso_user THEN 'sso:' || pg_temp.fx_uuid('sso-provider-1')
                WHEN u.email IS NULL THEN 'phone' ELSE 'email' END AS provider,
           CASE WHEN u.is_sso_user
                -- mixed case on purpose: the generated identities.email lower-cases it
                THEN jsonb_build_object('sub', 'saml|okta|user01', 'email', 'User01@Matbakh.TEST',
                                        'custom_claims', jsonb_build_object('department', 'Küche'))
                WHEN u.email IS NULL
                THEN jsonb_build_object('sub', u.id::text, 'phone', u.phone,
                                        'email_verified', false, 'phone_verified', true)
                ELSE jsonb_build_object('sub', u.id::text, 'email', u.email,
                                        'email_verified', u.email_confirmed_at IS NOT NULL,
                                        'phone_verified', false) END AS identity_data
    UNION ALL
    -- Google subject ids are 21-digit numeric strings
    SELECT gg.gid,
           'google',
           jsonb_build_object('iss', 'https://accounts.google.com',
                              'sub', gg.gid,
                              'email', upper(u.email),
                              'name', u.raw_user_meta_data ->> 'full_name',
                              'picture', 'https://lh3.googleusercontent.test/a/' || md5(u.email),
                              'email_verified', true,
                              'provider_id', gg.gid)
      FROM (SELECT '1' || lpad(pg_temp.fx_int('google-' || u.id)::text, 20, '0') AS gid) AS gg
     WHERE (u.raw_app_meta_data -> 'providers') ? 'google'
  ) AS x
 WHERE NOT u.is_anonymous
 ORDER BY u.created_at, x.provider;

-- sessions for users 1..12 that signed in (5 and 10 are unconfirmed)
INSERT INTO auth.sessions (id, user_id, created_at, updated_at, factor_id, aal, not_after,
                           refreshed_at, user_agent, ip, tag)
SELECT pg_temp.fx_uuid('session-' || g.i),
       pg_temp.fx_uuid('user-' || g.i),
       u.last_sign_in_at,
       u.last_sign_in_at + interval '50 minutes',
       NULL,
       CASE WHEN g.i IN (1, 2) THEN 'aal2' ELSE 'aal1' END::auth.aal_level,
       CASE WHEN g.i = 12 THEN u.last_sign_in_at + interval '7 days' END,
       (u.last_sign_in_at + interval '50 minutes') AT TIME ZONE 'UTC',
       (ARRAY['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15',
              'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36',
              'matbakh-ios/3.4.1 CFNetwork/1496.0.7 Darwin/23.5.0',
              ''])[1 + g.i % 4],
       CASE WHEN g.i % 2 = 0 THEN ('203.0.113.' || g.i)::inet ELSE ('2001:db8:85a3::' || g.i)::inet END,
       NULL
  FROM generate_series(1, 12) AS g(i)
  JOIN auth.users u ON u.id = pg_temp.fx_uuid('user-' || g.i)
 WHERE g.i % 5 <> 0
 ORDER BY g.i;

-- two refresh tokens per session: the first rotated (revoked) into the second
INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at,
                                 parent, session_id)
SELECT '00000000-0000-0000-0000-000000000000'::uuid,
       substr(md5('refresh-' || s.id || '-' || k.k), 1, 12),
       s.user_id::text,
       k.k = 1,
       s.created_at + (k.k - 1) * interval '50 minutes',
       s.created_at + k.k * interval '50 minutes',
       CASE WHEN k.k = 2 THEN substr(md5('refresh-' || s.id || '-1'), 1, 12) END,
       s.id
  FROM auth.sessions s
 CROSS JOIN generate_series(1, 2) AS k(k)
 ORDER BY s.created_at, k.k;

INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at,
                              updated_at, secret, phone, last_challenged_at)
VALUES
  (pg_temp.fx_uuid('factor-1'), pg_temp.fx_uuid('user-1'), 'Authenticator App', 'totp', 'verified',
   '2024-06-03 10:00:00+00', '2024-06-03 10:01:00+00', upper(substr(md5('totp-1'), 1, 32)), NULL,
   '2024-07-01 09:00:00+00'),
  (pg_temp.fx_uuid('factor-2'), pg_temp.fx_uuid('user-2'), '', 'totp', 'verified',
   '2024-06-06 10:00:00+00', '2024-06-06 10:01:00+00', upper(substr(md5('totp-2'), 1, 32)), NULL,
   NULL),
  (pg_temp.fx_uuid('factor-3'), pg_temp.fx_uuid('user-3'), 'Handy', 'phone', 'unverified',
   '2024-06-09 10:00:00+00', '2024-06-09 10:00:00+00', NULL, '4915100000003', NULL);

INSERT INTO auth.mfa_challenges (id, factor_id, created_at, verified_at, ip_address, otp_code)
VALUES (pg_temp.fx_uuid('challenge-1'), pg_temp.fx_uuid('factor-1'),
        '2024-07-01 09:00:00+00', '2024-07-01 09:00:21+00', '203.0.113.1', NULL);

INSERT INTO auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id)
SELECT s.id, s.created_at, s.created_at, m.method,
       pg_temp.fx_uuid('amr-' || s.id || '-' || m.method)
  FROM auth.sessions s
  CROSS JOIN (VALUES ('password'), ('totp')) AS m(method)
 WHERE m.method = 'password' OR s.aal = 'aal2'
 ORDER BY s.created_at, m.method;

-- pending confirmation e-mails
INSERT INTO auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to, created_at, updated_at)
SELECT pg_temp.fx_uuid('ott-' || u.id), u.id, 'confirmation_token', u.confirmation_token, u.email,
       u.confirmation_sent_at AT TIME ZONE 'UTC', u.confirmation_sent_at AT TIME ZONE 'UTC'
  FROM auth.users u
 WHERE u.confirmation_token <> ''
 ORDER BY u.created_at;

-- audit payloads are json (not jsonb): their exact text, spacing included, is the data
INSERT INTO auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
SELECT '00000000-0000-0000-0000-000000000000'::uuid,
       pg_temp.fx_uuid('audit-' || g.i),
       CASE WHEN g.i % 10 = 0
            THEN format(E'{\n  "actor_id" : "%s",\n  "action":"login",  "log_type":"account",\n  "traits": {"provider" :"email"}\n}',
                        pg_temp.fx_uuid('user-' || g.i))
            ELSE format('{"actor_id":"%s","actor_username":"%s","action":"%s","log_type":"%s","traits":{"provider":"email"}}',
                        pg_temp.fx_uuid('user-' || g.i),
                        format('user%s@matbakh.test', lpad(g.i::text, 2, '0')),
                        (ARRAY['login', 'logout', 'token_refreshed', 'user_signedup', 'user_recovery_requested'])[1 + g.i % 5],
                        CASE WHEN g.i % 5 IN (2, 3) THEN 'token' ELSE 'account' END)
       END::json,
       timestamptz '2024-06-02 00:00:00+00' + g.i * interval '2 days 5 hours',
       CASE WHEN g.i % 4 = 0 THEN '' ELSE '203.0.113.' || g.i END
  FROM generate_series(1, 30) AS g(i)
 ORDER BY g.i;

-- GoTrue's migration history (data only; a real GoTrue would rerun nothing)
INSERT INTO auth.schema_migrations (version)
SELECT v FROM unnest(ARRAY[
  '20171026211738', '20171026211808', '20171026211834', '20180103212743', '20180108183307',
  '20180119214651', '20180125194653', '00', '20210710035447', '20210722035447',
  '20210730183235', '20210909172000', '20210927181326', '20211122151130', '20211124214934',
  '20211202183645', '20220114185221', '20220114185340', '20220224000811', '20220323170000',
  '20220429102000', '20220531120530', '20220614074223', '20220811173540', '20221003041349',
  '20221003041400', '20221011041400', '20221020193600', '20221021073300', '20221021082433',
  '20221027105023', '20221114143122', '20221114143410', '20221125140132', '20221208132122',
  '20221215195500', '20221215195800', '20221215195900', '20230116124310', '20230116124412',
  '20230131181311', '20230322519590', '20230402418590', '20230411005111', '20230508135423',
  '20230523124323', '20230818113222', '20230914180801', '20231027141322', '20231114161723',
  '20231117164230', '20240115144230', '20240214120130', '20240306115329', '20240314092811',
  '20240427152123', '20240612123726', '20240729123726', '20240802193726', '20240806073726',
  '20241009103726', '20260625000000']) AS v;

-------------------------------------------------------------------------------
-- storage: migration history, buckets, objects, one unfinished multipart upload
-------------------------------------------------------------------------------
INSERT INTO storage.migrations (id, name, hash, executed_at)
SELECT m.ord - 1, m.name, substr(encode(sha256(convert_to(m.name, 'UTF8')), 'hex'), 1, 40),
       timestamp '2024-05-20 11:58:00' + m.ord * interval '150 milliseconds'
  FROM unnest(ARRAY[
    'create-migrations-table', 'initialmigration', 'storage-schema', 'pathtoken-column',
    'add-migrations-rls', 'add-size-functions', 'change-column-name-in-get-size',
    'add-rls-to-buckets', 'add-public-to-buckets', 'fix-search-function',
    'search-files-search-function', 'add-trigger-to-auto-update-updated_at-column',
    'add-automatic-avif-detection-flag', 'add-bucket-custom-limits', 'use-bytes-for-max-size',
    'add-can-insert-object-function', 'add-version', 'drop-owner-foreign-key',
    'add_owner_id_column_deprecate_owner', 'alter-default-value-objects-id',
    'list-objects-with-delimiter', 's3-multipart-uploads', 's3-multipart-uploads-big-ints',
    'optimize-search-function', 'operation-function', 'custom-metadata',
    'prevent-direct-deletes', 'optimize-existing-functions-again', 'mark-filename-immutable'
  ]) WITH ORDINALITY AS m(name, ord)
 ORDER BY m.ord;

INSERT INTO storage.buckets (id, name, owner, created_at, updated_at, public, avif_autodetection,
                             file_size_limit, allowed_mime_types, owner_id, type)
VALUES
  ('uploads', 'uploads', NULL, '2024-06-01 07:00:00+00', '2024-06-01 07:00:00+00', false, false,
   52428800, ARRAY['image/png', 'image/jpeg', 'application/pdf', 'text/plain', 'application/gzip'],
   NULL, 'STANDARD'),
  ('avatars', 'avatars', NULL, '2024-06-01 07:01:00+00', '2024-06-01 07:01:00+00', true, false,
   2097152, ARRAY['image/*'], NULL, 'STANDARD'),
  ('reports', 'reports', NULL, '2024-06-01 07:02:00+00', '2024-06-01 07:02:00+00', false, false,
   NULL, NULL, NULL, 'STANDARD');

-- 40 objects: avatars 10, uploads 20, reports 10
WITH spec (bucket_id, name, owner_i, mimetype, special) AS (
  SELECT 'avatars', pg_temp.fx_uuid('user-' || u) || '/' || CASE WHEN u = 3 THEN 'avatar.JPG' ELSE 'avatar.png' END,
         u, CASE WHEN u = 3 THEN 'image/jpeg' ELSE 'image/png' END, NULL
    FROM generate_series(1, 10) AS u
  UNION ALL
  SELECT 'uploads', pg_temp.fx_uuid('user-' || u) || '/photo-' || k || '.png', u, 'image/png', NULL
    FROM generate_series(1, 5) AS u, generate_series(1, 3) AS k
  UNION ALL
  VALUES ('uploads', 'temp/x.txt', NULL::int, 'text/plain;charset=UTF-8', NULL::text),
         -- what the dashboard writes when someone creates an empty folder
         ('uploads', 'temp/.emptyFolderPlaceholder', NULL, 'application/octet-stream', 'empty'),
         ('uploads', pg_temp.fx_uuid('user-1') || '/menus/2025/Speisekarte März 🍽.pdf', 1, 'application/pdf', NULL),
         ('uploads', pg_temp.fx_uuid('user-2') || '/archive.tar.gz', 2, 'application/gzip', 'multipart'),
         -- uploaded before storage-api versioned objects: version IS NULL
         ('uploads', pg_temp.fx_uuid('user-3') || '/docs/README', 3, 'text/plain', 'unversioned')
  UNION ALL
  -- monthly report PDFs of the businesses behind reports 1..10
  SELECT 'reports', pg_temp.fx_uuid('business-' || (1 + ((r - 1) * 7) % 200)) || '/2025-01.pdf',
         NULL, 'application/pdf', 'service'
    FROM generate_series(1, 10) AS r
),
numbered AS (
  SELECT s.*, row_number() OVER (ORDER BY s.bucket_id, s.name COLLATE "C") AS seq
    FROM spec s
),
bodies AS (
  SELECT n.*,
         pg_temp.fx_body(n.bucket_id, n.name,
                         CASE WHEN n.special = 'empty' THEN 0 ELSE 1 + (n.seq::int * 37) % 50 END) AS body,
         timestamptz '2025-01-05 10:00:00+00' + n.seq * interval '7 hours 11 minutes' AS created
    FROM numbered n
)
INSERT INTO storage.objects (id, bucket_id, name, owner, created_at, updated_at, last_accessed_at,
                             metadata, version, owner_id, user_metadata)
SELECT pg_temp.fx_uuid('object-' || b.bucket_id || '/' || b.name),
       b.bucket_id,
       b.name,
       CASE WHEN b.owner_i IS NOT NULL THEN pg_temp.fx_uuid('user-' || b.owner_i) END,
       b.created,
       b.created,
       b.created + interval '1 day',
       jsonb_build_object(
         'eTag', CASE WHEN b.special = 'multipart'
                      THEN '"' || md5(b.body || 'multipart') || '-2"'
                      ELSE '"' || md5(b.body) || '"' END,
         'size', octet_length(b.body),
         'mimetype', b.mimetype,
         'cacheControl', 'max-age=3600',
         'lastModified', to_char(b.created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
         'contentLength', octet_length(b.body),
         'httpStatusCode', 200),
       CASE WHEN b.special = 'unversioned' THEN NULL
            ELSE pg_temp.fx_uuid('object-version-' || b.bucket_id || '/' || b.name)::text END,
       CASE WHEN b.owner_i IS NOT NULL THEN pg_temp.fx_uuid('user-' || b.owner_i)::text END,
       CASE WHEN b.name LIKE '%/photo-1.png' THEN '{"caption": "Terrasse ☀️", "source": "mobile"}'::jsonb
            WHEN b.special = 'multipart' THEN '{"x-amz-meta-origin": "backup-job"}'::jsonb END
  FROM bodies b
 ORDER BY b.seq;

INSERT INTO storage.s3_multipart_uploads (id, in_progress_size, upload_signature, bucket_id, key,
                                          version, owner_id, created_at, user_metadata)
VALUES ('ZmI5NDA1ZjQtZml4dHVyZS11cGxvYWQ', 5242880, md5('signature-1'), 'uploads',
        pg_temp.fx_uuid('user-4') || '/big-video.mp4', pg_temp.fx_uuid('multipart-version-1')::text,
        pg_temp.fx_uuid('user-4')::text, '2025-03-30 18:00:00+00', NULL);
INSERT INTO storage.s3_multipart_uploads_parts (id, upload_id, size, part_number, bucket_id, key,
                                                etag, owner_id, version, created_at)
VALUES (pg_temp.fx_uuid('multipart-part-1'), 'ZmI5NDA1ZjQtZml4dHVyZS11cGxvYWQ', 5242880, 1, 'uploads',
        pg_temp.fx_uuid('user-4') || '/big-video.mp4', '"' || md5('part-1') || '"',
        pg_temp.fx_uuid('user-4')::text, pg_temp.fx_uuid('multipart-version-1')::text,
        '2025-03-30 18:00:05+00');

-------------------------------------------------------------------------------
-- public.businesses (200): owner of business b is user 1 + (b-1) % 40
-------------------------------------------------------------------------------
INSERT INTO public.businesses (id, owner_id, name, slug, category, tags, settings, description,
                               contact_email, phone, website, rating, is_published,
                               created_at, updated_at)
SELECT pg_temp.fx_uuid('business-' || g.b),
       pg_temp.fx_uuid('user-' || (1 + (g.b - 1) % 40)),
       (ARRAY['Café Zürich', 'Sushi 寿司 Bar', 'مطبخ Matbakh', 'Pizzeria Bella Napoli', 'Taco Loco 🌮',
              'Bäckerei Ömer', 'Smørrebrød Hus', 'L''Atelier du Goût', 'Burger & Bier', 'Ramen 🍜 Ichiban',
              'Crêperie Bretonne', 'Döner Palast', 'Trattoria "Da Mario"', 'Пельменная №1', 'Κουζίνα',
              'Bistro 42', 'Vegan Garden 🌱', 'Falafel Express', 'Brauhaus am Markt', 'Food Truck Nr. 7'
       ])[1 + (g.b - 1) % 20]
       || ' – ' || c.city,
       -- citext: the unique key ignores case, the stored value keeps it
       CASE WHEN g.b % 17 = 0 THEN 'Biz-' ELSE 'biz-' END || lpad(g.b::text, 3, '0') || '-' || c.slug,
       (ARRAY['restaurant', 'cafe', 'bakery', 'bar', 'food truck', 'catering'])[1 + g.b % 6]::public.business_category,
       CASE g.b % 7
         WHEN 0 THEN '{}'::text[]
         WHEN 1 THEN NULL
         WHEN 2 THEN ARRAY['halal', 'vegan']
         WHEN 3 THEN ARRAY['outdoor seating', 'wifi', 'family friendly']
         WHEN 4 THEN ARRAY['comma,inside', 'quote"inside', 'back\slash', '{braces}']
         WHEN 5 THEN ARRAY['late-night', NULL]
         ELSE ARRAY['🍕', 'ünïcödé', '']
       END,
       CASE WHEN g.b % 9 = 0 THEN '{}'::jsonb
            ELSE jsonb_build_object(
                   'locale', (ARRAY['de-DE', 'de-CH', 'ar-AE', 'en-GB'])[1 + g.b % 4],
                   'notifications', jsonb_build_object('email', g.b % 2 = 0, 'sms', g.b % 5 = 0),
                   'weights', jsonb_build_object('google', 0.5, 'instagram', 0.25, 'tripadvisor', 0.125),
                   'competitors', jsonb_build_array(pg_temp.fx_uuid('business-' || (1 + g.b % 200)),
                                                    pg_temp.fx_uuid('business-' || (1 + (g.b + 50) % 200))),
                   'opening_hours', CASE WHEN g.b % 2 = 0
                                         THEN '{"mon": ["11:00", "22:00"], "sun": null}'::jsonb
                                         ELSE '[]'::jsonb END,
                   'numbers', '[1, 2.50, 1e3, -0.0, 12345678901234567890.123456789]'::jsonb,
                   'note', CASE WHEN g.b % 4 = 0 THEN E'Zeile 1\nZeile 2\t"zitiert" \\ ✓' END)
       END,
       -- NULL, empty string and real text are three different values
       CASE g.b % 4 WHEN 0 THEN NULL WHEN 1 THEN ''
            ELSE 'Seit ' || (1990 + g.b % 30) || E' in ' || c.city || E'.\nSpezialität: ' ||
                 (ARRAY['Shawarma', 'Käsespätzle', 'Sushi', 'Kunafa كنافة', 'Pho 🍲'])[1 + g.b % 5] END,
       CASE WHEN g.b % 5 = 0 THEN NULL
            WHEN g.b = 42 THEN 'Info@Matbakh.TEST'
            ELSE 'kontakt+' || g.b || '@matbakh.test' END,
       CASE WHEN g.b % 3 = 0 THEN NULL ELSE '+49 30 ' || lpad((pg_temp.fx_int('phone-' || g.b) % 10000000)::text, 7, '0') END,
       CASE WHEN g.b % 6 = 0 THEN NULL ELSE 'https://biz-' || g.b || '.example' END,
       CASE WHEN g.b = 100 THEN 5.00
            WHEN g.b % 7 = 0 THEN NULL
            ELSE round((pg_temp.fx_int('rating-' || g.b) % 500) / 100.0, 2) END,
       g.b % 3 <> 0,
       timestamptz '2024-07-01 09:00:00+00' + g.b * interval '1 day 3 hours',
       timestamptz '2024-07-01 09:00:00+00' + g.b * interval '1 day 3 hours' + (g.b % 5) * interval '2 days'
  FROM generate_series(1, 200) AS g(b)
  CROSS JOIN LATERAL (
    SELECT (ARRAY['Berlin', 'München', 'Köln', 'Hamburg', 'Düsseldorf', 'Zürich', 'Wien', 'Dubai', 'Riyadh', 'Kairo'])[1 + g.b % 10] AS city,
           (ARRAY['berlin', 'muenchen', 'koeln', 'hamburg', 'duesseldorf', 'zuerich', 'wien', 'dubai', 'riyadh', 'kairo'])[1 + g.b % 10] AS slug
  ) AS c
 ORDER BY g.b;

-------------------------------------------------------------------------------
-- public.visibility_checks (2000), ids 1..2000 from the ALWAYS identity
-------------------------------------------------------------------------------
INSERT INTO public.visibility_checks (business_id, source, score, raw, checked_at)
SELECT pg_temp.fx_uuid('business-' || (1 + (g.n - 1) % 200)),
       (ARRAY['google', 'instagram', 'tripadvisor', 'yelp', 'facebook'])[1 + pg_temp.fx_int('vc-src-' || g.n) % 5],
       CASE WHEN g.n % 50 = 0 THEN NULL
            WHEN g.n % 97 = 0 THEN 100.00
            WHEN g.n % 89 = 0 THEN 0
            ELSE round((pg_temp.fx_int('vc-score-' || g.n) % 10001) / 100.0, 2) END,
       CASE WHEN g.n % 100 = 0 THEN NULL
            WHEN g.n % 4 = 0 THEN format('{"rank":%s,"query":"restaurant near me","n":%s}',
                                         1 + g.n % 20, g.n)
            -- spaces before colons, tabs, newlines: json keeps all of it
            WHEN g.n % 4 = 1 THEN format(E'{\n\t"rank" : %s ,\n\t"query":  "döner %s"\n}', 1 + g.n % 20, g.n)
            -- duplicate keys are legal json and survive only as json
            WHEN g.n % 4 = 2 THEN format('{"rank": %s, "rank": %s, "source": "dup"}', 1 + g.n % 20, 2 + g.n % 20)
            ELSE format('[{"q": "caf\u00e9 \ud83c\udf55"}, 1.50, 1e2, null, true, "%s"]', g.n)
       END::json,
       timestamptz '2025-01-01 00:00:00+00' + (g.n - 1) * interval '65 minutes'
  FROM generate_series(1, 2000) AS g(n)
 ORDER BY g.n;

-------------------------------------------------------------------------------
-- public.reports (300), ids 1..300, report_number R-10000..R-10299
--   1..10 point at the PDFs in the reports bucket, 11 at a missing object
-------------------------------------------------------------------------------
INSERT INTO public.reports (business_id, kind, period, payload, pdf_path, generated_at)
SELECT pg_temp.fx_uuid('business-' || x.b),
       x.kind,
       CASE WHEN x.r <= 11 THEN daterange('2025-01-01', '2025-02-01')
            WHEN x.r % 40 = 0 THEN 'empty'::daterange
            WHEN x.r % 23 = 0 THEN NULL
            WHEN x.kind = 'weekly' THEN daterange(date '2025-01-06' + (x.r % 12) * 7, date '2025-01-13' + (x.r % 12) * 7)
            WHEN x.kind = 'monthly' THEN daterange((date '2025-01-01' + (x.r % 3) * interval '1 month')::date,
                                                    (date '2025-02-01' + (x.r % 3) * interval '1 month')::date)
            WHEN x.kind = 'competitor' THEN '[2025-03-01,)'::daterange
            ELSE daterange(date '2024-12-01', date '2025-03-31', '[]') END,
       CASE WHEN x.r % 25 = 0 THEN '{}'::jsonb
            ELSE jsonb_build_object(
                   'score', round((pg_temp.fx_int('report-score-' || x.r) % 10001) / 100.0, 2),
                   'sections', jsonb_build_array('summary', 'google', 'instagram'),
                   'highlights', jsonb_build_array('Mehr Sichtbarkeit 📈', 'تحسن الترتيب', NULL),
                   'competitors', jsonb_build_array(
                                    jsonb_build_object('name', 'Konkurrent "A"', 'delta', -1.5),
                                    jsonb_build_object('name', 'B & C', 'delta', 0)),
                   'precise', 1.0000000000000000001,
                   'empty_obj', '{}'::jsonb,
                   'empty_arr', '[]'::jsonb,
                   'empty_str', '',
                   'null_val', NULL)
       END,
       CASE WHEN x.r <= 10 THEN 'reports/' || pg_temp.fx_uuid('business-' || x.b) || '/2025-01.pdf'
            WHEN x.r = 11 THEN 'reports/' || pg_temp.fx_uuid('business-' || x.b) || '/2024-12.pdf'
       END,
       timestamptz '2025-02-01 06:00:00+00' + x.r * interval '3 hours 17 minutes'
  FROM (SELECT g.r,
               1 + ((g.r - 1) * 7) % 200 AS b,
               CASE WHEN g.r <= 11 THEN 'monthly'
                    ELSE (ARRAY['weekly', 'monthly', 'competitor', 'audit'])[1 + g.r % 4] END::public.report_kind AS kind
          FROM generate_series(1, 300) AS g(r)) AS x
 ORDER BY x.r;

-------------------------------------------------------------------------------
-- public.uploads (19): one per owned object in the uploads bucket, plus one
-- row whose file never made it into storage (object_id NULL)
-------------------------------------------------------------------------------
INSERT INTO public.uploads (id, owner_id, business_id, bucket_id, object_name, object_id, size,
                            content_type, public_url, created_at)
SELECT pg_temp.fx_uuid('upload-' || o.name),
       o.owner,
       (SELECT b.id FROM public.businesses b WHERE b.owner_id = o.owner ORDER BY b.created_at LIMIT 1),
       o.bucket_id,
       o.name,
       o.id,
       (o.metadata ->> 'size')::bigint,
       o.metadata ->> 'mimetype',
       'https://matbakhdemoref000000.supabase.co/storage/v1/object/authenticated/uploads/' || o.name,
       o.created_at
  FROM storage.objects o
 WHERE o.bucket_id = 'uploads' AND o.owner IS NOT NULL
UNION ALL
SELECT pg_temp.fx_uuid('upload-lost'), pg_temp.fx_uuid('user-4'), NULL, 'uploads',
       pg_temp.fx_uuid('user-4') || '/lost-file.png', NULL, NULL, 'image/png', NULL,
       '2025-03-01 12:00:00+00';

-------------------------------------------------------------------------------
-- public.events (3000) from 2024-12-15 to 2025-04-10: Dec and Apr rows land
-- in events_default
-------------------------------------------------------------------------------
INSERT INTO public.events (occurred_at, business_id, user_id, kind, properties)
SELECT timestamptz '2024-12-15 00:00:00+00' + (g.e - 1) * interval '55 minutes 41 seconds',
       CASE WHEN g.e % 50 = 0 THEN NULL ELSE pg_temp.fx_uuid('business-' || (1 + (g.e * 13) % 200)) END,
       CASE WHEN g.e % 3 = 0 THEN pg_temp.fx_uuid('user-' || (1 + g.e % 50)) END,
       (ARRAY['page_view', 'profile_click', 'direction_request', 'call', 'review_posted', 'menu_view'])[1 + g.e % 6],
       CASE WHEN g.e % 5 = 0 THEN '{}'::jsonb
            ELSE jsonb_build_object(
                   'ref', (ARRAY['google', 'instagram', 'direct', 'qr-code'])[1 + g.e % 4],
                   'lat', round(52.52 + (pg_temp.fx_int('lat-' || g.e) % 1000) / 10000.0, 4),
                   'lng', round(13.40 + (pg_temp.fx_int('lng-' || g.e) % 1000) / 10000.0, 4),
                   'ua', CASE WHEN g.e % 7 = 0 THEN 'bot/1.0' END) END
  FROM generate_series(1, 3000) AS g(e)
 ORDER BY g.e;

-------------------------------------------------------------------------------
-- public.audit_trail (501 rows, no key): 480 distinct rows, then every 24th
-- row again (20 exact duplicates) and row 240 a third time
-------------------------------------------------------------------------------
INSERT INTO public.audit_trail (occurred_at, actor_id, action, entity, details, ip)
SELECT timestamptz '2025-01-01 00:00:00+00' + g.a * interval '4 hours 31 minutes',
       CASE WHEN g.a % 11 = 0 THEN NULL ELSE pg_temp.fx_uuid('user-' || (1 + g.a % 46)) END,
       (ARRAY['business.update', 'business.create', 'report.generate', 'profile.update', 'upload.delete'])[1 + g.a % 5],
       CASE WHEN g.a % 13 = 0 THEN NULL ELSE 'businesses:' || pg_temp.fx_uuid('business-' || (1 + g.a % 200)) END,
       CASE WHEN g.a % 6 = 0 THEN NULL
            WHEN g.a % 6 = 1 THEN jsonb_build_object('field', 'name', 'old', 'Alt ✗', 'new', 'Neu ✓')
            ELSE jsonb_build_object('n', g.a, 'changes', jsonb_build_array(g.a % 3, 'x')) END,
       CASE WHEN g.a % 8 = 0 THEN NULL
            WHEN g.a % 2 = 0 THEN ('2001:db8::' || to_hex(g.a))::inet
            ELSE ('198.51.100.' || (g.a % 250))::inet END
  FROM generate_series(1, 480) AS g(a)
 ORDER BY g.a;

INSERT INTO public.audit_trail
SELECT t.*
  FROM public.audit_trail t
 WHERE t.occurred_at IN (SELECT timestamptz '2025-01-01 00:00:00+00' + a * interval '4 hours 31 minutes'
                           FROM generate_series(24, 480, 24) AS a);
INSERT INTO public.audit_trail
SELECT DISTINCT t.*
  FROM public.audit_trail t
 WHERE t.occurred_at = timestamptz '2025-01-01 00:00:00+00' + 240 * interval '4 hours 31 minutes';

-------------------------------------------------------------------------------
-- public."Order Items" (100), ids 1..100
-------------------------------------------------------------------------------
INSERT INTO public."Order Items" (business_id, "itemName", "Quantity", "select", "unit price", created_at)
SELECT pg_temp.fx_uuid('business-' || (1 + (g.o * 3) % 200)),
       (ARRAY['Döner Teller', 'Falafel 🧆', 'Crème brûlée', 'Sushi 🍣 Set', 'Shakshuka',
              'Knafeh كنافة', 'Pommes rot-weiß', '"Special" of the day', 'Kaffee ☕', 'Tee; mit Minze'])[1 + g.o % 10],
       1 + g.o % 5,
       g.o % 3 = 0,
       CASE WHEN g.o % 10 = 0 THEN NULL ELSE (pg_temp.fx_int('price-' || g.o) % 5000) / 100.0 + 0.5 END,
       timestamptz '2025-02-10 11:00:00+00' + g.o * interval '37 minutes'
  FROM generate_series(1, 100) AS g(o)
 ORDER BY g.o;

-------------------------------------------------------------------------------
-- supabase CLI migration history of the app
-------------------------------------------------------------------------------
INSERT INTO supabase_migrations.schema_migrations (version, statements, name)
VALUES
  ('20250101090000',
   ARRAY['create type public.business_category as enum (''restaurant'', ''cafe'', ''bakery'', ''bar'', ''food truck'', ''catering'')',
         'create table public.businesses (id uuid primary key default extensions.uuid_generate_v4(), owner_id uuid not null references auth.users (id) on delete cascade, name text not null)',
         'alter table public.businesses enable row level security'],
   'init_matbakh'),
  ('20250115120000',
   ARRAY['create table public.visibility_checks (id bigint generated always as identity primary key, business_id uuid not null references public.businesses (id) on delete cascade, score numeric(5,2), raw json)',
         'alter publication supabase_realtime add table only public.visibility_checks'],
   'visibility_checks'),
  ('20250201080000',
   ARRAY['create table public.reports (id bigserial primary key, business_id uuid not null, kind public.report_kind not null)',
         E'create table public.events (id bigserial, occurred_at timestamptz not null)\npartition by range (occurred_at)'],
   'reports_and_events');

-------------------------------------------------------------------------------
-- sequences: values a migration must copy, not derive from max(id)
-------------------------------------------------------------------------------
-- 50 events were "deleted" since: the sequence is ahead of max(id)
SELECT setval('public.events_id_seq', 3050, true);
SELECT setval('public.legacy_invoice_seq', 4242, true);

REFRESH MATERIALIZED VIEW public.monthly_visibility;
ANALYZE;
