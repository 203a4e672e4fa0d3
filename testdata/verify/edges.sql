-- verify edge cases: names, keys and types a verifier's generated SQL or
-- key handling could trip over. Applied to the source; the target gets
-- pg_dump --no-owner of it, restored by the non-superuser target role.

-- A table without columns (rows still count), and names with quotes, dots
-- and newlines in every position.
CREATE TYPE public."we""ird mood" AS ENUM ('a', 'b c', 'd"e');
CREATE DOMAIN public.dkey AS text CHECK (VALUE <> '');
CREATE TABLE public."no cols" ();
INSERT INTO public."no cols" DEFAULT VALUES;
INSERT INTO public."no cols" DEFAULT VALUES;
CREATE SCHEMA "Odd.Schema";
CREATE TABLE "Odd.Schema"."tab""le
x" ("col""q" int PRIMARY KEY, "line
break" text, "select" text, "ctid_" text);
INSERT INTO "Odd.Schema"."tab""le
x" SELECT g, 'v' || g, 's', 'c' FROM generate_series(1, 50) g;

-- Types outside the main matrix: OIDs and names of catalog objects, WAL
-- positions, text search, multiranges, geometry, arrays of uuid / jsonb /
-- numeric with NaN, infinities, -0 and NaN floats, escapes in text.
CREATE TABLE public.types2 (
  id int PRIMARY KEY, o oid, rc regclass, lsn pg_lsn, tq tsquery, mr int4multirange, bx box,
  ln line, ls lseg, pa path, pg polygon, ci circle, ua uuid[], ja jsonb[], na numeric[], d date,
  ts timestamp, iv interval, m public."we""ird mood", ma public."we""ird mood"[], f4 real, f8 float8,
  tt text);
INSERT INTO public.types2 VALUES
 (1, 12345, 'pg_class', '16/B374D848', 'fat & rat', '{[1,3),[5,7)}', '((0,0),(1,1))', '{1,2,3}',
  '[(0,0),(1,1)]', '((0,0),(1,1),(2,0))', '((0,0),(1,1),(2,0))', '<(1,1),2>',
  ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid], ARRAY['{"a":1}'::jsonb, '[1, 2]'],
  ARRAY[1.50, 'NaN', 2], 'infinity', '-infinity', '1 year 2 mons 3 days 04:05:06.789', 'd"e',
  '{a,"b c"}', '-0', 'NaN', E'tab\there\nnewline\\back'),
 (2, 0, 'pg_type', '0/0', 'a', '{}', '((1,1),(2,2))', '{1,-1,0}', '[(1,1),(2,2)]', '[(0,0),(1,1)]',
  '((1,1),(2,2),(3,1))', '<(0,0),0.5>', '{}', '{}', '{}', '2024-02-29', '2024-02-29 23:59:59.999999',
  '-1 days', 'a', '{}', '1e-45', '-Infinity', '');

-- Keys of unusual types: an enum, a domain, 2 KB text, numeric with NaN
-- and scale, float with -0 and NaN, a unique index with INCLUDE columns,
-- timestamptz in a composite key; and a table whose only unique index is
-- on an expression (no usable key: compared as a multiset).
CREATE TABLE public.enumkey (m public."we""ird mood" PRIMARY KEY, v int);
INSERT INTO public.enumkey VALUES ('a', 1), ('b c', 2), ('d"e', 3);
CREATE TABLE public.domkey (k public.dkey PRIMARY KEY, v int);
INSERT INTO public.domkey VALUES ('x', 1), ('y', 2);
CREATE TABLE public.longkey (k text PRIMARY KEY, v int);
INSERT INTO public.longkey SELECT repeat(md5(g::text), 60) || g, g FROM generate_series(1, 100) g;
CREATE TABLE public.numkey (k numeric PRIMARY KEY, v int);
INSERT INTO public.numkey VALUES (1.0, 1), (2.50, 2), ('NaN', 3), (-0.0, 4);
CREATE TABLE public.floatkey (k float8 PRIMARY KEY, v int);
INSERT INTO public.floatkey VALUES ('-0', 1), ('NaN', 2), ('Infinity', 3), (1e-300, 4);
CREATE TABLE public.inckey (a int NOT NULL, b text NOT NULL, c text, UNIQUE (a) INCLUDE (b));
INSERT INTO public.inckey SELECT g, 'b' || g, 'c' FROM generate_series(1, 100) g;
CREATE TABLE public.tskey (at timestamptz, who text, v int, PRIMARY KEY (at, who));
INSERT INTO public.tskey
  SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', 'w' || g % 3, g
  FROM generate_series(1, 100) g;
CREATE TABLE public.exprkey (a text, b int);
CREATE UNIQUE INDEX exprkey_lower ON public.exprkey (lower(a));
INSERT INTO public.exprkey SELECT 'A' || g, g FROM generate_series(1, 100) g;
-- A composite-type key, an array key, a key under a nondeterministic
-- (case-insensitive) collation, and inheritance: a parent read without its
-- child's rows, and a child that inherits no primary key (so it is keyless).
CREATE TYPE public.pair AS (a int, b text);
CREATE TABLE public.compkey (k public.pair PRIMARY KEY, v int);
INSERT INTO public.compkey SELECT ROW(g % 7, 'b' || g)::public.pair, g FROM generate_series(1, 50) g;
CREATE TABLE public.arrkey (k int[] PRIMARY KEY, v int);
INSERT INTO public.arrkey SELECT ARRAY[g % 10, g], g FROM generate_series(1, 50) g;
CREATE COLLATION public.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE public.cikey (k text COLLATE public.ci PRIMARY KEY, v int);
INSERT INTO public.cikey SELECT CASE WHEN g % 2 = 0 THEN 'Key' ELSE 'kEY' END || g, g FROM generate_series(1, 50) g;
CREATE TABLE public.parent_t (id int PRIMARY KEY, v text);
CREATE TABLE public.child_t (extra text) INHERITS (public.parent_t);
INSERT INTO public.parent_t SELECT g, 'p' || g FROM generate_series(1, 20) g;
INSERT INTO public.child_t SELECT g, 'c' || g, 'x' FROM generate_series(21, 40) g;
-- A key of an extension's case-insensitive type, a bytea key and a
-- blank-padded char key; jsonb under a domain, and a jsonb number whose
-- scale alone can change (10.0 and 10 are equal jsonb, but not the same
-- value as stored and shown).
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE public.citextkey (k citext PRIMARY KEY, v int);
INSERT INTO public.citextkey SELECT 'Name' || g, g FROM generate_series(1, 50) g;
CREATE TABLE public.bytekey (k bytea PRIMARY KEY, v int);
INSERT INTO public.bytekey SELECT decode(md5(g::text), 'hex'), g FROM generate_series(1, 50) g;
CREATE TABLE public.charkey (k char(6) PRIMARY KEY, v int);
INSERT INTO public.charkey SELECT 'c' || g, g FROM generate_series(1, 50) g;
CREATE DOMAIN public.doc AS jsonb CHECK (VALUE ? 'v');
CREATE TABLE public.docs (id int PRIMARY KEY, d public.doc, price jsonb);
INSERT INTO public.docs SELECT g, jsonb_build_object('v', g), '{"price": 10.0}' FROM generate_series(1, 50) g;
