//! The verify tests' fixture: a source seeded from `testdata/verify/`, a
//! target migrated from it, and helpers to run `verify` and read its report.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/verify")
        .join(name)
}

/// A source database with the verify fixture and a target database that
/// received it as a migration would: pre-data schema applied by the
/// non-superuser target role, rows copied with pg_dump | psql, then
/// post-data. Returns (source url, target url).
pub fn migrated(name: &str) -> (String, String) {
    let (src, tgt) = fixture_pair(name);
    copy_rows(&src, &tgt);
    crate::support::psql_file(&tgt, &fixture("30_post.sql"));
    different_session_settings(name, &src, &tgt);
    (src, tgt)
}

/// The seeded source and a target with only the pre-data schema.
pub fn fixture_pair(name: &str) -> (String, String) {
    let sc = crate::support::source_cluster();
    sc.superuser_psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE); CREATE DATABASE \"{name}\""),
    );
    let src = sc.superuser_url(name);
    for f in ["10_pre.sql", "30_post.sql", "20_seed.sql"] {
        crate::support::psql_file(&src, &fixture(f));
    }
    let tgt = crate::support::target_db(name);
    crate::support::psql_file(&tgt.url, &fixture("10_pre.sql"));
    (src, tgt.url)
}

/// Every session-dependent output setting differs between the servers and
/// from what verify uses itself.
pub fn different_session_settings(name: &str, src: &str, tgt: &str) {
    crate::support::psql(
        src,
        &format!(
            "ALTER DATABASE \"{name}\" SET TimeZone = 'America/New_York';
             ALTER DATABASE \"{name}\" SET DateStyle = 'SQL, MDY';
             ALTER DATABASE \"{name}\" SET IntervalStyle = 'iso_8601';
             ALTER DATABASE \"{name}\" SET extra_float_digits = 0;
             ALTER DATABASE \"{name}\" SET bytea_output = 'escape';"
        ),
    );
    crate::support::psql(
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
pub fn copy_rows(src: &str, tgt: &str) {
    dump_into(src, tgt, &["--data-only"]);
}

/// `pg_dump --no-owner --no-privileges` of `src` (with `args`) restored into
/// `tgt` with psql, which stops at the first error.
pub fn dump_into(src: &str, tgt: &str, args: &[&str]) {
    let mut dump = Command::new("pg_dump")
        .args(args)
        .args(["--no-owner", "--no-privileges", "-d", src])
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
        "restoring the dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct Run {
    pub dir: PathBuf,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub report: Value,
    pub html: String,
}

pub fn verify(src: &str, tgt: &str, extra: &[&str]) -> Run {
    verify_with(src, tgt, extra, &[])
}

/// `verify` with more environment variables (they override the defaults).
pub fn verify_with(src: &str, tgt: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = crate::support::temp_dir();
    verify_by(crate::support::cmd_in(&dir), dir, src, tgt, extra, env)
}

/// `verify` under these soft and hard limits of open files.
pub fn verify_with_open_files(src: &str, tgt: &str, soft: u32, hard: u32) -> Run {
    let dir = crate::support::temp_dir();
    let cmd = crate::support::cmd_with_open_files(&dir, soft, hard);
    verify_by(cmd, dir, src, tgt, &[], &[])
}

fn verify_by(
    mut cmd: assert_cmd::Command,
    dir: PathBuf,
    src: &str,
    tgt: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let out = cmd
        .env("SUPAMIGRATE_SOURCE_URL", src)
        .env("SUPAMIGRATE_TARGET_URL", tgt)
        // 1 MiB ranges: the bigger fixture tables are read as several ranges.
        .env("SUPAMIGRATE_COPY_CHUNK_BYTES", "1048576")
        .env("SUPAMIGRATE_COPY_JOBS", "3")
        .envs(env.iter().copied())
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

pub fn table<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("table {name} not in the report"))
}

/// (kind, key) of every reported mismatch, sorted.
pub fn mismatches(report: &Value, name: &str) -> Vec<(String, Value)> {
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
pub fn verdict_pixels(report_html: &Path, rgb: [u8; 3]) -> usize {
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

pub fn assert_self_contained(html: &str) {
    for external in ["http://", "https://", "<script", "<link", "src="] {
        assert!(
            !html.contains(external),
            "report.html refers to `{external}`"
        );
    }
}

pub fn uuid_of(url: &str, g: i32) -> String {
    crate::support::psql(url, &format!("SELECT md5('row{g}')::uuid"))
}
