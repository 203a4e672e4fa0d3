//! Stages refuse to run out of order: each one that builds on another
//! refuses (exit 4, one line naming the stage to run first and the command)
//! until that one is done in the active run, and a refusal writes nothing.

mod support;

fn run(src: &str, tgt: &str, args: &[&str]) -> (i32, String) {
    let out = support::cmd()
        .args(args)
        .args(["--source-url", src, "--target-url", tgt])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains(support::TARGET_PASSWORD), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

/// The one error line of a refusal.
fn refusal(stderr: &str) -> &str {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0]
}

fn has_ledger(tgt: &str) -> bool {
    support::psql(
        tgt,
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'supamigrate'",
    ) == "1"
}

#[test]
fn data_and_finalize_on_a_fresh_target_are_refused_without_creating_a_ledger() {
    let src = support::source_db("gates_fresh_src");
    let tgt = support::target_db("gates_fresh_tgt");

    let (code, stderr) = run(&src.url, &tgt.url, &["data"]);
    assert_eq!(code, 4, "{stderr}");
    let line = refusal(&stderr);
    assert!(
        line.contains("data: the schema stage has not run on target"),
        "{line}"
    );
    assert!(
        line.contains("fix: run `supamigrate schema` first"),
        "{line}"
    );
    assert!(line.contains("schema --adopt"), "{line}");

    let (code, stderr) = run(&src.url, &tgt.url, &["finalize"]);
    assert_eq!(code, 4, "{stderr}");
    let line = refusal(&stderr);
    assert!(
        line.contains("finalize: the data stage has not run on target"),
        "{line}"
    );
    assert!(line.contains("fix: run `supamigrate data` first"), "{line}");

    // Adopting needs a schema to adopt.
    let (code, stderr) = run(&src.url, &tgt.url, &["schema", "--adopt"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        refusal(&stderr).contains("holds no table in scope"),
        "{stderr}"
    );

    assert!(!has_ledger(&tgt.url), "a refusal created the ledger");
}

#[test]
fn finalize_waits_for_a_data_stage_that_did_not_finish() {
    let src = support::source_db("gates_order_src");
    let tgt = support::target_db("gates_order_tgt");
    support::psql(
        &src.url,
        "CREATE TABLE public.counted (id int PRIMARY KEY);
         INSERT INTO public.counted SELECT generate_series(1, 1000);",
    );
    // finalize creates triggers and foreign keys, which must not be live
    // while data copies: it may not run first.
    support::psql(
        &tgt.url,
        "CREATE TABLE public.counted (id int);
         INSERT INTO public.counted VALUES (0);",
    );
    support::adopt_schema(&src.url, &tgt.url);

    let (code, stderr) = run(&src.url, &tgt.url, &["finalize"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        refusal(&stderr).contains("the data stage has not run"),
        "{stderr}"
    );

    // A data stage that stopped (here refused: the table has a row it did
    // not copy) is not done either, and finalize says how to go on.
    let (code, stderr) = run(&src.url, &tgt.url, &["data"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("public.counted already has rows"),
        "{stderr}"
    );
    let (code, stderr) = run(&src.url, &tgt.url, &["finalize"]);
    assert_eq!(code, 4, "{stderr}");
    let line = refusal(&stderr);
    assert!(
        line.contains("the data stage is failed, not done"),
        "{line}"
    );
    assert!(line.contains("`supamigrate data` resumes it"), "{line}");
    // Refused before the ledger was opened: no finalize state recorded.
    assert_eq!(
        support::psql(
            &tgt.url,
            "SELECT count(*) FROM supamigrate.stage_states WHERE stage = 'finalize'"
        ),
        "0"
    );

    support::psql(&tgt.url, "TRUNCATE public.counted");
    let (code, stderr) = run(&src.url, &tgt.url, &["data"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = run(&src.url, &tgt.url, &["finalize"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        support::psql(&tgt.url, "SELECT count(*) FROM public.counted"),
        "1000"
    );
    assert_eq!(
        support::psql(&tgt.url, "SELECT count(*) FROM supamigrate.runs"),
        "1"
    );
}
