//! `schema` against the real test servers: the Supabase-like source's whole
//! schema goes onto the Aurora-like target as the non-superuser role; after
//! the post-data steps (as `finalize` applies them) both sides' inventories
//! match except where the change list explains it; RLS works on the target;
//! the undo journal holds what was created; the gates refuse bad starts.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use supamigrate::ledger::post_data;

fn config(dir: &Path, source: &str, target: &str) {
    std::fs::write(
        dir.join("supamigrate.toml"),
        format!("[source]\nurl = \"{source}\"\n\n[target]\nurl = \"{target}\"\n"),
    )
    .unwrap();
}

/// `{name}_source` and `{name}_target`, and a directory whose
/// `supamigrate.toml` points at them.
fn configured(name: &str) -> (support::TestDb, support::TestDb, tempfile::TempDir) {
    let source = support::source_db(&format!("{name}_source"));
    let target = support::target_db(&format!("{name}_target"));
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), &source.url, &target.url);
    (source, target, dir)
}

/// One line per object detail, keyed by the object as the change list names
/// it (`relation public.t`, `function auth.uid`, `type public.e`).
const INVENTORY: &str = r#"
WITH s AS (SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('public', 'auth', 'storage', 'extensions')),
ext AS (SELECT objid, classid FROM pg_depend WHERE deptype = 'e')
SELECT line FROM (
  SELECT format('relation %s.%s|%s', s.nspname, c.relname, c.relkind) AS line
    FROM pg_class c JOIN s ON s.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = c.oid)
  UNION ALL
  SELECT format('relation %s.%s|column %s %s default=%s notnull=%s', s.nspname, c.relname, a.attname,
                format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attnotnull)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN s ON s.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm')
     AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = c.oid)
  UNION ALL
  SELECT format('relation %s.%s|constraint %s %s', s.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN s ON s.oid = c.relnamespace
  UNION ALL
  SELECT format('relation %s.%s|index %s', s.nspname, c.relname, pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN s ON s.oid = c.relnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = c.oid)
  UNION ALL
  SELECT format('relation %s.%s|policy %s %s %s %s %s', p.schemaname, p.tablename, p.policyname, p.cmd, p.roles, p.qual, p.with_check)
    FROM pg_policies p WHERE p.schemaname IN (SELECT nspname FROM s)
  UNION ALL
  SELECT format('relation %s.%s|rls %s', s.nspname, c.relname, c.relrowsecurity)
    FROM pg_class c JOIN s ON s.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')
  UNION ALL
  SELECT format('relation %s.%s|trigger %s', s.nspname, c.relname, pg_get_triggerdef(t.oid))
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN s ON s.oid = c.relnamespace
   WHERE NOT t.tgisinternal
  UNION ALL
  SELECT format('relation %s.%s|view %s', s.nspname, c.relname, pg_get_viewdef(c.oid))
    FROM pg_class c JOIN s ON s.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT format('relation %s.%s|grant %s %s', s.nspname, c.relname, a.privilege_type, r.rolname)
    FROM pg_class c JOIN s ON s.oid = c.relnamespace, aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee
   WHERE r.rolname IN ('anon', 'authenticated', 'service_role')
  UNION ALL
  SELECT format('function %s.%s|%s %s %s', s.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                p.prosecdef, md5(p.prosrc))
    FROM pg_proc p JOIN s ON s.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = p.oid)
  UNION ALL
  SELECT format('type %s.%s|enum %s', s.nspname, t.typname, (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid))
    FROM pg_type t JOIN s ON s.oid = t.typnamespace WHERE t.typtype = 'e'
) x ORDER BY line
"#;

fn inventory(url: &str) -> BTreeSet<String> {
    support::psql(url, INVENTORY)
        .lines()
        .map(str::to_string)
        .collect()
}

async fn apply_post_data(url: &str) -> (String, Vec<post_data::PostDataStep>) {
    let (mut client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let run: String = client
        .query_one(
            "SELECT id FROM supamigrate.runs WHERE state = 'active'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let steps = post_data::steps(&client, &run).await.unwrap();
    let applied = post_data::apply_pending(&mut client, &run).await.unwrap();
    assert_eq!(applied, steps.len());
    (run, steps)
}

#[tokio::test(flavor = "multi_thread")]
async fn whole_source_schema_applies_and_matches_except_explained_changes() {
    let (source, target, dir) = configured("schema_whole");
    let out = support::cmd_in(dir.path())
        .args(["schema", "--json"])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(
        report["applied_statements"].as_u64().unwrap() > 100,
        "{report}"
    );
    let stdout = String::from_utf8_lossy(&out.get_output().stdout);
    assert!(
        !stdout.contains(support::SOURCE_PASSWORD) && !stdout.contains(support::TARGET_PASSWORD)
    );

    let (run, steps) = apply_post_data(&target.url).await;
    let kinds: BTreeSet<&str> = steps.iter().map(|s| s.kind.as_str()).collect();
    for k in ["index", "constraint", "foreign_key", "trigger", "policy"] {
        assert!(kinds.contains(k), "no {k} step in {kinds:?}");
    }

    // Inventories: every difference must be explained by a recorded change.
    let changes = support::psql(
        &target.url,
        &format!("SELECT DISTINCT object FROM supamigrate.schema_changes WHERE run_id = '{run}' AND object IS NOT NULL"),
    );
    let explained: BTreeSet<&str> = changes.lines().collect();
    let src = inventory(&source.url);
    let tgt = inventory(&target.url);
    let unexplained: Vec<&String> = src
        .symmetric_difference(&tgt)
        .filter(|line| !explained.contains(line.split('|').next().unwrap()))
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained differences: {unexplained:#?}"
    );
    assert!(tgt.len() > 200, "inventory too small: {}", tgt.len());

    // Undo journal: the schemas and roles it created, newest undone first.
    let undo = support::psql(
        &target.url,
        &format!("SELECT string_agg(object, ',' ORDER BY id) FROM supamigrate.undo_journal WHERE run_id = '{run}' AND object LIKE 'schema %'"),
    );
    assert_eq!(undo, "schema auth,schema extensions,schema storage");

    // Running again does nothing: the stage is done in this run.
    let again = support::cmd_in(dir.path()).arg("schema").assert().success();
    assert!(String::from_utf8_lossy(&again.get_output().stdout).contains("already applied"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rls_on_the_target_shows_exactly_the_users_rows_as_on_the_source() {
    let (source, target, dir) = configured("schema_rls");
    support::cmd_in(dir.path()).arg("schema").assert().success();
    apply_post_data(&target.url).await;

    let as_user = |url: &str, user: &str| {
        support::psql(
            url,
            &format!(
                "BEGIN;
                 SET LOCAL ROLE authenticated;
                 SELECT set_config('request.jwt.claims', '{{\"sub\": \"{user}\", \"role\": \"authenticated\"}}', true) IS NOT NULL;
                 SELECT count(*) FILTER (WHERE owner_id = '{user}') || '/' || count(*) FROM public.businesses WHERE NOT is_published;
                 COMMIT;"
            ),
        )
    };
    // On the source: a seeded owner sees only their own unpublished businesses.
    let owner = support::psql(
        &source.url,
        "SELECT owner_id FROM public.businesses WHERE NOT is_published LIMIT 1",
    );
    let seen = as_user(&source.url, &owner);
    let (mine, all) = seen.lines().nth(1).unwrap().split_once('/').unwrap();
    assert_eq!(mine, all, "source shows others' rows: {seen}");
    assert_ne!(mine, "0");

    // On the target: two users, each with unpublished businesses.
    let a = "aaaaaaaa-0000-4000-8000-000000000001";
    let b = "bbbbbbbb-0000-4000-8000-000000000002";
    support::psql(
        &target.url,
        &format!(
            "INSERT INTO auth.users (id, email, aud, role, is_sso_user, is_anonymous) VALUES
               ('{a}', 'a@example.com', 'authenticated', 'authenticated', false, false),
               ('{b}', 'b@example.com', 'authenticated', 'authenticated', false, false);
             INSERT INTO public.businesses (owner_id, name, slug, is_published) VALUES
               ('{a}', 'A1', 'a-1', false), ('{a}', 'A2', 'a-2', false), ('{b}', 'B1', 'b-1', false);"
        ),
    );
    assert_eq!(as_user(&target.url, a), "t\n2/2");
    assert_eq!(as_user(&target.url, b), "t\n1/1");
}

#[test]
fn non_empty_target_is_refused_and_nothing_is_written() {
    let (_source, target, dir) = configured("schema_nonempty");
    support::psql(&target.url, "CREATE TABLE public.already_here (id int)");
    let out = support::cmd_in(dir.path()).arg("schema").assert().code(4);
    let err = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        err.contains("already holds user objects (relation public.already_here)"),
        "{err}"
    );
    assert!(err.contains("--allow-existing"), "{err}");
    let ledger = support::psql(
        &target.url,
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'supamigrate'",
    );
    assert_eq!(ledger, "0");
}

#[test]
fn missing_pg_dump_is_a_usage_error() {
    let (_source, _target, dir) = configured("schema_pgdump");
    let out = support::cmd_in(dir.path())
        .args(["schema", "--pg-dump", "/nonexistent/pg_dump"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(err.contains("cannot run /nonexistent/pg_dump"), "{err}");
}

#[test]
fn plan_assesses_the_schema_rules_and_blockers() {
    let (source, target, dir) = configured("schema_plan");
    let out = support::cmd_in(dir.path())
        .args(["plan", "--json"])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let schema = &report["schema"];
    assert!(
        schema["statements"]["create_table"].as_u64().unwrap() > 20,
        "{schema}"
    );
    assert!(
        schema["rules_fired"]["supabase.event-triggers"]
            .as_u64()
            .unwrap()
            >= 3,
        "{schema}"
    );
    assert!(
        schema["rules_fired"]["supabase.project-admin"]
            .as_u64()
            .unwrap()
            > 0,
        "{schema}"
    );
    assert_eq!(schema["blockers"], serde_json::json!([]));
    // plan writes nothing: no ledger, no roles' objects.
    let ledger = support::psql(&target.url, "SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema')");
    assert_eq!(ledger, "0");

    // A function calling pg_net, which the target will not have.
    support::psql(
        &source.url,
        "CREATE SCHEMA IF NOT EXISTS net;
         CREATE FUNCTION public.ping_webhook() RETURNS void LANGUAGE plpgsql
           AS $$ begin perform net.http_post(url := 'https://example.com'); end $$;",
    );
    let out = support::cmd_in(dir.path()).arg("plan").assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        err.contains("schema: function public.ping_webhook uses net.http_post, but schema net is not migrated"),
        "{err}"
    );
    let out = support::cmd_in(dir.path()).arg("schema").assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        err.contains("1 blocker(s) in the source schema; nothing applied"),
        "{err}"
    );
}

#[test]
fn unavailable_extension_blocks_schema_and_names_what_uses_it() {
    let (source, target, dir) = configured("schema_ext");
    // sslinfo is kept out of the Aurora-like target (see tests/support).
    support::psql(
        &source.url,
        "CREATE EXTENSION sslinfo WITH SCHEMA extensions;
         CREATE VIEW public.my_tls AS SELECT extensions.ssl_is_used() AS tls;",
    );
    let out = support::cmd_in(dir.path()).arg("schema").assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(err.contains("extension sslinfo"), "{err}");
    assert!(err.contains("used by view public.my_tls"), "{err}");
    let ledger = support::psql(
        &target.url,
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'supamigrate'",
    );
    assert_eq!(ledger, "0");
}

/// The stage's current state in the target's ledger.
fn schema_state(target: &str) -> String {
    support::psql(
        target,
        "SELECT state FROM supamigrate.stage_states WHERE stage = 'schema' AND is_current",
    )
}

#[test]
fn a_schema_committed_before_its_done_mark_is_not_refused_on_the_next_run() {
    let (_source, target, dir) = configured("schema_recover");
    support::cmd_in(dir.path()).arg("schema").assert().success();
    let objects = inventory(&target.url);
    // What a process killed between the schema's commit and the stage's done
    // mark leaves behind.
    support::psql(
        &target.url,
        "UPDATE supamigrate.stage_states SET state = 'running' WHERE stage = 'schema' AND is_current",
    );

    let out = support::cmd_in(dir.path())
        .args(["schema", "--json"])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["already_done"], true, "{report}");
    assert_eq!(schema_state(&target.url), "done");
    assert_eq!(inventory(&target.url), objects);
}

#[test]
fn ctrl_c_while_applying_leaves_nothing_and_says_to_run_again() {
    let (_source, target, dir) = configured("schema_sigint");

    // An uncommitted DROP SCHEMA holds the lock that creating anything in
    // `public` waits for, so the stage is provably mid-way when Ctrl-C comes.
    let lock = support::LockHolder::hold(
        &target.url,
        "DROP SCHEMA public",
        "SELECT count(*) FROM pg_locks WHERE locktype = 'object'
          AND classid = 'pg_namespace'::regclass AND objid = 'public'::regnamespace
          AND mode = 'AccessExclusiveLock' AND granted",
    );
    let mut cmd = support::spawnable_in(dir.path());
    cmd.arg("schema");
    let out = support::interrupted_at_lock_wait(cmd, &target.url);
    let stderr = String::from_utf8_lossy(&out.stderr);
    support::assert_exit(&out, 1);
    assert!(
        stderr.contains("interrupted; nothing was applied")
            && stderr.contains("run `supamigrate schema` again"),
        "{stderr}"
    );
    assert_eq!(schema_state(&target.url), "interrupted");
    // The statement waiting for the lock was cancelled, not left behind.
    assert_eq!(support::ours_waiting_for_locks(&target.url), "0");
    drop(lock);

    // The statements before the one that waited were rolled back with it.
    let empty = support::psql(
        &target.url,
        "SELECT count(*) FROM pg_namespace WHERE nspname IN ('auth', 'storage')",
    );
    assert_eq!(empty, "0");
    support::cmd_in(dir.path()).arg("schema").assert().success();
    assert_eq!(schema_state(&target.url), "done");
}
