//! The data stage against real clusters: every type round-trips value for
//! value, a run killed with SIGKILL resumes without duplicates or gaps, a
//! worker whose source backend is terminated retries, and a writer on the
//! source during the copy does not leak into the snapshot.

mod support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const MATRIX: &str = include_str!("data/matrix.sql");
const MATRIX_ROWS: &str = include_str!("data/matrix_rows.sql");

/// Every table of the matrix with the order that makes its output stable.
const MATRIX_TABLES: &[(&str, &str)] = &[
    ("matrix.scalars", "id"),
    ("matrix.arrays", "id"),
    ("matrix.big", "id"),
    ("matrix.gen", "id"),
    ("matrix.\"Weird \"\"Name\"\"\"", "t::text"),
    ("matrix.parted", "id, k"),
    ("matrix.textkey", "k"),
    ("matrix.uuidkey", "k"),
    ("matrix.scattered", "k"),
    ("matrix.aliases", "k0"),
    ("matrix.refs", "id"),
    ("matrix.nothing", "1"),
    ("matrix.only_generated", "1"),
];

fn dump(url: &str, table: &str, order: &str) -> String {
    support::psql(
        url,
        &format!("SET extra_float_digits = 3; SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SELECT t::text FROM {table} t ORDER BY {order}"),
    )
}

/// `data`, after the target's hand-made schema is adopted as the schema stage.
fn data_cmd(src: &str, tgt: &str) -> assert_cmd::Command {
    support::adopt_schema(src, tgt);
    let mut c = support::cmd();
    c.args(["data", "--source-url", src, "--target-url", tgt])
        .env("SUPAMIGRATE_COPY_CHUNK_BYTES", "1048576")
        .env("SUPAMIGRATE_COPY_JOBS", "3");
    c
}

#[test]
fn every_type_round_trips_value_for_value() {
    let src = support::source_db("data_matrix");
    let tgt = support::target_db("data_matrix");
    support::psql(&src.url, MATRIX);
    support::psql(&src.url, MATRIX_ROWS);
    support::psql(&tgt.url, MATRIX);

    let out = data_cmd(&src.url, &tgt.url)
        .arg("--json")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let last = stdout.lines().last().expect("a summary line");
    let summary: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(summary["ok"], true, "{stdout}");
    assert!(stdout.contains("\"event\":\"chunk_done\""), "{stdout}");
    // The fixture's app tables are not on this target: reported, not copied.
    assert!(
        summary["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "public.profiles"),
        "{summary}"
    );

    for (table, order) in MATRIX_TABLES {
        let a = dump(&src.url, table, order);
        let b = dump(&tgt.url, table, order);
        assert!(!a.is_empty(), "{table} is empty on the source");
        assert!(
            a == b,
            "{table} differs:\nsource: {}\ntarget: {}",
            &a[..a.len().min(2000)],
            &b[..b.len().min(2000)]
        );
    }

    // Large tables were cut into several key ranges; the keyless one is whole.
    let chunks = support::psql(
        &tgt.url,
        "SELECT table_name || ':' || kind || ':' || count(*) FROM supamigrate.chunks
         WHERE state = 'done' GROUP BY table_name, kind ORDER BY 1",
    );
    assert!(
        chunks
            .lines()
            .any(|l| l.starts_with("textkey:key_range:") && !l.ends_with(":1")),
        "{chunks}"
    );
    assert!(
        chunks
            .lines()
            .any(|l| l.starts_with("uuidkey:key_range:") && !l.ends_with(":1")),
        "{chunks}"
    );
    // A key scattered over the heap is cut by ctid, and the ledger says the
    // table restarts whole after an interruption.
    assert!(
        chunks
            .lines()
            .any(|l| l.starts_with("scattered:ctid_range:") && !l.ends_with(":1")),
        "{chunks}"
    );
    let note = support::psql(
        &tgt.url,
        "SELECT DISTINCT note FROM supamigrate.chunks WHERE table_name = 'scattered'",
    );
    assert!(
        note.contains("scattered") && note.contains("restarts whole"),
        "{note}"
    );
    // A key column named like a query alias still gets split points.
    assert!(
        chunks
            .lines()
            .any(|l| l.starts_with("aliases:key_range:") && !l.ends_with(":1")),
        "{chunks}"
    );
    assert!(chunks.contains("Weird \"Name\":whole:1"), "{chunks}");

    // A second run finds nothing pending and changes nothing.
    data_cmd(&src.url, &tgt.url).assert().success();
    assert_eq!(
        dump(&src.url, "matrix.textkey", "k"),
        dump(&tgt.url, "matrix.textkey", "k")
    );
}

#[test]
fn refuses_a_target_table_that_already_has_rows() {
    let src = support::source_db("data_nonempty");
    let tgt = support::target_db("data_nonempty");
    support::psql(&src.url, MATRIX);
    support::psql(&src.url, MATRIX_ROWS);
    support::psql(&tgt.url, MATRIX);
    support::psql(
        &tgt.url,
        "INSERT INTO matrix.textkey VALUES ('already here', 1)",
    );
    let out = data_cmd(&src.url, &tgt.url).assert().code(4);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("matrix.textkey already has rows"),
        "{stderr}"
    );
    assert!(!stderr.contains(support::SOURCE_PASSWORD), "{stderr}");
    assert_eq!(
        support::psql(&tgt.url, "SELECT count(*) FROM supamigrate.chunks"),
        "0"
    );
}

/// The binary with `--json`, stdout piped so a test can act on events.
fn spawn_data(src: &str, tgt: &str, jobs: &str) -> Child {
    spawn_data_chunked(src, tgt, jobs, "1048576")
}

fn spawn_data_chunked(src: &str, tgt: &str, jobs: &str, chunk_bytes: &str) -> Child {
    support::adopt_schema(src, tgt);
    support::spawnable_in(&support::temp_dir())
        .env("SUPAMIGRATE_COPY_CHUNK_BYTES", chunk_bytes)
        .env("SUPAMIGRATE_COPY_JOBS", jobs)
        .args(["data", "--json", "--source-url", src, "--target-url", tgt])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting supamigrate")
}

type Events = std::io::Lines<std::io::BufReader<std::process::ChildStdout>>;

fn events(child: &mut Child) -> Events {
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take().unwrap()).lines()
}

/// Reads JSON events until `stop` says so (true) or the output ends.
fn watch(
    lines: &mut Events,
    mut stop: impl FnMut(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let mut seen = Vec::new();
    for line in lines {
        let line = line.unwrap();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let done = stop(&v);
        seen.push(v);
        if done {
            break;
        }
    }
    seen
}

fn finish(mut child: Child) -> (i32, String) {
    use std::io::Read;
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), err)
}

fn table_digest(url: &str, table: &str) -> String {
    support::psql(
        url,
        &format!("SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {table} t"),
    )
}

const RESUME_SOURCE: &str = "
CREATE SCHEMA resume;
CREATE TABLE resume.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb, note text);
INSERT INTO resume.events (payload, note)
SELECT jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b', g % 7), 'pad', repeat('p', 120)),
       'note ' || g
FROM generate_series(1, 160000) g;
CREATE TABLE resume.loose (a int, b text);
INSERT INTO resume.loose SELECT g % 1000, repeat('l', 90) || g FROM generate_series(1, 80000) g;
ANALYZE resume.events; ANALYZE resume.loose;";

/// The target as the schema stage leaves it: tables, no keys or indexes yet,
/// so a duplicate row would show instead of failing.
const RESUME_TARGET: &str = "
CREATE SCHEMA resume;
CREATE TABLE resume.events (id bigint GENERATED ALWAYS AS IDENTITY, payload jsonb, note text);
CREATE TABLE resume.loose (a int, b text);";

#[test]
fn a_killed_run_resumes_without_duplicates_or_gaps() {
    let src = support::source_db("data_resume");
    let tgt = support::target_db("data_resume");
    support::psql(&src.url, RESUME_SOURCE);
    support::psql(&tgt.url, RESUME_TARGET);

    // First kill: in the middle of the largest (keyed) table.
    let mut child = spawn_data(&src.url, &tgt.url, "2");
    let mut done = 0;
    watch(&mut events(&mut child), |e| {
        done += usize::from(e["event"] == "chunk_done");
        done >= 3
    });
    child.kill().unwrap();
    finish(child);
    let pending = support::psql(
        &tgt.url,
        "SELECT count(*) FILTER (WHERE state = 'pending') > 0 AND count(*) FILTER (WHERE state = 'done') >= 3
         FROM supamigrate.chunks WHERE table_name = 'events'",
    );
    assert_eq!(pending, "t", "the kill must land mid-table");

    // Second kill: in the middle of the keyless table, split by ctid.
    let mut child = spawn_data(&src.url, &tgt.url, "2");
    let mut loose = 0;
    watch(&mut events(&mut child), |e| {
        loose += usize::from(e["event"] == "chunk_done" && e["table"] == "resume.loose");
        loose >= 2
    });
    child.kill().unwrap();
    finish(child);

    let child = spawn_data(&src.url, &tgt.url, "2");
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    // The keyless table was cut short: its ctid ranges mean nothing under
    // the new snapshot, so it starts over, and the ledger says why.
    assert!(stderr.contains("restarting table whole"), "{stderr}");

    for table in ["resume.events", "resume.loose"] {
        assert_eq!(
            table_digest(&src.url, table),
            table_digest(&tgt.url, table),
            "{table}"
        );
    }
    assert_eq!(
        support::psql(
            &tgt.url,
            "SELECT count(*) = count(DISTINCT id) FROM resume.events"
        ),
        "t"
    );
    assert_eq!(
        support::psql(
            &tgt.url,
            "SELECT count(*) FROM supamigrate.chunks WHERE state <> 'done'"
        ),
        "0"
    );
    let note = support::psql(
        &tgt.url,
        "SELECT DISTINCT note FROM supamigrate.chunks WHERE table_name = 'loose'",
    );
    assert!(note.contains("restarted whole"), "{note}");
}

#[test]
fn a_terminated_source_backend_is_retried() {
    let src = support::source_db("data_terminate");
    let tgt = support::target_db("data_terminate");
    support::psql(&src.url, RESUME_SOURCE);
    support::psql(&tgt.url, RESUME_TARGET);
    // A short pause every 200 rows on the target keeps the copy running long
    // enough for this test to find a source COPY to terminate: without it
    // the whole copy can finish between two polls.
    support::psql(
        &tgt.url,
        "CREATE FUNCTION resume.pause() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.id % 200 = 0 THEN PERFORM pg_sleep(0.002); END IF; RETURN NEW; END $$;
         CREATE TRIGGER pause BEFORE INSERT ON resume.events FOR EACH ROW EXECUTE FUNCTION resume.pause();",
    );

    // Chunks of 32 MiB outgrow the loopback socket buffers, so a source COPY
    // of the paused table waits to write to the client for most of its
    // chunk. Only such a COPY is terminated: one that has sent its last row
    // may end its chunk unharmed, and a connection killed between chunks
    // fails only if it is used again.
    let mut child = spawn_data_chunked(&src.url, &tgt.url, "2", "33554432");
    let mut lines = events(&mut child);
    watch(&mut lines, |e| e["event"] == "chunk_started");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let killed = support::psql(
            &src.url,
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND state = 'active'
               AND wait_event = 'ClientWrite'
               AND query LIKE 'COPY (SELECT%' AND pid <> pg_backend_pid()",
        );
        if killed != "0" {
            break;
        }
        assert!(Instant::now() < deadline, "no COPY to terminate");
        std::thread::sleep(Duration::from_millis(5));
    }
    let events = watch(&mut lines, |_| false);
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        events.iter().any(|e| e["event"] == "chunk_retry"),
        "{stderr}"
    );
    assert!(stderr.contains("retrying"), "{stderr}");
    for table in ["resume.events", "resume.loose"] {
        assert_eq!(
            table_digest(&src.url, table),
            table_digest(&tgt.url, table),
            "{table}"
        );
    }
    let retried = support::psql(
        &tgt.url,
        "SELECT count(*) FROM supamigrate.chunks WHERE attempts > 1 AND state = 'done'",
    );
    assert_ne!(retried, "0");
}

#[test]
fn ctrl_c_rolls_back_running_chunks_and_says_how_to_resume() {
    let src = support::source_db("data_sigint");
    let tgt = support::target_db("data_sigint");
    support::psql(&src.url, RESUME_SOURCE);
    support::psql(&tgt.url, RESUME_TARGET);

    let mut child = spawn_data(&src.url, &tgt.url, "2");
    let mut lines = events(&mut child);
    let mut done = 0;
    watch(&mut lines, |e| {
        done += usize::from(e["event"] == "chunk_done");
        done >= 2
    });
    support::interrupt(&child);
    let rest = watch(&mut lines, |_| false);
    let (code, stderr) = finish(child);
    assert_eq!(
        rest.last().map(|e| e["ok"].clone()),
        Some(serde_json::json!(false))
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("resume with `supamigrate data`"),
        "{stderr}"
    );
    for side in [&src.url, &tgt.url] {
        assert_eq!(
            support::psql(
                side,
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND application_name = 'supamigrate'
                    AND state = 'active' AND query LIKE 'COPY%'"
            ),
            "0"
        );
    }

    // Exactly the rows of the chunks marked done are on the target.
    let consistent = support::psql(
        &tgt.url,
        "SELECT (SELECT coalesce(sum(rows), 0) FROM supamigrate.chunks WHERE state = 'done' AND table_name = 'events')
              = (SELECT count(*) FROM resume.events)
            AND (SELECT count(*) FROM supamigrate.chunks WHERE state = 'pending') > 0",
    );
    assert_eq!(consistent, "t");
    assert_eq!(
        support::psql(
            &tgt.url,
            "SELECT state FROM supamigrate.stage_states WHERE stage = 'data' AND is_current"
        ),
        "interrupted"
    );

    let (code, stderr) = finish(spawn_data(&src.url, &tgt.url, "2"));
    assert_eq!(code, 0, "{stderr}");
    for table in ["resume.events", "resume.loose"] {
        assert_eq!(
            table_digest(&src.url, table),
            table_digest(&tgt.url, table),
            "{table}"
        );
    }
}

const CONSISTENCY: &str = "
CREATE SCHEMA cons;
CREATE TABLE cons.t (id int PRIMARY KEY, v int NOT NULL, pad text);
INSERT INTO cons.t SELECT g, 0, repeat('x', 100) FROM generate_series(0, 29999) g;
CREATE TABLE cons.wlog (k int PRIMARY KEY);";

#[test]
fn a_writer_during_the_copy_does_not_leak_into_the_snapshot() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let src = support::source_db("data_consistency");
    let tgt = support::target_db("data_consistency");
    support::psql(&src.url, CONSISTENCY);
    support::psql(
        &tgt.url,
        "CREATE SCHEMA cons; CREATE TABLE cons.t (id int, v int, pad text); CREATE TABLE cons.wlog (k int);",
    );

    // Each writer transaction adds a row, bumps two rows spread over the
    // table, and logs its number: the target's log then says exactly which
    // transactions the snapshot holds, and so what every row must be.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, written, url) = (Arc::clone(&stop), Arc::clone(&written), src.url.clone());
        std::thread::spawn(move || {
            let mut k = 0;
            while !stop.load(Ordering::SeqCst) {
                let mut sql = String::new();
                for _ in 0..20 {
                    k += 1;
                    sql.push_str(&format!(
                        "BEGIN; INSERT INTO cons.t VALUES ({}, 0, 'new');
                         UPDATE cons.t SET v = v + 1 WHERE id = {};
                         UPDATE cons.t SET v = v + 1 WHERE id = {};
                         INSERT INTO cons.wlog VALUES ({k}); COMMIT;\n",
                        100_000 + k,
                        k % 30_000,
                        (k * 7919) % 30_000
                    ));
                }
                support::psql(&url, &sql);
                written.store(k, Ordering::SeqCst);
            }
        })
    };
    while written.load(Ordering::SeqCst) < 100 {
        std::thread::sleep(Duration::from_millis(10));
    }
    data_cmd(&src.url, &tgt.url).assert().success();
    let after_copy = written.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();

    let n: usize = support::psql(&tgt.url, "SELECT coalesce(max(k), 0) FROM cons.wlog")
        .parse()
        .unwrap();
    assert!(
        n >= 100 && n <= after_copy,
        "snapshot holds {n} writer transactions"
    );
    assert!(
        written.load(Ordering::SeqCst) > n,
        "the writer went on after the snapshot"
    );
    let check = support::psql(
        &tgt.url,
        &format!(
            "WITH hits AS (
               SELECT id, count(*) AS c FROM (
                 SELECT k % 30000 AS id FROM generate_series(1, {n}) k
                 UNION ALL SELECT (k * 7919) % 30000 FROM generate_series(1, {n}) k) x
               GROUP BY id)
             SELECT (SELECT count(*) FROM cons.wlog) = {n}
                AND (SELECT count(DISTINCT k) FROM cons.wlog) = {n}
                AND (SELECT count(*) FROM cons.t WHERE id >= 100000) = {n}
                AND (SELECT max(id) FROM cons.t) = 100000 + {n}
                AND (SELECT count(*) FROM cons.t WHERE id < 30000) = 30000
                AND (SELECT count(*) FROM cons.t t LEFT JOIN hits h USING (id)
                     WHERE t.id < 30000 AND t.v <> coalesce(h.c, 0)) = 0"
        ),
    );
    assert_eq!(check, "t", "the target is not the snapshot's state");
    let chunks = support::psql(
        &tgt.url,
        "SELECT count(*) FROM supamigrate.chunks WHERE table_name = 't'",
    );
    assert_ne!(chunks, "1", "the table must be copied in several chunks");
}
