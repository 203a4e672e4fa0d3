-- Supabase-like source fixture, step 3 of 4: the application ("matbakh",
-- a restaurant-visibility SaaS), as its own supabase/migrations would build it.
--
-- Run as a superuser after 10_platform.sql. The app is created under
-- SET ROLE postgres because on Supabase the project admin "postgres" owns
-- every app object; the postgres default privileges from 10_platform.sql
-- then apply exactly as they do there. Only the storage policies need the
-- superuser (only the owner of storage.objects may add policies to it).
--
-- Deliberate edge cases for the migrator: enums (one label with a space),
-- a domain over citext, jsonb / json / arrays / ranges, generated and
-- identity columns, a partitioned table with a default partition, a table
-- with no key at all, quoted identifiers, FKs into auth.users and
-- storage.objects, a trigger on auth.users, RLS policies calling auth.uid()
-- and auth.jwt(), a legacy function reading request.jwt.claim.role, a
-- security_invoker view, a materialized view created WITH NO DATA, and a
-- realtime publication member.

SET search_path = '';
SET ROLE postgres;

-------------------------------------------------------------------------------
-- types
-------------------------------------------------------------------------------
CREATE TYPE public.business_category AS ENUM
  ('restaurant', 'cafe', 'bakery', 'bar', 'food truck', 'catering');
CREATE TYPE public.user_role AS ENUM ('owner', 'manager', 'staff', 'admin');
CREATE TYPE public.report_kind AS ENUM ('weekly', 'monthly', 'competitor', 'audit');

-- Lives on an extension type, so it only restores after extensions exist.
CREATE DOMAIN public.email_address AS extensions.citext
  CONSTRAINT email_address_check CHECK (VALUE ~ '^[^@[:space:]]+@[^@[:space:]]+$');

-------------------------------------------------------------------------------
-- sequences not owned by a column
-------------------------------------------------------------------------------
-- Feeds reports.report_number through a column default.
CREATE SEQUENCE public.report_number_seq START WITH 10000;
-- Referenced by nothing: only its value has to survive the migration.
CREATE SEQUENCE public.legacy_invoice_seq AS integer
  START WITH 100 INCREMENT BY 7 MAXVALUE 100000 CYCLE;

-------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------
CREATE TABLE public.profiles (
  id           uuid NOT NULL,
  full_name    text,
  avatar_url   text,
  role         public.user_role NOT NULL DEFAULT 'owner',
  preferences  jsonb NOT NULL DEFAULT '{}'::jsonb,
  locale       text DEFAULT 'de-DE',
  -- generated: must be left out of COPY column lists
  display_name text GENERATED ALWAYS AS
                 (COALESCE(NULLIF(btrim(full_name), ''), 'user-' || left(id::text, 8))) STORED,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT profiles_pkey PRIMARY KEY (id),
  CONSTRAINT profiles_id_fkey FOREIGN KEY (id) REFERENCES auth.users (id) ON DELETE CASCADE
);
COMMENT ON TABLE public.profiles IS 'One row per auth user, created by the on_auth_user_created trigger.';

CREATE TABLE public.businesses (
  id            uuid NOT NULL DEFAULT extensions.uuid_generate_v4(),
  owner_id      uuid NOT NULL,
  name          text NOT NULL,
  slug          extensions.citext NOT NULL,
  category      public.business_category NOT NULL DEFAULT 'restaurant',
  tags          text[] DEFAULT '{}'::text[],
  settings      jsonb NOT NULL DEFAULT '{}'::jsonb,
  description   text,
  contact_email public.email_address,
  phone         text,
  website       text,
  rating        numeric(3,2),
  is_published  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT businesses_pkey PRIMARY KEY (id),
  CONSTRAINT businesses_slug_key UNIQUE (slug),
  CONSTRAINT businesses_rating_check CHECK (rating >= 0 AND rating <= 5),
  CONSTRAINT businesses_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES auth.users (id) ON DELETE CASCADE
);
CREATE INDEX businesses_owner_id_idx ON public.businesses (owner_id);
-- Fuzzy name search; the opclass is schema-qualified like in real dumps.
CREATE INDEX businesses_name_trgm_idx ON public.businesses USING gin (name extensions.gin_trgm_ops);
CREATE INDEX businesses_tags_idx ON public.businesses USING gin (tags);

CREATE TABLE public.visibility_checks (
  -- ALWAYS identity: loading needs OVERRIDING SYSTEM VALUE, then setval
  id          bigint GENERATED ALWAYS AS IDENTITY,
  business_id uuid NOT NULL,
  source      text NOT NULL,
  score       numeric(5,2),
  -- json, not jsonb: whitespace, key order and duplicate keys are data here
  raw         json,
  checked_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT visibility_checks_pkey PRIMARY KEY (id),
  CONSTRAINT visibility_checks_score_check CHECK (score >= 0 AND score <= 100),
  CONSTRAINT visibility_checks_source_check
    CHECK (source = ANY (ARRAY['google', 'instagram', 'tripadvisor', 'yelp', 'facebook'])),
  CONSTRAINT visibility_checks_business_id_fkey FOREIGN KEY (business_id)
    REFERENCES public.businesses (id) ON DELETE CASCADE
);
CREATE INDEX visibility_checks_business_checked_idx
  ON public.visibility_checks (business_id, checked_at DESC);

CREATE TABLE public.reports (
  id            bigserial NOT NULL,
  report_number text NOT NULL DEFAULT ('R-' || nextval('public.report_number_seq'::regclass)),
  business_id   uuid NOT NULL,
  kind          public.report_kind NOT NULL,
  period        daterange,
  payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- "<bucket>/<object name>" of the rendered PDF in Supabase Storage, or NULL
  pdf_path      text,
  generated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT reports_pkey PRIMARY KEY (id),
  CONSTRAINT reports_report_number_key UNIQUE (report_number),
  CONSTRAINT reports_business_id_fkey FOREIGN KEY (business_id)
    REFERENCES public.businesses (id) ON DELETE CASCADE
);
CREATE INDEX reports_business_id_idx ON public.reports (business_id);

CREATE TABLE public.uploads (
  id           uuid NOT NULL DEFAULT gen_random_uuid(),
  owner_id     uuid NOT NULL,
  business_id  uuid,
  bucket_id    text NOT NULL DEFAULT 'uploads',
  object_name  text NOT NULL,
  -- FK into the platform schema: needs the storage shim or a retarget
  object_id    uuid,
  size         bigint,
  content_type text,
  -- a stored Supabase URL, candidate for the storage URL rewrite
  public_url   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT uploads_pkey PRIMARY KEY (id),
  CONSTRAINT uploads_bucket_id_object_name_key UNIQUE (bucket_id, object_name),
  CONSTRAINT uploads_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES auth.users (id) ON DELETE CASCADE,
  CONSTRAINT uploads_business_id_fkey FOREIGN KEY (business_id)
    REFERENCES public.businesses (id) ON DELETE SET NULL,
  CONSTRAINT uploads_object_id_fkey FOREIGN KEY (object_id)
    REFERENCES storage.objects (id) ON DELETE SET NULL
);

-- Partitioned by month with a default partition catching everything else.
CREATE TABLE public.events (
  id          bigserial NOT NULL,
  occurred_at timestamptz NOT NULL,
  business_id uuid,
  user_id     uuid,
  kind        text NOT NULL,
  properties  jsonb NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT events_pkey PRIMARY KEY (id, occurred_at),
  CONSTRAINT events_business_id_fkey FOREIGN KEY (business_id)
    REFERENCES public.businesses (id) ON DELETE CASCADE
) PARTITION BY RANGE (occurred_at);
CREATE TABLE public.events_2025_01 PARTITION OF public.events
  FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00');
CREATE TABLE public.events_2025_02 PARTITION OF public.events
  FOR VALUES FROM ('2025-02-01 00:00:00+00') TO ('2025-03-01 00:00:00+00');
CREATE TABLE public.events_2025_03 PARTITION OF public.events
  FOR VALUES FROM ('2025-03-01 00:00:00+00') TO ('2025-04-01 00:00:00+00');
CREATE TABLE public.events_default PARTITION OF public.events DEFAULT;
CREATE INDEX events_business_occurred_idx ON public.events (business_id, occurred_at);

-- No primary key, no unique constraint, and exact duplicate rows in the
-- seed: chunking and verification cannot rely on a key here.
CREATE TABLE public.audit_trail (
  occurred_at timestamptz NOT NULL,
  actor_id    uuid,
  action      text NOT NULL,
  entity      text,
  details     jsonb,
  ip          inet
);
CREATE INDEX audit_trail_occurred_at_idx ON public.audit_trail (occurred_at);
-- The audit trail is append-only; extended statistics help the planner
-- with reports per business and kind.
CREATE RULE audit_trail_keep AS ON DELETE TO public.audit_trail DO INSTEAD NOTHING;
CREATE STATISTICS public.reports_business_kind (dependencies, ndistinct)
  ON business_id, kind FROM public.reports;

-- Identifiers that only work quoted: a space, mixed case, a reserved word.
CREATE TABLE public."Order Items" (
  id           bigint GENERATED BY DEFAULT AS IDENTITY,
  business_id  uuid NOT NULL,
  "itemName"   text NOT NULL,
  "Quantity"   integer NOT NULL DEFAULT 1,
  "select"     boolean NOT NULL DEFAULT false,
  "unit price" numeric(10,2),
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT "Order Items_pkey" PRIMARY KEY (id),
  CONSTRAINT "Order Items_Quantity_check" CHECK ("Quantity" > 0),
  CONSTRAINT "Order Items_business_id_fkey" FOREIGN KEY (business_id)
    REFERENCES public.businesses (id) ON DELETE CASCADE
);
CREATE INDEX "Order Items_itemName_idx" ON public."Order Items" ("itemName");

-------------------------------------------------------------------------------
-- functions and triggers
-------------------------------------------------------------------------------
-- Supabase's documented signup hook: runs as its owner (postgres) because
-- GoTrue's role cannot write to public; empty search_path per the docs.
CREATE FUNCTION public.handle_new_user() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $fn$
DECLARE
  requested text := NEW.raw_app_meta_data ->> 'matbakh_role';
BEGIN
  INSERT INTO public.profiles (id, full_name, avatar_url, role, preferences, created_at, updated_at)
  VALUES (
    NEW.id,
    NEW.raw_user_meta_data ->> 'full_name',
    NEW.raw_user_meta_data ->> 'avatar_url',
    CASE WHEN requested IN ('owner', 'manager', 'staff', 'admin')
         THEN requested::public.user_role ELSE 'owner' END,
    COALESCE(NEW.raw_user_meta_data -> 'preferences', '{}'::jsonb),
    -- copy the signup time so re-seeding yields identical rows
    COALESCE(NEW.created_at, now()),
    COALESCE(NEW.created_at, now())
  );
  RETURN NEW;
END
$fn$;
REVOKE EXECUTE ON FUNCTION public.handle_new_user() FROM PUBLIC, anon, authenticated;

CREATE TRIGGER on_auth_user_created
  AFTER INSERT ON auth.users
  FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();

-- Same job as contrib moddatetime (trigger argument = column name), in
-- plpgsql because moddatetime's availability on Aurora is unverified.
CREATE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $fn$
BEGIN
  NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], now()));
  RETURN NEW;
END
$fn$;

CREATE TRIGGER businesses_updated_at
  BEFORE UPDATE ON public.businesses
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at('updated_at');
CREATE TRIGGER profiles_updated_at
  BEFORE UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at('updated_at');

-- Written for PostgREST < v9: reads the per-claim GUC only, so it returns
-- NULL when just request.jwt.claims is set. The migrator should report it.
CREATE FUNCTION public.requesting_role() RETURNS text
LANGUAGE sql STABLE
AS $fn$
  SELECT NULLIF(current_setting('request.jwt.claim.role', true), '')
$fn$;

-- Called from the API; only counts rows the caller may see (RLS applies).
CREATE FUNCTION public.my_business_count() RETURNS bigint
LANGUAGE sql STABLE SET search_path = ''
AS $fn$
  SELECT count(*) FROM public.businesses WHERE owner_id = (SELECT auth.uid())
$fn$;

-------------------------------------------------------------------------------
-- views
-------------------------------------------------------------------------------
CREATE VIEW public.business_overview WITH (security_invoker = true) AS
SELECT b.id,
       b.name,
       b.slug,
       b.category,
       b.owner_id,
       count(v.id)            AS checks,
       max(v.checked_at)      AS last_checked_at,
       round(avg(v.score), 2) AS avg_score
  FROM public.businesses b
  LEFT JOIN public.visibility_checks v ON v.business_id = b.id
 GROUP BY b.id;

-- Created empty on purpose: it must be refreshed after the data load.
CREATE MATERIALIZED VIEW public.monthly_visibility AS
SELECT v.business_id,
       date_trunc('month', v.checked_at AT TIME ZONE 'UTC')::date AS month,
       count(*)                                                     AS checks,
       round(avg(v.score), 2)                                       AS avg_score,
       min(v.score)                                                 AS min_score,
       max(v.score)                                                 AS max_score
  FROM public.visibility_checks v
 GROUP BY 1, 2
WITH NO DATA;
-- Unique index so REFRESH ... CONCURRENTLY works.
CREATE UNIQUE INDEX monthly_visibility_key ON public.monthly_visibility (business_id, month);

-------------------------------------------------------------------------------
-- row level security
-------------------------------------------------------------------------------
ALTER TABLE public.businesses ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.profiles   ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.uploads    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.reports    ENABLE ROW LEVEL SECURITY;

-- Supabase Realtime sends whole old rows of a table with a full replica
-- identity; the target must keep it.
ALTER TABLE public.businesses REPLICA IDENTITY FULL;

-- (select auth.uid()) rather than auth.uid(): evaluated once per statement
-- (initPlan), Supabase's recommended form; keep it as is on the target.
CREATE POLICY "Owners manage their businesses" ON public.businesses
  FOR ALL TO authenticated
  USING ((SELECT auth.uid()) = owner_id)
  WITH CHECK ((SELECT auth.uid()) = owner_id);
CREATE POLICY "Published businesses are public" ON public.businesses
  FOR SELECT TO anon, authenticated
  USING (is_published);

CREATE POLICY "Users read their own profile" ON public.profiles
  FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) = id);
CREATE POLICY "Users update their own profile" ON public.profiles
  FOR UPDATE TO authenticated
  USING ((SELECT auth.uid()) = id)
  WITH CHECK ((SELECT auth.uid()) = id);

CREATE POLICY "Owners manage their uploads" ON public.uploads
  FOR ALL TO authenticated
  USING ((SELECT auth.uid()) = owner_id)
  WITH CHECK ((SELECT auth.uid()) = owner_id);

CREATE POLICY "Owners read their reports" ON public.reports
  FOR SELECT TO authenticated
  USING (EXISTS (SELECT 1
                   FROM public.businesses b
                  WHERE b.id = reports.business_id
                    AND b.owner_id = (SELECT auth.uid())));
-- Custom app_metadata claim: needs the full auth.jwt() claim set on the target.
CREATE POLICY "Admins read all reports" ON public.reports
  FOR SELECT TO authenticated
  USING ((((SELECT auth.jwt()) -> 'app_metadata') ->> 'matbakh_role') = 'admin');

-------------------------------------------------------------------------------
-- grants. The postgres default privileges already gave ALL to the API roles;
-- this app narrows anon to the public catalogue and profile updates to a
-- few columns.
-------------------------------------------------------------------------------
GRANT ALL ON ALL TABLES IN SCHEMA public TO authenticated, service_role;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO authenticated, service_role;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM anon;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM anon;
GRANT SELECT ON public.businesses, public.business_overview TO anon;
REVOKE UPDATE ON public.profiles FROM authenticated;
GRANT UPDATE (full_name, avatar_url, preferences, locale) ON public.profiles TO authenticated;

-------------------------------------------------------------------------------
-- realtime: the dashboard's "enable realtime" toggle does exactly this
-------------------------------------------------------------------------------
ALTER PUBLICATION supabase_realtime ADD TABLE ONLY public.visibility_checks;

RESET ROLE;

-------------------------------------------------------------------------------
-- storage policies (superuser: storage.objects belongs to supabase_storage_admin)
-------------------------------------------------------------------------------
-- Files live under "<auth user id>/...", the usual Supabase layout.
CREATE POLICY "Users manage files in their own folder" ON storage.objects
  FOR ALL TO authenticated
  USING (bucket_id = 'uploads'
         AND (SELECT auth.uid())::text = (storage.foldername(name))[1])
  WITH CHECK (bucket_id = 'uploads'
              AND (SELECT auth.uid())::text = (storage.foldername(name))[1]);
CREATE POLICY "Avatars are publicly readable" ON storage.objects
  FOR SELECT TO public
  USING (bucket_id = 'avatars');
CREATE POLICY "Users upload their own avatar" ON storage.objects
  FOR INSERT TO authenticated
  WITH CHECK (bucket_id = 'avatars'
              AND (SELECT auth.uid())::text = (storage.foldername(name))[1]
              AND lower(storage.extension(name)) = ANY (ARRAY['png', 'jpg', 'jpeg', 'webp']));
CREATE POLICY "Owners read their report PDFs" ON storage.objects
  FOR SELECT TO authenticated
  USING (bucket_id = 'reports'
         AND EXISTS (SELECT 1
                       FROM public.businesses b
                      WHERE b.id::text = (storage.foldername(name))[1]
                        AND b.owner_id = (SELECT auth.uid())));
