//! `supamigrate verify` against a migrated fixture on real servers: the
//! untampered copy verifies clean (exit 0) although the two servers run with
//! different TimeZone, DateStyle and output settings; every tamper is found,
//! localised to its key and reported with exit 3.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/verify")
        .join(name)
}

/// A source database with the verify fixture and a target database that
/// received it as a migration would: pre-data schema applied by the
/// non-superuser target role, rows copied with pg_dump | psql, then
/// post-data. Returns (source url, target url).
fn migrated(name: &str) -> (String, String) {
    let (src, tgt) = fixture_pair(name);
    copy_rows(&src, &tgt);
    support::psql_file(&tgt, &fixture("30_post.sql"));
    different_session_settings(name, &src, &tgt);
    (src, tgt)
}

/// The seeded source and a target with only the pre-data schema.
fn fixture_pair(name: &str) -> (String, String) {
    let sc = support::source_cluster();
    sc.superuser_psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE); CREATE DATABASE \"{name}\""),
    );
    let src = sc.superuser_url(name);
    for f in ["10_pre.sql", "30_post.sql", "20_seed.sql"] {
        support::psql_file(&src, &fixture(f));
    }
    let tgt = support::target_db(name);
    support::psql_file(&tgt.url, &fixture("10_pre.sql"));
    (src, tgt.url)
}

/// Every session-dependent output setting differs between the servers and
/// from what verify uses itself.
fn different_session_settings(name: &str, src: &str, tgt: &str) {
    support::psql(
        src,
        &format!(
            "ALTER DATABASE \"{name}\" SET TimeZone = 'America/New_York';
             ALTER DATABASE \"{name}\" SET DateStyle = 'SQL, MDY';
             ALTER DATABASE \"{name}\" SET IntervalStyle = 'iso_8601';
             ALTER DATABASE \"{name}\" SET extra_float_digits = 0;
             ALTER DATABASE \"{name}\" SET bytea_output = 'escape';"
        ),
    );
    support::psql(
        tgt,
        &format!(
            "ALTER DATABASE \"{name}\" SET TimeZone = 'Asia/Kathmandu';
             ALTER DATABASE \"{name}\" SET DateStyle = 'German, DMY';
             ALTER DATABASE \"{name}\" SET IntervalStyle = 'sql_standard';
             ALTER DATABASE \"{name}\" SET extra_float_digits = -3;
             ALTER DATABASE \"{name}\" SET lc_monetary = 'C';"
        ),
    );
}

/// Rows and sequence values through pg_dump | psql.
fn copy_rows(src: &str, tgt: &str) {
    let mut dump = Command::new("pg_dump")
        .args(["--data-only", "--no-owner", "--no-privileges", "-d", src])
        .stdout(Stdio::piped())
        .spawn()
        .expect("pg_dump");
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", tgt])
        .stdin(dump.stdout.take().expect("pg_dump stdout"))
        .output()
        .expect("psql");
    assert!(dump.wait().expect("pg_dump").success(), "pg_dump failed");
    assert!(
        out.status.success(),
        "loading rows: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Run {
    dir: PathBuf,
    code: i32,
    stdout: String,
    stderr: String,
    report: Value,
    html: String,
}

fn verify(src: &str, tgt: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap().keep();
    let out = support::cmd_in(&dir)
        .env("SUPAMIGRATE_SOURCE_URL", src)
        .env("SUPAMIGRATE_TARGET_URL", tgt)
        // 1 MiB ranges: the bigger fixture tables are read as several ranges.
        .env("SUPAMIGRATE_COPY_CHUNK_BYTES", "1048576")
        .env("SUPAMIGRATE_COPY_JOBS", "3")
        .args(["verify", "--report-dir", "out"])
        .args(extra)
        .output()
        .unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.join("out").join(f)).unwrap_or_default();
    Run {
        dir: dir.clone(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report: serde_json::from_str(&read("report.json")).unwrap_or(Value::Null),
        html: read("report.html"),
    }
}

fn table<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("table {name} not in the report"))
}

/// (kind, key) of every reported mismatch, sorted.
fn mismatches(report: &Value, name: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = table(report, name)["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap().to_string(), m["key"].clone()))
        .collect();
    out.sort_by_key(|(k, v)| format!("{k}{v}"));
    out
}

/// Opens the report in headless Chromium and returns how many pixels of the
/// top of the page have the verdict box's background colour. Chromium gets a
/// dead proxy, so whatever it might try to fetch cannot leave the machine.
fn verdict_pixels(report_html: &Path, rgb: [u8; 3]) -> usize {
    let shot = report_html.with_file_name("shot.png");
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=127.0.0.1:9",
            "--window-size=1200,400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report_html.display()))
        .output()
        .expect("chromium (apt-get install chromium)");
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| p[..3] == rgb)
        .count()
}

fn assert_self_contained(html: &str) {
    for external in ["http://", "https://", "<script", "<link", "src="] {
        assert!(
            !html.contains(external),
            "report.html refers to `{external}`"
        );
    }
}

fn uuid_of(url: &str, g: i32) -> String {
    support::psql(url, &format!("SELECT md5('row{g}')::uuid"))
}

#[test]
fn untampered_migration_verifies_clean_across_session_settings() {
    let (src, tgt) = migrated("verify_clean");
    let run = verify(&src, &tgt, &[]);
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let r = &run.report;
    assert_eq!(r["ok"], true);
    let tables = r["tables"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for expected in [
        "Type Matrix",
        "measurements",
        "slugs",
        "memberships",
        "audit_log",
        "profiles",
        "events_2024",
        "events_default",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    for t in tables {
        assert_eq!(t["match"], true, "{t}");
        assert_eq!(t["source_checksum"], t["target_checksum"]);
        assert_eq!(t["source_rows"], t["target_rows"]);
    }
    assert_eq!(table(r, "Type Matrix")["source_rows"], 300);
    assert_eq!(table(r, "audit_log")["key"], serde_json::json!([]));
    // The big tables really were split, so ranges were compared in parallel.
    assert!(table(r, "measurements")["ranges"].as_u64().unwrap() >= 3);
    assert!(table(r, "slugs")["ranges"].as_u64().unwrap() >= 2);
    let seq = r["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "public.invoice_seq")
        .expect("invoice_seq compared");
    assert_eq!(seq["source"], 1015);
    assert_eq!(seq["match"], true);
    assert_eq!(r["schema"]["differences"], serde_json::json!([]));
    assert!(run.html.contains("PASS"), "{}", run.html);
    assert_self_contained(&run.html);
    // The green verdict box is on screen at the top of the page.
    let green = verdict_pixels(&run.dir.join("out/report.html"), [0xd9, 0xf2, 0xdd]);
    assert!(
        green > 5_000,
        "only {green} verdict pixels in the screenshot"
    );
    assert!(run.stdout.contains("verify passed"), "{}", run.stdout);
    assert!(!run.stdout.contains(support::TARGET_PASSWORD));
    assert!(!run.stderr.contains(support::SOURCE_PASSWORD));

    // The verdict is in the ledger.
    let ledger = support::psql(
        &tgt,
        "SELECT ok, report->'summary'->>'tables' FROM supamigrate.verifications",
    );
    assert_eq!(ledger, format!("t|{}", tables.len()));
    assert_eq!(
        support::psql(
            &tgt,
            "SELECT state FROM supamigrate.stage_states WHERE stage = 'verify' AND is_current"
        ),
        "done"
    );

    // The data stage's chunks are reused as ranges, even when their ordinals
    // are not in key order and text bounds are not in "C" order.
    support::psql(
        &tgt,
        r#"INSERT INTO supamigrate.chunks (run_id, schema_name, table_name, ordinal, kind, range_lo, range_hi)
           SELECT r.id, 'public', c.t, c.o, 'key_range', c.lo::jsonb, c.hi::jsonb
           FROM supamigrate.runs r, (VALUES
             ('measurements', 0, NULL, '["10000"]'),
             ('measurements', 1, '["30000"]', NULL),
             ('measurements', 2, '["10000"]', '["30000"]'),
             ('slugs', 0, NULL, '["slug_5"]'),
             ('slugs', 1, '["slug_5"]', '["Slug-4"]'),
             ('slugs', 2, '["Slug-4"]', '["ÄÖ-2"]'),
             ('slugs', 3, '["ÄÖ-2"]', '["z 3"]'),
             ('slugs', 4, '["z 3"]', NULL)) AS c(t, o, lo, hi)"#,
    );
    let again = verify(&src, &tgt, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(table(&again.report, "measurements")["ranges"], 3);
    assert_eq!(table(&again.report, "slugs")["ranges"], 5);
    assert_eq!(table(&again.report, "slugs")["source_rows"], 20000);
    assert_eq!(table(&again.report, "measurements")["target_rows"], 40000);
}

#[test]
fn every_tamper_is_found_and_localised_to_its_key() {
    let (src, tgt) = migrated("verify_tamper");
    let ids: Vec<String> = [5, 7, 10, 11, 12, 14, 16]
        .iter()
        .map(|g| uuid_of(&src, *g))
        .collect();
    support::psql(
        &tgt,
        &format!(
            "SET search_path = '';
             -- another collation on the target: text keys must then be
             -- compared in \"C\" on both sides to land in the same ranges
             ALTER TABLE public.slugs ALTER COLUMN slug TYPE text COLLATE \"POSIX\";
             -- one cell each, in seven rows of the type matrix
             UPDATE public.\"Type Matrix\" SET t = t || 'x' WHERE id = '{0}';        -- text
             UPDATE public.\"Type Matrix\" SET n = 1.50 WHERE id = '{1}';            -- numeric scale 1.5 -> 1.50
             UPDATE public.\"Type Matrix\" SET tstz = tstz + interval '1 microsecond' WHERE id = '{2}';
             UPDATE public.\"Type Matrix\" SET jsb = jsonb_set(jsb, '{{n}}', '999') WHERE id = '{3}';
             UPDATE public.\"Type Matrix\" SET arr[3] = 12 WHERE id = '{4}';         -- array element
             UPDATE public.\"Type Matrix\" SET t = '' WHERE id = '{5}';              -- NULL -> ''
             UPDATE public.\"Type Matrix\" SET f8 = 0 WHERE id = '{6}';              -- -0 -> 0
             -- rows, in tables read as several ranges
             DELETE FROM public.measurements WHERE id = 20000;
             UPDATE public.measurements SET value = value + 1e-9 WHERE id = 35001;
             INSERT INTO public.measurements VALUES (50000, 'dev-x', 1, now(), 'new');
             DELETE FROM public.slugs WHERE slug = 'ÄÖ-10';
             INSERT INTO public.slugs VALUES ('new-Slug', 'Title', 'b');
             UPDATE public.memberships SET role = 'sad' WHERE org = 8 AND member = 'user7';
             DELETE FROM public.events WHERE id = 300;
             -- a table without a key
             UPDATE public.audit_log SET action = 'logout'
               WHERE ctid = (SELECT ctid FROM public.audit_log LIMIT 1);
             -- a sequence behind, an index and a policy missing
             SELECT setval('public.invoice_seq', 1000);
             DROP INDEX public.measurements_device_idx;
             DROP POLICY profiles_write ON public.profiles;
             -- a difference the change list explains
             CREATE INDEX slugs_extra_idx ON public.slugs (body);",
            ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6]
        ),
    );
    let changes = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        changes.path(),
        r#"{"changes": [{"object": "index public.slugs_extra_idx", "rule": "extra-search-index",
                          "reason": "added for the new search page"},
                         {"object": "column public.slugs.slug", "rule": "posix-keys",
                          "reason": "byte order for slugs"}]}"#,
    )
    .unwrap();
    let run = verify(&src, &tgt, &["--changes", changes.path().to_str().unwrap()]);
    assert_eq!(
        run.code, 3,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let r = &run.report;
    assert_eq!(r["ok"], false);

    let mut expected: Vec<(String, Value)> = ids
        .iter()
        .map(|id| ("different".to_string(), serde_json::json!({ "id": id })))
        .collect();
    expected.sort_by_key(|(k, v)| format!("{k}{v}"));
    assert_eq!(mismatches(r, "Type Matrix"), expected);

    let key = |pairs: &[(&str, &str)]| {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        )
    };
    assert_eq!(
        mismatches(r, "measurements"),
        vec![
            ("different".into(), key(&[("id", "35001")])),
            ("extra".into(), key(&[("id", "50000")])),
            ("missing".into(), key(&[("id", "20000")])),
        ]
    );
    assert_eq!(
        mismatches(r, "slugs"),
        vec![
            ("extra".into(), key(&[("slug", "new-Slug")])),
            ("missing".into(), key(&[("slug", "ÄÖ-10")])),
        ]
    );
    assert_eq!(
        mismatches(r, "memberships"),
        vec![(
            "different".into(),
            key(&[("org", "8"), ("member", "user7")])
        )]
    );
    assert_eq!(
        mismatches(r, "events_2024"),
        vec![(
            "missing".into(),
            key(&[("id", "300"), ("occurred_at", "2024-03-27 00:00:00+00")])
        )]
    );
    let audit = table(r, "audit_log");
    assert_eq!(
        (&audit["missing"], &audit["extra"]),
        (&Value::from(1), &Value::from(1))
    );
    assert_eq!(audit["mismatches"], serde_json::json!([]));
    for clean in ["profiles", "events_default"] {
        assert_eq!(table(r, clean)["match"], true, "{clean}");
    }

    let seq = r["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "public.invoice_seq")
        .unwrap();
    assert_eq!(
        (&seq["source"], &seq["target"]),
        (&Value::from(1015), &Value::from(1005))
    );
    assert_eq!(seq["match"], false);

    let diffs: Vec<(String, String, bool)> = r["schema"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["object"].as_str().unwrap().to_string(),
                d["difference"].as_str().unwrap().to_string(),
                d["explained"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        diffs,
        vec![
            ("column public.slugs.slug".into(), "changed".into(), true),
            (
                "index public.measurements_device_idx".into(),
                "missing".into(),
                false
            ),
            (
                "policy public.profiles.profiles_write".into(),
                "missing".into(),
                false
            ),
            ("index public.slugs_extra_idx".into(), "extra".into(), true),
        ]
    );

    // Key values only: no other column value reaches the report or stderr.
    let json = serde_json::to_string(r).unwrap();
    for leaked in ["ünïcødé", "xxxxxxxxxx", "Title 1", "dev-x", "very happy"] {
        assert!(!json.contains(leaked), "report leaks `{leaked}`");
        assert!(!run.html.contains(leaked), "html leaks `{leaked}`");
        assert!(!run.stderr.contains(leaked), "stderr leaks `{leaked}`");
    }
    assert!(
        run.stderr.contains("difference: table public.measurements"),
        "{}",
        run.stderr
    );
    assert!(run.html.contains("FAIL"));
    assert_self_contained(&run.html);
    let red = verdict_pixels(&run.dir.join("out/report.html"), [0xfb, 0xdc, 0xdc]);
    assert!(red > 5_000, "only {red} verdict pixels in the screenshot");
    assert_eq!(
        support::psql(&tgt, "SELECT ok FROM supamigrate.verifications"),
        "f"
    );
}

#[test]
fn an_unreadable_change_list_is_bad_usage_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::cmd_in(dir.path())
        .env(
            "SUPAMIGRATE_SOURCE_URL",
            "postgres://u:secret-pw@127.0.0.1:1/db",
        )
        .env(
            "SUPAMIGRATE_TARGET_URL",
            "postgres://u:secret-pw@127.0.0.1:1/db",
        )
        .args(["verify", "--changes", "nope.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("change list nope.json"), "{stderr}");
    assert!(!stderr.contains("secret-pw"));
    assert!(!dir.path().join("reports").exists());
}

#[test]
fn supabase_shaped_copy_verifies_clean_and_a_changed_auth_user_is_found() {
    // Two copies of the Supabase-like fixture: auth, storage, citext keys,
    // a partitioned table, generated and identity columns, quoted names.
    let src = support::source_db("verify_supa_src");
    let tgt = support::source_db("verify_supa_tgt");
    let run = verify(&src.url, &tgt.url, &[]);
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let tables = run.report["tables"].as_array().unwrap();
    assert!(tables
        .iter()
        .any(|t| t["schema"] == "auth" && t["name"] == "users"));

    let id = support::psql(&tgt.url, "SELECT id FROM auth.users ORDER BY id LIMIT 1");
    support::psql(
        &tgt.url,
        &format!("UPDATE auth.users SET raw_user_meta_data = raw_user_meta_data || '{{\"x\": 1}}' WHERE id = '{id}'"),
    );
    let run = verify(&src.url, &tgt.url, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let users = run.report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["schema"] == "auth" && t["name"] == "users")
        .unwrap();
    assert_eq!(
        users["mismatches"],
        serde_json::json!([{"key": {"id": id}, "kind": "different"}])
    );
}

#[test]
fn the_data_stage_output_verifies_clean_on_its_own_chunks() {
    let name = "verify_after_data";
    let (src, tgt) = fixture_pair(name);
    let out = support::cmd()
        .args(["data", "--source-url", &src, "--target-url", &tgt])
        .env("SUPAMIGRATE_COPY_CHUNK_BYTES", "1048576")
        .env("SUPAMIGRATE_COPY_JOBS", "3")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "data: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Sequence values and post-data are finalize's; done by hand here.
    let setvals = support::psql(
        &src,
        "SELECT string_agg(format('SELECT setval(%L, %s);',
                                  format('%I.%I', schemaname, sequencename), last_value), ' ')
         FROM pg_sequences WHERE last_value IS NOT NULL",
    );
    support::psql(&tgt, &setvals);
    support::psql_file(&tgt, &fixture("30_post.sql"));
    different_session_settings(name, &src, &tgt);

    let run = verify(&src, &tgt, &[]);
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let chunks: u64 = support::psql(
        &tgt,
        "SELECT count(*) FROM supamigrate.chunks
         WHERE table_name = 'measurements' AND kind = 'key_range'",
    )
    .parse()
    .unwrap();
    assert!(
        chunks >= 3,
        "the data stage cut measurements into {chunks} chunks"
    );
    // Contiguous chunks share their bounds: n chunks, n - 1 split points.
    assert_eq!(table(&run.report, "measurements")["ranges"], chunks);
}
