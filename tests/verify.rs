//! `supamigrate verify` against a migrated fixture on real servers: the
//! untampered copy verifies clean (exit 0) although the two servers run with
//! different TimeZone, DateStyle and output settings, also on the data
//! stage's own output and chunks and on the Supabase-shaped fixture.

mod support;
mod verify_fixture;

use verify_fixture::*;

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
        "Binary Matrix",
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
    // Every built-in type's binary form is the same on both servers: the
    // binary pass alone matched, without falling back to text.
    assert_eq!(table(r, "Binary Matrix")["format"], "binary");
    assert_eq!(table(r, "Binary Matrix")["source_rows"], 300);
    assert_eq!(table(r, "Type Matrix")["format"], "text");
    // Keys stored in key order are read ordered and hashed as one stream;
    // md5-made uuids are scattered, so each row is hashed alone.
    assert_eq!(table(r, "measurements")["ordered"], true);
    assert_eq!(table(r, "Binary Matrix")["ordered"], false);
    assert!(
        !run.stderr.contains("binary forms differ"),
        "{}",
        run.stderr
    );
    assert_eq!(table(r, "audit_log")["key"], serde_json::json!([]));
    // The big tables really were split, so parts were compared in parallel:
    // measurements by key ranges (its rows lie in key order), slugs by heap
    // blocks (its keys are scattered: each key range's scan would visit
    // most of its pages).
    assert_eq!(table(r, "measurements")["split"], "keys");
    assert!(table(r, "measurements")["ranges"].as_u64().unwrap() >= 3);
    assert_eq!(table(r, "slugs")["split"], "blocks");
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
    assert_eq!(table(&again.report, "slugs")["source_rows"], 20000);
    assert_eq!(table(&again.report, "measurements")["target_rows"], 40000);

    // slugs is read by blocks; only when its totals differ is it read again
    // by key ranges, on its chunks' bounds, to find the keys.
    support::psql(
        &tgt,
        "UPDATE public.slugs SET title = 'changed' WHERE slug IN ('Slug-4', 'z 19999');
         TRUNCATE public.audit_log",
    );
    // With --json, stdout is the report alone; debug logs show each unit done.
    let tampered = verify_with(
        &src,
        &tgt,
        &["--json"],
        &[("SUPAMIGRATE_LOG", "supamigrate=debug")],
    );
    assert_eq!(tampered.code, 3, "{}", tampered.stderr);
    let printed: serde_json::Value = serde_json::from_str(&tampered.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON report: {e}\n{}", tampered.stdout));
    assert_eq!(printed, tampered.report);
    let units = |t: &str| {
        let needle = format!("chunk done table=\"public.{t}\"");
        tampered
            .stderr
            .lines()
            .filter(|l| l.contains(&needle))
            .count() as u64
    };
    // measurements: its first pass only; slugs: its block parts, then its
    // key ranges when narrowed.
    assert_eq!(
        units("measurements"),
        table(&tampered.report, "measurements")["ranges"]
            .as_u64()
            .unwrap()
    );
    assert!(
        units("slugs") > table(&tampered.report, "slugs")["ranges"].as_u64().unwrap(),
        "{}",
        tampered.stderr
    );
    // Its key ranges are narrowed in sub-ranges of a bounded number of keys.
    assert!(
        tampered
            .stderr
            .lines()
            .any(|l| l.contains("narrowing a range in parts") && l.contains("table=slugs")),
        "{}",
        tampered.stderr
    );
    let slugs = table(&tampered.report, "slugs");
    assert_eq!(slugs["match"], false);
    assert_eq!(
        slugs["mismatches"],
        serde_json::json!([
            {"key": {"slug": "Slug-4"}, "kind": "different"},
            {"key": {"slug": "z 19999"}, "kind": "different"}
        ])
    );
    assert_eq!(
        (slugs["different"].as_u64(), slugs["missing"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(table(&tampered.report, "measurements")["match"], true);
    // A keyless table emptied on the target (a heap of no blocks there).
    let audit = table(&tampered.report, "audit_log");
    assert_eq!(audit["split"], "blocks");
    assert_eq!(audit["target_rows"], 0);
    assert!(audit["source_rows"].as_u64().unwrap() > 0);
    assert_eq!(audit["missing"], audit["source_rows"]);
    assert_eq!(audit["extra"], 0);
    assert_eq!(audit["mismatches"], serde_json::json!([]));
}

#[test]
fn ctrl_c_stops_verify_without_a_report_and_says_to_run_it_again() {
    let (src, tgt) = migrated("verify_sigint");
    // A lock held on the target keeps verify waiting inside its first reads
    // for as long as the test needs.
    let lock = support::LockHolder::take(&tgt, "public.measurements");
    let dir = support::temp_dir();
    let out = support::interrupted_at_lock_wait(verify_cmd(&dir, &src, &tgt), &tgt);
    let stderr = String::from_utf8_lossy(&out.stderr);
    support::assert_exit(&out, 1);
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(
        stderr.contains("run `supamigrate verify` again"),
        "{stderr}"
    );
    assert!(!dir.join("out/report.json").exists());
    // Its read waiting for the lock was cancelled, not left behind.
    assert_eq!(support::ours_waiting_for_locks(&tgt), "0");
    assert_eq!(
        support::psql(
            &tgt,
            "SELECT state FROM supamigrate.stage_states WHERE stage = 'verify' AND is_current"
        ),
        "interrupted"
    );

    // Lock released: the next verify runs to its verdict.
    drop(lock);
    let run = verify(&src, &tgt, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn reads_whose_connection_drops_are_read_again_and_counted_once() {
    let (src, tgt) = migrated("verify_retry");
    // Big enough that the server is still sending when the test ends its
    // backend: it waits for the client (ClientWrite) mid-stream. The keyless
    // table differs by one row, so it is also narrowed (text, row hashes
    // spilled to disk), and that read is cut too.
    let rows = "CREATE TABLE public.retry_rows (id int PRIMARY KEY, pad text NOT NULL);
        INSERT INTO public.retry_rows SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 400000) g;
        CREATE TABLE public.retry_log (n int NOT NULL, pad text NOT NULL);
        INSERT INTO public.retry_log SELECT g % 1000, repeat(md5(g::text), 4) FROM generate_series(1, 400000) g;
        ANALYZE public.retry_rows, public.retry_log;";
    support::psql(&src, rows);
    support::psql(&tgt, rows);
    support::psql(
        &tgt,
        "DELETE FROM public.retry_log WHERE ctid = (SELECT min(ctid) FROM public.retry_log);
         UPDATE public.retry_rows SET pad = upper(pad) WHERE id = 123456;",
    );
    // retry_rows now differs in one range, which narrowing cuts into parts
    // at every so many source keys: that key read is cut too, on the
    // source, by a loop on the server that ends it as soon as it starts.
    let source = src.clone();
    let key_read_cut = std::thread::spawn(move || {
        support::psql(
            &source,
            r#"SET statement_timeout = '60s';
               DO $$ BEGIN
                 LOOP
                   PERFORM pg_stat_clear_snapshot();
                   PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database()
                      AND application_name = 'supamigrate' AND state = 'active'
                      AND query LIKE 'COPY (SELECT "id" FROM ONLY "public"."retry_rows"%';
                   EXIT WHEN FOUND;
                   PERFORM pg_sleep(0.001);
                 END LOOP;
               END $$;"#,
        )
    });
    let dir = support::temp_dir();
    let mut child = verify_cmd(&dir, &src, &tgt)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // After the first cut the target database takes no new connections (as
    // a server or pooler out of slots) until verify logs that it could not
    // open its new pair: that costs an attempt, and the next one succeeds.
    let target = support::target_cluster();
    let log = child.stderr.take().unwrap();
    let watcher = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut seen = String::new();
        for line in std::io::BufReader::new(log).lines() {
            let line = line.unwrap();
            if line.contains("opening new connections failed, trying again")
                && !seen.contains("opening new connections failed")
            {
                target.superuser_psql(
                    "postgres",
                    "ALTER DATABASE verify_retry CONNECTION LIMIT -1",
                );
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    });
    cut_refusing_new_connections("verify_retry", &reading("retry_rows", ""));
    // The narrowing pass reads text.
    cut("verify_retry", &reading("retry_log", "NOT"));
    let status = child.wait().unwrap();
    let stderr = watcher.join().unwrap();
    assert!(
        key_read_cut.join().is_ok(),
        "narrowing's key read was never seen: {stderr}"
    );
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("too many connections for database"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("reading again on new connections")
                && l.contains("choosing where to cut a range for narrowing")),
        "{stderr}"
    );
    for table in ["retry_rows", "retry_log"] {
        assert!(
            stderr.contains(&format!(
                "read failed, reading again on new connections schema=public table={table} attempt=1"
            )),
            "{stderr}"
        );
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap())
            .unwrap();
    let t = table(&report, "retry_rows");
    assert_eq!(
        (&t["source_rows"], &t["target_rows"]),
        (&400000.into(), &400000.into()),
        "{t}"
    );
    assert_eq!(
        t["mismatches"],
        serde_json::json!([{"key": {"id": "123456"}, "kind": "different"}]),
        "{t}"
    );
    let t = table(&report, "retry_log");
    assert_eq!(
        (&t["source_rows"], &t["target_rows"]),
        (&400000.into(), &399999.into()),
        "{t}"
    );
    assert_eq!(
        (&t["missing"], &t["extra"], &t["different"]),
        (&1.into(), &0.into(), &0.into()),
        "{t}"
    );
}

#[test]
fn a_server_that_takes_no_new_connections_ends_verify_after_five_attempts_with_one_fix() {
    let (src, tgt) = migrated("verify_give_up");
    let rows = "CREATE TABLE public.big (id int PRIMARY KEY, pad text NOT NULL);
        INSERT INTO public.big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 400000) g;
        ANALYZE public.big;";
    support::psql(&src, rows);
    support::psql(&tgt, rows);
    let dir = support::temp_dir();
    let child = verify_cmd(&dir, &src, &tgt)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // From the cut on, the target takes no new connection from verify.
    cut_refusing_new_connections("verify_give_up", &reading("big", ""));
    let out = child.wait_with_output().unwrap();
    support::target_cluster().superuser_psql(
        "postgres",
        "ALTER DATABASE verify_give_up CONNECTION LIMIT -1",
    );
    support::assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(error.contains("after 5 attempts"), "{stderr}");
    assert!(error.contains("too many connections"), "{error}");
    assert_eq!(error.matches("fix:").count(), 1, "{error}");
    assert!(error.contains("lower copy.jobs"), "{error}");
    assert!(!dir.join("out/report.json").exists());
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
    support::adopt_schema(&src, &tgt);
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

    // On those ranges, a row deleted right at a split point and rows added
    // below the first chunk and above the last are each found.
    let split = support::psql(
        &tgt,
        "SELECT range_hi->>0 FROM supamigrate.chunks
         WHERE table_name = 'measurements' AND kind = 'key_range' ORDER BY ordinal LIMIT 1",
    );
    support::psql(
        &tgt,
        &format!(
            "DELETE FROM public.measurements WHERE id = {split};
             INSERT INTO public.measurements VALUES
               (-5, 'dev-x', 1, now(), 'low'), (99999999, 'dev-x', 1, now(), 'high');"
        ),
    );
    let run = verify(&src, &tgt, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        table(&run.report, "measurements")["mismatches"],
        serde_json::json!([
            {"key": {"id": "-5"}, "kind": "extra"},
            {"key": {"id": split}, "kind": "missing"},
            {"key": {"id": "99999999"}, "kind": "extra"},
        ])
    );
}

/// `verify` of `src` against `tgt` writing its report to `dir/out`, as a
/// plain command for tests that signal it or watch it while it runs.
fn verify_cmd(dir: &std::path::Path, src: &str, tgt: &str) -> std::process::Command {
    let mut cmd = support::spawnable_in(dir);
    cmd.env("SUPAMIGRATE_SOURCE_URL", src)
        .env("SUPAMIGRATE_TARGET_URL", tgt)
        .args(["verify", "--report-dir", "out"]);
    cmd
}

/// `FROM pg_stat_activity ...` matching verify's reads of `table` that wait
/// for the client mid-stream: binary reads with `form` "", text ones with
/// "NOT".
fn reading(table: &str, form: &str) -> String {
    format!(
        "FROM pg_stat_activity
          WHERE datname = current_database()
            AND application_name = 'supamigrate' AND wait_event = 'ClientWrite'
            AND query LIKE 'COPY%{table}%' AND query {form} LIKE '%FORMAT binary%'"
    )
}

/// Ends the first of verify's target reads that `reading` matches in `db`.
fn cut(db: &str, reading: &str) {
    support::wait_until(
        &support::target_cluster().superuser_url(db),
        &format!("SELECT count(pg_terminate_backend(pid)) {reading}"),
        "no read was caught mid-stream",
    );
}

/// Waits for a target read that `reading` matches, then, in one statement
/// (so that the read cannot end in between, as it can on a loaded machine),
/// makes the target database `db` take no new connection from verify's role
/// and ends the read.
fn cut_refusing_new_connections(db: &str, reading: &str) {
    let target = support::target_cluster();
    support::wait_until(
        &target.superuser_url(db),
        &format!(
            "DO $$ BEGIN
               IF EXISTS (SELECT 1 {reading}) THEN
                 ALTER DATABASE {db} CONNECTION LIMIT 0;
                 PERFORM pg_terminate_backend(pid) {reading};
               END IF;
             END $$;
             SELECT datconnlimit + 1 FROM pg_database WHERE datname = '{db}'"
        ),
        "no read was caught mid-stream",
    );
}
