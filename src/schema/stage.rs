//! `schema`: dumps the source schema (pg_dump, pre-data and post-data),
//! rewrites it for the target, applies the pre-data part on the target in
//! one transaction (all or nothing) and stores the post-data part in the
//! ledger for `finalize`. Everything it creates goes into the undo journal
//! in that same transaction.
//!
//! Touches: source (read only); target: the migrated schema objects, roles,
//! and ledger tables stage_states, post_data, schema_changes, undo_journal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use tokio_postgres::{Client, Transaction};

use super::export;
use super::undo;
use crate::error::{Error, Result};
use crate::ledger::post_data::NewStep;
use crate::ledger::{Ledger, Stage, StageState};
use crate::mapping::rules::SchemaRules;
use crate::pg::{self, Endpoint, Side};
use crate::settings::Settings;
use crate::sqlrewrite::classify::PostKind;
use crate::sqlrewrite::parse::parse_dump;
use crate::sqlrewrite::rewrite::{rewrite, Options, OutStmt, Rewritten};
use crate::sqlrewrite::roles::TargetRole;
use crate::sqlrewrite::Blocker;
use crate::stage::{Context, StageRun};

#[derive(Debug, Clone, Default)]
pub struct SchemaArgs {
    pub pg_dump: Option<PathBuf>,
    pub allow_existing: bool,
    /// Record the schema the target already holds (made by the user's own
    /// migrations) as this run's schema stage; apply nothing.
    pub adopt: bool,
    /// A snapshot exported by the data stage, so schema and rows match.
    pub snapshot: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SchemaReport {
    pub run: String,
    pub already_done: bool,
    pub applied_statements: usize,
    pub post_data: BTreeMap<String, usize>,
    pub changes: usize,
    pub rules_fired: BTreeMap<String, usize>,
    pub roles_created: Vec<String>,
    pub warnings: Vec<String>,
    pub blockers: Vec<Blocker>,
    /// With `--adopt`: the tables in scope found on the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adopted_tables: Option<i64>,
}

impl SchemaReport {
    fn nothing_applied(run: String) -> SchemaReport {
        SchemaReport {
            run,
            already_done: false,
            applied_statements: 0,
            post_data: BTreeMap::new(),
            changes: 0,
            rules_fired: BTreeMap::new(),
            roles_created: Vec::new(),
            warnings: Vec::new(),
            blockers: Vec::new(),
            adopted_tables: None,
        }
    }
}

pub async fn run(settings: &Settings, args: &SchemaArgs) -> Result<SchemaReport> {
    let ctx = Context::resolve(settings).await?;
    let (source, target, mappings) = (&ctx.source, &ctx.target, &ctx.mappings);

    let tgt = pg::connect(Side::Target, target).await?;
    if let Some(applied) = crate::ledger::applied_schema_run(&tgt).await? {
        if !applied.marked_done {
            // The process stopped between the schema's commit and the done
            // mark; refusing the target as non-empty now would strand it.
            let mut ledger = Ledger::open(target, &source.to_string()).await?;
            let detail = serde_json::json!({ "recovered": "the schema transaction had committed" });
            ledger
                .set_stage(Stage::Schema, StageState::Done, detail)
                .await?;
            tracing::info!(run = %applied.run, "the schema had been applied before the last run stopped; its stage is now marked done");
        }
        return Ok(SchemaReport {
            already_done: true,
            ..SchemaReport::nothing_applied(applied.run)
        });
    }
    if args.adopt {
        return adopt(&ctx, &tgt).await;
    }
    if !args.allow_existing {
        refuse_non_empty(&tgt, target).await?;
    }
    let result = assess(source, &tgt, target, &mappings.schema, args).await?;
    let open: Vec<&Blocker> = result.open_blockers().collect();
    if let Some(first) = open.first() {
        return Err(Error::config(format!(
            "{} blocker(s) in the source schema; nothing applied: {}",
            open.len(),
            open.iter()
                .map(|b| b.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .with_fix(first.fix.clone()));
    }

    let run = StageRun::begin(&ctx, Stage::Schema).await?;
    let run_id = run.run_id().to_string();
    let outcome = apply(target, &run_id, &result).await;
    let post_data = post_counts(&result);
    let applied = run
        .end(
            outcome,
            |applied| serde_json::json!({ "applied": applied, "post_data": post_data, "changes": result.changes.len() }),
            Error::failure("schema: interrupted; nothing was applied")
                .with_fix("run `supamigrate schema` again"),
        )
        .await?;
    let warnings = bypassrls_warnings(&tgt, &mappings.schema, &result).await?;
    tracing::info!(run = %run_id, applied, "schema applied");
    Ok(SchemaReport {
        run: run_id,
        already_done: false,
        applied_statements: applied,
        post_data,
        changes: result.changes.len(),
        rules_fired: result.rules_fired.clone(),
        roles_created: result.roles_created.clone(),
        warnings,
        blockers: result.blockers.clone(),
        adopted_tables: None,
    })
}

/// `--adopt`: the schema the user's own migrations made stands in for this
/// stage's. Nothing is applied, so nothing goes into the undo journal (a
/// rollback leaves the adopted schema alone); `finalize` then reads the
/// post-data steps from the source catalog, as no dump stored them.
async fn adopt(ctx: &Context<'_>, tgt: &Client) -> Result<SchemaReport> {
    let tables: i64 = pg::catalog::tables_by_schema(tgt)
        .await
        .map_err(|e| Error::db(format!("target {}: reading the catalog", ctx.target), e))?
        .iter()
        .filter(|(schema, _)| ctx.scope.keeps_schema(schema))
        .map(|(_, n)| n)
        .sum();
    if tables == 0 {
        return Err(Error::config(format!(
            "schema --adopt: target {} holds no table in scope, so there is no schema to adopt",
            ctx.target
        ))
        .with_fix("create the schema first: `supamigrate schema` does, or your own migrations"));
    }
    let run = StageRun::begin(ctx, Stage::Schema).await?;
    let run_id = run.run_id().to_string();
    run.end(
        Ok(Some(())),
        |()| serde_json::json!({ "adopted": true, "tables": tables }),
        Error::failure("schema: interrupted").with_fix("run `supamigrate schema --adopt` again"),
    )
    .await?;
    tracing::info!(run = %run_id, tables, "schema adopted as the target holds it");
    Ok(SchemaReport {
        adopted_tables: Some(tables),
        ..SchemaReport::nothing_applied(run_id)
    })
}

/// Dumps the source schema and rewrites it for the target, asking the
/// target which extensions it has and who we are there. Writes nothing:
/// `plan` uses it for its schema assessment.
pub async fn assess(
    source: &Endpoint,
    tgt: &Client,
    target: &Endpoint,
    rules: &SchemaRules,
    args: &SchemaArgs,
) -> Result<Rewritten> {
    let src = pg::connect(Side::Source, source).await?;
    let version: i32 = src
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(|e| Error::db(format!("source {source}"), e))?
        .get(0);
    let pg_dump = export::find_pg_dump(args.pg_dump.as_deref(), (version / 10000) as u32).await?;
    let (available, role) = target_facts(tgt, target).await?;
    let snapshot = args.snapshot.as_deref();
    let pre = export::dump_section(&pg_dump, source, "pre-data", snapshot).await?;
    let post = export::dump_section(&pg_dump, source, "post-data", snapshot).await?;
    let pre = parse_dump("pg_dump pre-data", &pre)?;
    let post = parse_dump("pg_dump post-data", &post)?;
    let opts = Options {
        target_role: TargetRole::Named(role),
        available_extensions: Some(available),
    };
    let mut result = rewrite(&[&pre, &post], rules, &opts)?;
    name_extension_users(&src, source, &mut result).await?;
    Ok(result)
}

/// For each blocked extension, names the source objects that use it
/// (columns of its types, indexes with its operator classes, defaults and
/// views calling its functions), from the source's dependency catalog.
async fn name_extension_users(
    src: &Client,
    source: &Endpoint,
    result: &mut Rewritten,
) -> Result<()> {
    const USERS: &str = "
        WITH members AS (
          SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
           WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e' AND e.extname = $1)
        SELECT DISTINCT o.type || ' ' || o.identity
          FROM pg_catalog.pg_depend d JOIN members m ON m.classid = d.refclassid AND m.objid = d.refobjid
          -- a view's query is a rewrite rule: name the view instead
          LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
          CROSS JOIN LATERAL pg_catalog.pg_identify_object(
                CASE WHEN r.oid IS NULL THEN d.classid ELSE 'pg_catalog.pg_class'::regclass END,
                coalesce(r.ev_class, d.objid), CASE WHEN r.oid IS NULL THEN d.objsubid ELSE 0 END) o
         WHERE d.deptype IN ('n', 'a')
           AND NOT EXISTS (SELECT 1 FROM members x WHERE x.classid = d.classid AND x.objid = d.objid)
         ORDER BY 1 LIMIT 20";
    for b in result.blockers.iter_mut().filter(|b| !b.resolved) {
        let Some(ext) = b
            .object
            .as_deref()
            .and_then(|o| o.strip_prefix("extension "))
        else {
            continue;
        };
        let users: Vec<String> = src
            .query(USERS, &[&ext])
            .await
            .map_err(|e| Error::db(format!("source {source}"), e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if !users.is_empty() {
            b.message = format!("{}; used by {}", b.message, users.join(", "));
        }
    }
    Ok(())
}

/// Pre-data: the prelude and everything pg_dump put in its pre-data part.
fn is_pre(s: &OutStmt) -> bool {
    s.dump == 0
}

/// Post-data steps: real statements of the post-data part; the session
/// settings pg_dump opens it with are the applier's business.
fn is_post_step(s: &OutStmt) -> bool {
    s.dump == 1 && !s.kind.is_empty() && !matches!(s.kind, "set" | "set_config" | "select")
}

fn post_counts(result: &Rewritten) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for s in result.statements.iter().filter(|s| is_post_step(s)) {
        *counts
            .entry(s.post.unwrap_or(PostKind::Other).as_str().to_string())
            .or_insert(0) += 1;
    }
    counts
}

/// Applies the pre-data statements and records the stage's ledger rows in
/// one transaction; `None` when Ctrl-C or SIGTERM came while statements were
/// running, and the transaction was rolled back. Once the statements are
/// through, recording and committing (short) finish before a signal counts.
async fn apply(target: &Endpoint, run_id: &str, result: &Rewritten) -> Result<Option<usize>> {
    let mut client = pg::connect(Side::Target, target).await?;
    let running = pg::running::Running::new(Side::Target, target)?;
    let _tracked = running.track(&client);
    let fail =
        |doing: &str, e: tokio_postgres::Error| Error::db(format!("target {target}: {doing}"), e);
    let tx = client
        .transaction()
        .await
        .map_err(|e| fail("starting the schema transaction", e))?;
    let before = undo::inventory(&tx).await?;
    let statements = async {
        let mut applied = 0;
        for stmt in result.statements.iter().filter(|s| is_pre(s)) {
            if stmt.kind.is_empty() && stmt.sql.trim().is_empty() {
                continue;
            }
            tx.batch_execute(&stmt.sql).await.map_err(|e| {
                let what = stmt
                    .object
                    .as_ref()
                    .map_or_else(|| first_sql_line(&stmt.sql), |o| o.to_string());
                Error::failure(format!(
                    "target {target}: applying {what}: {}; nothing was applied",
                    pg::db_message(&e)
                ))
                .with_source(e)
                .with_fix(
                    "add a mapping rule for this statement (see the README) and run schema again",
                )
            })?;
            applied += 1;
        }
        Ok::<_, Error>(applied)
    };
    // The statement in flight gets a cancel request (a long one would not
    // notice a closed connection until it is done); dropping the
    // transaction then rolls it back.
    let Some(applied) = crate::shutdown::unless_interrupted(statements).await else {
        running.cancel_all().await;
        return Ok(None);
    };
    let applied = applied?;
    let after = undo::inventory(&tx).await?;
    record(&tx, run_id, result, &undo::created(&before, &after))
        .await
        .map_err(|e| fail("recording the schema stage", e))?;
    tx.commit()
        .await
        .map_err(|e| fail("committing the schema", e))?;
    Ok(Some(applied))
}

fn first_sql_line(sql: &str) -> String {
    sql.lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("--"))
        .unwrap_or("a statement")
        .chars()
        .take(120)
        .collect()
}

/// Writes the undo journal, the post-data steps and the change list: one
/// statement each, the rows passed as arrays, so that a schema of thousands
/// of objects costs three round trips, not thousands.
async fn record(
    tx: &Transaction<'_>,
    run_id: &str,
    result: &Rewritten,
    undo: &[(String, String)],
) -> Result<(), tokio_postgres::Error> {
    tx.batch_execute("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)")
        .await?;
    crate::ledger::undo::record_target_sql(tx, run_id, Stage::Schema, undo).await?;
    let steps: Vec<NewStep> = result
        .statements
        .iter()
        .filter(|s| is_post_step(s))
        .map(|s| NewStep {
            kind: s.post.unwrap_or(PostKind::Other),
            object: s.object.as_ref().map(ToString::to_string),
            sql: &s.sql,
        })
        .collect();
    crate::ledger::post_data::record(tx, run_id, &steps).await?;
    crate::ledger::changes::record(tx, run_id, &result.changes).await?;
    Ok(())
}

/// A target that already holds user objects would mix with ours.
async fn refuse_non_empty(client: &Client, target: &Endpoint) -> Result<()> {
    let found = undo::user_objects(client)
        .await
        .map_err(|e| Error::db(format!("target {target}: reading the catalog"), e))?;
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::refused(format!(
        "target {target} already holds user objects ({}{})",
        found.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if found.len() > 5 { ", ..." } else { "" }
    ))
    .with_fix("migrate into an empty database, or pass --allow-existing to add to it"))
}

/// Extensions we can create there: Aurora's own allowlist where it has one
/// (`rds.extensions`), everything for a superuser, else the trusted ones;
/// plus those already installed (`IF NOT EXISTS` makes them no-ops).
const CREATABLE_EXTENSIONS: &str = "
    SELECT a.name FROM pg_catalog.pg_available_extensions a
     WHERE a.installed_version IS NOT NULL
        OR CASE
             WHEN current_setting('rds.extensions', true) IS NOT NULL
               THEN a.name = ANY (string_to_array(replace(current_setting('rds.extensions', true), ' ', ''), ','))
             WHEN (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN true
             ELSE EXISTS (SELECT 1 FROM pg_catalog.pg_available_extension_versions v
                           WHERE v.name = a.name AND v.version = a.default_version AND v.trusted)
           END";

async fn target_facts(client: &Client, target: &Endpoint) -> Result<(Vec<String>, String)> {
    let q = |e: tokio_postgres::Error| Error::db(format!("target {target}"), e);
    let available = client
        .query(CREATABLE_EXTENSIONS, &[])
        .await
        .map_err(q)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let role: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .map_err(q)?
        .get(0);
    Ok((available, role))
}

async fn bypassrls_warnings(
    client: &Client,
    rules: &SchemaRules,
    result: &Rewritten,
) -> Result<Vec<String>> {
    let wanted: BTreeSet<&String> = result
        .roles_created
        .iter()
        .filter(|r| rules.role_rule(r).is_some_and(|rule| rule.bypassrls))
        .collect();
    let mut out = Vec::new();
    for role in wanted {
        let has: Option<bool> = client
            .query_opt(
                "SELECT rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = $1",
                &[role],
            )
            .await
            .map_err(|e| Error::db("target", e))?
            .map(|r| r.get(0));
        if has == Some(false) {
            out.push(format!(
                "role {role} has no BYPASSRLS on the target (only a superuser may grant it): server code that relied on it must connect as the table owner or get policies"
            ));
        }
    }
    Ok(out)
}
