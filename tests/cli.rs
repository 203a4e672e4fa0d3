//! The binary's edges: version, usage and configuration errors (exit 2, one
//! line naming the key and file), and `status` reading a real ledger.

mod support;

use supamigrate::ledger::{Ledger, Stage, StageState};

#[test]
fn version_and_help_exit_0() {
    let out = support::cmd().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("supamigrate "));
    let out = support::cmd().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn unknown_subcommand_is_usage_exit_2() {
    let out = support::cmd().arg("migrate-everything").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_config_key_names_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("supamigrate.toml"),
        "[target]\nurl = \"postgres://u@h/d\"\n[copy]\njobz = 4\n",
    )
    .unwrap();
    let out = support::cmd_in(dir.path()).arg("plan").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("jobz") && stderr.contains("supamigrate.toml"),
        "{stderr}"
    );
}

#[test]
fn missing_named_config_file_is_exit_2() {
    let out = support::cmd()
        .args(["--config", "nope.toml", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.toml"));
}

#[test]
fn json_errors_are_machine_readable() {
    let out = support::cmd().args(["status", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["exit_code"], 2);
    assert!(v["error"]
        .as_str()
        .unwrap()
        .contains("no target database configured"));
}

#[tokio::test]
async fn status_shows_the_run_and_its_stages() {
    let tgt = support::target_db("cli_status");
    let ep = supamigrate::pg::ConnInfo::parse("t", &tgt.url)
        .unwrap()
        .complete("t", &Default::default(), None)
        .unwrap();
    let mut ledger = Ledger::open(&ep, "postgres@src:5432/postgres")
        .await
        .unwrap();
    ledger
        .set_stage(Stage::Schema, StageState::Done, serde_json::json!({}))
        .await
        .unwrap();
    ledger
        .set_stage(Stage::Data, StageState::Running, serde_json::json!({}))
        .await
        .unwrap();
    let run_id = ledger.run_id().to_string();

    // status works while the run holds its lock.
    let out = support::cmd()
        .args(["status", "--json", "--target-url", &tgt.url])
        .output()
        .unwrap();
    support::assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["id"], run_id.as_str());
    assert_eq!(v["run"]["stages"][0]["stage"], "schema");
    assert_eq!(v["run"]["stages"][0]["state"], "done");
    assert_eq!(v["run"]["stages"][1]["state"], "running");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(support::TARGET_PASSWORD));

    let out = support::cmd()
        .args(["status", "--target-url", &tgt.url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&run_id) && text.contains("data       running"),
        "{text}"
    );
}

#[tokio::test]
async fn a_second_concurrent_run_is_refused_with_exit_4() {
    let src = support::source_db("cli_busy_src");
    let tgt = support::target_db("cli_busy_tgt");
    // A table of the source, so the schema can be adopted and `data` gets
    // as far as the lock.
    support::psql(&tgt.url, "CREATE TABLE public.busy (id int)");
    support::adopt_schema(&src.url, &tgt.url);
    let ep = supamigrate::pg::ConnInfo::parse("t", &tgt.url)
        .unwrap()
        .complete("t", &Default::default(), None)
        .unwrap();
    let holder = Ledger::open(&ep, "postgres@src:5432/postgres")
        .await
        .unwrap();

    let out = support::cmd()
        .args(["data", "--source-url", &src.url, "--target-url", &tgt.url])
        .output()
        .unwrap();
    support::assert_exit(&out, 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("another supamigrate run"), "{stderr}");
    // Nothing was copied while refused.
    let chunks = support::psql(&tgt.url, "SELECT count(*) FROM supamigrate.chunks");
    assert_eq!(chunks, "0");
    drop(holder);
}
