//! Key ranges: how one table is split so that both sides can be read in
//! parallel, range by range, and a mismatch is narrowed to one range.
//!
//! Reads: source key samples and split points, and the data stage's key
//! ranges from the ledger (`ledger::chunks::key_ranges`), reused. Writes nothing. The planning
//! itself is the shared planner's ([`crate::ranges`]); this module reads
//! what it plans from, and holds verify's own policy.
//!
//! Ranges come from split points sorted by the source. The first range is
//! open below and the last open above, so together they cover every possible
//! key on either side, whatever the split points are. Text keys compare in
//! their own collation when both sides have the same one (so the key's index
//! serves each range), else in `COLLATE "C"` on both sides, so that the two
//! servers put every key into the same range.

use futures::{pin_mut, StreamExt};
use tokio_postgres::{Client, SimpleQueryMessage};

use super::canonical::{decode_fields, LineSplitter};
use super::catalog::{catalog_err, Table};
use crate::error::Result;
use crate::ledger::chunks::KeyRange;
use crate::pg::{quote_ident, quote_literal, quote_qualified, Side};
// The stage (mod, table) names the range type as verify's own ranges' type.
pub use crate::ranges::Range;
use crate::ranges::{self as planner, key_ranges, split_points, KeyColumn};

/// One key column, with its type spelled as each side names it.
#[derive(Debug, Clone)]
pub struct KeyCol {
    pub name: String,
    pub source_type: String,
    pub target_type: String,
    /// Compare in `COLLATE "C"`: the two sides' collations differ.
    pub force_c: bool,
}

/// One side's view of the key: its columns as that side types them, and
/// which of them compare in "C".
fn on_side(key: &[KeyCol], side: Side) -> (Vec<KeyColumn>, Vec<bool>) {
    key.iter()
        .map(|k| {
            let type_name = match side {
                Side::Source => &k.source_type,
                Side::Target => &k.target_type,
            };
            let column = KeyColumn {
                name: k.name.clone(),
                type_name: type_name.clone(),
            };
            (column, k.force_c)
        })
        .unzip()
}

/// The key columns as ranges compare them (in "C" where the sides'
/// collations differ), comma-separated: for range bounds and ORDER BY.
pub fn compared_columns(key: &[KeyCol]) -> String {
    let (columns, in_c) = on_side(key, Side::Source);
    planner::compared_columns(&columns, &in_c)
}

/// The WHERE clause for a range on one side; `None` for the whole table.
pub fn predicate(key: &[KeyCol], range: &Range, side: Side) -> Option<String> {
    let (columns, in_c) = on_side(key, side);
    range.predicate_collated(&columns, &in_c)
}

/// Every `every`-th key streamed by `sql` (one side's keys of a range, in
/// the order ranges compare them; nothing else is held): split points that
/// cut the range into parts of about `every` rows of that side. The
/// driver's error is returned as is, for the caller to judge whether
/// another attempt may succeed.
pub async fn points_every(
    client: &Client,
    sql: &str,
    every: u64,
) -> std::result::Result<Vec<Vec<String>>, tokio_postgres::Error> {
    let stream = client.copy_out(sql).await?;
    pin_mut!(stream);
    let mut lines = LineSplitter::default();
    let mut seen = 0u64;
    let mut points = Vec::new();
    while let Some(chunk) = stream.next().await {
        lines.feed(&chunk?, |line| {
            seen += 1;
            if seen % every == 0 {
                // Key columns are NOT NULL: every field has a value.
                points.push(
                    decode_fields(line)
                        .into_iter()
                        .map(Option::unwrap_or_default)
                        .collect(),
                );
            }
        });
    }
    Ok(points)
}

/// Ranges of a table whose key is scattered over the heap cover about this
/// many chunks' worth of bytes: fewer scans that each visit most pages,
/// while a mismatching range still narrows within bounded memory.
const COARSE: u64 = 4;

/// Merges neighbouring ranges (which must be contiguous, in key order) into
/// about one per `COARSE * chunk_bytes` of the table, but at least `jobs`,
/// so that a table alone still keeps every worker busy; never more ranges
/// than given.
pub fn coarsen(ranges: Vec<Range>, bytes: i64, chunk_bytes: u64, jobs: usize) -> Vec<Range> {
    let want = range_count(bytes, chunk_bytes.saturating_mul(COARSE)).max(jobs);
    planner::coarsen(ranges, want)
}

/// Verify's cap on one table's ranges: each is a job of its own, and a
/// planned table's key sample holds 64 keys per range in memory.
const MAX_RANGES: usize = 10_000;

/// How many ranges a table of `bytes` (as the catalog reads it, signed)
/// gets.
pub fn range_count(bytes: i64, chunk_bytes: u64) -> usize {
    let bytes = u64::try_from(bytes).unwrap_or(0);
    planner::range_count(bytes, chunk_bytes).min(MAX_RANGES)
}

/// Split points from a table's `key_range` chunks (from
/// [`crate::ledger::chunks::key_ranges`]), when they were cut on the same key. `None` when
/// there is nothing to reuse.
pub async fn from_chunks(
    source: &Client,
    chunks: Option<&[Option<KeyRange>]>,
    key: &[KeyCol],
) -> Result<Option<Vec<Range>>> {
    let Some(chunks) = chunks else {
        return Ok(None);
    };
    let names: Vec<&str> = key.iter().map(|k| k.name.as_str()).collect();
    let mut points = Vec::new();
    for chunk in chunks {
        match chunk_points(chunk.as_ref(), &names) {
            Some(p) => points.extend(p),
            None => return Ok(None),
        }
    }
    if points.is_empty() {
        return Ok(None);
    }
    Ok(Some(key_ranges(sort_points(source, key, points).await?)))
}

/// The bounds of one chunk row, or `None` if it was cut on another key or
/// is not a key range this version reads.
fn chunk_points(chunk: Option<&KeyRange>, key: &[&str]) -> Option<Vec<Vec<String>>> {
    let chunk = chunk?;
    if chunk.key_columns.as_ref().is_some_and(|cols| cols != key) {
        return None;
    }
    let Range::Key { lo, hi } = &chunk.range else {
        return None;
    };
    let bounds: Vec<Vec<String>> = lo.iter().chain(hi).cloned().collect();
    bounds
        .iter()
        .all(|b| b.len() == key.len())
        .then_some(bounds)
}

/// Sorts and dedupes split points in the order the range predicates
/// compare in (`COLLATE "C"` on text), using the source's own comparison:
/// ranges from unsorted points could leave rows in no range at all.
async fn sort_points(
    source: &Client,
    key: &[KeyCol],
    points: Vec<Vec<String>>,
) -> Result<Vec<Vec<String>>> {
    let values = points
        .iter()
        .map(|p| {
            let items = key
                .iter()
                .zip(p)
                .map(|(k, v)| format!("{}::{}", quote_literal(v), k.source_type))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({items})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    // The VALUES list's columns get our own names; no user name is in scope.
    let cols: Vec<String> = (1..=key.len()).map(|i| format!("c{i}")).collect();
    let order = key
        .iter()
        .zip(&cols)
        .map(|(k, c)| {
            if k.force_c {
                format!("{c} COLLATE \"C\"")
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {} FROM (VALUES {values}) AS v({}) ORDER BY {order}",
        cols.join(", "),
        cols.join(", ")
    );
    let mut sorted = rows_as_text(source, &sql, "sorting the data stage's split points").await?;
    sorted.dedup();
    Ok(sorted)
}

async fn rows_as_text(client: &Client, sql: &str, doing: &str) -> Result<Vec<Vec<String>>> {
    let msgs = client
        .simple_query(sql)
        .await
        .map_err(|e| catalog_err(Side::Source, doing, e))?;
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or_default().to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

/// Plans the ranges of a keyed table from a block sample of its keys on the
/// source (inside the verify snapshot).
pub async fn plan(
    source: &Client,
    table: &Table,
    key: &[KeyCol],
    chunk_bytes: u64,
) -> Result<Vec<Range>> {
    let n = range_count(table.bytes, chunk_bytes);
    if n == 1 || key.is_empty() {
        return Ok(vec![Range::Whole]);
    }
    let want = (n * 64) as f64;
    let rows = if table.est_rows > 0.0 {
        f64::from(table.est_rows)
    } else {
        table.bytes as f64 / 64.0
    };
    let mut pct = (want / rows.max(1.0) * 100.0).clamp(0.001, 100.0);
    let cols = key
        .iter()
        .map(|k| quote_ident(&k.name))
        .collect::<Vec<_>>()
        .join(", ");
    let order = compared_columns(key);
    // Block sampling of a few blocks can come back nearly empty; sample
    // more until there are enough keys to split on, at worst all of them.
    loop {
        let sql = format!(
            "SELECT {cols} FROM ONLY {} TABLESAMPLE SYSTEM ({pct}) ORDER BY {order}",
            quote_qualified(&table.schema, &table.name)
        );
        let samples = rows_as_text(source, &sql, "sampling keys").await?;
        if samples.len() >= n * 8 || pct >= 100.0 {
            return Ok(key_ranges(split_points(&samples, n)));
        }
        pct = (pct * 10.0).min(100.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<KeyCol> {
        vec![
            KeyCol {
                name: "tenant".into(),
                source_type: "text".into(),
                target_type: "text".into(),
                force_c: true,
            },
            KeyCol {
                name: "id".into(),
                source_type: "integer".into(),
                target_type: "bigint".into(),
                force_c: false,
            },
        ]
    }

    fn key(lo: Option<&str>, hi: Option<&str>) -> Range {
        Range::Key {
            lo: lo.map(|v| vec![v.to_string()]),
            hi: hi.map(|v| vec![v.to_string()]),
        }
    }

    #[test]
    fn predicates_quote_and_collate() {
        let range = Range::Key {
            lo: Some(vec!["a'b".into(), "1".into()]),
            hi: None,
        };
        assert_eq!(
            predicate(&keys(), &range, Side::Target).unwrap(),
            "ROW(\"tenant\" COLLATE \"C\", \"id\") >= ROW('a''b'::text COLLATE \"C\", '1'::bigint)"
        );
        assert_eq!(
            predicate(&keys(), &range, Side::Source).unwrap(),
            "ROW(\"tenant\" COLLATE \"C\", \"id\") >= ROW('a''b'::text COLLATE \"C\", '1'::integer)"
        );
        assert_eq!(predicate(&keys(), &Range::default(), Side::Source), None);
        assert_eq!(
            compared_columns(&keys()),
            "\"tenant\" COLLATE \"C\", \"id\""
        );
    }

    #[test]
    fn chunk_bounds_are_read_only_for_the_same_key() {
        let read = |kind: &str, cols: Option<&[&str]>, lo: serde_json::Value, hi| {
            crate::ranges::Range::from_ledger(kind, Some(&lo), Some(&hi)).map(|range| KeyRange {
                key_columns: cols.map(|c| c.iter().map(|s| s.to_string()).collect()),
                range,
            })
        };
        let chunk = read(
            "key_range",
            Some(&["tenant", "id"]),
            serde_json::json!(["a", "1"]),
            serde_json::Value::Null,
        );
        assert_eq!(
            chunk_points(chunk.as_ref(), &["tenant", "id"]),
            Some(vec![vec!["a".to_string(), "1".to_string()]])
        );
        assert_eq!(chunk_points(chunk.as_ref(), &["id"]), None);
        let no_names = read(
            "key_range",
            None,
            serde_json::json!(["5"]),
            serde_json::json!(["9"]),
        );
        assert_eq!(chunk_points(no_names.as_ref(), &["id"]).unwrap().len(), 2);
        // One value per key column, or the chunk was cut on another key.
        assert_eq!(chunk_points(no_names.as_ref(), &["tenant", "id"]), None);
        let ctid_like = read(
            "key_range",
            None,
            serde_json::json!(5),
            serde_json::json!(9),
        );
        assert_eq!(chunk_points(ctid_like.as_ref(), &["id"]), None);
        let ctid = read(
            "ctid_range",
            None,
            serde_json::json!(5),
            serde_json::json!(9),
        );
        assert_eq!(chunk_points(ctid.as_ref(), &["id"]), None);
    }

    #[test]
    fn range_count_grows_with_size() {
        assert_eq!(range_count(0, 1024), 1);
        assert_eq!(range_count(-1, 1024), 1);
        assert_eq!(range_count(3000, 1024), 3);
        assert_eq!(range_count(i64::MAX, 1024), MAX_RANGES);
    }

    #[test]
    fn coarsening_merges_neighbours_and_keeps_the_ends_open() {
        let points: Vec<Vec<String>> = (1..9).map(|i| vec![i.to_string()]).collect();
        let fine = key_ranges(points);
        assert_eq!(fine.len(), 9);
        let mb = 1024 * 1024;
        let coarse = coarsen(fine.clone(), 600 * mb, 64 * mb as u64, 2);
        assert_eq!(coarse.len(), 3);
        assert_eq!(coarse[0], key(None, Some("3")));
        assert_eq!(coarse[1], key(Some("3"), Some("6")));
        assert_eq!(coarse[2], key(Some("6"), None));
        // A small table gets one range per job; never more than given.
        assert_eq!(coarsen(fine.clone(), 10 * mb, 64 * mb as u64, 1).len(), 1);
        assert_eq!(coarsen(fine.clone(), 10 * mb, 64 * mb as u64, 2).len(), 2);
        assert_eq!(
            coarsen(fine[..2].to_vec(), 6000 * mb, 64 * mb as u64, 1).len(),
            2
        );
    }
}
