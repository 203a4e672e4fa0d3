//! The `data` stage: every row of every table, from one consistent source
//! snapshot, in parallel chunks that each commit with their ledger mark.
//!
//! Touches: source (read only, one exported snapshot), target tables' rows,
//! and through the ledger its chunks (`ledger::chunks`), sequence values
//! (`ledger::sequences`) and stage state.
//!
//! A first run plans: tables largest first, each cut into chunks of about
//! `copy.chunk_bytes` by key ranges (or ctid ranges without a usable key, or
//! when the key is scattered over the heap, where key ranges would each
//! re-read most of the table), the whole plan written to the ledger in one
//! transaction. Every run then
//! copies the chunks still pending. Key ranges keep their meaning under a new
//! snapshot, so a resumed run continues where it stopped; ctid ranges do not,
//! so a ctid-split table that was partly copied is emptied and restarts whole.
//! Rows written to the source between two runs are the cutover's business
//! (final sync and verify), not this stage's.

pub mod catalog;
pub mod chunk;
pub mod copy;
pub mod snapshot;
pub mod split;
pub mod worker;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::ledger::{chunks, Ledger, Stage};
use crate::pg::{self, Endpoint, Side};
use crate::progress::{self, Progress};
use crate::settings::Settings;
use crate::stage::{Context, StageRun};
use catalog::Table;
use chunk::Splitter;
use snapshot::Coordinator;
use worker::{Job, Shared};

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub ok: bool,
    pub run: String,
    pub tables: usize,
    pub chunks_done: i64,
    pub chunks: i64,
    pub rows: i64,
    pub bytes: i64,
    pub seconds: f64,
    /// Source tables with no table of that name on the target.
    pub skipped: Vec<String>,
    /// Ctid-split tables emptied and copied again from the start.
    pub restarted_whole: Vec<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "data: {} tables, {}/{} chunks, {} rows, {} MiB in {:.1}s (run {})",
            self.tables,
            self.chunks_done,
            self.chunks,
            self.rows,
            self.bytes / (1024 * 1024),
            self.seconds,
            self.run
        )?;
        for s in &self.skipped {
            writeln!(f, "  skipped {s}: no such table on the target")?;
        }
        for s in &self.restarted_whole {
            writeln!(f, "  restarted {s} whole (split by ctid)")?;
        }
        Ok(())
    }
}

pub async fn run(settings: &Settings, mode: progress::Mode) -> Result<Summary> {
    let ctx = Context::resolve(settings).await?;
    let run = StageRun::begin(&ctx, Stage::Data).await?;
    let mut outcome = copy_all(&ctx, run.ledger(), mode).await;
    if let Ok(Some(s)) = &mut outcome {
        s.seconds = run.elapsed().as_secs_f64();
    }
    run.end(
        outcome,
        |s| serde_json::to_value(s).unwrap_or_default(),
        Error::failure(
            "data: interrupted; chunks in flight were rolled back, finished chunks are kept",
        )
        .with_fix("resume with `supamigrate data`"),
    )
    .await
}

/// `Ok(None)` when interrupted by Ctrl-C or SIGTERM.
async fn copy_all(
    ctx: &Context<'_>,
    ledger: &Ledger,
    mode: progress::Mode,
) -> Result<Option<Summary>> {
    let (settings, scope, source, target) = (ctx.settings, &ctx.scope, &ctx.source, &ctx.target);
    let run_id = ledger.run_id().to_string();
    let coordinator = Coordinator::open(source).await?;
    let seqs = pg::catalog::sequence_values(coordinator.client(), scope).await?;
    {
        let mut client = pg::connect(Side::Target, target).await?;
        crate::ledger::sequences::store(&mut client, &run_id, &seqs).await?;
    }
    let all = catalog::source_tables(coordinator.client(), scope).await?;
    let (tables, skipped) = match_target(ledger, all).await?;
    for s in &skipped {
        tracing::warn!(table = %s, "no such table on the target, not copied");
    }

    if !chunks::is_planned(ledger.client(), &run_id).await? {
        plan(settings, &coordinator, target, &run_id, &tables).await?;
    }
    let restarted = {
        let mut client = pg::connect(Side::Target, target).await?;
        restart_ctid_tables(&mut client, &run_id).await?
    };
    for t in &restarted {
        tracing::warn!(table = %t, note = chunks::CTID_NOTE, "restarting table whole");
    }

    let by_name: HashMap<(String, String), Arc<Table>> = tables
        .into_iter()
        .map(|t| ((t.schema.clone(), t.name.clone()), Arc::new(t)))
        .collect();
    let mut jobs = Vec::new();
    for chunk in chunks::pending(ledger.client(), &run_id).await? {
        let table = by_name
            .get(&(chunk.schema.clone(), chunk.table.clone()))
            .ok_or_else(|| {
                Error::failure(format!(
                    "data: planned table {}.{} is gone from the source or the target",
                    chunk.schema, chunk.table
                ))
                .with_fix("recreate it, or start a new run")
            })?;
        jobs.push(Job {
            chunk,
            table: Arc::clone(table),
        });
    }
    order_jobs(&mut jobs);

    let estimate: u64 = estimate_bytes(&jobs);
    let jobs_n = settings.copy.jobs.max(1);
    let shared = Arc::new(Shared {
        progress: Progress::new(mode, "data", estimate, jobs.len() as u64),
        queue: Mutex::new(VecDeque::from(jobs)),
        source: pg::pool(Side::Source, source, jobs_n)?,
        target: pg::pool(Side::Target, target, jobs_n)?,
        snapshot: coordinator.id().to_string(),
        running: (
            pg::running::Running::new(Side::Source, source)?,
            pg::running::Running::new(Side::Target, target)?,
        ),
        stop: Default::default(),
    });
    let mut set = JoinSet::new();
    for _ in 0..jobs_n {
        set.spawn(worker::run(Arc::clone(&shared)));
    }
    let outcome = drive(&mut set, &shared).await;
    shared.progress.finish();
    let interrupted = match outcome {
        Drive::Done => false,
        Drive::Interrupted => true,
        Drive::Failed(e) => return Err(e),
    };
    coordinator.close().await?;
    if interrupted {
        return Ok(None);
    }
    let (done, all, rows, bytes) = chunks::totals(ledger.client(), &run_id).await?;
    Ok(Some(Summary {
        ok: done == all,
        run: run_id,
        tables: by_name.len(),
        chunks_done: done,
        chunks: all,
        rows,
        bytes,
        seconds: 0.0,
        skipped,
        restarted_whole: restarted,
    }))
}

enum Drive {
    Done,
    Interrupted,
    Failed(Error),
}

/// Waits for the workers, racing them against Ctrl-C and SIGTERM. On a
/// signal each running chunk's statements get a cancel request and the
/// workers are dropped mid-chunk: the chunk's transaction rolls back.
async fn drive(set: &mut JoinSet<Result<()>>, shared: &Shared) -> Drive {
    let mut first_error = None;
    let signal = crate::shutdown::signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                None => break,
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => {
                    first_error.get_or_insert(e);
                }
                Some(Err(join)) => {
                    first_error.get_or_insert(Error::failure(format!("data: a worker died: {join}")));
                }
            },
            () = &mut signal => {
                shared.stop.store(true, Ordering::SeqCst);
                // Cancel requests first, while the chunks' tokens are
                // registered; then the workers go with their connections.
                shared.running.0.cancel_all().await;
                shared.running.1.cancel_all().await;
                set.abort_all();
                while set.join_next().await.is_some() {}
                tracing::warn!("interrupted: running chunks rolled back, finished chunks kept");
                return Drive::Interrupted;
            }
        }
    }
    match first_error {
        Some(e) => Drive::Failed(e),
        None => Drive::Done,
    }
}

/// Keeps the source tables that exist on the target, with the columns both
/// sides have; binary COPY only where every column's type is the same.
async fn match_target(ledger: &Ledger, all: Vec<Table>) -> Result<(Vec<Table>, Vec<String>)> {
    let mut tables = Vec::new();
    let mut skipped = Vec::new();
    let on_target = catalog::target_tables(ledger.client()).await?;
    for mut t in all {
        let Some(target) = on_target.get(&(t.schema.clone(), t.name.clone())) else {
            skipped.push(t.label());
            continue;
        };
        let target_types: HashMap<&str, &str> = target
            .columns
            .iter()
            .map(|(n, ty)| (n.as_str(), ty.as_str()))
            .collect();
        let missing: Vec<&String> = t
            .columns
            .iter()
            .filter(|c| !target_types.contains_key(c.as_str()))
            .collect();
        if !missing.is_empty() {
            return Err(Error::config(format!(
                "data: target table {} lacks column(s) {} that the source has",
                t.label(),
                missing
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_fix("run `supamigrate schema` again, or add the columns on the target"));
        }
        if t.binary {
            let source_types = column_types(&t);
            t.binary = source_types
                .iter()
                .all(|(c, ty)| target_types.get(c.as_str()) == Some(&ty.as_str()));
        }
        tables.push(t);
    }
    Ok((tables, skipped))
}

fn column_types(t: &Table) -> Vec<(String, String)> {
    t.columns
        .iter()
        .cloned()
        .zip(t.column_types.iter().cloned())
        .collect()
}

/// First run: refuses a target that already has rows, cuts every table into
/// ranges from the snapshot and writes the plan in one transaction.
async fn plan(
    settings: &Settings,
    coordinator: &Coordinator,
    target: &Endpoint,
    run_id: &str,
    tables: &[Table],
) -> Result<()> {
    let mut client = pg::connect(Side::Target, target).await?;
    if let Some(t) = catalog::first_with_rows(&client, tables).await? {
        return Err(Error::refused(format!(
            "data: target table {} already has rows and this run has not copied it",
            t.label()
        ))
        .with_fix("empty it (TRUNCATE) or migrate into an empty database"));
    }
    let mut plan = Vec::with_capacity(tables.len());
    for t in tables {
        let (splitter, ranges) =
            split::ranges(coordinator.client(), t, settings.copy.chunk_bytes).await?;
        if matches!(splitter, Splitter::Ctid) && ranges.len() > 1 {
            tracing::info!(table = %t.label(), chunks = ranges.len(), note = chunks::CTID_NOTE, "split by ctid");
        }
        plan.push((
            Table {
                splitter,
                ..t.clone()
            },
            ranges,
        ));
    }
    chunk::largest_first(&mut plan, |(t, _)| (t.bytes, t.label()));
    let planned: Vec<chunks::PlannedTable> = plan
        .iter()
        .map(|(t, ranges)| chunks::PlannedTable {
            schema: &t.schema,
            table: &t.name,
            key: match &t.splitter {
                Splitter::Key(k) => Some(k),
                Splitter::Ctid => None,
            },
            ranges,
        })
        .collect();
    let tx = client
        .transaction()
        .await
        .map_err(|e| Error::db("ledger: writing the chunk plan", e))?;
    chunks::insert_plan(&tx, run_id, &planned).await?;
    tx.commit()
        .await
        .map_err(|e| Error::db("ledger: writing the chunk plan", e))?;
    let chunks: usize = plan.iter().map(|(_, r)| r.len()).sum();
    tracing::info!(tables = plan.len(), chunks, "planned the copy");
    Ok(())
}

/// Largest tables first; within a table, chunks in key order.
fn order_jobs(jobs: &mut [Job]) {
    jobs.sort_by(|a, b| {
        b.table
            .bytes
            .cmp(&a.table.bytes)
            .then_with(|| a.table.label().cmp(&b.table.label()))
            .then(a.chunk.ordinal.cmp(&b.chunk.ordinal))
    });
}

/// Bytes still to move, estimated as the on-disk size of every table that
/// has a pending chunk. On a resumed run this overestimates partly copied
/// tables; the bar grows or finishes early, which is fine for an ETA.
fn estimate_bytes(jobs: &[Job]) -> u64 {
    let mut seen = std::collections::HashSet::new();
    jobs.iter()
        .filter(|j| seen.insert(j.table.label()))
        .map(|j| j.table.bytes)
        .sum()
}

/// Ctid-split tables that were partly copied before an interruption: their
/// done chunks came from another snapshot, so each is emptied and its chunks
/// set back to pending, in one transaction per table. Returns their names.
async fn restart_ctid_tables(
    client: &mut tokio_postgres::Client,
    run_id: &str,
) -> Result<Vec<String>> {
    let mut restarted = Vec::new();
    for (schema, table) in chunks::ctid_tables_to_restart(client, run_id).await? {
        let failed = |e: tokio_postgres::Error| {
            Error::db(
                format!("target: emptying {schema}.{table} to restart it"),
                e,
            )
        };
        let tx = client.transaction().await.map_err(failed)?;
        tx.batch_execute(&format!(
            "TRUNCATE ONLY {}",
            pg::quote_qualified(&schema, &table)
        ))
        .await
        .map_err(failed)?;
        chunks::restart_table(&tx, run_id, &schema, &table).await?;
        tx.commit().await.map_err(failed)?;
        restarted.push(format!("{schema}.{table}"));
    }
    Ok(restarted)
}
