//! Cutting one table into ranges, reading split points from the snapshot.
//!
//! Touches: source, read only (a block sample of the key, or an ordered scan
//! when the sample is too small).

use tokio_postgres::GenericClient;

use super::catalog::Table;
use super::chunk::{self, Splitter};
use crate::error::{Error, Result};
use crate::pg::{quote_ident, quote_literal};
use crate::ranges::{self, KeyColumn, Range};

/// Sampled heap blocks wanted per chunk. `TABLESAMPLE SYSTEM` picks whole
/// blocks, and rows in a block tend to have neighbouring keys, so evenness
/// depends on the number of blocks sampled, not of rows.
const BLOCKS_PER_CHUNK: f64 = 20.0;

/// Tables cut into at least this many chunks are split by ctid when their
/// key is scattered over the heap (see [`ranges`]).
const SCATTERED_MIN_CHUNKS: usize = 3;

/// Below this rank correlation between key order and heap block, a key is
/// scattered: each key range's rows lie on most of the table's pages.
const SCATTERED: f64 = 0.5;

/// The table's chunks, and the splitter they were cut with: a keyed table
/// whose key is scattered over the heap is cut by ctid.
pub async fn ranges(
    client: &impl GenericClient,
    table: &Table,
    chunk_bytes: u64,
) -> Result<(Splitter, Vec<Range>)> {
    let n = ranges::range_count(table.bytes, chunk_bytes);
    if n < 2 {
        return Ok((table.splitter.clone(), vec![Range::Whole]));
    }
    let ranges = match &table.splitter {
        Splitter::Ctid => ranges::ctid_ranges(table.heap_blocks, n),
        Splitter::Key(key) => {
            let (mut sample, blocks) = sample_keys(client, table, key, n).await?;
            // A key scattered over the heap (random uuids) makes every
            // key-range chunk's scan visit most of the table's pages: all
            // chunks together read the table up to min(chunks, rows per
            // page) times. ctid chunks read it once, in order; the price
            // is that the table restarts whole after an interruption.
            let correlation = chunk::order_correlation(&blocks);
            if n >= SCATTERED_MIN_CHUNKS && sample.len() >= n * 4 && correlation.abs() < SCATTERED {
                tracing::info!(table = %table.label(), correlation = format!("{correlation:.2}"), "key scattered over the heap: split by ctid");
                return Ok((Splitter::Ctid, ranges::ctid_ranges(table.heap_blocks, n)));
            }
            if sample.len() < n * 4 {
                sample = ordered_keys(client, table, key, n).await?;
            }
            let points = ranges::split_points(&sample, n);
            if strictly_increasing(client, table, key, &points).await? {
                ranges::key_ranges(points)
            } else {
                tracing::warn!(table = %table.label(), "split points do not sort back in key order, copying the table as one chunk");
                vec![Range::Whole]
            }
        }
    };
    Ok((table.splitter.clone(), ranges))
}

/// The select list (key columns as text, aliased `k0`, `k1`, ...) and the
/// ORDER BY list of key columns.
fn key_lists(key: &[KeyColumn]) -> (String, String) {
    let names: Vec<String> = key.iter().map(|k| quote_ident(&k.name)).collect();
    let as_text: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}::text AS k{i}"))
        .collect();
    (as_text.join(", "), names.join(", "))
}

/// Checks on the source, with the key's own types and collations, that the
/// points read back from text are in strictly increasing key order: ranges
/// between them then neither overlap nor leave gaps.
async fn strictly_increasing(
    client: &impl GenericClient,
    table: &Table,
    key: &[KeyColumn],
    points: &[Vec<String>],
) -> Result<bool> {
    if points.len() < 2 {
        return Ok(true);
    }
    let row = |p: &Vec<String>| {
        let vals: Vec<String> = key
            .iter()
            .zip(p)
            .map(|(k, v)| format!("{}::{}", quote_literal(v), k.type_name))
            .collect();
        format!("ROW({})", vals.join(", "))
    };
    let checks: Vec<String> = points
        .windows(2)
        .map(|w| format!("{} < {}", row(&w[0]), row(&w[1])))
        .collect();
    let sql = format!("SELECT {}", checks.join(" AND "));
    client
        .query_one(&sql, &[])
        .await
        .map(|r| r.get::<_, Option<bool>>(0) == Some(true))
        .map_err(|e| {
            Error::db(
                format!("source: checking split points for {}", table.label()),
                e,
            )
        })
}

/// A block sample of the key (`TABLESAMPLE SYSTEM`), sorted by the key,
/// with the heap block each sampled row lies in.
async fn sample_keys(
    client: &impl GenericClient,
    table: &Table,
    key: &[KeyColumn],
    n: usize,
) -> Result<(Vec<Vec<String>>, Vec<i64>)> {
    let blocks = table.heap_blocks.max(1) as f64;
    let pct = (BLOCKS_PER_CHUNK * n as f64 / blocks * 100.0).clamp(0.0001, 100.0);
    let (select, _) = key_lists(key);
    // Sorted outside, by the key values carried as `o0`, `o1`, ...: a top
    // level ORDER BY resolves a name to an output column first, so sorting
    // next to the `k0` text aliases would sort a key column named `k0` as
    // text. Outside, only the subquery's own names are in scope.
    let keep: Vec<String> = (0..key.len()).map(|i| format!("k{i}")).collect();
    let carry: Vec<String> = key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} AS o{i}", quote_ident(&k.name)))
        .collect();
    let by: Vec<String> = (0..key.len()).map(|i| format!("o{i}")).collect();
    let sql = format!(
        "SELECT {}, blk FROM (SELECT {select}, {}, (ctid::text::point)[0]::int8 AS blk \
         FROM {} TABLESAMPLE SYSTEM ({pct})) s ORDER BY {}",
        keep.join(", "),
        carry.join(", "),
        table.qualified(),
        by.join(", ")
    );
    let rows = query(client, table, &sql).await?;
    let width = key.len();
    Ok(rows
        .iter()
        .map(|r| {
            (
                (0..width).map(|i| r.get::<_, String>(i)).collect(),
                r.get::<_, i64>(width),
            )
        })
        .unzip())
}

/// The exact first key of each of `n * 4` equal buckets, when sampling found
/// too few rows (small or freshly loaded tables).
async fn ordered_keys(
    client: &impl GenericClient,
    table: &Table,
    key: &[KeyColumn],
    n: usize,
) -> Result<Vec<Vec<String>>> {
    let (inner, order) = key_lists(key);
    let outer: Vec<String> = (0..key.len()).map(|i| format!("k{i}")).collect();
    let sql = format!(
        "SELECT {outs} FROM (SELECT {inner}, row_number() OVER (ORDER BY {order}) AS r, \
         count(*) OVER () AS c FROM {t}) s \
         WHERE (r - 1) % greatest(c / {buckets}, 1) = 0 ORDER BY r",
        outs = outer.join(", "),
        buckets = n * 4,
        t = table.qualified(),
    );
    collect(client, table, &sql, key.len()).await
}

async fn collect(
    client: &impl GenericClient,
    table: &Table,
    sql: &str,
    width: usize,
) -> Result<Vec<Vec<String>>> {
    Ok(query(client, table, sql)
        .await?
        .iter()
        .map(|r| (0..width).map(|i| r.get::<_, String>(i)).collect())
        .collect())
}

async fn query(
    client: &impl GenericClient,
    table: &Table,
    sql: &str,
) -> Result<Vec<tokio_postgres::Row>> {
    client.query(sql, &[]).await.map_err(|e| {
        Error::db(
            format!("source: choosing split points for {}", table.label()),
            e,
        )
    })
}
