//! Row checksums of one table, range by range, and the narrowing of a
//! mismatching range down to the exact keys.
//!
//! A worker holds one source and one target connection and reads the same
//! range from both at once. When the two digests differ it reads that range
//! again (same snapshots) collecting key → row hash on both sides and keeps
//! only what differs. Keys present on one side only are held back until the
//! whole table is done, then matched across ranges, so a key that a server
//! placed into another range is never reported as missing and extra.
//! Tables without a key are compared as multisets of row hashes.
//!
//! Tables whose rows do not lie in key order are read by heap blocks
//! instead: each side cut by its own size, so every page is read once (a key
//! range of a scattered key would make each range's scan visit most pages
//! again). The two sides' block parts hold different rows, so only the
//! table's totals compare; a table whose totals differ is then narrowed by
//! key ranges, as above.
//!
//! A read that loses its connection (a dropped network link, a terminated
//! backend) is read again on a new pair of connections in the same
//! snapshots, as the data stage retries its chunks; what the failed attempt
//! saw is discarded, so nothing is counted twice.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{pin_mut, StreamExt};
use tokio::sync::Mutex as AsyncMutex;
use tokio_postgres::Client;

use super::canonical::{self, copy_sql, Digest, LineSplitter, TupleSplitter};
use super::catalog::catalog_err;
use super::ranges::{compared_columns, predicate, KeyCol, Range};
use super::session::Pairs;
use super::spill::{self, Spill};
use super::tally::Tally;
use crate::error::{Error, Result};
use crate::pg::retry::{self, MAX_ATTEMPTS};
use crate::pg::Side;
use crate::progress::Progress;
use crate::ranges::{page_parts, within};

/// One table as both sides will read it.
#[derive(Debug, Clone)]
pub struct TableWork {
    pub schema: String,
    pub name: String,
    pub bytes: i64,
    pub target_bytes: i64,
    /// Key columns first, then the others, in source order: the line layout.
    pub columns: Vec<String>,
    /// Empty for a table compared as a multiset.
    pub key: Vec<KeyCol>,
    pub split: Split,
    /// Every column has the same binary form on both servers: the digest
    /// pass reads binary COPY, which costs the servers less than text.
    pub binary: bool,
    /// The rows lie in key order, so the digest pass reads each range
    /// ordered by the key at no extra cost to the servers and hashes it as
    /// one stream, which blake3 does several times faster than row by row.
    pub ordered: bool,
    /// A mismatching key range that streamed more than this on a side is
    /// narrowed in sub-ranges of about this size, bounding the maps of key
    /// to row hash that narrowing holds (about 150 bytes per row and side).
    pub narrow_bytes: u64,
}

/// How the first pass cuts a table.
#[derive(Debug, Clone)]
pub enum Split {
    /// Key ranges, the same on both sides and compared one by one.
    Keys(Vec<Range>),
    /// `parts` block ranges of each side's heap, cut by that side's size in
    /// blocks (read after its snapshot was taken, so every row the snapshot
    /// sees lies below it; the last part is open anyway).
    Blocks {
        parts: usize,
        source_blocks: u64,
        target_blocks: u64,
    },
}

impl Split {
    /// How many units the first pass reads.
    pub fn len(&self) -> usize {
        match self {
            Split::Keys(ranges) => ranges.len(),
            Split::Blocks { parts, .. } => *parts,
        }
    }
}

/// One unit of work on one table.
#[derive(Debug, Clone)]
pub enum Unit {
    /// The first pass over one key range, narrowed when the two sides differ.
    Range(Range),
    /// The first pass over one block part of each side: its ctid range on
    /// the source and on the target.
    Part { source: Range, target: Range },
    /// Narrowing a key range of a table whose block parts' totals differed.
    Narrow(Range),
}

#[derive(Debug, Clone)]
pub struct Job {
    pub table: usize,
    /// The unit's number within its table and pass, for progress.
    pub ordinal: i32,
    pub unit: Unit,
}

/// How one pass reads a range.
#[derive(Debug, Clone, Copy)]
struct Form {
    binary: bool,
    ordered: bool,
}

/// The narrowing pass: text, row by row, in no particular order.
const NARROW: Form = Form {
    binary: false,
    ordered: false,
};

/// Bytes gathered before each blake3 update of an ordered stream: updates of
/// many 1 KiB chunks at once are what blake3 hashes in parallel lanes.
const STREAM_BATCH: usize = 64 * 1024;

impl TableWork {
    pub fn label(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// Both sides' sizes: what progress expects a full read to stream.
    pub fn both_bytes(&self) -> u64 {
        (self.bytes.max(0) + self.target_bytes.max(0)) as u64
    }

    fn sql(&self, range: &Range, side: Side, form: Form) -> String {
        let pred = predicate(&self.key, range, side);
        // Ordered as the range predicate compares, so that both sides sort alike.
        let order = form.ordered.then(|| compared_columns(&self.key));
        copy_sql(
            &self.schema,
            &self.name,
            &self.columns,
            pred.as_deref(),
            order.as_deref(),
            form.binary,
        )
    }

    /// The key columns of `range` on one side, in the order ranges compare
    /// keys: where to cut a range for narrowing.
    pub fn key_sql(&self, range: &Range, side: Side) -> String {
        let names: Vec<String> = self.key.iter().map(|k| k.name.clone()).collect();
        let pred = predicate(&self.key, range, side);
        let order = compared_columns(&self.key);
        copy_sql(
            &self.schema,
            &self.name,
            &names,
            pred.as_deref(),
            Some(&order),
            false,
        )
    }

    fn part_sql(&self, part: &Range) -> String {
        let pred = part.predicate(&[]);
        copy_sql(
            &self.schema,
            &self.name,
            &self.columns,
            pred.as_deref(),
            None,
            self.binary,
        )
    }

    /// The first pass's jobs for this table.
    pub fn jobs(&self, table: usize) -> Vec<Job> {
        let units: Vec<Unit> = match &self.split {
            Split::Keys(ranges) => ranges.iter().cloned().map(Unit::Range).collect(),
            Split::Blocks {
                parts,
                source_blocks,
                target_blocks,
            } => page_parts(*source_blocks, *parts)
                .into_iter()
                .zip(page_parts(*target_blocks, *parts))
                .map(|(source, target)| Unit::Part { source, target })
                .collect(),
        };
        units
            .into_iter()
            .enumerate()
            .map(|(i, unit)| Job {
                table,
                ordinal: i as i32,
                unit,
            })
            .collect()
    }
}

/// A row's hash and how often its key (or, keyless, the row) was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub hash: [u8; 32],
    pub count: u64,
}

pub type RowMap = HashMap<Vec<u8>, Entry>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Missing,
    Extra,
    Different,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Missing => "missing",
            Kind::Extra => "extra",
            Kind::Different => "different",
        }
    }
}

/// The share of `copy.chunk_bytes` narrowed at once: a range of the data
/// stage's size is narrowed in about this many sub-ranges when it differs.
pub const NARROW_SHARE: u64 = 8;

/// What differs in one range after narrowing.
#[derive(Debug, Default)]
pub struct RangeDiff {
    /// Keys on both sides whose rows differ, with the kind and row count.
    pub found: Vec<(Kind, Vec<u8>, u64)>,
    pub source_only: RowMap,
    pub target_only: RowMap,
}

/// Compares one key's entries from both sides.
pub fn classify(src: Entry, tgt: Entry) -> Option<(Kind, u64)> {
    if src.hash != tgt.hash {
        Some((Kind::Different, 1))
    } else if tgt.count > src.count {
        Some((Kind::Extra, tgt.count - src.count))
    } else if src.count > tgt.count {
        Some((Kind::Missing, src.count - tgt.count))
    } else {
        None
    }
}

/// Keeps only what differs between two sides' maps of one range.
pub fn diff_maps(mut source: RowMap, mut target: RowMap) -> RangeDiff {
    let mut found = Vec::new();
    source.retain(|key, src| match target.remove(key) {
        Some(tgt) => {
            if let Some((kind, n)) = classify(*src, tgt) {
                found.push((kind, key.clone(), n));
            }
            false
        }
        None => true,
    });
    RangeDiff {
        found,
        source_only: source,
        target_only: target,
    }
}

/// The outcome of one range.
#[derive(Debug)]
pub struct RangeResult {
    pub source: Digest,
    pub target: Digest,
    pub elapsed: Duration,
}

impl RangeResult {
    fn new(source: Digest, target: Digest, started: Instant) -> Self {
        RangeResult {
            source,
            target,
            elapsed: started.elapsed(),
        }
    }
}

/// A result and the index of its table.
pub type TableResult = (usize, RangeResult);

/// Runs `jobs` with up to `workers` workers, each on its own pair of
/// connections in the snapshots of `pairs`; returns one result per job.
pub async fn run_jobs(
    tables: Arc<Vec<TableWork>>,
    workers: usize,
    pairs: &Arc<Pairs>,
    mut jobs: Vec<Job>,
    progress: &Arc<Progress>,
    tallies: &Arc<Vec<Mutex<Tally>>>,
) -> Result<Vec<TableResult>> {
    // Big tables first, so the slowest one does not start last.
    jobs.sort_by_key(|j| std::cmp::Reverse(tables[j.table].bytes));
    let workers = workers.min(jobs.len());
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let queue = Arc::clone(&queue);
        let pairs = Arc::clone(pairs);
        let tables = Arc::clone(&tables);
        let progress = Arc::clone(progress);
        let tallies = Arc::clone(tallies);
        set.spawn(async move {
            let pair = AsyncMutex::new(first_pair(&pairs).await?);
            let mut out = Vec::new();
            loop {
                let job = queue.lock().expect("queue lock").pop_front();
                let Some(job) = job else { break };
                let work = &tables[job.table];
                let label = work.label();
                progress.chunk_started(&label, job.ordinal);
                let meter = Meter::new(&progress, &label);
                let on = Sides {
                    pair: &pair,
                    pairs: &pairs,
                    work,
                    meter: &meter,
                    tally: &tallies[job.table],
                };
                let result = match job.unit {
                    Unit::Range(r) => range(on, &r).await?,
                    Unit::Part { source, target } => part(on, &source, &target).await?,
                    Unit::Narrow(r) => narrow_block_table(on, &r).await?,
                };
                progress.chunk_done(&label, job.ordinal, result.source.rows, meter.total());
                out.push((job.table, result));
            }
            Ok::<_, Error>(out)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        results.extend(
            joined.map_err(|e| {
                Error::failure(format!("verify worker stopped: {e}")).with_source(e)
            })??,
        );
    }
    Ok(results)
}

/// Counts the bytes a unit streams and passes them on to progress.
struct Meter<'a> {
    progress: &'a Progress,
    label: &'a str,
    total: AtomicU64,
}

impl<'a> Meter<'a> {
    fn new(progress: &'a Progress, label: &'a str) -> Self {
        Meter {
            progress,
            label,
            total: AtomicU64::new(0),
        }
    }

    fn add(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        self.progress.bytes(self.label, n);
    }

    fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    fn retract(&self, n: u64) {
        self.total.fetch_sub(n, Ordering::Relaxed);
        self.progress.retract(n);
    }
}

/// Bytes a read gathers before telling the meter: rows are far smaller,
/// and the progress display needs no finer steps.
const METER_STEP: u64 = 1 << 20;

/// What one unit reads with: a worker's connection pair (source, target)
/// and where to open it again, the table, the meter, and the table's tally
/// that narrowing adds what it finds to.
#[derive(Clone, Copy)]
struct Sides<'a> {
    pair: &'a AsyncMutex<(Client, Client)>,
    pairs: &'a Pairs,
    work: &'a TableWork,
    meter: &'a Meter<'a>,
    tally: &'a Mutex<Tally>,
}

/// Every `every`-th key of `sql` on one side: where to cut a range for
/// narrowing. A lost connection has it read again, as [`both`] does.
async fn cut_points(on: Sides<'_>, side: Side, sql: &str, every: u64) -> Result<Vec<Vec<String>>> {
    let mut attempt = 1;
    loop {
        let got = {
            let pair = on.pair.lock().await;
            let client = match side {
                Side::Source => &pair.0,
                Side::Target => &pair.1,
            };
            super::ranges::points_every(client, sql, every).await
        };
        let e = match got {
            Ok(points) => return Ok(points),
            Err(e) => e,
        };
        let error = catalog_err(side, "choosing where to cut a range for narrowing", e);
        if !error.is_transient() {
            return Err(error);
        }
        again(on, &mut attempt, error).await?;
    }
}

/// The error after the last attempt: its failure's own fix where it has
/// one (too many connections names copy.jobs), so one line gives one fix.
fn gave_up(failure: Error, attempt: u32) -> Error {
    let fix = failure.fix().map_or_else(
        || {
            "check the network path to both servers, then run `supamigrate verify` again"
                .to_string()
        },
        str::to_string,
    );
    Error::failure(format!("{}, after {attempt} attempts", failure.message()))
        .with_fix(fix)
        .with_source(failure)
}

/// A worker's first pair of connections. The coordinators reached both
/// servers moments before, so a pair refused now (no free slot, a timeout)
/// is tried again as a lost one is, up to [`MAX_ATTEMPTS`].
async fn first_pair(pairs: &Pairs) -> Result<(Client, Client)> {
    let mut attempt = 1;
    loop {
        let failure = match pairs.open().await {
            Ok(pair) => return Ok(pair),
            Err(f) if !f.transient => return Err(f.error),
            Err(f) => f.error,
        };
        if attempt >= MAX_ATTEMPTS {
            return Err(gave_up(failure, attempt));
        }
        tracing::warn!(attempt, error = %failure, "opening a worker's connections failed, trying again");
        tokio::time::sleep(retry::backoff(attempt)).await;
        attempt += 1;
    }
}

/// After attempt `attempt` lost its connection with `failure`: gives up
/// after [`MAX_ATTEMPTS`], else warns, waits and opens a new pair of
/// connections in the same snapshots. A pair that cannot be opened yet
/// costs an attempt and is tried again, after a longer pause.
async fn again(on: Sides<'_>, attempt: &mut u32, failure: Error) -> Result<()> {
    let work = on.work;
    let mut failure = failure;
    let mut opening = false;
    loop {
        if *attempt >= MAX_ATTEMPTS {
            return Err(gave_up(failure, *attempt));
        }
        let doing = if opening {
            "opening new connections failed, trying again"
        } else {
            "read failed, reading again on new connections"
        };
        tracing::warn!(schema = %work.schema, table = %work.name, attempt = *attempt, error = %failure, "{doing}");
        tokio::time::sleep(retry::backoff(*attempt)).await;
        *attempt += 1;
        match on.pairs.open().await {
            Ok(pair) => {
                *on.pair.lock().await = pair;
                return Ok(());
            }
            Err(f) if f.transient => {
                failure = f.error;
                opening = true;
            }
            Err(f) => return Err(f.error),
        }
    }
}

async fn range(on: Sides<'_>, range: &Range) -> Result<RangeResult> {
    let work = on.work;
    let started = Instant::now();
    let first = Form {
        binary: work.binary,
        ordered: work.ordered,
    };
    let sql = |side| work.sql(range, side, first);
    let (src, tgt) = both(on, sql, first, (Keep::Nothing, Keep::Nothing)).await?;
    let (source, target) = (src.digest, tgt.digest);
    if source != target {
        tracing::info!(schema = %work.schema, table = %work.name, "range differs, narrowing to keys");
        let bigger = if src.bytes >= tgt.bytes { &src } else { &tgt };
        let parts = bigger.bytes.div_ceil(work.narrow_bytes.max(1));
        let narrowed = if parts > 1 {
            narrow_in_parts(on, range, bigger, parts, started).await?
        } else {
            narrow(on, range, started).await?
        };
        if narrowed.source == narrowed.target {
            tracing::warn!(schema = %work.schema, table = %work.name, "the first pass's digests differ but every row's text form is equal; the text form decides");
        }
        return Ok(narrowed);
    }
    Ok(RangeResult::new(source, target, started))
}

/// Narrows a range too big to hold at once (its two maps of key to row hash)
/// in `parts` sub-ranges, one after another, cut at every so many keys of
/// the side that streamed more. A key that the other side places into
/// another sub-range is matched by the tally like one across ranges.
async fn narrow_in_parts(
    on: Sides<'_>,
    range: &Range,
    bigger: &Read,
    parts: u64,
    started: Instant,
) -> Result<RangeResult> {
    let side = bigger.side;
    let every = bigger.digest.rows.div_ceil(parts).max(1);
    let sql = on.work.key_sql(range, side);
    let points = cut_points(on, side, &sql, every).await?;
    narrow_each(on, within(range, points), started).await
}

/// Rows of a table read by blocks are counted in no key range before it is
/// narrowed; its key ranges are cut every so many source keys as if rows
/// were this small, so that no sub-range holds more than `narrow_bytes` of
/// them (a wider row makes a sub-range smaller than it needs to be).
const NARROWEST_ROW: u64 = 64;

/// Narrows a key range of a table whose block parts' totals differed, in
/// sub-ranges cut every `narrow_bytes / NARROWEST_ROW` source keys. Keyless
/// tables have one range, the whole table, and no key to cut it at.
async fn narrow_block_table(on: Sides<'_>, range: &Range) -> Result<RangeResult> {
    let started = Instant::now();
    if on.work.key.is_empty() {
        return narrow_keyless(on, range, started).await;
    }
    let every = (on.work.narrow_bytes / NARROWEST_ROW).max(1);
    let sql = on.work.key_sql(range, Side::Source);
    let points = cut_points(on, Side::Source, &sql, every).await?;
    narrow_each(on, within(range, points), started).await
}

/// Compares a keyless table as two multisets of row hashes, held in memory
/// or, for a large table, spilled to disk partitioned and compared partition
/// by partition: exact counts of missing and extra rows in the memory of one
/// partition.
async fn narrow_keyless(on: Sides<'_>, range: &Range, started: Instant) -> Result<RangeResult> {
    let work = on.work;
    let mut source = Spill::default();
    let mut target = Spill::default();
    let sql = |side| work.sql(range, side, NARROW);
    let keep = (Keep::Hashes(&mut source), Keep::Hashes(&mut target));
    let (src, tgt) = both(on, sql, NARROW, keep).await?;
    let (missing, extra) = tokio::task::spawn_blocking(move || spill::compare(source, target))
        .await
        .map_err(|e| Error::failure(format!("comparing row hashes stopped: {e}")).with_source(e))?
        .map_err(|e| spill_error(work, e))?;
    on.tally
        .lock()
        .expect("tally lock")
        .add_unkeyed(missing, extra);
    Ok(RangeResult::new(src.digest, tgt.digest, started))
}

fn spill_error(work: &TableWork, e: std::io::Error) -> Error {
    Error::failure(format!(
        "table {}.{}: keeping row hashes in temporary files: {e}",
        work.schema, work.name
    ))
    .with_source(e)
    .with_fix(
        "free space in the temporary directory (TMPDIR) or point TMPDIR elsewhere; for too many open files, raise `ulimit -n` or lower copy.jobs",
    )
}

/// Narrows sub-ranges one after another; their digests add up to the range's.
async fn narrow_each(on: Sides<'_>, subs: Vec<Range>, started: Instant) -> Result<RangeResult> {
    let work = on.work;
    if subs.len() > 1 {
        tracing::debug!(schema = %work.schema, table = %work.name, parts = subs.len(), "narrowing a range in parts");
    }
    let mut out = RangeResult::new(Digest::default(), Digest::default(), started);
    for sub in &subs {
        let r = narrow(on, sub, started).await?;
        out.source.merge(&r.source);
        out.target.merge(&r.target);
    }
    out.elapsed = started.elapsed();
    Ok(out)
}

/// Reads one key range again, text row by row, mapping each key to its row
/// hash on both sides. Narrowing always reads text: its key fields are what
/// reports show, and text is the canonical form. Its digests replace the
/// first pass's, so both sides of a range are always compared in one form.
async fn narrow(on: Sides<'_>, range: &Range, started: Instant) -> Result<RangeResult> {
    let sql = |side| on.work.sql(range, side, NARROW);
    let (src, tgt) = both(on, sql, NARROW, (Keep::Keys, Keep::Keys)).await?;
    on.tally
        .lock()
        .expect("tally lock")
        .fold(diff_maps(src.map, tgt.map));
    Ok(RangeResult::new(src.digest, tgt.digest, started))
}

/// One block part of each side: digests of different rows, which only
/// compare once summed over the table.
async fn part(on: Sides<'_>, source_part: &Range, target_part: &Range) -> Result<RangeResult> {
    let work = on.work;
    let started = Instant::now();
    let form = Form {
        binary: work.binary,
        ordered: false,
    };
    let sql = |side| match side {
        Side::Source => work.part_sql(source_part),
        Side::Target => work.part_sql(target_part),
    };
    let (src, tgt) = both(on, sql, form, (Keep::Nothing, Keep::Nothing)).await?;
    Ok(RangeResult::new(src.digest, tgt.digest, started))
}

/// What a read keeps of each row besides the digest.
enum Keep<'s> {
    Nothing,
    /// Key to entry, in memory (narrowing a keyed table).
    Keys,
    /// Row hashes, on disk (narrowing a keyless table).
    Hashes(&'s mut Spill),
}

impl Keep<'_> {
    /// Forgets what a failed attempt kept, before the read starts again.
    fn restart(&mut self) {
        if let Keep::Hashes(spill) = self {
            **spill = Spill::default();
        }
    }
}

/// What one side's read of a range gave.
struct Read {
    side: Side,
    digest: Digest,
    /// With [`Keep::Keys`]: key to entry.
    map: RowMap,
    /// Bytes streamed.
    bytes: u64,
}

/// Reads each side's statement on its connection, both at once, keeping
/// what `keep` asks for of the source's and of the target's rows. A lost
/// connection has both read again on a new pair, after a pause.
async fn both(
    on: Sides<'_>,
    sql: impl Fn(Side) -> String,
    form: Form,
    mut keep: (Keep<'_>, Keep<'_>),
) -> Result<(Read, Read)> {
    let (ssql, tsql) = (sql(Side::Source), sql(Side::Target));
    let mut attempt = 1;
    loop {
        let metered = on.meter.total();
        let outcome = {
            let pair = on.pair.lock().await;
            tokio::try_join!(
                read(on, &pair.0, Side::Source, &ssql, form, &mut keep.0),
                read(on, &pair.1, Side::Target, &tsql, form, &mut keep.1)
            )
        };
        let failure = match outcome {
            Ok(reads) => return Ok(reads),
            Err(e) if !e.is_transient() => return Err(e),
            Err(e) => e,
        };
        on.meter.retract(on.meter.total().saturating_sub(metered));
        keep.0.restart();
        keep.1.restart();
        again(on, &mut attempt, failure).await?;
    }
}

/// The tables split by blocks whose totals differ, to be narrowed by key
/// ranges. Their first-pass digests are cleared from `results` (the
/// narrowing's replace them), their time is kept.
pub fn block_mismatches(tables: &[TableWork], results: &mut [TableResult]) -> Vec<usize> {
    let sums = totals(tables.len(), results);
    let differing: Vec<usize> = (0..tables.len())
        .filter(|&t| {
            matches!(tables[t].split, Split::Blocks { .. }) && sums[t].source != sums[t].target
        })
        .collect();
    for (_, r) in results.iter_mut().filter(|(t, _)| differing.contains(t)) {
        r.source = Digest::default();
        r.target = Digest::default();
    }
    differing
}

/// One ordered range hashed as a single stream, in large updates.
struct StreamHash {
    hasher: blake3::Hasher,
    batch: Vec<u8>,
    rows: u64,
}

impl StreamHash {
    fn new() -> Self {
        StreamHash {
            hasher: blake3::Hasher::new(),
            batch: Vec::with_capacity(STREAM_BATCH * 2),
            rows: 0,
        }
    }

    fn bytes(&mut self, chunk: &[u8]) {
        self.batch.extend_from_slice(chunk);
        if self.batch.len() >= STREAM_BATCH {
            self.hasher.update(&self.batch);
            self.batch.clear();
        }
    }

    fn finish(mut self, digest: &mut Digest) {
        self.hasher.update(&self.batch);
        digest.add_stream(self.hasher.finalize().as_bytes(), self.rows);
    }
}

/// Streams one range. Unordered, each row is hashed on its own and the
/// hashes summed; ordered, the whole stream is one hash. Text, unordered
/// reads also keep what `keep` asks for of each row.
async fn read(
    on: Sides<'_>,
    client: &Client,
    side: Side,
    sql: &str,
    form: Form,
    keep: &mut Keep<'_>,
) -> Result<Read> {
    let work = on.work;
    let key_len = work.key.len();
    let fail = |e: tokio_postgres::Error| {
        let denied = e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE);
        let err = Error::db(
            format!("{side} table {}.{}: reading rows", work.schema, work.name),
            e,
        );
        if denied {
            err.with_fix(format!(
                "the {side} role must read every row: grant it SELECT, and BYPASSRLS where the table forces row level security"
            ))
        } else {
            err
        }
    };
    let stream = client.copy_out(sql).await.map_err(fail)?;
    pin_mut!(stream);
    let mut digest = Digest::default();
    let mut map = RowMap::new();
    let mut ordered = form.ordered.then(StreamHash::new);
    let mut unmetered = 0u64;
    let mut bytes = 0u64;
    let mut meter = |n: usize| {
        bytes += n as u64;
        unmetered += n as u64;
        if unmetered >= METER_STEP {
            on.meter.add(std::mem::take(&mut unmetered));
        }
    };
    let ended_inside = || {
        Error::failure(format!(
            "{side} table {}.{}: the row stream ended inside a row",
            work.schema, work.name
        ))
    };
    if form.binary {
        let mut tuples = TupleSplitter::default();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(fail)?;
            meter(chunk.len());
            let fed = match &mut ordered {
                Some(h) => {
                    h.bytes(&chunk);
                    tuples.feed(&chunk, |_| h.rows += 1)
                }
                None => tuples.feed(&chunk, |tuple| digest.add_row(&canonical::row_hash(tuple))),
            };
            fed.map_err(|what| {
                Error::failure(format!(
                    "{side} table {}.{}: {what}",
                    work.schema, work.name
                ))
            })?;
        }
        if !tuples.is_clean() {
            return Err(ended_inside());
        }
    } else {
        let mut lines = LineSplitter::default();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(fail)?;
            meter(chunk.len());
            if let Some(h) = &mut ordered {
                h.bytes(&chunk);
                lines.feed(&chunk, |_| h.rows += 1);
                continue;
            }
            lines.feed(&chunk, |line| {
                let hash = canonical::row_hash(line);
                digest.add_row(&hash);
                match keep {
                    Keep::Nothing => {}
                    Keep::Keys => {
                        map.entry(canonical::key_prefix(line, key_len).to_vec())
                            .and_modify(|e| e.count += 1)
                            .or_insert(Entry { hash, count: 1 });
                    }
                    Keep::Hashes(spill) => spill.push(&hash),
                }
            });
        }
        if !lines.is_clean() {
            return Err(ended_inside());
        }
    }
    if let Some(h) = ordered {
        h.finish(&mut digest);
    }
    on.meter.add(unmetered);
    Ok(Read {
        side,
        digest,
        map,
        bytes,
    })
}

/// A table's digests and time after all its ranges.
#[derive(Debug, Default, Clone)]
pub struct TableOutcome {
    pub source: Digest,
    pub target: Digest,
    pub elapsed: Duration,
}

/// Each of `tables` tables' range results summed.
pub fn totals(tables: usize, results: &[TableResult]) -> Vec<TableOutcome> {
    let mut out = vec![TableOutcome::default(); tables];
    for (t, r) in results {
        out[*t].source.merge(&r.source);
        out[*t].target.merge(&r.target);
        out[*t].elapsed += r.elapsed;
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A side's map of one range: key -> hash of its row text.
    pub(crate) fn map(rows: &[(&str, &str)]) -> RowMap {
        let mut m = RowMap::new();
        for (k, v) in rows {
            m.entry(k.as_bytes().to_vec())
                .and_modify(|e| e.count += 1)
                .or_insert(Entry {
                    hash: canonical::row_hash(v.as_bytes()),
                    count: 1,
                });
        }
        m
    }

    #[test]
    fn classifies_missing_extra_and_different() {
        let d = diff_maps(
            map(&[("1", "a"), ("2", "b"), ("3", "c")]),
            map(&[("1", "a"), ("2", "B"), ("4", "d")]),
        );
        assert_eq!(d.found, vec![(Kind::Different, b"2".to_vec(), 1)]);
        assert!(d.source_only.contains_key(b"3".as_slice()));
        assert!(d.target_only.contains_key(b"4".as_slice()));
    }
}
