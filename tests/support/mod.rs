//! Test servers the tests start themselves: a Supabase-like source cluster
//! (superuser, seeded from `testdata/source/`), an Aurora-like target cluster
//! (our login role is NOT superuser; TLS on with a self-signed certificate)
//! and moto's server as S3 and Secrets Manager on 127.0.0.1.
//!
//! Each is started once per test binary and stops when the test process
//! exits, however it exits: every server runs under a small shell that waits
//! for our stdin pipe to close, then stops the server and removes its files.

#![allow(dead_code)]

mod cluster;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub use cluster::Cluster;

pub const SOURCE_PASSWORD: &str = "src-Pw-7f3a9c";
pub const TARGET_ROLE: &str = "matbakh_admin";
pub const TARGET_PASSWORD: &str = "tgt-Pw-2b8e41";
pub const AWS_KEY_ID: &str = "AKIATESTSUPAMIGRATE";
pub const AWS_SECRET_KEY: &str = "test-secret-key-9d1c";
pub const AWS_REGION: &str = "eu-central-1";

/// Extensions Aurora PostgreSQL 15.5 does not offer, kept untrusted in the
/// target's private install so that creating them fails as on Aurora.
const NOT_ON_AURORA: &[&str] = &[
    "adminpack",
    "file_fdw",
    "old_snapshot",
    "pg_surgery",
    "xml2",
    "sslinfo",
];

pub struct TestDb {
    pub url: String,
    pub name: String,
    pub port: u16,
}

fn source() -> &'static Cluster {
    static SOURCE: OnceLock<Cluster> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let c = Cluster::start("source", SOURCE_PASSWORD, None, false);
        c.superuser_psql("postgres", "CREATE DATABASE supabase_template");
        let url = c.superuser_url("supabase_template");
        for file in fixture_files() {
            psql_file(&url, &file);
        }
        c
    })
}

fn target() -> &'static Cluster {
    static TARGET: OnceLock<Cluster> = OnceLock::new();
    TARGET.get_or_init(|| {
        let c = Cluster::start("target", "tgt-superuser-only-for-setup", Some(NOT_ON_AURORA), true);
        c.superuser_psql(
            "postgres",
            &format!(
                "CREATE ROLE rds_superuser NOLOGIN;
                 CREATE ROLE {TARGET_ROLE} LOGIN NOSUPERUSER CREATEDB CREATEROLE NOREPLICATION NOBYPASSRLS
                   PASSWORD '{TARGET_PASSWORD}' IN ROLE rds_superuser;
                 CREATE DATABASE matbakh_main OWNER {TARGET_ROLE};"
            ),
        );
        c
    })
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/source");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixture SQL in {}", dir.display());
    files
}

/// A fresh database on the Supabase-like source, copied from the seeded
/// template; connected as the superuser `postgres`.
pub fn source_db(name: &str) -> TestDb {
    static CREATE: Mutex<()> = Mutex::new(());
    let c = source();
    // CREATE DATABASE ... TEMPLATE refuses while another copy is being made.
    let _guard = CREATE.lock().unwrap_or_else(|e| e.into_inner());
    c.superuser_psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS \"{name}\"; CREATE DATABASE \"{name}\" TEMPLATE supabase_template"),
    );
    TestDb {
        url: c.superuser_url(name),
        name: name.to_string(),
        port: c.port,
    }
}

/// A fresh empty database on the Aurora-like target, owned by and connected
/// as the non-superuser `matbakh_admin`.
pub fn target_db(name: &str) -> TestDb {
    let c = target();
    c.superuser_psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE); CREATE DATABASE \"{name}\" OWNER {TARGET_ROLE}"),
    );
    TestDb {
        url: target_url(name),
        name: name.to_string(),
        port: c.port,
    }
}

pub fn target_url(db: &str) -> String {
    format!(
        "postgres://{TARGET_ROLE}:{TARGET_PASSWORD}@127.0.0.1:{}/{db}?sslmode=disable",
        target().port
    )
}

/// The target cluster, for tests about TLS and superuser-only setup.
pub fn target_cluster() -> &'static Cluster {
    target()
}

pub fn source_cluster() -> &'static Cluster {
    source()
}

/// Runs SQL through psql with ON_ERROR_STOP; returns unaligned tuples.
pub fn psql(url: &str, sql: &str) -> String {
    use std::io::Write;
    // Through stdin, not -c: -c runs all statements in one transaction, and
    // CREATE DATABASE cannot run inside one.
    let mut child = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-d",
            url,
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running psql");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .expect("writing SQL to psql");
    let out = child.wait_with_output().expect("running psql");
    assert!(
        out.status.success(),
        "psql failed: {}\nSQL: {sql}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

pub fn psql_file(url: &str, file: &Path) {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .expect("running psql");
    assert!(
        out.status.success(),
        "psql -f {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// moto's server: S3 and Secrets Manager on one 127.0.0.1 port.
pub struct Moto {
    pub endpoint: String,
    _watchdog: cluster::Watchdog,
}

pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let port = cluster::free_port();
        let watchdog = cluster::Watchdog::spawn(
            None,
            &format!("moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid"),
        );
        let endpoint = format!("http://127.0.0.1:{port}");
        cluster::wait_for_port(port, "moto_server (pip install 'moto[server]')");
        Moto {
            endpoint,
            _watchdog: watchdog,
        }
    })
}

/// The environment every AWS client in tests gets: static credentials and no
/// instance-metadata probing, so nothing leaves 127.0.0.1.
pub fn aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", AWS_KEY_ID.to_string()),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_KEY.to_string()),
        ("AWS_REGION", AWS_REGION.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_CONFIG_FILE", "/dev/null".to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".to_string()),
    ]
}

/// Sets `aws_env()` in this process, for tests that call the library.
pub fn set_aws_env() {
    for (k, v) in aws_env() {
        std::env::set_var(k, v);
    }
}

/// An S3 client on moto, built the way supamigrate builds its own.
pub async fn moto_s3() -> aws_sdk_s3::Client {
    set_aws_env();
    let settings = supamigrate::settings::S3Settings {
        endpoint: Some(moto().endpoint.clone()),
        region: Some(AWS_REGION.to_string()),
        access_key_id: None,
        secret_access_key: None,
        force_path_style: true,
        request_checksum: supamigrate::settings::RequestChecksum::WhenSupported,
        dir: None,
    };
    supamigrate::aws::s3::client("test", &settings)
        .await
        .expect("S3 client for moto")
}

/// The supamigrate binary with a clean environment, in a fresh directory.
/// The command exited with `code`; shows its stderr when not.
pub fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn cmd() -> assert_cmd::Command {
    cmd_in(&temp_dir())
}

/// A fresh directory that outlives the test (a command's files may be read
/// after it ran) and is removed when the test process exits.
pub fn temp_dir() -> PathBuf {
    tempfile::Builder::new()
        .prefix("dir-")
        .tempdir_in(scratch())
        .expect("temp dir")
        .keep()
}

/// One directory per test process for [`temp_dir`]s; a watchdog removes it
/// when the test process exits.
fn scratch() -> &'static Path {
    struct Scratch {
        dir: PathBuf,
        _watchdog: cluster::Watchdog,
    }
    static SCRATCH: OnceLock<Scratch> = OnceLock::new();
    &SCRATCH
        .get_or_init(|| {
            let dir = tempfile::Builder::new()
                .prefix("supamigrate-cmd-")
                .tempdir()
                .expect("temp dir")
                .keep();
            let watchdog = cluster::Watchdog::spawn(
                None,
                &format!("cat >/dev/null; rm -rf '{}'", dir.display()),
            );
            Scratch {
                dir,
                _watchdog: watchdog,
            }
        })
        .dir
}

pub fn cmd_in(dir: &Path) -> assert_cmd::Command {
    assert_cmd::Command::from_std(spawnable_in(dir))
}

/// The binary in `dir` with a clean environment (PATH, HOME, the test AWS
/// settings, info logs) as a plain `Command`, for tests that spawn it and
/// signal it while it runs.
pub fn spawnable_in(dir: &Path) -> Command {
    clean(
        Command::new(assert_cmd::cargo::cargo_bin("supamigrate")),
        dir,
    )
}

/// As [`cmd_in`], run by util-linux's `prlimit` with these soft and hard
/// limits of open files, as on a host whose limits are lower than this
/// machine's.
pub fn cmd_with_open_files(dir: &Path, soft: u32, hard: u32) -> assert_cmd::Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--nofile={soft}:{hard}"))
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("supamigrate"));
    assert_cmd::Command::from_std(clean(c, dir))
}

fn clean(mut c: Command, dir: &Path) -> Command {
    c.env_clear()
        .current_dir(dir)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("SUPAMIGRATE_LOG", "supamigrate=info");
    for (k, v) in aws_env() {
        c.env(k, v);
    }
    c
}

/// `schema --adopt`: records the schema a test built on the target by hand
/// as the run's schema stage, which `data` requires first. Idempotent.
pub fn adopt_schema(src: &str, tgt: &str) {
    cmd()
        .args([
            "schema",
            "--adopt",
            "--source-url",
            src,
            "--target-url",
            tgt,
        ])
        .assert()
        .success();
}

/// Sends SIGINT (what Ctrl-C sends) to a running child.
pub fn interrupt(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill -INT failed");
}

/// Polls `sql` on `url` until it returns something other than 0, for at
/// most 20 s; `what` names what never happened.
pub fn wait_until(url: &str, sql: &str, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while psql(url, sql) == "0" {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A psql session on `url` with an open transaction that holds a lock
/// until it is dropped (its stdin closes, the transaction rolls back).
pub struct LockHolder(std::process::Child);

impl LockHolder {
    /// An ACCESS EXCLUSIVE lock on `table`.
    pub fn take(url: &str, table: &str) -> LockHolder {
        LockHolder::hold(
            url,
            &format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"),
            &format!(
                "SELECT count(*) FROM pg_locks WHERE relation = '{table}'::regclass
                 AND mode = 'AccessExclusiveLock' AND granted"
            ),
        )
    }

    /// Whatever locks `sql` takes; `granted` counts them once they are held.
    pub fn hold(url: &str, sql: &str, granted: &str) -> LockHolder {
        use std::io::Write;
        let mut child = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("psql");
        writeln!(child.stdin.as_mut().expect("psql stdin"), "BEGIN; {sql};")
            .expect("writing to psql");
        wait_until(url, granted, "the lock was never taken");
        LockHolder(child)
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// Waits until a supamigrate connection on `url` waits for a lock.
pub fn wait_for_lock_wait(url: &str) {
    wait_until(
        url,
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database()
           AND application_name = 'supamigrate' AND wait_event_type = 'Lock'",
        "supamigrate never waited for the lock",
    );
}

/// Connections of ours on `url` that still wait for a lock: a statement
/// left waiting after its process exited (a server does not notice a
/// vanished client while it waits).
pub fn ours_waiting_for_locks(url: &str) -> String {
    psql(
        url,
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database()
           AND application_name = 'supamigrate' AND wait_event_type = 'Lock'",
    )
}

/// Runs `cmd`, sends it SIGINT once one of its connections on `url` waits
/// for a lock (which the test holds, so the stage is provably mid-way), and
/// returns how it ended and what it printed.
pub fn interrupted_at_lock_wait(mut cmd: Command, url: &str) -> std::process::Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning supamigrate");
    wait_for_lock_wait(url);
    interrupt(&child);
    child.wait_with_output().expect("waiting for supamigrate")
}
