-- Tables of every built-in type Supabase apps use, plus user-defined types
-- whose binary form carries OIDs (arrays of enums, composites, domains).
-- Applied to the source and, identically, to the target.
CREATE SCHEMA matrix;
CREATE TYPE matrix.mood AS ENUM ('sad', 'ok', 'happy', 'très "heureux" 😀');
CREATE DOMAIN matrix.posint AS integer CHECK (VALUE > 0);
CREATE TYPE matrix.addr AS (street text, no int, tags text[]);
CREATE TYPE matrix.tagged AS (m matrix.mood, n numeric);

CREATE TABLE matrix.scalars (
  id int PRIMARY KEY,
  i2 int2, i4 int4, i8 int8, num numeric, num_s numeric(40, 30), f4 float4, f8 float8,
  t text, vc varchar(10), ch char(5), by bytea, b bool, u uuid,
  d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
  j json, jb jsonb, ip inet, cn cidr, mac macaddr, mac8 macaddr8,
  tsv tsvector, tsq tsquery, m money, bt bit(8), vb varbit, x xml, pt point,
  ir int4range, tr tstzrange, nr numrange, mr int4multirange,
  dom matrix.posint, mood matrix.mood, c matrix.addr
);
CREATE TABLE matrix.arrays (
  id int PRIMARY KEY,
  ai int[], a2 int[][], at text[], ajb jsonb[], au uuid[], ats timestamptz[],
  amood matrix.mood[], aaddr matrix.addr[], adom matrix.posint[], tg matrix.tagged
);
CREATE TABLE matrix.big (id bigint PRIMARY KEY, payload text, blob bytea);
CREATE TABLE matrix.gen (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  a int,
  twice int GENERATED ALWAYS AS (a * 2) STORED
);
CREATE TABLE matrix."Weird ""Name""" ("select" int, "Col Two" text);
CREATE TABLE matrix.parted (id int, k text, v text, PRIMARY KEY (id, k)) PARTITION BY LIST (k);
CREATE TABLE matrix.parted_a PARTITION OF matrix.parted FOR VALUES IN ('a');
CREATE TABLE matrix.parted_rest PARTITION OF matrix.parted DEFAULT;
CREATE TABLE matrix.textkey (k text PRIMARY KEY, v int);
CREATE TABLE matrix.uuidkey (k uuid PRIMARY KEY, v int);
CREATE TABLE matrix.scattered (k uuid PRIMARY KEY, v int);
-- No columns at all, and only a generated one: the COPY column lists are empty.
CREATE TABLE matrix.nothing ();
CREATE TABLE matrix.only_generated (g int GENERATED ALWAYS AS (7) STORED);
-- Columns named like the aliases that split-point queries use.
CREATE TABLE matrix.aliases (k0 int PRIMARY KEY, o0 text, r int, c int);
-- reg* values travel as bare OIDs in binary COPY; a user table's OID differs
-- between the servers, so such columns must go through text.
CREATE TABLE matrix.refs (id int PRIMARY KEY, r regclass, rs regclass[]);
