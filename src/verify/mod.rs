//! `verify`: proves the target holds what the source holds. Both sides are
//! read independently (never trusting the copy-time hashes in the ledger),
//! each inside one snapshot, range by range in parallel, and hashed in one
//! canonical representation (`rows::canonical`). Mismatching ranges are
//! narrowed to the keys that differ (`rows::table`), folded per table as
//! they come in (`rows::tally`). Sequences (`rows::sequences`), the schema
//! inventory and privileges (`schema`) and storage objects (`storage`) are
//! compared too. The verdict decides the exit code: 0
//! only if everything matches, 3 if anything differs.
//!
//! Touches: report files in the report directory; through the ledger, its
//! stage state and one verification (`ledger::verifications`). Reads source and
//! target in read-only transactions, and S3.

mod html;
mod report;
mod rows;
mod schema;
mod storage;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{SecondsFormat, Utc};

pub use report::Report;
pub use schema::inventory::Explanation;

use crate::error::{Error, Result};
use crate::ledger::{Ledger, Stage};
use crate::mapping::scope::Scope;
use crate::pg::running::Running;
use crate::pg::Side;
use crate::progress::{self, Progress};
use crate::settings::Settings;
use crate::stage::{Context, StageRun};
use catalog::Table;
use ranges::KeyCol;
use rows::{canonical, catalog, ranges, sequences, session, table, tally};
use schema::{inventory, privileges};
use table::{Split, TableWork};
use tally::Tally;

/// Mismatch samples per table unless `--sample` says otherwise.
pub const DEFAULT_SAMPLE: usize = 100;

#[derive(Debug, Clone)]
pub struct Options {
    /// Where `report.json` and `report.html` go; default `reports/<run>/`.
    pub report_dir: Option<PathBuf>,
    /// Re-read every S3 object and rehash its bytes.
    pub deep: bool,
    pub sample: usize,
    /// Change lists whose rules explain schema differences.
    pub changes: Vec<PathBuf>,
}

/// What explains differences: explanations by inventory name (the schema
/// stage's ledger, `--changes` files, the extensions the mappings drop) and
/// the mappings themselves (role rules say whose grants the target does not
/// have; bucket rules where storage objects went).
struct Explanations<'a> {
    changes: Vec<Explanation>,
    mappings: &'a crate::mapping::Mappings,
    scope: &'a Scope,
}

pub struct Outcome {
    pub report: Report,
    pub dir: PathBuf,
}

/// Runs a full verification and records it in the ledger.
pub async fn run(settings: &Settings, opts: &Options, mode: progress::Mode) -> Result<Outcome> {
    // Everything that can be wrong with the input is checked before the
    // ledger is touched, so bad usage writes nothing.
    let mut changes = Vec::new();
    for path in &opts.changes {
        changes.extend(inventory::load_explanations(path)?);
    }
    let ctx = Context::resolve(settings).await?;
    let run = StageRun::begin(&ctx, Stage::Verify).await?;
    let ledger = run.ledger();
    changes.extend(inventory::dropped_extensions(&ctx.mappings.schema));
    let outcome = async {
        let recorded = crate::ledger::changes::read(ledger.client(), ledger.run_id()).await?;
        changes.extend(recorded.into_iter().flat_map(|c| {
            c.affects.into_iter().map(move |object| Explanation {
                object,
                rule: c.rule.clone(),
                reason: c.reason.clone(),
            })
        }));
        let rules = Explanations {
            changes,
            mappings: &ctx.mappings,
            scope: &ctx.scope,
        };
        // Dropping the verification on a signal closes its connections,
        // which ends the servers' reads; no report is written and the
        // verdict of the last complete verify stays the latest.
        let running = (
            Running::new(Side::Source, &ctx.source)?,
            Running::new(Side::Target, &ctx.target)?,
        );
        let verified = verify(&ctx, opts, &rules, ledger.run_id(), running.clone(), mode);
        let Some(outcome) = crate::shutdown::unless_interrupted(verified).await else {
            // The reads end with their connections; the cancel requests
            // make sure no server goes on producing rows for nobody.
            running.0.cancel_all().await;
            running.1.cancel_all().await;
            return Ok(None);
        };
        let outcome = outcome?;
        let id = record(ledger, &outcome).await?;
        Ok(Some((outcome, id)))
    }
    .await;
    run.end(
        outcome,
        |(outcome, id)| serde_json::json!({ "ok": outcome.report.ok, "verification": id }),
        Error::failure("verify: interrupted; no report was written")
            .with_fix("run `supamigrate verify` again"),
    )
    .await
    .map(|(outcome, _)| outcome)
}

async fn verify(
    ctx: &Context<'_>,
    opts: &Options,
    rules: &Explanations<'_>,
    run: &str,
    running: (Running, Running),
    mode: progress::Mode,
) -> Result<Outcome> {
    let (settings, source, target) = (ctx.settings, &ctx.source, &ctx.target);
    let started_at = Utc::now();
    let clock = Instant::now();
    let (src, tgt) = tokio::try_join!(
        session::coordinator(Side::Source, source),
        session::coordinator(Side::Target, target)
    )?;
    running.0.register(&src.client);
    running.1.register(&tgt.client);
    let (src_tables, tgt_tables) = tokio::try_join!(
        catalog::tables(&src.client, Side::Source, rules.scope),
        catalog::tables(&tgt.client, Side::Target, rules.scope)
    )?;
    let chunks = crate::ledger::chunks::key_ranges(&tgt.client, run).await?;
    let mut works = Vec::new();
    // Each work's source table, by the same index.
    let mut sources = Vec::new();
    for (id, st) in &src_tables {
        let Some(tt) = tgt_tables.get(id) else {
            continue; // a schema inventory difference, judged there
        };
        let mut work = plan_table(st, tt, settings.copy.chunk_bytes);
        if matches!(work.split, Split::Keys(_)) {
            work.split = Split::Keys(key_ranges(&src.client, &chunks, st, &work, settings).await?);
        }
        works.push(work);
        sources.push(st);
    }
    let total_units: usize = works.iter().map(|w| w.split.len()).sum();
    let jobs = settings.copy.jobs.min(total_units).max(1);
    tracing::info!(
        tables = works.len(),
        ranges = total_units,
        jobs,
        "verifying rows"
    );
    let pairs = Arc::new(session::Pairs {
        source: source.clone(),
        target: target.clone(),
        source_snapshot: src.snapshot.clone(),
        target_snapshot: tgt.snapshot.clone(),
        running,
    });
    let works = Arc::new(works);
    let progress = Arc::new(Progress::new(
        mode,
        "verify",
        works.iter().map(|w| w.both_bytes()).sum(),
        total_units as u64,
    ));
    let tallies: Arc<Vec<Mutex<Tally>>> = Arc::new(
        works
            .iter()
            .map(|_| Mutex::new(Tally::new(opts.sample)))
            .collect(),
    );
    let rows = async {
        let first = works
            .iter()
            .enumerate()
            .flat_map(|(i, w)| w.jobs(i))
            .collect();
        let mut results =
            table::run_jobs(Arc::clone(&works), jobs, &pairs, first, &progress, &tallies).await?;
        let mut narrowing = Vec::new();
        for t in table::block_mismatches(&works, &mut results) {
            let (work, st) = (&works[t], sources[t]);
            tracing::info!(schema = %work.schema, table = %work.name, "table differs, narrowing by key ranges");
            let ranges = if work.key.is_empty() {
                vec![ranges::Range::default()]
            } else {
                key_ranges(&src.client, &chunks, st, work, settings).await?
            };
            progress.add_work(work.both_bytes(), ranges.len() as u64);
            narrowing.extend(ranges.into_iter().enumerate().map(|(i, r)| table::Job {
                table: t,
                ordinal: i as i32,
                unit: table::Unit::Narrow(r),
            }));
        }
        if !narrowing.is_empty() {
            results.extend(
                table::run_jobs(
                    Arc::clone(&works),
                    jobs,
                    &pairs,
                    narrowing,
                    &progress,
                    &tallies,
                )
                .await?,
            );
        }
        progress.finish();
        Ok::<_, Error>(results)
    };
    let side_checks = async {
        let (
            src_seq,
            tgt_seq,
            src_inv,
            tgt_inv,
            (src_grants, src_defaults),
            (tgt_grants, tgt_defaults),
            login,
        ) = tokio::try_join!(
            sequences::read(&src.client, Side::Source, rules.scope),
            sequences::read(&tgt.client, Side::Target, rules.scope),
            inventory::read(&src.client, Side::Source, rules.scope),
            inventory::read(&tgt.client, Side::Target, rules.scope),
            privileges::read(&src.client, Side::Source, rules.scope),
            privileges::read(&tgt.client, Side::Target, rules.scope),
            privileges::login(&tgt.client)
        )?;
        let changes = &rules.changes;
        let mut differences = inventory::compare(&src_inv, &tgt_inv, changes);
        let expected = privileges::Expected::new(&rules.mappings.schema, &login, changes);
        differences.extend(expected.grants(&src_grants, &tgt_grants));
        differences.extend(expected.defaults(&src_defaults, &tgt_defaults));
        Ok::<_, Error>((sequences::compare(&src_seq, &tgt_seq), differences))
    };
    let (results, (sequences, differences)) = tokio::try_join!(rows, side_checks)?;
    let objects = storage::check(
        settings,
        &rules.mappings.storage,
        rules.scope,
        &src.client,
        &tgt.client,
        opts.deep,
    )
    .await?;
    let left_out = rules.scope.left_out(
        &crate::pg::catalog::tables_by_schema(&src.client)
            .await
            .map_err(|e| catalog::catalog_err(Side::Source, "counting tables per schema", e))?,
    );

    let tables = works
        .iter()
        .zip(table::totals(works.len(), &results))
        .zip(tallies.iter())
        .map(|((w, t), tally)| table_report(w, t, tally.lock().expect("tally lock").finish()))
        .collect();
    let mut report = Report {
        ok: false,
        run: run.to_string(),
        started_at: started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        finished_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        source: source.to_string(),
        target: target.to_string(),
        deep: opts.deep,
        summary: report::Summary::default(),
        tables,
        sequences,
        objects,
        schema: report::SchemaReport { differences },
        left_out,
    };
    report.summarise(clock.elapsed().as_secs_f64());
    let dir = opts
        .report_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(run));
    report::write(&dir, &report, &html::render(&report))?;
    Ok(Outcome { report, dir })
}

/// Key correlations (absolute) at or above this: rows lie in key order, so
/// a range read in key order costs its index scan little more than a scan
/// of its pages. Other tables are read by heap blocks.
const IN_KEY_ORDER: f32 = 0.9;

/// The line layout both sides are read in: the source's key, then every
/// other source column the target also has, in source order.
fn plan_table(src: &Table, tgt: &Table, chunk_bytes: u64) -> TableWork {
    let key: Option<Vec<KeyCol>> = src
        .key
        .iter()
        .map(|name| {
            let (s, t) = (src.column(name)?, tgt.column(name)?);
            Some(KeyCol {
                name: name.clone(),
                source_type: s.type_sql.clone(),
                target_type: t.type_sql.clone(),
                // Same collation on both sides: compare in it, so the key's
                // index serves the range scans. Otherwise both compare in
                // "C", so each key falls into the same range on both sides.
                force_c: s.collation.is_some() && s.collation != t.collation,
            })
        })
        .collect();
    // A key column the target lacks leaves nothing to match rows by, so
    // the table is compared as a multiset of its common columns.
    let key = key.unwrap_or_default();
    let mut columns: Vec<String> = key.iter().map(|k| k.name.clone()).collect();
    columns.extend(
        src.columns
            .iter()
            .filter(|c| tgt.column(&c.name).is_some() && !columns.contains(&c.name))
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
    );
    // Binary only when each column has one binary-safe type on both sides:
    // a changed type (int4 to int8) has other bytes for the same value.
    let binary = columns.iter().all(|name| {
        matches!((src.column(name), tgt.column(name)),
            (Some(s), Some(t)) if s.binary_safe && t.binary_safe && s.type_sql == t.type_sql)
    });
    let ordered = !key.is_empty() && src.key_correlation.is_some_and(|c| c.abs() >= IN_KEY_ORDER);
    let split = if ordered {
        Split::Keys(vec![ranges::Range::default()])
    } else {
        Split::Blocks {
            parts: ranges::range_count(src.bytes.max(tgt.bytes), chunk_bytes),
            source_blocks: src.blocks,
            target_blocks: tgt.blocks,
        }
    };
    TableWork {
        schema: src.schema.clone(),
        name: src.name.clone(),
        bytes: src.bytes,
        target_bytes: tgt.bytes,
        columns,
        split,
        binary,
        ordered,
        narrow_bytes: (chunk_bytes / table::NARROW_SHARE).max(1),
        key,
    }
}

/// A keyed table's key ranges: the data stage's chunks when it cut the table
/// by key, else split points sampled from the source. A table split by
/// blocks is narrowed in them, where each range's scan may visit most pages
/// of the table: fewer, larger ranges cost less there.
async fn key_ranges(
    src: &tokio_postgres::Client,
    chunks: &crate::ledger::chunks::KeyRanges,
    table: &Table,
    work: &TableWork,
    settings: &Settings,
) -> Result<Vec<ranges::Range>> {
    let chunk_bytes = settings.copy.chunk_bytes;
    let mine = chunks
        .get(&(table.schema.clone(), table.name.clone()))
        .map(Vec::as_slice);
    let found = match ranges::from_chunks(src, mine, &work.key).await? {
        Some(reused) => reused,
        None => ranges::plan(src, table, &work.key, chunk_bytes).await?,
    };
    Ok(match work.split {
        Split::Keys(_) => found,
        Split::Blocks { .. } => {
            ranges::coarsen(found, table.bytes, chunk_bytes, settings.copy.jobs)
        }
    })
}

fn table_report(
    work: &TableWork,
    t: table::TableOutcome,
    found: tally::Differences,
) -> report::TableReport {
    let key_names: Vec<String> = work.key.iter().map(|k| k.name.clone()).collect();
    let mismatches = found
        .samples
        .iter()
        .map(|(kind, raw)| report::Mismatch {
            key: key_names
                .iter()
                .cloned()
                .zip(canonical::decode_fields(raw))
                .map(|(k, v)| {
                    (
                        k,
                        v.map_or(serde_json::Value::Null, serde_json::Value::String),
                    )
                })
                .collect(),
            kind: kind.as_str(),
        })
        .collect();
    report::TableReport {
        schema: work.schema.clone(),
        name: work.name.clone(),
        key: key_names,
        source_rows: t.source.rows,
        target_rows: t.target.rows,
        source_checksum: t.source.hex(),
        target_checksum: t.target.hex(),
        matches: t.source == t.target && found.total() == 0,
        bytes: work.bytes,
        format: if work.binary { "binary" } else { "text" },
        ordered: work.ordered,
        ranges: work.split.len(),
        split: match work.split {
            Split::Keys(_) => "keys",
            Split::Blocks { .. } => "blocks",
        },
        seconds: t.elapsed.as_secs_f64(),
        missing: found.missing,
        extra: found.extra,
        different: found.different,
        mismatches,
    }
}

async fn record(ledger: &Ledger, outcome: &Outcome) -> Result<i64> {
    let r = &outcome.report;
    let json = serde_json::to_value(r)
        .map_err(|e| Error::failure(format!("rendering the verify report: {e}")).with_source(e))?;
    let parse = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| Error::failure(format!("verify report time `{s}`: {e}")).with_source(e))
    };
    let dir = outcome.dir.display().to_string();
    crate::ledger::verifications::record(
        ledger,
        &crate::ledger::verifications::Verification {
            started_at: parse(&r.started_at)?,
            finished_at: parse(&r.finished_at)?,
            ok: r.ok,
            report_dir: &dir,
            report: &json,
        },
    )
    .await
}
