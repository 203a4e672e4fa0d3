//! `plan`: connects to everything the run will use and reports what it finds
//! and every blocker with its fix. Writes nothing anywhere: not even the
//! ledger, so it is safe against production at any time.
//!
//! Touches: nothing (reads source and target catalogs, Secrets Manager, S3).

use std::fmt;
use std::future::Future;

use serde::Serialize;
use tokio_postgres::Client;

use crate::aws;
use crate::error::{Error, Problem, Result};
use crate::mapping::scope::{LeftOut, Scope};
use crate::mapping::{self, rules::SchemaRules};
use crate::pg::{self, Endpoint, Side};
use crate::settings::Settings;
use crate::sqlrewrite::Assessment;

#[derive(Debug, Default, Serialize)]
pub struct PlanReport {
    pub source: Option<SourceInfo>,
    pub target: Option<TargetInfo>,
    pub storage: Vec<BucketCheck>,
    /// What the schema rewrite would do.
    pub schema: Option<Assessment>,
    /// Everything that would stop the migration, each with its fix.
    pub problems: Vec<Problem>,
    /// What the operator should know but does not stop the migration.
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SourceInfo {
    pub endpoint: String,
    pub server_version: String,
    pub database_bytes: i64,
    /// Tables outside the system schemas.
    pub tables: i64,
    /// Of those, the tables the mappings carry.
    pub tables_in_scope: i64,
    /// Schemas with tables that the mappings leave out, and the rule.
    pub out_of_scope: Vec<LeftOut>,
    pub superuser: bool,
    pub bypassrls: bool,
    pub buckets: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TargetInfo {
    pub endpoint: String,
    pub credentials: &'static str,
    pub server_version: String,
    pub superuser: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub rds_superuser: bool,
    pub database_bytes: i64,
    /// User tables outside our own schema: a non-empty target needs care.
    pub tables: i64,
    pub ledger: bool,
}

#[derive(Debug, Serialize)]
pub struct BucketCheck {
    pub side: &'static str,
    pub bucket: String,
    pub ok: bool,
}

impl PlanReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Each problem as the one line the CLI prints on stderr.
    pub fn problem_lines(&self) -> Vec<String> {
        self.problems
            .iter()
            .map(|p| match &p.fix {
                Some(fix) => format!("{}; fix: {fix}", p.message),
                None => p.message.clone(),
            })
            .collect()
    }
}

/// `assess` is the schema stage's dump-and-rewrite (stages do not import
/// each other; the command line hands it in), run when both sides answered.
pub async fn run<F, Fut>(settings: &Settings, assess: F) -> Result<PlanReport>
where
    F: FnOnce(Endpoint, SchemaRules) -> Fut,
    Fut: Future<Output = Result<Assessment>>,
{
    if settings.source.is_none() && settings.target.is_none() {
        return Err(
            Error::config("nothing to plan: neither source nor target is configured")
                .with_fix("write supamigrate.toml with [source] and [target] url (see the README)"),
        );
    }
    let mut report = PlanReport::default();
    let mappings = mapping::load(&settings.mapping_files)?;

    if let Some(source) = &settings.source {
        match inspect_source(source, &Scope::new(&mappings.schema), &mut report.problems).await {
            Ok(info) => {
                if !info.superuser && !info.bypassrls {
                    // Without BYPASSRLS, COPY of a table with RLS returns only
                    // the rows the policies let this role see: a silent loss.
                    report.problems.push(
                        Error::config(format!(
                            "source {}: the role neither is superuser nor has BYPASSRLS, so tables with row level security would be copied partially",
                            info.endpoint
                        ))
                        .with_fix("connect as Supabase's `postgres` role, which has BYPASSRLS")
                        .into(),
                    );
                }
                report.source = Some(info);
            }
            Err(e) => report.problems.push(e.into()),
        }
    }
    // The Secrets Manager read, once for every target check below.
    let target = match &settings.target {
        Some(_) => match aws::secrets::target_endpoint(settings).await {
            Ok(ep) => Some(ep),
            Err(e) => {
                report.problems.push(e.into());
                None
            }
        },
        None => None,
    };
    if let Some(ep) = &target {
        match inspect_target(settings, ep).await {
            Ok(info) => {
                if !info.createrole && !info.superuser {
                    report.warnings.push(format!(
                        "target {}: the role lacks CREATEROLE; the API roles (anon, authenticated, service_role) must exist before `schema`",
                        info.endpoint
                    ));
                }
                if info.tables > 0 {
                    report.warnings.push(format!(
                        "target {}: holds {} table(s) already; `schema` refuses a non-empty target unless --allow-existing",
                        info.endpoint, info.tables
                    ));
                }
                report.target = Some(info);
            }
            Err(e) => report.problems.push(e.into()),
        }
    }
    if let (Some(source), Some(_), Some(info), Some(ep)) =
        (&settings.source, &report.source, &report.target, &target)
    {
        match target_problems(source, ep, info.ledger).await {
            Ok(found) => report.problems.extend(found.into_iter().map(Problem::from)),
            Err(e) => report.problems.push(e.into()),
        }
    }
    if let (Some(source), Some(_)) = (&settings.source, &report.target) {
        match assess(source.clone(), mappings.schema.clone()).await {
            Ok(a) => {
                report.problems.extend(a.open_problems());
                report.schema = Some(a);
            }
            Err(e) => report.problems.push(e.into()),
        }
    }
    check_storage(settings, &mappings, &mut report).await;
    Ok(report)
}

/// The checks every stage makes of the target before it writes.
async fn target_problems(source: &Endpoint, target: &Endpoint, ledger: bool) -> Result<Vec<Error>> {
    let (src, tgt) = tokio::try_join!(
        pg::connect(Side::Source, source),
        pg::connect(Side::Target, target)
    )?;
    pg::preflight::target_problems(&src, source, &tgt, target, ledger).await
}

async fn inspect_source(
    ep: &Endpoint,
    scope: &Scope,
    problems: &mut Vec<Problem>,
) -> Result<SourceInfo> {
    pg::refuse_transaction_pooler(ep)?;
    let client = pg::connect(Side::Source, ep).await?;
    let q = |e: tokio_postgres::Error| Error::db(format!("source {ep}: reading the catalog"), e);
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), pg_database_size(current_database()),
                    r.rolsuper, r.rolbypassrls
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await
        .map_err(q)?;
    let by_schema = pg::catalog::tables_by_schema(&client).await.map_err(q)?;
    let tables = by_schema.iter().map(|(_, n)| n).sum();
    let tables_in_scope = by_schema
        .iter()
        .filter(|(s, _)| scope.keeps_schema(s))
        .map(|(_, n)| n)
        .sum();
    let out_of_scope = scope.left_out(&by_schema);
    check_snapshot_export(&client, ep).await?;
    let has_storage: bool = client
        .query_one(
            // Not to_regclass: it fails outright without USAGE on the schema.
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = 'storage' AND c.relname = 'buckets')",
            &[],
        )
        .await
        .map_err(q)?
        .get(0);
    let buckets = if has_storage {
        match client
            .query("SELECT id FROM storage.buckets ORDER BY id", &[])
            .await
        {
            Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
            Err(e) => {
                problems.push(
                    Error::config(format!(
                        "source {ep}: cannot read storage.buckets: {}",
                        pg::db_message(&e)
                    ))
                    .with_source(e)
                    .with_fix(
                        "connect as Supabase's `postgres` role, which can read the storage schema",
                    )
                    .into(),
                );
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    Ok(SourceInfo {
        endpoint: ep.to_string(),
        server_version: row.get(0),
        database_bytes: row.get(1),
        tables,
        tables_in_scope,
        out_of_scope,
        superuser: row.get(2),
        bypassrls: row.get(3),
        buckets,
    })
}

async fn check_snapshot_export(client: &Client, ep: &Endpoint) -> Result<()> {
    let res = client
        .batch_execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot(); ROLLBACK",
        )
        .await;
    if let Err(e) = res {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(Error::config(format!(
            "source {ep}: the server refused to export a snapshot ({}), as a transaction pooler does",
            pg::db_message(&e)
        ))
        .with_source(e)
        .with_fix("use the session pooler on port 5432 or the direct connection"));
    }
    Ok(())
}

async fn inspect_target(settings: &Settings, ep: &Endpoint) -> Result<TargetInfo> {
    let client = pg::connect(Side::Target, ep).await?;
    let q = |e: tokio_postgres::Error| Error::db(format!("target {ep}: reading the catalog"), e);
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), pg_database_size(current_database()),
                    r.rolsuper, r.rolcreatedb, r.rolcreaterole,
                    coalesce((SELECT pg_has_role(current_user, s.oid, 'MEMBER')
                              FROM pg_roles s WHERE s.rolname = 'rds_superuser'), false)
             FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await
        .map_err(q)?;
    let tables = pg::catalog::tables_by_schema(&client)
        .await
        .map_err(q)?
        .iter()
        .map(|(_, n)| n)
        .sum();
    Ok(TargetInfo {
        endpoint: ep.to_string(),
        credentials: if settings.target()?.secret.is_some() {
            "secrets_manager"
        } else {
            "url"
        },
        server_version: row.get(0),
        database_bytes: row.get(1),
        superuser: row.get(2),
        createdb: row.get(3),
        createrole: row.get(4),
        rds_superuser: row.get(5),
        tables,
        ledger: crate::ledger::exists(&client).await.map_err(q)?,
    })
}

async fn check_storage(settings: &Settings, mappings: &mapping::Mappings, report: &mut PlanReport) {
    let source_buckets: Vec<String> = report
        .source
        .as_ref()
        .map(|s| s.buckets.clone())
        .unwrap_or_default();

    if let Some(s3) = &settings.storage_source {
        if s3.dir.is_none() {
            match aws::s3::client("storage.source", s3).await {
                Ok(client) => {
                    for b in &source_buckets {
                        let res = aws::s3::check_bucket(&client, "storage.source", b).await;
                        report.storage.push(BucketCheck {
                            side: "source",
                            bucket: b.clone(),
                            ok: res.is_ok(),
                        });
                        if let Err(e) = res {
                            report.problems.push(e.into());
                        }
                    }
                }
                Err(e) => report.problems.push(e.into()),
            }
        }
    }

    let Some(s3) = &settings.storage_target else {
        return;
    };
    for b in &source_buckets {
        if mappings.storage.for_source(b).is_none() {
            report.problems.push(
                Error::config(format!("storage: Supabase bucket `{b}` has no bucket mapping"))
                    .with_fix(format!(
                        "add [[storage.buckets]] source = \"{b}\" target = \"<s3 bucket>\" to a mapping file"
                    ))
                    .into(),
            );
        }
    }
    let client = match aws::s3::client("storage.target", s3).await {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(e.into());
            return;
        }
    };
    let mut targets: Vec<&str> = mappings
        .storage
        .buckets
        .iter()
        .map(|b| b.target.as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    for bucket in targets {
        let res = aws::s3::check_bucket(&client, "storage.target", bucket).await;
        report.storage.push(BucketCheck {
            side: "target",
            bucket: bucket.to_string(),
            ok: res.is_ok(),
        });
        if let Err(e) = res {
            report.problems.push(e.into());
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.source {
            writeln!(f, "source    {}", s.endpoint)?;
            writeln!(f, "  server            PostgreSQL {}", s.server_version)?;
            writeln!(f, "  database size     {} bytes", s.database_bytes)?;
            writeln!(
                f,
                "  tables            {} ({} carried)",
                s.tables, s.tables_in_scope
            )?;
            for o in &s.out_of_scope {
                writeln!(
                    f,
                    "    left out        {}: {} table(s), rule {}",
                    o.schema, o.tables, o.rule
                )?;
            }
            writeln!(f, "  superuser         {}", yes(s.superuser))?;
            writeln!(f, "  bypasses RLS      {}", yes(s.superuser || s.bypassrls))?;
            writeln!(f, "  storage buckets   {}", s.buckets.join(", "))?;
        }
        if let Some(t) = &self.target {
            writeln!(
                f,
                "target    {} (credentials from {})",
                t.endpoint, t.credentials
            )?;
            writeln!(f, "  server            PostgreSQL {}", t.server_version)?;
            writeln!(f, "  superuser         {}", yes(t.superuser))?;
            writeln!(f, "  createdb          {}", yes(t.createdb))?;
            writeln!(f, "  createrole        {}", yes(t.createrole))?;
            writeln!(f, "  rds_superuser     {}", yes(t.rds_superuser))?;
            writeln!(f, "  database size     {} bytes", t.database_bytes)?;
            writeln!(f, "  tables            {}", t.tables)?;
            writeln!(
                f,
                "  ledger            {}",
                if t.ledger {
                    "present"
                } else {
                    "not yet created"
                }
            )?;
        }
        for b in &self.storage {
            writeln!(
                f,
                "bucket    {} {} {}",
                b.side,
                b.bucket,
                if b.ok { "ok" } else { "FAILED" }
            )?;
        }
        if let Some(a) = &self.schema {
            write!(f, "{a}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        if self.problems.is_empty() {
            writeln!(f, "no blockers")
        } else {
            writeln!(f, "{} blocker(s):", self.problems.len())?;
            for line in self.problem_lines() {
                writeln!(f, "  - {line}")?;
            }
            Ok(())
        }
    }
}
