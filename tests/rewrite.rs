//! `rewrite`: snapshot tests of the offline rewrite on hand-written dump
//! fragments (one per construct), the blockers it reports, its errors, and
//! the proof that a rewritten raw PostgreSQL 17 Supabase dump applies on the
//! PostgreSQL 15 target as the non-superuser role, with RLS working there.

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use supamigrate::mapping::rules::SchemaRules;
use supamigrate::sqlrewrite::parse::parse_dump;
use supamigrate::sqlrewrite::{rewrite, Options, Rewritten};

fn dumps(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/dumps")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
}

fn rewrite_file(path: &Path) -> Rewritten {
    let text = std::fs::read_to_string(path).unwrap();
    let dump = parse_dump("dump.sql", &text).unwrap();
    rewrite(
        &[&dump],
        &SchemaRules::defaults().unwrap(),
        &Options::default(),
    )
    .unwrap()
}

fn render(r: &Rewritten) -> String {
    let mut s = String::from("==== output\n");
    s.push_str(&r.script());
    s.push_str("\n==== changes\n");
    for c in &r.changes {
        let line = c
            .line
            .map(|l| format!("line {l}"))
            .unwrap_or_else(|| "-".into());
        let object = c.object.as_deref().unwrap_or("-");
        writeln!(s, "{} {line} [{}] {object}", c.action, c.rule).unwrap();
    }
    s.push_str("==== blockers\n");
    for b in &r.blockers {
        writeln!(
            s,
            "line {} [{}] {} | fix: {}",
            b.line, b.rule, b.message, b.fix
        )
        .unwrap();
    }
    s
}

#[test]
fn each_construct_is_rewritten_as_the_rules_say() {
    for path in dumps("fragments") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let r = rewrite_file(&path);
        assert!(r.blockers.is_empty(), "{name}: {:?}", r.blockers);
        insta::assert_snapshot!(format!("fragment_{name}"), render(&r));
    }
}

#[test]
fn blockers_name_the_object_and_the_fix() {
    for path in dumps("blockers") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let r = rewrite_file(&path);
        assert!(r.open_blockers().count() > 0, "{name}: no blocker");
        insta::assert_snapshot!(format!("blocker_{name}"), render(&r));
    }
}

#[test]
fn full_pg17_dump_rewrite_and_change_list() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/supabase-pg17-full.sql");
    let r = rewrite_file(&path);
    assert_eq!(r.open_blockers().count(), 0, "{:?}", r.blockers);
    insta::assert_snapshot!("full_pg17_dump", render(&r));
}

/// Statements no rule touches come out byte for byte as the dump had them.
#[test]
fn untouched_statements_keep_their_bytes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/supabase-pg17-full.sql");
    let out = rewrite_file(&path).script();
    let sql: String = out
        .lines()
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for kept in [
        "CREATE TABLE public.todos (\n    id bigint NOT NULL,\n    user_id uuid NOT NULL,",
        "CREATE POLICY \"Individuals can view their own todos.\" ON public.todos FOR SELECT TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id));",
        "    SET search_path TO ''\n    AS $$\nbegin\n  insert into public.profiles",
        "GRANT SELECT(username) ON TABLE public.profiles TO anon;",
    ] {
        assert!(out.contains(kept), "lost: {kept}");
    }
    for gone in [
        "\\restrict",
        "transaction_timeout",
        "supabase_admin",
        "EVENT TRIGGER",
        "MAINTAIN",
        "supabase_realtime",
    ] {
        assert!(!sql.contains(gone), "still there: {gone}");
    }
}

fn run_rewrite(dir: &Path, input: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    support::cmd_in(dir)
        .arg("rewrite")
        .arg("--input")
        .arg(input)
        .args(["--output", "out.sql", "--changes", "changes.json"])
        .args(extra)
        .assert()
}

#[test]
fn rewritten_pg17_dump_applies_on_the_pg15_target_and_rls_works() {
    let dir = tempfile::tempdir().unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/supabase-pg17-full.sql");
    run_rewrite(dir.path(), &input, &[]).success();
    let changes: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("changes.json")).unwrap()).unwrap();
    let list = changes["changes"].as_array().unwrap();
    assert!(list
        .iter()
        .all(|c| c["rule"].is_string() && c["reason"].is_string()));
    assert!(list.iter().any(|c| c["rule"] == "supabase.event-triggers"
        && c["original"].as_str().unwrap().contains("pgrst_ddl_watch")));

    let target = support::target_db("rewrite_pg17_applies");
    let sql = std::fs::read_to_string(dir.path().join("out.sql")).unwrap();
    // psql with ON_ERROR_STOP: any error fails the test.
    support::psql(&target.url, &sql);

    let owners = support::psql(
        &target.url,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('public', 'auth', 'storage') AND c.relkind IN ('r', 'p')
           AND pg_get_userbyid(c.relowner) <> current_user",
    );
    assert_eq!(owners, "0");
    let schemas = support::psql(
        &target.url,
        "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace
         WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
    );
    assert_eq!(schemas, "auth,extensions,public,storage");

    // RLS: as authenticated with user A's claims, exactly A's rows.
    let a = "11111111-1111-1111-1111-111111111111";
    let b = "22222222-2222-2222-2222-222222222222";
    support::psql(
        &target.url,
        &format!(
            "INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES
               ('{a}', 'a@example.com', '{{\"user_name\": \"alice\"}}'),
               ('{b}', 'b@example.com', '{{\"user_name\": \"bobby\"}}');
             INSERT INTO public.todos (user_id, task) VALUES
               ('{a}', 'task of a 1'), ('{a}', 'task of a 2'), ('{b}', 'task of b');"
        ),
    );
    let seen = support::psql(
        &target.url,
        &format!(
            "BEGIN;
             SET LOCAL ROLE authenticated;
             SELECT set_config('request.jwt.claims', '{{\"sub\": \"{a}\", \"role\": \"authenticated\", \"email\": \"a@example.com\"}}', true) IS NOT NULL;
             SELECT string_agg(task, ',' ORDER BY task) FROM public.todos;
             SELECT auth.email();
             COMMIT;"
        ),
    );
    assert_eq!(seen, "t\ntask of a 1,task of a 2\na@example.com");
    // The trigger on auth.users (handle_new_user) fired for both users.
    let profiles = support::psql(
        &target.url,
        "SELECT string_agg(username, ',' ORDER BY username) FROM public.profiles",
    );
    assert_eq!(profiles, "alice,bobby");
}

#[test]
fn cli_public_only_dump_gets_the_platform_objects_it_references() {
    let dir = tempfile::tempdir().unwrap();
    let input =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/fragments/cli_public_only.sql");
    run_rewrite(dir.path(), &input, &[]).success();
    let target = support::target_db("rewrite_cli_dump_applies");
    support::psql(
        &target.url,
        &std::fs::read_to_string(dir.path().join("out.sql")).unwrap(),
    );
    let fk = support::psql(
        &target.url,
        "SELECT confrelid::regclass FROM pg_constraint WHERE conname = 'profiles_id_fkey'",
    );
    assert_eq!(fk, "auth.users");
}

#[test]
fn unparseable_dump_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.sql");
    std::fs::write(
        &input,
        "CREATE TABLE a (id int);\n\nCREATE TABLE b (id int;\n",
    )
    .unwrap();
    let out = run_rewrite(dir.path(), &input, &[])
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.sql: line 3: syntax error"), "{err}");
    assert!(!dir.path().join("out.sql").exists());
}

#[test]
fn unknown_rule_key_names_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "[[rules]]\nid = \"mine.x\"\nreason = \"r\"\naction = \"drop\"\nkinds = [\"set\"]\n",
    )
    .unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/fragments/restrict.sql");
    let out = run_rewrite(dir.path(), &input, &["--mapping", "mine.toml"])
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mapping file mine.toml: line 5: unknown field `kinds`"),
        "{err}"
    );
}

#[test]
fn unsupported_extension_refuses_until_a_rule_decides() {
    let dir = tempfile::tempdir().unwrap();
    let input =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/blockers/unknown_extension.sql");
    let out = run_rewrite(dir.path(), &input, &[])
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("extension fancy_search: not available on Aurora PostgreSQL 15.5"),
        "{err}"
    );
    assert!(!dir.path().join("out.sql").exists());
    std::fs::write(
        dir.path().join("mine.toml"),
        r#"
[[extensions]]
id = "mine.no-fancy"
reason = "search moved to pg_trgm"
names = ["fancy_search", "timescaledb"]
action = "drop"
"#,
    )
    .unwrap();
    run_rewrite(dir.path(), &input, &["--mapping", "mine.toml"]).success();
    let changes = std::fs::read_to_string(dir.path().join("changes.json")).unwrap();
    assert!(changes.contains("mine.no-fancy"));
}

/// `rewrite` with `args` in `dir`: exit 2, one line on stderr (returned),
/// and no file written besides those the test put there.
fn refused(dir: &Path, args: &[&str]) -> String {
    let before: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let out = support::cmd_in(dir)
        .arg("rewrite")
        .args(args)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let after: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), after.len(), "wrote {after:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("fix: "), "{err}");
    err
}

#[test]
fn an_empty_comment_only_or_truncated_dump_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.sql"), "").unwrap();
    std::fs::write(
        d.join("comments.sql"),
        "--\n-- PostgreSQL database dump\n--\n\n-- nothing\n",
    )
    .unwrap();
    let full = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/supabase-pg17-full.sql"),
    )
    .unwrap();
    // Cut at a statement boundary, so the rest parses: only the missing
    // closing comment shows the cut.
    let lines: Vec<&str> = full.lines().collect();
    let cut = lines.len() / 2;
    let cut = cut + lines[cut..].iter().position(|l| l.is_empty()).unwrap();
    std::fs::write(d.join("half.sql"), lines[..cut].join("\n") + "\n").unwrap();

    let err = refused(d, &["--input", "empty.sql", "--output", "out.sql"]);
    assert!(err.contains("input empty.sql: no SQL statement"), "{err}");
    let err = refused(d, &["--input", "comments.sql", "--output", "out.sql"]);
    assert!(
        err.contains("input comments.sql: no SQL statement"),
        "{err}"
    );
    let err = refused(
        d,
        &[
            "--input",
            "half.sql",
            "--output",
            "out.sql",
            "--changes",
            "c.json",
        ],
    );
    assert!(
        err.contains(&format!(
            "input half.sql: stops at line {cut} without pg_dump's closing"
        )),
        "{err}"
    );
    assert!(err.contains("truncated"), "{err}");

    // The whole dump, for contrast, is rewritten.
    std::fs::write(d.join("full.sql"), &full).unwrap();
    support::cmd_in(d)
        .args(["rewrite", "--input", "full.sql", "--output", "out.sql"])
        .assert()
        .success();
}

#[test]
fn outputs_that_cannot_be_written_or_would_overwrite_the_input_are_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/dumps/fragments/owners.sql");
    std::fs::copy(&input, d.join("dump.sql")).unwrap();
    let original = std::fs::read(d.join("dump.sql")).unwrap();

    let err = refused(d, &["--input", "dump.sql", "--output", "no/such/out.sql"]);
    assert!(
        err.contains("--output no/such/out.sql: directory no/such does not exist"),
        "{err}"
    );
    // The output's directory exists, the change list's does not: neither is
    // written (it used to write the output, then fail with exit 1).
    let err = refused(
        d,
        &[
            "--input",
            "dump.sql",
            "--output",
            "out.sql",
            "--changes",
            "gone/c.json",
        ],
    );
    assert!(
        err.contains("--changes gone/c.json: directory gone does not exist"),
        "{err}"
    );
    let err = refused(d, &["--input", "dump.sql", "--output", "./dump.sql"]);
    assert!(
        err.contains("--output ./dump.sql is the input file"),
        "{err}"
    );
    let err = refused(
        d,
        &[
            "--input",
            "dump.sql",
            "--output",
            "out.sql",
            "--changes",
            "dump.sql",
        ],
    );
    assert!(
        err.contains("--changes dump.sql is the input file"),
        "{err}"
    );
    assert_eq!(std::fs::read(d.join("dump.sql")).unwrap(), original);
}
