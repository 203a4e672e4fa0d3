//! One scope for every stage: a schema a user's mapping drops is neither
//! copied nor counted by verify (which names it instead), and a platform
//! schema a user's mapping keeps is copied and verified like any other,
//! so a row deleted there on the target fails verify.

mod support;

use supamigrate::mapping::rules::SchemaRules;
use supamigrate::mapping::scope::Scope;

const USER_RULES: &str = r#"
[[schemas]]
id = "user.keep-history"
reason = "we keep the CLI's migration history"
action = "keep"
names = ["supabase_migrations"]

[[schemas]]
id = "user.drop-scratch"
reason = "scratch tables nobody reads"
action = "drop"
names = ["scratch*"]
"#;

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = support::cmd_in(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report").join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn verified(v: &serde_json::Value, schema: &str) -> Vec<serde_json::Value> {
    v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["schema"] == schema)
        .cloned()
        .collect()
}

#[test]
fn user_rules_decide_what_every_stage_carries_and_verify_compares() {
    let src = support::source_db("scope_src");
    let tgt = support::target_db("scope_tgt");
    support::psql(
        &src.url,
        "INSERT INTO supabase_migrations.schema_migrations (version, name)
           SELECT to_char(g, 'FM20260000000000'), 'm' || g
           FROM generate_series(1, 50 - (SELECT count(*) FROM supabase_migrations.schema_migrations)) g;
         CREATE SCHEMA scratch_1;
         CREATE TABLE scratch_1.notes (id int PRIMARY KEY, body text);
         INSERT INTO scratch_1.notes SELECT g, 'n' || g FROM generate_series(1, 300) g;",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.toml"), USER_RULES).unwrap();
    std::fs::write(
        dir.path().join("supamigrate.toml"),
        format!(
            "[source]\nurl = \"{}\"\n[target]\nurl = \"{}\"\n[mapping]\nfiles = [\"mine.toml\"]\n",
            src.url, tgt.url
        ),
    )
    .unwrap();

    let (code, stdout, stderr) = run(dir.path(), &["plan", "--json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let left_out = plan["source"]["out_of_scope"].as_array().unwrap();
    assert!(
        left_out.iter().any(|l| l["schema"] == "scratch_1"
            && l["tables"] == 1
            && l["rule"] == "user.drop-scratch"),
        "{left_out:?}"
    );
    assert!(
        !left_out
            .iter()
            .any(|l| l["schema"] == "supabase_migrations"),
        "{left_out:?}"
    );
    assert_eq!(
        plan["source"]["tables"].as_i64().unwrap()
            - plan["source"]["tables_in_scope"].as_i64().unwrap(),
        left_out
            .iter()
            .map(|l| l["tables"].as_i64().unwrap())
            .sum::<i64>()
    );

    for stage in ["schema", "data", "finalize"] {
        let (code, stdout, stderr) = run(dir.path(), &[stage]);
        assert_eq!(code, 0, "{stage} failed:\n{stdout}\n{stderr}");
    }
    assert_eq!(
        support::psql(
            &tgt.url,
            "SELECT to_regnamespace('scratch_1') IS NULL, count(*) FROM supabase_migrations.schema_migrations"
        ),
        "t|50"
    );

    let (code, stdout, stderr) = run(dir.path(), &["verify", "--report-dir", "report"]);
    assert_eq!(code, 0, "verify failed:\n{stdout}\n{stderr}");
    let v = report(dir.path());
    let history = verified(&v, "supabase_migrations");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["source_rows"], 50);
    assert_eq!(history[0]["target_rows"], 50);
    assert!(verified(&v, "scratch_1").is_empty());
    let total: i64 = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["source_rows"].as_i64().unwrap())
        .sum();
    assert_eq!(v["summary"]["rows_source"].as_i64().unwrap(), total);
    assert!(
        v["left_out"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["schema"] == "scratch_1" && l["rule"] == "user.drop-scratch"),
        "{}",
        v["left_out"]
    );
    assert!(
        stdout.contains(
            "not carried, not compared: schema scratch_1 (1 tables), rule user.drop-scratch"
        ),
        "{stdout}"
    );

    support::psql(
        &tgt.url,
        "DELETE FROM supabase_migrations.schema_migrations
         WHERE version = (SELECT min(version) FROM supabase_migrations.schema_migrations)",
    );
    let (code, stdout, stderr) = run(dir.path(), &["verify", "--report-dir", "report"]);
    assert_eq!(
        code, 3,
        "a deleted row must fail verify:\n{stdout}\n{stderr}"
    );
    let history = verified(&report(dir.path()), "supabase_migrations");
    assert_eq!(history[0]["missing"], 1, "{history:?}");
}

/// The SQL predicate and the in-process decision are one rule written twice
/// (once for catalogs, once for Rust): on a real server they must agree on
/// every schema there, and on names whose `_` or `%` a LIKE would misread.
#[test]
fn the_scope_predicate_agrees_with_the_scope_on_a_server() {
    let src = support::source_db("scope_sql_src");
    let mut rules = SchemaRules::defaults().unwrap();
    rules
        .merge_str(std::path::Path::new("mine.toml"), USER_RULES)
        .unwrap();
    let scope = Scope::new(&rules);
    let out = support::psql(
        &src.url,
        &format!(
            "SELECT n.nspname || '=' || {}::text FROM (
               SELECT nspname::text FROM pg_namespace
               UNION SELECT unnest(ARRAY['scratch_1', 'scratch', 'scratchy', 'scratc', 'xscratch',
                                         'timescaledb_x', 'timescaledbx', '_timescaledb_y', 'Xtimescaledb_y',
                                         'pg_temp_9', 'pgx', 'supabase_migrations', 'supabaseXmigrations',
                                         'a%b', 'a_b', '_realtime', 'xrealtime', 'public', 'auth'])
             ) n(nspname) ORDER BY 1",
            scope.schema_sql("n.nspname")
        ),
    );
    let mut seen = 0;
    for line in out.lines() {
        let (name, sql) = line.rsplit_once('=').unwrap();
        assert_eq!(
            sql == "true",
            scope.keeps_schema(name),
            "schema {name}: SQL says {sql}"
        );
        seen += 1;
    }
    assert!(seen > 25, "{out}");
    assert!(scope.keeps_schema("supabaseXmigrations"));
    assert!(!scope.keeps_schema("timescaledb_x"));
    assert!(scope.keeps_schema("timescaledbx"));
}
