//! Cutting one table into ranges, reading split points from the snapshot.
//!
//! Touches: source, read only (a block sample of the key, or an ordered scan
//! when the sample is too small).

use tokio_postgres::GenericClient;

use super::catalog::Table;
use super::chunk::{self, KeyColumn, Range, Splitter};
use crate::error::{Error, Result};
use crate::pg::quote_ident;

/// Sampled keys wanted per chunk: enough that ranges come out roughly even.
const SAMPLES_PER_CHUNK: f64 = 50.0;

pub async fn ranges(
    client: &impl GenericClient,
    table: &Table,
    chunk_bytes: u64,
) -> Result<Vec<Range>> {
    let n = chunk::chunk_count(table.bytes, chunk_bytes);
    if n < 2 {
        return Ok(vec![Range::Whole]);
    }
    match &table.splitter {
        Splitter::Ctid => Ok(chunk::ctid_ranges(table.heap_blocks, n)),
        Splitter::Key(key) => {
            let mut sample = sample_keys(client, table, key, n).await?;
            if sample.len() < n * 4 {
                sample = ordered_keys(client, table, key, n).await?;
            }
            Ok(chunk::key_ranges(chunk::split_points(&sample, n)))
        }
    }
}

fn key_lists(key: &[KeyColumn]) -> (String, String) {
    let names: Vec<String> = key.iter().map(|k| quote_ident(&k.name)).collect();
    let as_text: Vec<String> = names.iter().map(|n| format!("{n}::text")).collect();
    (as_text.join(", "), names.join(", "))
}

/// A block sample of the key (`TABLESAMPLE SYSTEM`), sorted by the key.
async fn sample_keys(
    client: &impl GenericClient,
    table: &Table,
    key: &[KeyColumn],
    n: usize,
) -> Result<Vec<Vec<String>>> {
    let rows_est = if table.est_rows > 0.0 {
        table.est_rows
    } else {
        // Never analysed: guess from the size, erring towards more samples.
        (table.bytes as f64 / 100.0).max(1.0)
    };
    let pct = (SAMPLES_PER_CHUNK * n as f64 / rows_est * 100.0).clamp(0.0001, 100.0);
    let (select, order) = key_lists(key);
    let sql = format!(
        "SELECT {select} FROM {} TABLESAMPLE SYSTEM ({pct}) ORDER BY {order}",
        table.qualified()
    );
    collect(client, table, &sql, key.len()).await
}

/// The exact first key of each of `n * 4` equal buckets, when sampling found
/// too few rows (small or freshly loaded tables).
async fn ordered_keys(
    client: &impl GenericClient,
    table: &Table,
    key: &[KeyColumn],
    n: usize,
) -> Result<Vec<Vec<String>>> {
    let (select, order) = key_lists(key);
    let outer: Vec<String> = (0..key.len()).map(|i| format!("k{i}")).collect();
    let inner: Vec<String> = select
        .split(", ")
        .zip(&outer)
        .map(|(s, o)| format!("{s} AS {o}"))
        .collect();
    let sql = format!(
        "SELECT {outs} FROM (SELECT {inner}, row_number() OVER (ORDER BY {order}) AS r, \
         count(*) OVER () AS c FROM {t}) s \
         WHERE (r - 1) % greatest(c / {buckets}, 1) = 0 ORDER BY r",
        outs = outer.join(", "),
        inner = inner.join(", "),
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
    let rows = client.query(sql, &[]).await.map_err(|e| {
        Error::failure(format!(
            "source: choosing split points for {}: {}",
            table.label(),
            crate::ledger::db_message(&e)
        ))
    })?;
    Ok(rows
        .iter()
        .map(|r| (0..width).map(|i| r.get::<_, String>(i)).collect())
        .collect())
}
