//! `plan` against real servers: what it reports when everything is reachable,
//! and one line with exit 2 for each way a connection can be wrong. Every run
//! is checked for leaked passwords.

mod support;

use std::path::Path;

use support::{SOURCE_PASSWORD, TARGET_PASSWORD};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn plan(dir: &Path, config: &str, extra_env: &[(&str, &str)]) -> Run {
    std::fs::write(dir.join("supamigrate.toml"), config).unwrap();
    let mut cmd = support::cmd_in(dir);
    cmd.arg("plan");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for secret in [SOURCE_PASSWORD, TARGET_PASSWORD, support::AWS_SECRET_KEY] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret leaked into the output:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("supamigrate-plan-")
        .tempdir()
        .unwrap()
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect()
}

#[test]
fn reports_both_sides_when_everything_is_reachable() {
    let src = support::source_db("plan_ok_src");
    let tgt = support::target_db("plan_ok_tgt");
    let dir = tempdir();
    let run = plan(
        dir.path(),
        &format!(
            "[source]\nurl = \"{}\"\n[target]\nurl = \"{}\"\n",
            src.url, tgt.url
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("PostgreSQL 15"), "{}", run.stdout);
    assert!(run
        .stdout
        .contains(&format!("matbakh_admin@127.0.0.1:{}/plan_ok_tgt", tgt.port)));
    assert!(run.stdout.contains("no blockers"));

    let mut cmd = support::cmd_in(dir.path());
    let out = cmd.args(["plan", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["target"]["superuser"], false);
    assert_eq!(v["target"]["createdb"], true);
    assert_eq!(v["target"]["createrole"], true);
    assert_eq!(v["source"]["superuser"], true);
    assert!(v["source"]["tables"].as_i64().unwrap() > 10);
    assert_eq!(
        v["source"]["buckets"],
        serde_json::json!(["avatars", "reports", "uploads"])
    );

    // plan writes nothing: no ledger appeared on the target.
    assert_eq!(
        support::psql(&tgt.url, "SELECT to_regnamespace('supamigrate') IS NULL"),
        "t"
    );
}

#[test]
fn source_role_without_bypassrls_is_a_blocker() {
    let src = support::source_db("plan_no_bypassrls");
    support::psql(
        &src.url,
        &format!(
            "DROP ROLE IF EXISTS plain_reader; CREATE ROLE plain_reader LOGIN PASSWORD '{SOURCE_PASSWORD}'"
        ),
    );
    let url = src.url.replace("//postgres:", "//plain_reader:");
    let dir = tempdir();
    let run = plan(dir.path(), &format!("[source]\nurl = \"{url}\"\n"), &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let lines = error_lines(&run.stderr);
    assert!(
        lines.iter().any(|l| l.contains("BYPASSRLS")),
        "{}",
        run.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cannot read storage.buckets")),
        "{}",
        run.stderr
    );
}

#[test]
fn wrong_password_is_one_line_with_exit_2() {
    let tgt = support::target_db("plan_bad_pw");
    let dir = tempdir();
    let url = tgt.url.replace(TARGET_PASSWORD, "not-the-password");
    let run = plan(dir.path(), &format!("[target]\nurl = \"{url}\"\n"), &[]);
    assert_eq!(run.code, 2);
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains("password authentication failed"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("fix:"), "{}", lines[0]);
    assert!(!run.stderr.contains("not-the-password"));
}

#[test]
fn unknown_host_is_one_line_with_exit_2() {
    // A label over 63 characters fails in the resolver itself, so the test
    // sends no DNS query off the machine.
    let host = format!("{}.example", "x".repeat(70));
    let dir = tempdir();
    let run = plan(
        dir.path(),
        &format!("[target]\nurl = \"postgres://matbakh_admin:{TARGET_PASSWORD}@{host}:5432/db?sslmode=disable\"\n"),
        &[],
    );
    assert_eq!(run.code, 2);
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].contains("unknown host"), "{}", lines[0]);
}

#[test]
fn transaction_pooler_is_refused_with_the_fix() {
    let dir = tempdir();
    let run = plan(
        dir.path(),
        &format!("[source]\nurl = \"postgres://postgres.abc:{SOURCE_PASSWORD}@127.0.0.1:6543/postgres\"\n"),
        &[],
    );
    assert_eq!(run.code, 2);
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].contains("transaction pooler"), "{}", lines[0]);
    assert!(
        lines[0].contains("session pooler on port 5432"),
        "{}",
        lines[0]
    );
}

#[test]
fn tls_verify_full_accepts_the_right_ca_and_rejects_another() {
    let tgt = support::target_db("plan_tls");
    let cluster = support::target_cluster();
    let good_ca = cluster.ca_cert.clone().expect("target runs with TLS");
    let dir = tempdir();
    let base = format!(
        "postgres://matbakh_admin:{TARGET_PASSWORD}@localhost:{}/plan_tls",
        tgt.port
    );

    let run = plan(
        dir.path(),
        &format!(
            "[target]\nurl = \"{base}?sslmode=verify-full&sslrootcert={}\"\n",
            good_ca.display()
        ),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    // Another self-signed certificate is not the server's CA.
    let other = dir.path().join("other-ca.pem");
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
        ])
        .arg("-keyout")
        .arg(dir.path().join("other.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(status.status.success());
    let run = plan(
        dir.path(),
        &format!(
            "[target]\nurl = \"{base}?sslmode=verify-full&sslrootcert={}\"\n",
            other.display()
        ),
        &[],
    );
    assert_eq!(run.code, 2);
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].contains("TLS verification failed"), "{}", lines[0]);

    // verify-full checks the name: 127.0.0.2 is not in the certificate.
    let run = plan(
        dir.path(),
        &format!(
            "[target]\nurl = \"postgres://matbakh_admin:{TARGET_PASSWORD}@127.0.0.2:{}/plan_tls?sslmode=verify-full&sslrootcert={}\"\n",
            tgt.port,
            good_ca.display()
        ),
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("TLS verification failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn source_without_tls_and_sslmode_require_fails_clearly() {
    let src = support::source_db("plan_src_notls");
    let dir = tempdir();
    let url = src.url.replace("sslmode=disable", "sslmode=require");
    let run = plan(dir.path(), &format!("[source]\nurl = \"{url}\"\n"), &[]);
    assert_eq!(run.code, 2);
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].contains("TLS"), "{}", lines[0]);
}

#[test]
fn missing_bucket_and_missing_mapping_are_reported() {
    let src = support::source_db("plan_buckets_src");
    let tgt = support::target_db("plan_buckets_tgt");
    let moto = support::moto();
    let dir = tempdir();
    // `reports` has no mapping; `matbakh-files-uploads` is mapped but missing.
    std::fs::write(
        dir.path().join("buckets.toml"),
        "[[storage.buckets]]\nsource = \"uploads\"\ntarget = \"matbakh-files-uploads\"\n\
         [[storage.buckets]]\nsource = \"avatars\"\ntarget = \"matbakh-files-profile-plan\"\n",
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s3 = support::moto_s3().await;
        s3.create_bucket()
            .bucket("matbakh-files-profile-plan")
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
    let run = plan(
        dir.path(),
        &format!(
            "[source]\nurl = \"{}\"\n[target]\nurl = \"{}\"\n[storage.target]\nendpoint = \"{}\"\nregion = \"eu-central-1\"\n[mapping]\nfiles = [\"buckets.toml\"]\n",
            src.url, tgt.url, moto.endpoint
        ),
        &[],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("bucket `reports` has no bucket mapping")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("bucket `matbakh-files-uploads` does not exist")),
        "{lines:?}"
    );
}
