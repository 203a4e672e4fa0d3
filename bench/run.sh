#!/usr/bin/env bash
# Benchmark: supamigrate against a raw parallel binary COPY pipe, pg_dump/
# pg_restore and pgcopydb, on the same generated data in one throwaway
# PostgreSQL 15 cluster on 127.0.0.1. Not a test: it prints times, ratios to
# the raw pipe and supamigrate's peak RSS.
#
#   bench/run.sh [SCALE_GB] [JOBS] [ROUNDS]   (default 2 GB, 2 jobs, 3 rounds)
#
# Needs: PostgreSQL 15 server binaries, psql/pg_dump/pg_restore, GNU time,
# a built supamigrate (cargo build --release), optionally pgcopydb (installed
# from Debian if missing and if that pulls no PostgreSQL server package).
set -euo pipefail

SCALE=${1:-2}
JOBS=${2:-2}
ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_BIN:-${CARGO_TARGET_DIR:-$HERE/target}/release/supamigrate}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=${BENCH_PORT:-55499}
WORK=$(mktemp -d /tmp/supamigrate-bench.XXXXXX)
chmod 755 "$WORK"
URL="postgres://postgres@127.0.0.1:$PORT"

[ -x "$BIN" ] || { echo "build first: cargo build --release (looked for $BIN)" >&2; exit 2; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v pgcopydb >/dev/null && [ "$(id -u)" = 0 ]; then
  # pgcopydb must not bring a server package along: it could upgrade the
  # server under running clusters.
  if ! apt-get install -s pgcopydb 2>/dev/null | grep -q '^Inst postgresql-[0-9]'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y pgcopydb >/dev/null 2>&1 || true
  fi
fi

[ "$(id -u)" = 0 ] && chown postgres "$WORK"
as_pg "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w start -o \
  "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_wal_size=8GB \
   -c checkpoint_timeout=30min -c maintenance_work_mem=256MB -c max_connections=100" >/dev/null

q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"; }

echo "== generating ~${SCALE} GB"
q "$URL/postgres" "CREATE DATABASE src"
PROFILES=$(python3 -c "print(int($SCALE * 500000))")
EVENTS=$(python3 -c "print(int($SCALE * 1750000))")
t0=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 -d "$URL/src" <<SQL
CREATE TYPE mood AS ENUM ('happy', 'ok', 'sad', 'très "heureux"');
CREATE TABLE profiles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL, display_name text, bio text, settings jsonb, tags text[],
  mood mood, balance numeric(14, 2), created_at timestamptz NOT NULL, updated_at timestamptz);
CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  profile_id uuid NOT NULL, kind text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO profiles (email, display_name, bio, settings, tags, mood, balance, created_at, updated_at)
SELECT 'user' || g || '@example.com', 'User ' || g, repeat('bio ' || md5(g::text) || ' ', 8),
       jsonb_build_object('theme', CASE WHEN g % 2 = 0 THEN 'dark' ELSE 'light' END, 'lang', 'de',
                          'flags', jsonb_build_array(g % 3, g % 5, g % 7), 'n', g),
       ARRAY['tag' || g % 10, 'tag' || g % 17, 'städte'], (ARRAY['happy','ok','sad','très "heureux"'])[1 + g % 4]::mood,
       (g % 100000) / 7.0, now() - make_interval(secs => g), CASE WHEN g % 3 = 0 THEN NULL ELSE now() END
FROM generate_series(1, $PROFILES) g;
CREATE TEMP TABLE ids AS SELECT row_number() OVER () AS n, id FROM profiles;
CREATE INDEX ON ids (n);
INSERT INTO events (profile_id, kind, payload, created_at)
SELECT i.id, (ARRAY['view','click','buy','share'])[1 + g % 4],
       jsonb_build_object('path', '/p/' || g % 1000, 'ua', 'Mozilla/5.0 (X11; Linux x86_64) bench',
                          'ref', md5(g::text), 'items', jsonb_build_array(g % 11, g % 13, g % 17),
                          'note', repeat('e', 120), 'n', g),
       now() - make_interval(secs => g)
FROM generate_series(1, $EVENTS) g JOIN ids i ON i.n = 1 + g % $PROFILES;
CREATE UNIQUE INDEX profiles_email ON profiles (email);
CREATE INDEX events_profile ON events (profile_id);
CREATE INDEX events_created ON events (created_at);
ALTER TABLE events ADD CONSTRAINT events_profile_fk FOREIGN KEY (profile_id) REFERENCES profiles (id);
VACUUM ANALYZE;
SQL
SIZE=$(q "$URL/src" "SELECT pg_size_pretty(sum(pg_table_size(oid))) FROM pg_class WHERE relname IN ('profiles','events')")
echo "   generated $SIZE of table data in $(python3 -c "print(round($(date +%s.%N) - $t0))")s"
pg_dump -d "$URL/src" --schema-only --section=pre-data -f "$WORK/pre.sql"

secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }
# CPU seconds of the cluster's ended backends (the postmaster's reaped
# children), read once those of the step before have exited.
server_cpu() {
  sleep 1
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($16 + $17) / hz }' "/proc/$(head -1 "$WORK/data/postmaster.pid")/stat"
}
# supamigrate's own CPU seconds (user + system) from a GNU time file.
own_cpu() { awk '{ printf "%.2f", $2 + $3 }' "$1"; }
fresh() { q "$URL/postgres" "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; q "$URL/postgres" "CREATE DATABASE $1"; }
# Each copy is dropped once timed, so that disk holds the source and one
# copy at a time (larger scales fit where four copies would not).
drop() { q "$URL/postgres" "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; }
SM=(--source-url "$URL/src?sslmode=disable" --target-url "$URL/sm?sslmode=disable" --jobs "$JOBS")

# Every contender runs once per round, in turn, so that a burst of load on
# the machine hits one round of all of them rather than all rounds of one;
# the table shows medians.
declare -A T
add() { T[$1]="${T[$1]:-} $2"; }
median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.1f}')" ${T[$1]}; }

for ((round = 1; round <= ROUNDS; round++)); do
  echo "== round $round of $ROUNDS"

  echo "   raw parallel binary COPY pipe (psql | psql), $JOBS pipes per table"
  fresh raw
  psql -X -q -d "$URL/raw" -f "$WORK/pre.sql" >/dev/null
  t0=$(date +%s.%N)
  for table in events profiles; do
    blocks=$(q "$URL/src" "SELECT pg_relation_size('$table') / 8192 + 1")
    step=$(( (blocks + JOBS - 1) / JOBS ))
    for ((j = 0; j < JOBS; j++)); do
      lo=$((j * step)); hi=$(((j + 1) * step))
      # One snapshot is not shared here: the raw pipe is the speed bound only.
      ( psql -X -q -d "$URL/src" -c "COPY (SELECT * FROM $table WHERE ctid >= '($lo,0)'::tid AND ctid < '($hi,0)'::tid) TO STDOUT (FORMAT binary)" \
        | psql -X -q -d "$URL/raw" -c "COPY $table FROM STDIN (FORMAT binary)" ) &
    done
    wait
  done
  t1=$(date +%s.%N); add raw "$(secs "$t0" "$t1")"
  drop raw

  echo "   supamigrate schema + data + finalize, then verify"
  fresh sm
  t0=$(date +%s.%N)
  "$BIN" -q schema "${SM[@]}" >/dev/null
  ta=$(date +%s.%N)
  # Each CPU probe pauses a second: no timing below spans one.
  c0=$(server_cpu)
  t1=$(date +%s.%N)
  /usr/bin/time -f '%M %U %S' -o "$WORK/rss_data" "$BIN" -q data "${SM[@]}"
  t2=$(date +%s.%N)
  c1=$(server_cpu)
  tb=$(date +%s.%N)
  /usr/bin/time -f '%M %U %S' -o "$WORK/rss_fin" "$BIN" -q finalize "${SM[@]}"
  t3=$(date +%s.%N)
  c2=$(server_cpu)
  tc=$(date +%s.%N)
  # verify exits 3 on differences: that is a failed benchmark, not a timing.
  /usr/bin/time -f '%M %U %S' -o "$WORK/rss_verify" "$BIN" -q verify "${SM[@]}" --report-dir "$WORK/report" >/dev/null
  t4=$(date +%s.%N)
  c3=$(server_cpu)
  add sm_data "$(secs "$t1" "$t2")"; add sm_verify "$(secs "$tc" "$t4")"
  add sm_all "$(python3 -c "print(f'{($ta - $t0) + ($t2 - $t1) + ($t3 - $tb):.1f}')")"
  add cpu_data_srv "$(secs "$c0" "$c1")"; add cpu_data_own "$(own_cpu "$WORK/rss_data")"
  add cpu_verify_srv "$(secs "$c2" "$c3")"; add cpu_verify_own "$(own_cpu "$WORK/rss_verify")"
  # The servers' share of verify: both sides' rows written by the servers
  # themselves to /dev/null at once ($JOBS block ranges per table and side):
  # no network, no client, no hashing.
  t0=$(date +%s.%N)
  for table in events profiles; do
    for db in src sm; do
      blocks=$(q "$URL/$db" "SELECT pg_relation_size('$table') / 8192 + 1")
      step=$(( (blocks + JOBS - 1) / JOBS ))
      for ((j = 0; j < JOBS; j++)); do
        q "$URL/$db" "COPY (SELECT * FROM $table WHERE ctid >= '($((j * step)),0)'::tid AND ctid < '($(((j + 1) * step)),0)'::tid) TO '/dev/null' (FORMAT binary)" >/dev/null &
      done
    done
  done
  wait
  t1=$(date +%s.%N); add floor "$(secs "$t0" "$t1")"
  drop sm
  rss=$(( $(cat "$WORK/rss_data" "$WORK/rss_fin" "$WORK/rss_verify" | awk '{ print $1 }' | sort -n | tail -1) / 1024 ))
  RSS=$(( rss > ${RSS:-0} ? rss : ${RSS:-0} ))

  echo "   pg_dump -Fd -j$JOBS + pg_restore -j$JOBS"
  fresh dump
  rm -rf "$WORK/dump"
  t0=$(date +%s.%N)
  pg_dump -d "$URL/src" -Fd -j "$JOBS" -f "$WORK/dump"
  pg_restore -d "$URL/dump" -j "$JOBS" "$WORK/dump"
  t1=$(date +%s.%N); add dump "$(secs "$t0" "$t1")"
  drop dump
  rm -rf "$WORK/dump"

  if command -v pgcopydb >/dev/null; then
    echo "   pgcopydb clone --split-tables-larger-than 64MB"
    fresh pgc
    rm -rf "$WORK/pgcopydb"
    t0=$(date +%s.%N)
    if pgcopydb clone --source "$URL/src" --target "$URL/pgc" --table-jobs "$JOBS" --index-jobs "$JOBS" \
        --split-tables-larger-than 64MB --dir "$WORK/pgcopydb" >"$WORK/pgcopydb.log" 2>&1; then
      t1=$(date +%s.%N); add pgc "$(secs "$t0" "$t1")"
      drop pgc
      rm -rf "$WORK/pgcopydb"
    else
      echo "pgcopydb failed, see its log:"; tail -5 "$WORK/pgcopydb.log"
    fi
  fi
done

ratio() { python3 -c "print(f'{$1 / $2:.2f}x')"; }
raw=$(median raw)
echo
echo "results at ~${SCALE} GB ($SIZE), $JOBS jobs, median of $ROUNDS round(s):"
row() { printf '  %-46s %8ss  %s\n' "$1" "$2" "$3"; }
row "raw binary COPY pipe (data only)" "$raw" "1.00x"
row "supamigrate data (data only)" "$(median sm_data)" "$(ratio "$(median sm_data)" "$raw")"
row "supamigrate schema + data + finalize" "$(median sm_all)" "$(ratio "$(median sm_all)" "$raw")"
row "supamigrate verify (both sides)" "$(median sm_verify)" "$(ratio "$(median sm_verify)" "$(median sm_data)") of data"
row "  servers alone: both sides' rows to /dev/null" "$(median floor)" "$(ratio "$(median floor)" "$(median sm_data)") of data"
row "pg_dump -Fd + pg_restore" "$(median dump)" "$(ratio "$(median dump)" "$raw")"
if [ -n "${T[pgc]:-}" ]; then
  row "pgcopydb clone" "$(median pgc)" "$(ratio "$(median pgc)" "$raw")"
  echo "  supamigrate full / pgcopydb: $(ratio "$(median sm_all)" "$(median pgc)")"
fi
echo "  CPU seconds (servers = both databases' backends; supamigrate = user + system):"
echo "    data:   servers $(median cpu_data_srv), supamigrate $(median cpu_data_own)"
echo "    verify: servers $(median cpu_verify_srv), supamigrate $(median cpu_verify_own)"
# The servers and supamigrate share this machine's cores: the servers' own
# CPU during verify, spread over every core, is a bound no client can beat.
cores=$(nproc)
bound=$(python3 -c "print(f'{$(median cpu_verify_srv) / $cores:.1f}')")
echo "    verify's server work alone fills $cores cores for ${bound}s ($(ratio "$bound" "$(median sm_data)") of data)"
echo "  every round (s):"
for k in raw sm_data sm_all sm_verify floor dump pgc; do
  [ -n "${T[$k]:-}" ] && printf '    %-10s%s\n' "$k" "${T[$k]}"
done
echo "  supamigrate peak RSS: ${RSS} MiB"
