-- verify fixture, post-data: indexes, constraints, policies, triggers, views.
SET search_path = '';

CREATE INDEX measurements_device_idx ON public.measurements (device, at DESC);
CREATE INDEX slugs_title_idx ON public.slugs (lower(title));
CREATE UNIQUE INDEX "Type Matrix_t_key" ON public."Type Matrix" (t) WHERE t IS NOT NULL AND t <> '';
ALTER TABLE public.memberships ADD CONSTRAINT memberships_org_check CHECK (org > 0);

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY profiles_read ON public.profiles FOR SELECT TO PUBLIC USING (id > 0);
CREATE POLICY profiles_write ON public.profiles FOR UPDATE TO PUBLIC USING (id > 0) WITH CHECK (first <> '');

CREATE TRIGGER profiles_touch BEFORE UPDATE ON public.profiles
  FOR EACH ROW EXECUTE FUNCTION public.touch();

CREATE VIEW public.profile_names WITH (security_invoker = true) AS
  SELECT id, full_name FROM public.profiles;

CREATE MATERIALIZED VIEW public.device_counts AS
  SELECT device, count(*) AS n FROM public.measurements GROUP BY device;
