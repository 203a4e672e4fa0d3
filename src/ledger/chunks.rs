//! The data stage's rows in the ledger: the chunk plan, which chunks are
//! still pending, each chunk's done mark (written inside the chunk's own
//! target transaction by the worker), and the key ranges verify reuses.
//!
//! Touches: target `supamigrate.chunks`.

use std::collections::HashMap;

use serde_json::Value;
use tokio_postgres::{Client, GenericClient, Transaction};

use crate::error::{Error, Result};
use crate::ranges::{KeyColumn, Range};

pub const CTID_NOTE: &str = "split by ctid (no usable key, or a key scattered over the heap): ctid ranges do not survive a new snapshot, so this table restarts whole after an interruption";

/// A chunk still to copy, as read back from the ledger.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub schema: String,
    pub table: String,
    pub ordinal: i32,
    pub range: Range,
    /// The key the range was cut on, as recorded at planning time.
    pub key: Vec<KeyColumn>,
}

pub async fn is_planned(client: &Client, run_id: &str) -> Result<bool> {
    client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM supamigrate.chunks WHERE run_id = $1)",
            &[&run_id],
        )
        .await
        .map(|r| r.get(0))
        .map_err(|e| err("reading the chunk plan", e))
}

/// One table's planned chunks: cut on `key`, or by ctid when `None`.
pub struct PlannedTable<'a> {
    pub schema: &'a str,
    pub table: &'a str,
    pub key: Option<&'a [KeyColumn]>,
    pub ranges: &'a [Range],
}

/// Writes the whole plan; the caller's transaction makes it all or nothing.
pub async fn insert_plan(
    client: &impl GenericClient,
    run_id: &str,
    plan: &[PlannedTable<'_>],
) -> Result<()> {
    let stmt = client
        .prepare(
            "INSERT INTO supamigrate.chunks
               (run_id, schema_name, table_name, ordinal, kind, range_lo, range_hi,
                key_columns, key_types, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .await
        .map_err(|e| err("writing the chunk plan", e))?;
    for t in plan {
        let (names, types): (Option<Vec<&str>>, Option<Vec<&str>>) = match t.key {
            Some(k) => (
                Some(k.iter().map(|c| c.name.as_str()).collect()),
                Some(k.iter().map(|c| c.type_name.as_str()).collect()),
            ),
            None => (None, None),
        };
        let note = (t.key.is_none() && t.ranges.len() > 1).then_some(CTID_NOTE);
        for (ordinal, range) in t.ranges.iter().enumerate() {
            let (lo, hi) = range.ledger_bounds();
            let ordinal = i32::try_from(ordinal).unwrap_or(i32::MAX);
            client
                .execute(
                    &stmt,
                    &[
                        &run_id,
                        &t.schema,
                        &t.table,
                        &ordinal,
                        &range.kind(),
                        &lo,
                        &hi,
                        &names,
                        &types,
                        &note,
                    ],
                )
                .await
                .map_err(|e| err("writing the chunk plan", e))?;
        }
    }
    Ok(())
}

/// Ctid-split tables that were partly copied before an interruption: their
/// done chunks came from another snapshot, so the table must restart whole.
pub async fn ctid_tables_to_restart(
    client: &Client,
    run_id: &str,
) -> Result<Vec<(String, String)>> {
    let rows = client
        .query(
            "SELECT schema_name, table_name FROM supamigrate.chunks
             WHERE run_id = $1 AND kind = 'ctid_range'
             GROUP BY schema_name, table_name
             HAVING bool_or(state = 'done') AND bool_or(state = 'pending')",
            &[&run_id],
        )
        .await
        .map_err(|e| err("reading the chunk plan", e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Sets every chunk of a table back to pending, inside the transaction that
/// empties the table.
pub async fn restart_table(
    tx: &Transaction<'_>,
    run_id: &str,
    schema: &str,
    table: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE supamigrate.chunks
         SET state = 'pending', rows = NULL, bytes = NULL, updated_at = clock_timestamp(),
             note = $4 || ' (restarted whole at ' || clock_timestamp() || ')'
         WHERE run_id = $1 AND schema_name = $2 AND table_name = $3",
        &[&run_id, &schema, &table, &CTID_NOTE],
    )
    .await
    .map(|_| ())
    .map_err(|e| err("restarting a ctid table", e))
}

pub async fn pending(client: &Client, run_id: &str) -> Result<Vec<Pending>> {
    let rows = client
        .query(
            "SELECT id, schema_name, table_name, ordinal, kind, range_lo, range_hi,
                    coalesce(key_columns, '{}'), coalesce(key_types, '{}')
             FROM supamigrate.chunks WHERE run_id = $1 AND state = 'pending'
             ORDER BY schema_name, table_name, ordinal",
            &[&run_id],
        )
        .await
        .map_err(|e| err("reading pending chunks", e))?;
    rows.iter()
        .map(|r| {
            let kind: String = r.get(4);
            let lo: Option<Value> = r.get(5);
            let hi: Option<Value> = r.get(6);
            let names: Vec<String> = r.get(7);
            let types: Vec<String> = r.get(8);
            let range = Range::from_ledger(&kind, lo.as_ref(), hi.as_ref()).ok_or_else(|| {
                Error::failure(format!(
                    "ledger: chunk {} has a range this version cannot read",
                    r.get::<_, i64>(0)
                ))
            })?;
            Ok(Pending {
                id: r.get(0),
                schema: r.get(1),
                table: r.get(2),
                ordinal: r.get(3),
                range,
                key: names
                    .into_iter()
                    .zip(types)
                    .map(|(name, type_name)| KeyColumn { name, type_name })
                    .collect(),
            })
        })
        .collect()
}

/// Totals over the run's chunks: (done, all, rows done, bytes done).
pub async fn totals(client: &Client, run_id: &str) -> Result<(i64, i64, i64, i64)> {
    let r = client
        .query_one(
            "SELECT count(*) FILTER (WHERE state = 'done'), count(*),
                    coalesce(sum(rows), 0)::int8, coalesce(sum(bytes), 0)::int8
             FROM supamigrate.chunks WHERE run_id = $1",
            &[&run_id],
        )
        .await
        .map_err(|e| err("reading chunk totals", e))?;
    Ok((r.get(0), r.get(1), r.get(2), r.get(3)))
}

/// The done mark, run inside the chunk's target transaction. `false` if the
/// chunk was not pending any more (another run got there first).
pub async fn mark_done(
    client: &impl GenericClient,
    id: i64,
    rows: u64,
    bytes: u64,
) -> Result<bool, tokio_postgres::Error> {
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    let n = client
        .execute(
            "UPDATE supamigrate.chunks
             SET state = 'done', rows = $2, bytes = $3, attempts = attempts + 1,
                 last_error = NULL, updated_at = clock_timestamp()
             WHERE id = $1 AND state = 'pending'",
            &[&id, &rows, &bytes],
        )
        .await?;
    Ok(n == 1)
}

/// Records a failed attempt outside the chunk's (rolled back) transaction.
pub async fn record_attempt(client: &impl GenericClient, id: i64, error: &str) -> Result<()> {
    client
        .execute(
            "UPDATE supamigrate.chunks
             SET attempts = attempts + 1, last_error = $2, updated_at = clock_timestamp()
             WHERE id = $1",
            &[&id, &error],
        )
        .await
        .map(|_| ())
        .map_err(|e| err("recording a failed attempt", e))
}

/// The `key_range` chunks of a run, by (schema, table), in order. One query
/// for all tables.
pub async fn key_ranges(client: &Client, run_id: &str) -> Result<KeyRanges> {
    let rows = client
        .query(
            "SELECT schema_name, table_name, kind, range_lo, range_hi, key_columns
             FROM supamigrate.chunks
             WHERE run_id = $1 AND kind = 'key_range'
             ORDER BY schema_name, table_name, ordinal",
            &[&run_id],
        )
        .await
        .map_err(|e| err("reading the data stage's chunks", e))?;
    let mut out = KeyRanges::new();
    for r in rows {
        let kind: String = r.get(2);
        let lo: Option<Value> = r.get(3);
        let hi: Option<Value> = r.get(4);
        let chunk = Range::from_ledger(&kind, lo.as_ref(), hi.as_ref()).map(|range| KeyRange {
            key_columns: r.get(5),
            range,
        });
        out.entry((r.get(0), r.get(1))).or_default().push(chunk);
    }
    Ok(out)
}

/// `None` for a row this version cannot read.
pub type KeyRanges = HashMap<(String, String), Vec<Option<KeyRange>>>;

/// One `key_range` chunk as verify reuses it.
#[derive(Debug)]
pub struct KeyRange {
    /// The key the range was cut on; `None` where the ledger does not say.
    pub key_columns: Option<Vec<String>>,
    pub range: Range,
}

fn err(doing: &str, e: tokio_postgres::Error) -> Error {
    Error::db(format!("ledger: {doing}"), e)
}
