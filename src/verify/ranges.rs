//! Key ranges: how one table is split so that both sides can be read in
//! parallel, range by range, and a mismatch is narrowed to one range.
//!
//! Ranges come from split points sorted by the source. The first range is
//! open below and the last open above, so together they cover every possible
//! key on either side, whatever the split points are. Text keys compare in
//! their own collation when both sides have the same one (so the key's index
//! serves each range), else in `COLLATE "C"` on both sides, so that the two
//! servers put every key into the same range.

use std::collections::HashMap;

use futures::{pin_mut, StreamExt};
use tokio_postgres::{Client, SimpleQueryMessage};

use super::canonical::{decode_fields, LineSplitter};
use super::catalog::{catalog_err, Table};
use crate::error::Result;
use crate::pg::{quote_ident, quote_literal, quote_qualified, Side};

/// One key column, with its type spelled as each side names it.
#[derive(Debug, Clone)]
pub struct KeyCol {
    pub name: String,
    pub source_type: String,
    pub target_type: String,
    /// Compare in `COLLATE "C"`: the two sides' collations differ.
    pub force_c: bool,
}

/// Keys `lo <= key < hi`; `None` is unbounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range {
    pub lo: Option<Vec<String>>,
    pub hi: Option<Vec<String>>,
}

/// The key columns as ranges compare them (in "C" where the sides'
/// collations differ), comma-separated: for range bounds and ORDER BY.
pub fn compared_columns(key: &[KeyCol]) -> String {
    key.iter()
        .map(|k| {
            let c = quote_ident(&k.name);
            if k.force_c {
                format!("{c} COLLATE \"C\"")
            } else {
                c
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The WHERE clause for a range on one side; `None` for the whole table.
pub fn predicate(key: &[KeyCol], range: &Range, side: Side) -> Option<String> {
    let cols = compared_columns(key);
    let bound = |values: &[String]| {
        key.iter()
            .zip(values)
            .map(|(k, v)| {
                let ty = match side {
                    Side::Source => &k.source_type,
                    Side::Target => &k.target_type,
                };
                let lit = format!("{}::{ty}", quote_literal(v));
                if k.force_c {
                    format!("{lit} COLLATE \"C\"")
                } else {
                    lit
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if let Some(lo) = &range.lo {
        parts.push(format!("ROW({cols}) >= ROW({})", bound(lo)));
    }
    if let Some(hi) = &range.hi {
        parts.push(format!("ROW({cols}) < ROW({})", bound(hi)));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// Ranges between consecutive split points; split points must be sorted and
/// distinct.
pub fn from_split_points(points: Vec<Vec<String>>) -> Vec<Range> {
    let mut ranges = Vec::with_capacity(points.len() + 1);
    let mut lo = None;
    for p in points {
        ranges.push(Range {
            lo: lo.take(),
            hi: Some(p.clone()),
        });
        lo = Some(p);
    }
    ranges.push(Range { lo, hi: None });
    ranges
}

/// Sub-ranges of `range` between the sorted, distinct `points` inside it:
/// together they cover exactly what `range` covers.
pub fn within(range: &Range, points: Vec<Vec<String>>) -> Vec<Range> {
    let mut subs = from_split_points(points);
    if let Some(first) = subs.first_mut() {
        first.lo = range.lo.clone();
    }
    if let Some(last) = subs.last_mut() {
        last.hi = range.hi.clone();
    }
    subs
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

/// Picks `n - 1` evenly spaced, distinct split points from sorted samples.
pub fn quantiles(samples: &[Vec<String>], n: usize) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    if n < 2 || samples.is_empty() {
        return out;
    }
    for i in 1..n {
        let p = &samples[i * samples.len() / n];
        if out.last() != Some(p) {
            out.push(p.clone());
        }
    }
    out
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
    let n = ranges.len();
    if want >= n {
        return ranges;
    }
    (0..want)
        .map(|i| Range {
            lo: ranges[i * n / want].lo.clone(),
            hi: ranges[(i + 1) * n / want - 1].hi.clone(),
        })
        .collect()
}

/// How many ranges a table of `bytes` gets.
pub fn range_count(bytes: i64, chunk_bytes: u64) -> usize {
    let bytes = u64::try_from(bytes).unwrap_or(0);
    usize::try_from(bytes.div_ceil(chunk_bytes.max(1)))
        .unwrap_or(usize::MAX)
        .clamp(1, 10_000)
}

/// The data stage's `key_range` chunks of this run, by table, in order:
/// one query for all tables. Each is the chunk's whole row as JSON, so this
/// reads whatever columns the data stage's ledger migrations added without
/// depending on them.
pub async fn data_chunks(target: &Client, run: &str) -> Result<DataChunks> {
    let rows = target
        .query(
            "SELECT c.schema_name, c.table_name, to_jsonb(c) FROM supamigrate.chunks AS c
             WHERE c.run_id = $1 AND c.kind = 'key_range'
             ORDER BY c.schema_name, c.table_name, c.ordinal",
            &[&run],
        )
        .await
        .map_err(|e| catalog_err(Side::Target, "reading the data stage's chunks", &e))?;
    let mut out = DataChunks::new();
    for r in rows {
        out.entry((r.get(0), r.get(1))).or_default().push(r.get(2));
    }
    Ok(out)
}

/// Chunk rows by (schema, table).
pub type DataChunks = HashMap<(String, String), Vec<serde_json::Value>>;

/// Split points from a table's `key_range` chunks (from [`data_chunks`]),
/// when they were cut on the same key: their `range_lo`/`range_hi` are JSON
/// arrays of the key values as text. `None` when there is nothing to reuse.
pub async fn from_chunks(
    source: &Client,
    chunks: Option<&[serde_json::Value]>,
    key: &[KeyCol],
) -> Result<Option<Vec<Range>>> {
    let Some(chunks) = chunks else {
        return Ok(None);
    };
    let names: Vec<&str> = key.iter().map(|k| k.name.as_str()).collect();
    let mut points = Vec::new();
    for chunk in chunks {
        match chunk_points(chunk, &names) {
            Some(p) => points.extend(p),
            None => return Ok(None),
        }
    }
    if points.is_empty() {
        return Ok(None);
    }
    Ok(Some(from_split_points(
        sort_points(source, key, points).await?,
    )))
}

/// The bounds of one chunk, or `None` if it was cut on another key.
fn chunk_points(chunk: &serde_json::Value, key: &[&str]) -> Option<Vec<Vec<String>>> {
    if let Some(cols) = chunk.get("key_columns").filter(|c| !c.is_null()) {
        let cols: Vec<&str> = cols.as_array()?.iter().filter_map(|c| c.as_str()).collect();
        if cols != key {
            return None;
        }
    }
    let mut out = Vec::new();
    for bound in ["range_lo", "range_hi"] {
        match chunk.get(bound) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(values)) if values.len() == key.len() => {
                out.push(
                    values
                        .iter()
                        .map(|v| v.as_str().map(str::to_string))
                        .collect::<Option<Vec<String>>>()?,
                );
            }
            Some(_) => return None,
        }
    }
    Some(out)
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
        .map_err(|e| catalog_err(Side::Source, doing, &e))?;
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
        return Ok(vec![Range::default()]);
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
    let order = key
        .iter()
        .map(|k| {
            if k.force_c {
                format!("{} COLLATE \"C\"", quote_ident(&k.name))
            } else {
                quote_ident(&k.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    // Block sampling of a few blocks can come back nearly empty; sample
    // more until there are enough keys to split on, at worst all of them.
    loop {
        let sql = format!(
            "SELECT {cols} FROM ONLY {} TABLESAMPLE SYSTEM ({pct}) ORDER BY {order}",
            quote_qualified(&table.schema, &table.name)
        );
        let samples = rows_as_text(source, &sql, "sampling keys").await?;
        if samples.len() >= n * 8 || pct >= 100.0 {
            return Ok(from_split_points(quantiles(&samples, n)));
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

    #[test]
    fn split_points_cover_everything() {
        let r = from_split_points(vec![vec!["b".into()], vec!["d".into()]]);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].lo, None);
        assert_eq!(r[0].hi, r[1].lo);
        assert_eq!(r[1].hi, r[2].lo);
        assert_eq!(r[2].hi, None);
        assert_eq!(from_split_points(Vec::new()), vec![Range::default()]);
    }

    #[test]
    fn sub_ranges_tile_their_range() {
        let p = |v: &str| Some(vec![v.to_string()]);
        let range = Range {
            lo: p("b"),
            hi: p("m"),
        };
        let subs = within(&range, vec![vec!["d".into()], vec!["g".into()]]);
        assert_eq!(
            subs,
            vec![
                Range {
                    lo: p("b"),
                    hi: p("d")
                },
                Range {
                    lo: p("d"),
                    hi: p("g")
                },
                Range {
                    lo: p("g"),
                    hi: p("m")
                },
            ]
        );
        assert_eq!(within(&range, Vec::new()), vec![range.clone()]);
        let open = within(&Range::default(), vec![vec!["d".into()]]);
        assert_eq!((&open[0].lo, &open[1].hi), (&None, &None));
    }

    #[test]
    fn predicates_quote_and_collate() {
        let range = Range {
            lo: Some(vec!["a'b".into(), "1".into()]),
            hi: None,
        };
        assert_eq!(
            predicate(&keys(), &range, Side::Target).unwrap(),
            "ROW(\"tenant\" COLLATE \"C\", \"id\") >= ROW('a''b'::text COLLATE \"C\", '1'::bigint)"
        );
        assert_eq!(predicate(&keys(), &Range::default(), Side::Source), None);
    }

    #[test]
    fn quantiles_are_distinct() {
        let s: Vec<Vec<String>> = ["1", "1", "1", "2", "3", "4"]
            .iter()
            .map(|v| vec![v.to_string()])
            .collect();
        assert_eq!(
            quantiles(&s, 3),
            vec![vec!["1".to_string()], vec!["3".to_string()]]
        );
        assert!(quantiles(&s, 1).is_empty());
    }

    #[test]
    fn chunk_bounds_are_read_only_for_the_same_key() {
        let chunk = serde_json::json!({
            "key_columns": ["tenant", "id"], "range_lo": ["a", "1"], "range_hi": null
        });
        assert_eq!(
            chunk_points(&chunk, &["tenant", "id"]),
            Some(vec![vec!["a".to_string(), "1".to_string()]])
        );
        assert_eq!(chunk_points(&chunk, &["id"]), None);
        let no_names = serde_json::json!({ "range_lo": ["5"], "range_hi": ["9"] });
        assert_eq!(chunk_points(&no_names, &["id"]).unwrap().len(), 2);
        let ctid_like = serde_json::json!({ "range_lo": 5, "range_hi": 9 });
        assert_eq!(chunk_points(&ctid_like, &["id"]), None);
    }

    #[test]
    fn range_count_grows_with_size() {
        assert_eq!(range_count(0, 1024), 1);
        assert_eq!(range_count(3000, 1024), 3);
    }

    #[test]
    fn coarsening_merges_neighbours_and_keeps_the_ends_open() {
        let points: Vec<Vec<String>> = (1..9).map(|i| vec![i.to_string()]).collect();
        let fine = from_split_points(points);
        assert_eq!(fine.len(), 9);
        let mb = 1024 * 1024;
        let coarse = coarsen(fine.clone(), 600 * mb, 64 * mb as u64, 2);
        assert_eq!(coarse.len(), 3);
        assert_eq!(
            coarse[0],
            Range {
                lo: None,
                hi: Some(vec!["3".into()])
            }
        );
        assert_eq!(
            coarse[1],
            Range {
                lo: Some(vec!["3".into()]),
                hi: Some(vec!["6".into()])
            }
        );
        assert_eq!(
            coarse[2],
            Range {
                lo: Some(vec!["6".into()]),
                hi: None
            }
        );
        // A small table gets one range per job; never more than given.
        assert_eq!(coarsen(fine.clone(), 10 * mb, 64 * mb as u64, 1).len(), 1);
        assert_eq!(coarsen(fine.clone(), 10 * mb, 64 * mb as u64, 2).len(), 2);
        assert_eq!(
            coarsen(fine[..2].to_vec(), 6000 * mb, 64 * mb as u64, 1).len(),
            2
        );
    }
}
