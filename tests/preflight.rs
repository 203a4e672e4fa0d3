//! The target is checked before anything is written: the source itself
//! (found by server and database, not by URL), a read-only target, a role
//! without CREATE on the database, and a target encoding narrower than the
//! source's are each a blocker in `plan` and refused by the stages (exit 2),
//! with nothing written.

mod support;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(src: &str, tgt: &str, args: &[&str]) -> Outcome {
    let out = support::cmd()
        .args(args)
        .args(["--source-url", src, "--target-url", tgt])
        .output()
        .unwrap();
    let o = Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    };
    for text in [&o.stdout, &o.stderr] {
        assert!(!text.contains(support::TARGET_PASSWORD), "{text}");
        assert!(
            !text.contains(&support::source_cluster().superuser_password),
            "{text}"
        );
    }
    o
}

/// `plan` lists `expect` among its blockers (exit 2), and `schema` and
/// `data` refuse with it as their one error line (exit 2), writing no ledger.
fn refused_everywhere(src: &str, tgt: &str, expect: &str, fix: &str) {
    let plan = run(src, tgt, &["plan"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    let line = plan
        .stderr
        .lines()
        .find(|l| l.contains(expect))
        .unwrap_or_else(|| panic!("plan does not list `{expect}`:\n{}", plan.stderr));
    assert!(line.contains(fix), "{line}");
    for stage in ["schema", "data"] {
        let out = run(src, tgt, &[stage]);
        assert_eq!(out.code, 2, "{stage}: {}", out.stderr);
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{stage}: {}", out.stderr);
        assert!(errors[0].contains(expect), "{stage}: {}", errors[0]);
        assert!(errors[0].contains(fix), "{stage}: {}", errors[0]);
    }
    assert_eq!(
        support::psql(
            tgt,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'supamigrate'"
        ),
        "0",
        "a refused stage created the ledger"
    );
}

#[test]
fn the_source_itself_is_refused_as_the_target_whatever_the_url_says() {
    let src = support::source_db("preflight_self");
    // Another spelling of the same database.
    let same = format!("{}&connect_timeout=7&application_name=other", src.url);
    assert_ne!(same, src.url);
    refused_everywhere(
        &src.url,
        &same,
        "is the source database itself",
        "point target.url at the new Aurora database",
    );
    // Another database on the same server is a different target.
    let other = support::source_db("preflight_self_other");
    let plan = run(&src.url, &other.url, &["plan"]);
    assert!(
        !plan.stderr.contains("is the source database itself"),
        "{}",
        plan.stderr
    );
}

#[test]
fn a_read_only_target_is_refused() {
    let src = support::source_db("preflight_ro_src");
    let tgt = support::target_db("preflight_ro_tgt");
    support::target_cluster().superuser_psql(
        "postgres",
        "ALTER DATABASE preflight_ro_tgt SET default_transaction_read_only = on",
    );
    refused_everywhere(
        &src.url,
        &tgt.url,
        "sessions are read-only (default_transaction_read_only is on)",
        "ALTER DATABASE preflight_ro_tgt SET default_transaction_read_only = off",
    );
}

#[test]
fn a_role_without_create_on_the_target_database_is_refused() {
    let src = support::source_db("preflight_nocreate_src");
    let c = support::target_cluster();
    c.superuser_psql(
        "postgres",
        "DROP DATABASE IF EXISTS preflight_nocreate_tgt WITH (FORCE);
         CREATE DATABASE preflight_nocreate_tgt OWNER postgres",
    );
    let tgt = support::target_url("preflight_nocreate_tgt");
    refused_everywhere(
        &src.url,
        &tgt,
        "has no CREATE on database preflight_nocreate_tgt",
        "GRANT CREATE ON DATABASE preflight_nocreate_tgt TO matbakh_admin",
    );
}

#[test]
fn a_latin1_target_for_a_utf8_source_is_refused() {
    let src = support::source_db("preflight_latin1_src");
    let c = support::target_cluster();
    c.superuser_psql(
        "postgres",
        "DROP DATABASE IF EXISTS preflight_latin1_tgt WITH (FORCE);
         CREATE DATABASE preflight_latin1_tgt OWNER matbakh_admin ENCODING 'LATIN1'
           LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    );
    let tgt = support::target_url("preflight_latin1_tgt");
    refused_everywhere(
        &src.url,
        &tgt,
        "database preflight_latin1_tgt is encoded LATIN1, the source is UTF8",
        "ENCODING 'UTF8'",
    );
}
