//! One chunk worker: takes chunks off the shared queue, copies each in its own
//! source snapshot transaction and target transaction, retries transient
//! failures with backoff, and stops at the first permanent one.
//!
//! Touches: source (read), target (one table's rows plus the chunk's ledger
//! row per transaction).
//!
//! Crash windows: the target transaction holds the chunk's rows and its done
//! mark, so a kill before COMMIT leaves neither and after COMMIT both; the
//! source transaction is read-only, so ending it late or never is harmless.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use deadpool_postgres::{Object, Pool};

use super::catalog::Table;
use super::copy::{self, Moved};
use super::snapshot;
use crate::error::{Error, Result};
use crate::ledger::chunks::{self, Pending};
use crate::pg::retry::{backoff, MAX_ATTEMPTS};
use crate::pg::running::Running;
use crate::pg::Side;
use crate::progress::Progress;

/// Target session settings for a chunk's transaction. `synchronous_commit =
/// off` is safe here: a server crash can only lose a whole recent commit,
/// rows and done mark together, and the chunk is then simply copied again.
const TARGET_TX: &str = "SET LOCAL synchronous_commit = off; SET LOCAL statement_timeout = 0; \
     SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; \
     SET LOCAL TimeZone = 'UTC'";

pub struct Job {
    pub chunk: Pending,
    pub table: Arc<Table>,
}

/// What every worker shares.
pub struct Shared {
    pub queue: Mutex<VecDeque<Job>>,
    pub source: Pool,
    pub target: Pool,
    pub snapshot: String,
    pub progress: Progress,
    /// Each side's statements in flight, for the cancel requests of an
    /// interrupt.
    pub running: (Running, Running),
    /// Set on the first permanent error: others finish their chunk, take no
    /// new one.
    pub stop: AtomicBool,
}

pub async fn run(shared: Arc<Shared>) -> Result<()> {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let job = match shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
        {
            Some(job) => job,
            None => return Ok(()),
        };
        if let Err(e) = copy_with_retries(&shared, &job).await {
            shared.stop.store(true, Ordering::SeqCst);
            return Err(e);
        }
    }
}

/// A failure of one attempt; its error's message starts with the side it
/// came from.
struct Failure {
    /// Bytes this attempt had streamed before it failed.
    bytes: u64,
    error: Error,
}

async fn copy_with_retries(shared: &Shared, job: &Job) -> Result<()> {
    let label = job.table.label();
    let mut attempt = 1;
    loop {
        shared.progress.chunk_started(&label, job.chunk.ordinal);
        match copy_chunk(shared, job).await {
            Ok(moved) => {
                shared
                    .progress
                    .chunk_done(&label, job.chunk.ordinal, moved.rows, moved.bytes);
                return Ok(());
            }
            Err(f) => {
                let text = f.error.message();
                shared.progress.chunk_failed(&label, f.bytes);
                if let Ok(client) = shared.target.get().await {
                    // Best effort: the ledger note is for the operator, the
                    // retry does not depend on it.
                    let _ = chunks::record_attempt(&**client, job.chunk.id, text).await;
                }
                let transient = f.error.is_transient();
                if !transient || attempt >= MAX_ATTEMPTS {
                    let tries = if transient {
                        format!(" after {attempt} attempts")
                    } else {
                        String::new()
                    };
                    return Err(Error::failure(format!(
                        "copying {label} chunk {}{tries}: {text}",
                        job.chunk.ordinal
                    ))
                    .with_fix("fix the cause, then resume with `supamigrate data`")
                    .with_source(f.error));
                }
                shared
                    .progress
                    .chunk_retry(&label, job.chunk.ordinal, attempt, text);
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

async fn copy_chunk(shared: &Shared, job: &Job) -> std::result::Result<Moved, Failure> {
    let source = shared
        .source
        .get()
        .await
        .map_err(|e| pool_failure(Side::Source, e))?;
    let mut target = shared
        .target
        .get()
        .await
        .map_err(|e| pool_failure(Side::Target, e))?;
    let _tracked = (
        shared.running.0.track(&source),
        shared.running.1.track(&target),
    );
    let mut streamed = 0;
    let mut source_broken = false;
    match copy_on(
        shared,
        job,
        &source,
        &mut target,
        &mut streamed,
        &mut source_broken,
    )
    .await
    {
        Ok(moved) => {
            if source_broken {
                drop(Object::take(source));
            }
            Ok(moved)
        }
        Err(mut f) => {
            f.bytes = streamed;
            // A connection that failed mid-transaction must never go back to
            // the pool: the next chunk would run inside its broken state.
            drop(Object::take(source));
            drop(Object::take(target));
            Err(f)
        }
    }
}

async fn copy_on(
    shared: &Shared,
    job: &Job,
    source: &Object,
    target: &mut Object,
    streamed: &mut u64,
    source_broken: &mut bool,
) -> std::result::Result<Moved, Failure> {
    snapshot::import(source, &shared.snapshot)
        .await
        .map_err(|e| failure(Side::Source, e))?;
    // The driver's own transaction type, not deadpool's wrapper, so the pump
    // and the ledger code take plain tokio-postgres types.
    let client: &mut tokio_postgres::Client = target;
    let tx = client
        .transaction()
        .await
        .map_err(|e| failure(Side::Target, e))?;
    tx.batch_execute(TARGET_TX)
        .await
        .map_err(|e| failure(Side::Target, e))?;
    let sql = copy::copy_sql(&job.table, &job.chunk.key, &job.chunk.range);
    let label = job.table.label();
    let moved = copy::pump(source, &tx, &sql, |n| {
        *streamed += n;
        shared.progress.bytes(&label, n);
    })
    .await
    .map_err(|(side, e)| failure(side, e))?;
    let marked = chunks::mark_done(&tx, job.chunk.id, moved.rows, moved.bytes)
        .await
        .map_err(|e| failure(Side::Target, e))?;
    if !marked {
        // An earlier attempt committed but its acknowledgement was lost
        // (the ledger lock rules out another run): keep that copy, drop this.
        tx.rollback().await.map_err(|e| failure(Side::Target, e))?;
        tracing::info!(table = %label, chunk = job.chunk.ordinal, "chunk was already committed by an earlier attempt");
        return Ok(Moved::default());
    }
    tx.commit().await.map_err(|e| failure(Side::Target, e))?;
    // The chunk is done once the target committed; ending the read-only
    // source transaction can fail (backend gone) without losing anything.
    if let Err(e) = source.batch_execute("COMMIT").await {
        tracing::debug!(error = %e, "ending the source transaction after a committed chunk");
        *source_broken = true;
    }
    Ok(moved)
}

fn failure(side: Side, e: tokio_postgres::Error) -> Failure {
    Failure {
        bytes: 0,
        error: Error::db(side, e),
    }
}

fn pool_failure(side: Side, e: deadpool_postgres::PoolError) -> Failure {
    Failure {
        bytes: 0,
        error: Error::pool(format!("{side}: connecting"), e),
    }
}
