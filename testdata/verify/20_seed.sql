-- verify fixture, rows (source only; the test copies them to the target).
-- Edge values on purpose: NaN, -0, ±infinity, json whitespace and duplicate
-- keys, NULL next to '', tabs, newlines and backslashes in text, BC dates.
SET search_path = '';

INSERT INTO public."Type Matrix"
SELECT md5('row' || g)::uuid,
  CASE g % 7 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'tab\there\nnew line \\ back ' || g
             WHEN 3 THEN 'ünïcødé ✓ ' || g ELSE 'text ' || g END,
  'vc' || g,
  CASE WHEN g % 3 = 0 THEN 'ab' ELSE 'abcde' END,
  CASE g % 6 WHEN 0 THEN 'NaN'::numeric WHEN 1 THEN 1.5 WHEN 2 THEN 1.50 WHEN 3 THEN -0.000
             WHEN 4 THEN 123456789012345678901234567890.123456789 ELSE g / 7.0 END,
  g * 1.001,
  (g % 32000)::smallint, g, g::bigint * 1000000007,
  CASE g % 5 WHEN 0 THEN 'NaN'::real WHEN 1 THEN '-0'::real WHEN 2 THEN 'Infinity'::real ELSE g / 3.0 END,
  CASE g % 5 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN '-0'::float8 WHEN 2 THEN '-Infinity'::float8
             WHEN 3 THEN 0.1::float8 + 0.2 ELSE g / 3.0 END,
  g % 2 = 0,
  CASE g % 4 WHEN 0 THEN 'infinity'::date WHEN 1 THEN '0044-03-15 BC'::date ELSE date '2024-02-29' + g END,
  CASE g % 4 WHEN 0 THEN '-infinity'::timestamp ELSE timestamp '2024-03-31 01:30:00.123456' + g * interval '1 hour' END,
  CASE g % 4 WHEN 0 THEN 'infinity'::timestamptz WHEN 1 THEN '-infinity'::timestamptz
             ELSE timestamptz '2024-10-27 00:59:59.999999+00' + g * interval '17 minutes 0.000001 seconds' END,
  time '23:59:59.999999' - g * interval '1 second',
  timetz '12:00:00+05:30' + g * interval '1 minute',
  make_interval(months => g % 13, days => g % 40, secs => g * 1.5) * CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END,
  CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN ''::bytea ELSE decode(md5(g::text), 'hex') END,
  CASE g % 3 WHEN 0 THEN '{"b":1, "a" : [1,2]}'::json WHEN 1 THEN '{"a":1,"a":2}'::json
             ELSE ('{ "n" : ' || g || ' }')::json END,
  jsonb_build_object('n', g, 'nested', jsonb_build_object('arr', jsonb_build_array(g, 'x', NULL, 1.10)), 'f', g / 3.0),
  ARRAY[g, NULL, -g],
  ARRAY['a,b', 'q"uote', NULL, '', 'NULL', 'x' || g],
  ARRAY['ok', 'very happy']::public.mood[],
  (ARRAY['ok', 'very happy', 'sad'])[1 + g % 3]::public.mood,
  ROW(g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'p' || g END)::public.pair,
  (g + 0.5)::public.positive,
  int4range(g, g + 10),
  tstzrange(timestamptz '2024-01-01 00:00+00' + g * interval '1 day', NULL),
  ('10.0.0.' || (g % 250))::inet,
  ('10.' || (g % 250) || '.0.0/16')::cidr,
  ('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr,
  (g % 256)::bit(8)::varbit,
  (g * 12.34 * CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END)::numeric::money,
  ('<a n="' || g || '">x &amp; y</a>')::xml,
  to_tsvector('simple', 'the quick brown fox ' || g),
  point(g / 3.0, '-0'::float8),
  'a', g, 'k' || g, 'r', 'h', g, 's', 'M'
FROM generate_series(1, 300) AS g;

INSERT INTO public."Binary Matrix"
SELECT id, t, vc, ch, n, n2, i2, i4, i8, f4, f8, b, d, ts, tstz, tm, tmtz, iv, "by", js, jsb, arr,
  tarr, m, pos, r, tsr, ip, net, mac, bits, cash, x, tsv, pt, "t_1", rn, "key", "row", hash,
  "count", "select", "Mixed Case"
FROM public."Type Matrix";

INSERT INTO public.measurements
SELECT g, 'dev-' || (g % 37),
  CASE WHEN g % 1000 = 0 THEN 'NaN'::float8 ELSE g * 1.0001 END,
  timestamptz '2024-01-01 00:00+00' + g * interval '1 minute',
  repeat('x', 40) || g
FROM generate_series(1, 40000) AS g;

INSERT INTO public.slugs
SELECT CASE g % 4 WHEN 0 THEN 'Slug-' || g WHEN 1 THEN 'slug_' || g WHEN 2 THEN 'ÄÖ-' || g ELSE 'z ' || g END,
  'Title ' || g, repeat('b', 40)
FROM generate_series(1, 20000) AS g;

INSERT INTO public.memberships
SELECT 1 + g % 20, 'user' || g, (ARRAY['ok', 'very happy', 'sad'])[1 + g % 3]::public.mood,
  date '2020-01-01' + g
FROM generate_series(1, 500) AS g;

INSERT INTO public.audit_log
SELECT timestamptz '2024-05-01 12:00+00' + (g % 10) * interval '1 second', 'login',
  '{"ip" : "10.0.0.1",  "ok": true}'::json
FROM generate_series(1, 50) AS g;

INSERT INTO public.profiles (first, last, updated_at)
SELECT 'First' || g, 'Last' || g, timestamptz '2024-06-01 00:00+00' + g * interval '1 day'
FROM generate_series(1, 100) AS g;

INSERT INTO public.events (occurred_at, kind, payload)
SELECT timestamptz '2023-06-01 00:00+00' + g * interval '1 day', 'k' || (g % 5),
  jsonb_build_object('g', g)
FROM generate_series(1, 1000) AS g;

SELECT nextval('public.invoice_seq') FROM generate_series(1, 3);

ANALYZE;
