//! The `finalize` stage: everything that is cheaper to build after the rows
//! are in. Indexes first, in parallel across tables; then primary keys and
//! unique constraints on those built indexes (`ADD CONSTRAINT ... USING
//! INDEX`, no second build), other constraints, foreign keys, triggers,
//! policies; then sequence values from the data snapshot, materialized view
//! refreshes and `ANALYZE`.
//!
//! Touches: target schema objects and statistics, and through the ledger
//! its finalize steps (`ledger::finalize_steps`) and stage state; reads the
//! source catalog when no post-data steps are handed in.
//!
//! Each step runs in its own target transaction together with its ledger row,
//! so a rerun skips exactly the steps that finished.

pub mod catalog;
pub mod from_schema;
mod steps;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ledger::{Ledger, Stage};
use crate::mapping::scope::Scope;
use crate::pg::running::Running;
use crate::pg::{self, quote_literal, quote_qualified, Endpoint, Side};
use crate::progress::{self, Progress};
use crate::settings::Settings;
use crate::sqlrewrite::classify::PostKind;
use crate::stage::{Context, StageRun};

/// How long an interrupted finalize waits for its cancelled steps to end,
/// and how often it cancels again what still runs.
const CANCEL_WAIT: std::time::Duration = std::time::Duration::from_secs(15);
const CANCEL_ROUND: std::time::Duration = std::time::Duration::from_millis(300);

/// Kinds whose steps touch different tables and may run side by side.
fn parallel(kind: PostKind) -> bool {
    matches!(kind, PostKind::Index | PostKind::Analyze)
}

/// One post-data statement, as the schema stage hands it over. `object`
/// names what it builds, unique per kind (it is the resume key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostDataStep {
    pub kind: PostKind,
    pub object: String,
    pub sql: String,
}

/// The order of phases; a phase starts when the one before it is done.
const PHASES: &[PostKind] = &[
    PostKind::Index,
    PostKind::Constraint,
    PostKind::ForeignKey,
    PostKind::Trigger,
    PostKind::Policy,
    PostKind::Other,
    PostKind::Sequence,
    PostKind::Refresh,
    PostKind::Analyze,
];

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub ok: bool,
    pub run: String,
    pub steps_done: usize,
    pub steps_skipped: usize,
    pub seconds: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "finalize: {} steps done, {} already done earlier, in {:.1}s (run {})",
            self.steps_done, self.steps_skipped, self.seconds, self.run
        )
    }
}

/// Runs the post-data steps the schema stage stored (else those read from
/// the source catalog), then sequences, materialized views and `ANALYZE`,
/// which it derives itself.
pub async fn run(settings: &Settings, mode: progress::Mode) -> Result<Summary> {
    let ctx = Context::resolve(settings).await?;
    let run = StageRun::begin(&ctx, Stage::Finalize).await?;
    let ledger = run.ledger();
    let running = Running::new(Side::Target, &ctx.target)?;
    let finished = {
        let steps = async {
            let post_data = post_data_steps(&ctx.source, ledger, &ctx.scope).await?;
            run_steps(&ctx, ledger, post_data, &running, mode).await
        };
        // On a signal the running steps get a cancel request (an index build
        // would not notice a closed connection until it is done, and then
        // commit), so the server rolls each back with its ledger row before
        // this exits; finished steps stay.
        let mut steps = std::pin::pin!(steps);
        let finished = tokio::select! {
            done = &mut steps => Some(done),
            () = crate::shutdown::signal() => None,
        };
        if finished.is_none() {
            // The cancelled steps end with an error and roll back: wait for
            // that, cancelling again what is still running, so that nothing
            // of ours runs on after the exit.
            let until = tokio::time::Instant::now() + CANCEL_WAIT;
            let mut wound_down = false;
            while !wound_down && tokio::time::Instant::now() < until {
                let cancelled = running.cancel_all().await;
                tracing::debug!(cancelled, "cancel requests sent to the running steps");
                wound_down = tokio::time::timeout(CANCEL_ROUND, &mut steps).await.is_ok();
            }
            tracing::info!(wound_down, "cancelled the running steps");
        }
        finished
    };
    let finished = finished.transpose();
    let summary = finished.map(|done| {
        done.map(|(steps_done, steps_skipped)| Summary {
            ok: true,
            run: run.run_id().to_string(),
            steps_done,
            steps_skipped,
            seconds: run.elapsed().as_secs_f64(),
        })
    });
    run.end(
        summary,
        |s| serde_json::json!({"steps_done": s.steps_done, "steps_skipped": s.steps_skipped}),
        Error::failure(
            "finalize: interrupted; running steps were rolled back, finished steps are kept",
        )
        .with_fix("resume with `supamigrate finalize`"),
    )
    .await
}

async fn post_data_steps(
    source: &Endpoint,
    ledger: &Ledger,
    scope: &Scope,
) -> Result<Vec<PostDataStep>> {
    match from_schema::stored_steps(ledger.client(), ledger.run_id()).await? {
        Some(steps) => Ok(steps),
        None => catalog::post_data_steps(source, ledger.client(), scope).await,
    }
}

async fn run_steps(
    ctx: &Context<'_>,
    ledger: &Ledger,
    post_data: Vec<PostDataStep>,
    running: &Running,
    mode: progress::Mode,
) -> Result<(usize, usize)> {
    let (settings, scope, source, target) = (ctx.settings, &ctx.scope, &ctx.source, &ctx.target);
    let run_id = ledger.run_id().to_string();
    let mut all = post_data;
    all.extend(sequence_steps(ledger, source, scope, &run_id).await?);
    all.extend(derived_steps(ledger.client(), scope).await?);

    let done: HashSet<(String, String)> =
        crate::ledger::finalize_steps::done(ledger.client(), &run_id).await?;
    let (todo, skipped): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|s| !done.contains(&(s.kind.as_str().to_string(), s.object.clone())));
    let progress = Arc::new(Progress::new(
        mode,
        "finalize",
        todo.len() as u64,
        todo.len() as u64,
    ));
    let pool = pg::pool(Side::Target, target, settings.copy.jobs.max(1))?;
    let mut count = 0;
    for phase in PHASES {
        let batch: VecDeque<PostDataStep> =
            todo.iter().filter(|s| s.kind == *phase).cloned().collect();
        if batch.is_empty() {
            continue;
        }
        count += batch.len();
        let workers = if parallel(*phase) {
            settings.copy.jobs.max(1)
        } else {
            1
        };
        run_phase(&pool, running, &run_id, batch, workers, &progress).await?;
    }
    progress.finish();
    Ok((count, skipped.len()))
}

async fn run_phase(
    pool: &deadpool_postgres::Pool,
    running: &Running,
    run_id: &str,
    batch: VecDeque<PostDataStep>,
    workers: usize,
    progress: &Arc<Progress>,
) -> Result<()> {
    let queue = Arc::new(Mutex::new(batch));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let queue = Arc::clone(&queue);
        let pool = pool.clone();
        let running = running.clone();
        let run_id = run_id.to_string();
        let progress = Arc::clone(progress);
        set.spawn(async move {
            loop {
                if running.stopped() {
                    return Ok(());
                }
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(step) = next else { return Ok(()) };
                steps::execute(&pool, &running, &run_id, &step).await?;
                progress.step_done(step.kind.as_str(), &step.object);
            }
        });
    }
    let mut first: Option<Error> = None;
    while let Some(res) = set.join_next().await {
        let res = res.unwrap_or_else(|e| {
            Err(Error::failure(format!("finalize: a worker died: {e}")).with_source(e))
        });
        if let Err(e) = res {
            if first.is_none() {
                // Stop the other workers from taking more steps; the ones in
                // flight finish or roll back on their own.
                queue.lock().unwrap_or_else(|p| p.into_inner()).clear();
                first = Some(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// `setval` for every sequence the data stage read at its snapshot (or, if
/// `data` never ran in this run, read from the source now), where the target
/// has a sequence of that name.
async fn sequence_steps(
    ledger: &Ledger,
    source: &Endpoint,
    scope: &Scope,
    run_id: &str,
) -> Result<Vec<PostDataStep>> {
    let mut values = crate::ledger::sequences::stored(ledger.client(), run_id).await?;
    if values.is_empty() {
        let client = pg::connect(Side::Source, source).await?;
        values = pg::catalog::sequence_values(&client, scope).await?;
    }
    let on_target: HashSet<(String, String)> = ledger
        .client()
        .query(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'S'",
            &[],
        )
        .await
        .map_err(|e| Error::db("target: listing sequences", e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(values
        .into_iter()
        .filter(|v| on_target.contains(&(v.schema.clone(), v.name.clone())))
        .map(|v| {
            let q = quote_qualified(&v.schema, &v.name);
            PostDataStep {
                kind: PostKind::Sequence,
                object: format!("{}.{}", v.schema, v.name),
                sql: format!(
                    "SELECT setval({}, {}, {})",
                    quote_literal(&q),
                    v.last_value,
                    v.is_called
                ),
            }
        })
        .collect())
}

/// Refreshes of the target's materialized views (oldest first, so one built
/// on another comes after it) and `ANALYZE` of every user table.
async fn derived_steps(
    client: &tokio_postgres::Client,
    scope: &Scope,
) -> Result<Vec<PostDataStep>> {
    let rows = client
        .query(
            &format!(
                "SELECT c.relkind::text, n.nspname, c.relname FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('m', 'r', 'p') AND {}
                   AND pg_has_role(c.relowner, 'USAGE')
                 ORDER BY c.oid",
                scope.schema_sql("n.nspname")
            ),
            &[],
        )
        .await
        .map_err(|e| Error::db("target: listing tables", e))?;
    let mut out = Vec::new();
    for r in rows {
        let (kind, schema, name): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let q = quote_qualified(&schema, &name);
        let object = format!("{schema}.{name}");
        if kind == "m" {
            out.push(PostDataStep {
                kind: PostKind::Refresh,
                object: object.clone(),
                sql: format!("REFRESH MATERIALIZED VIEW {q}"),
            });
        }
        out.push(PostDataStep {
            kind: PostKind::Analyze,
            object,
            sql: format!("ANALYZE {q}"),
        });
    }
    Ok(out)
}
