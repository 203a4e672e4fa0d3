//! Chunk planning, without I/O: which tables go first, how a table is cut
//! into ranges, and the SQL predicate and ledger encoding of each range.
//!
//! Ledger encoding of a range (`supamigrate.chunks`, read by `verify` too):
//! - `kind = 'whole'`: `range_lo` and `range_hi` are NULL; the chunk is the
//!   whole table.
//! - `kind = 'key_range'`: `key_columns` names the key (a primary key or a
//!   NOT NULL unique index) in index order; `range_lo` and `range_hi` are JSON
//!   arrays of the key's values as PostgreSQL text (`k::text`), one string
//!   per key column. The chunk holds the rows with `lo <= (key) < hi`, compared
//!   as a row constructor on the source; a NULL bound is open.
//! - `kind = 'ctid_range'`: `range_lo` and `range_hi` are JSON numbers, heap
//!   block numbers; the chunk holds `'(lo,0)' <= ctid < '(hi,0)'`, a NULL
//!   bound is open. Ctid ranges mean nothing under another snapshot, so such
//!   a table restarts whole after an interruption.

use serde_json::Value;

use crate::pg::{quote_ident, quote_literal};

/// One column of the key used to split a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    pub name: String,
    /// `format_type` of the column, used to cast the text bounds back.
    pub type_name: String,
}

/// How a table can be cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Splitter {
    Key(Vec<KeyColumn>),
    Ctid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    Whole,
    Key {
        lo: Option<Vec<String>>,
        hi: Option<Vec<String>>,
    },
    Ctid {
        lo: Option<u64>,
        hi: Option<u64>,
    },
}

impl Range {
    pub fn kind(&self) -> &'static str {
        match self {
            Range::Whole => "whole",
            Range::Key { .. } => "key_range",
            Range::Ctid { .. } => "ctid_range",
        }
    }

    /// The `WHERE` clause (without the keyword) selecting this range on the
    /// source; `None` for the whole table.
    pub fn predicate(&self, key: &[KeyColumn]) -> Option<String> {
        let parts: Vec<String> = match self {
            Range::Whole => return None,
            Range::Key { lo, hi } => {
                let cols = row_of(key.iter().map(|k| quote_ident(&k.name)));
                let bound = |vals: &Vec<String>| {
                    row_of(
                        key.iter()
                            .zip(vals)
                            .map(|(k, v)| format!("{}::{}", quote_literal(v), k.type_name)),
                    )
                };
                let mut p = Vec::new();
                if let Some(lo) = lo {
                    p.push(format!("{cols} >= {}", bound(lo)));
                }
                if let Some(hi) = hi {
                    p.push(format!("{cols} < {}", bound(hi)));
                }
                p
            }
            Range::Ctid { lo, hi } => {
                let mut p = Vec::new();
                if let Some(lo) = lo {
                    p.push(format!("ctid >= '({lo},0)'::tid"));
                }
                if let Some(hi) = hi {
                    p.push(format!("ctid < '({hi},0)'::tid"));
                }
                p
            }
        };
        if parts.is_empty() {
            None
        } else {
            Some(parts.join(" AND "))
        }
    }

    /// `(range_lo, range_hi)` as stored in the ledger.
    pub fn to_json(&self) -> (Option<Value>, Option<Value>) {
        match self {
            Range::Whole => (None, None),
            Range::Key { lo, hi } => (
                lo.as_ref().map(|v| Value::from(v.clone())),
                hi.as_ref().map(|v| Value::from(v.clone())),
            ),
            Range::Ctid { lo, hi } => (lo.map(Value::from), hi.map(Value::from)),
        }
    }

    /// Reads back what `to_json` stored; `None` if the row is not ours.
    pub fn from_json(kind: &str, lo: Option<&Value>, hi: Option<&Value>) -> Option<Range> {
        fn key(v: Option<&Value>) -> Option<Option<Vec<String>>> {
            match v {
                None | Some(Value::Null) => Some(None),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| x.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .map(Some),
                Some(_) => None,
            }
        }
        fn block(v: Option<&Value>) -> Option<Option<u64>> {
            match v {
                None | Some(Value::Null) => Some(None),
                Some(v) => v.as_u64().map(Some),
            }
        }
        match kind {
            "whole" => Some(Range::Whole),
            "key_range" => Some(Range::Key {
                lo: key(lo)?,
                hi: key(hi)?,
            }),
            "ctid_range" => Some(Range::Ctid {
                lo: block(lo)?,
                hi: block(hi)?,
            }),
            _ => None,
        }
    }
}

fn row_of(items: impl Iterator<Item = String>) -> String {
    format!("ROW({})", items.collect::<Vec<_>>().join(", "))
}

/// How many chunks a table of `bytes` gets at `chunk_bytes` each.
pub fn chunk_count(bytes: u64, chunk_bytes: u64) -> usize {
    let chunk_bytes = chunk_bytes.max(1);
    usize::try_from(bytes.div_ceil(chunk_bytes))
        .unwrap_or(usize::MAX)
        .max(1)
}

/// How closely heap position follows key order in a sample sorted by key:
/// the correlation between each row's rank and its heap block, from -1 to
/// 1; 0 for fewer than two rows or no spread.
pub fn order_correlation(blocks: &[i64]) -> f64 {
    let n = blocks.len();
    if n < 2 {
        return 0.0;
    }
    let mean_rank = (n as f64 - 1.0) / 2.0;
    let mean_block = blocks.iter().map(|&b| b as f64).sum::<f64>() / n as f64;
    let (mut cov, mut var_rank, mut var_block) = (0.0, 0.0, 0.0);
    for (i, &b) in blocks.iter().enumerate() {
        let (dr, db) = (i as f64 - mean_rank, b as f64 - mean_block);
        cov += dr * db;
        var_rank += dr * dr;
        var_block += db * db;
    }
    if var_block == 0.0 {
        return 0.0;
    }
    cov / (var_rank * var_block).sqrt()
}

/// Picks up to `n - 1` split points from a sorted sample of keys, evenly by
/// rank, without repeats, so that the resulting ranges hold about the same
/// number of sampled rows.
pub fn split_points(sample: &[Vec<String>], n: usize) -> Vec<Vec<String>> {
    let mut points: Vec<Vec<String>> = Vec::new();
    if n < 2 || sample.is_empty() {
        return points;
    }
    for i in 1..n {
        let at = i * sample.len() / n;
        // Rank 0 would make an empty first range.
        if at == 0 || at >= sample.len() {
            continue;
        }
        let p = &sample[at];
        if points.last() != Some(p) {
            points.push(p.clone());
        }
    }
    points
}

/// Consecutive key ranges around the split points; the first and the last
/// are open so rows outside the sampled span are still covered.
pub fn key_ranges(points: Vec<Vec<String>>) -> Vec<Range> {
    if points.is_empty() {
        return vec![Range::Whole];
    }
    let mut out = Vec::with_capacity(points.len() + 1);
    let mut lo = None;
    for p in points {
        out.push(Range::Key {
            lo: lo.take(),
            hi: Some(p.clone()),
        });
        lo = Some(p);
    }
    out.push(Range::Key { lo, hi: None });
    out
}

/// `n` block ranges over a heap of `blocks` blocks; the last is open so rows
/// in blocks added after the size was read are still covered.
pub fn ctid_ranges(blocks: u64, n: usize) -> Vec<Range> {
    let n = (n as u64).min(blocks.max(1));
    if n < 2 {
        return vec![Range::Whole];
    }
    let step = blocks.div_ceil(n);
    let mut out = Vec::new();
    let mut lo = 0;
    while lo < blocks {
        let hi = lo + step;
        out.push(Range::Ctid {
            lo: (lo > 0).then_some(lo),
            hi: (hi < blocks).then_some(hi),
        });
        lo = hi;
    }
    out
}

/// Largest tables first, so the longest copy starts at once and small tables
/// fill the gaps at the end; ties by name for a stable order.
pub fn largest_first<T>(items: &mut [T], key: impl Fn(&T) -> (u64, String)) {
    items.sort_by(|a, b| {
        let (ba, na) = key(a);
        let (bb, nb) = key(b);
        bb.cmp(&ba).then(na.cmp(&nb))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chunk_count_rounds_up_and_is_at_least_one() {
        assert_eq!(chunk_count(0, 64), 1);
        assert_eq!(chunk_count(64, 64), 1);
        assert_eq!(chunk_count(65, 64), 2);
        assert_eq!(chunk_count(10, 0), 10);
    }

    #[test]
    fn split_points_are_even_by_rank_and_distinct() {
        let sample: Vec<_> = (0..100).map(|i| k(&[&i.to_string()])).collect();
        let p = split_points(&sample, 4);
        assert_eq!(p, vec![k(&["25"]), k(&["50"]), k(&["75"])]);
        let tiny = vec![k(&["a"])];
        assert!(split_points(&tiny, 4).is_empty());
        let dup = vec![k(&["a"]), k(&["b"]), k(&["b"]), k(&["b"])];
        assert_eq!(split_points(&dup, 4), vec![k(&["b"])]);
    }

    #[test]
    fn key_ranges_cover_everything_without_overlap() {
        let r = key_ranges(vec![k(&["10"]), k(&["20"])]);
        assert_eq!(
            r,
            vec![
                Range::Key {
                    lo: None,
                    hi: Some(k(&["10"]))
                },
                Range::Key {
                    lo: Some(k(&["10"])),
                    hi: Some(k(&["20"]))
                },
                Range::Key {
                    lo: Some(k(&["20"])),
                    hi: None
                },
            ]
        );
        assert_eq!(key_ranges(vec![]), vec![Range::Whole]);
    }

    #[test]
    fn ctid_ranges_split_blocks_and_leave_the_ends_open() {
        let r = ctid_ranges(10, 3);
        assert_eq!(
            r,
            vec![
                Range::Ctid {
                    lo: None,
                    hi: Some(4)
                },
                Range::Ctid {
                    lo: Some(4),
                    hi: Some(8)
                },
                Range::Ctid {
                    lo: Some(8),
                    hi: None
                },
            ]
        );
        assert_eq!(ctid_ranges(1, 5), vec![Range::Whole]);
        assert_eq!(ctid_ranges(0, 5), vec![Range::Whole]);
    }

    #[test]
    fn predicates_quote_names_and_values() {
        let key = vec![
            KeyColumn {
                name: "Org".into(),
                type_name: "text".into(),
            },
            KeyColumn {
                name: "id".into(),
                type_name: "bigint".into(),
            },
        ];
        let r = Range::Key {
            lo: Some(k(&["it's", "1"])),
            hi: None,
        };
        assert_eq!(
            r.predicate(&key).unwrap(),
            "ROW(\"Org\", \"id\") >= ROW('it''s'::text, '1'::bigint)"
        );
        let c = Range::Ctid {
            lo: Some(8),
            hi: Some(16),
        };
        assert_eq!(
            c.predicate(&[]).unwrap(),
            "ctid >= '(8,0)'::tid AND ctid < '(16,0)'::tid"
        );
        assert_eq!(Range::Whole.predicate(&key), None);
    }

    #[test]
    fn ledger_encoding_round_trips() {
        for r in [
            Range::Whole,
            Range::Key {
                lo: Some(k(&["a", "1"])),
                hi: None,
            },
            Range::Key {
                lo: None,
                hi: Some(k(&["z"])),
            },
            Range::Ctid {
                lo: Some(3),
                hi: None,
            },
        ] {
            let (lo, hi) = r.to_json();
            assert_eq!(
                Range::from_json(r.kind(), lo.as_ref(), hi.as_ref()),
                Some(r)
            );
        }
        assert_eq!(Range::from_json("bogus", None, None), None);
    }

    #[test]
    fn largest_first_breaks_ties_by_name() {
        let mut t = vec![(1, "b"), (5, "a"), (1, "a")];
        largest_first(&mut t, |x| (x.0, x.1.to_string()));
        assert_eq!(t, vec![(5, "a"), (1, "a"), (1, "b")]);
    }

    #[test]
    fn order_correlation_tells_ordered_from_scattered_keys() {
        let ordered: Vec<i64> = (0..1000).map(|i| i / 50).collect();
        assert!(order_correlation(&ordered) > 0.99);
        let reversed: Vec<i64> = ordered.iter().rev().copied().collect();
        assert!(order_correlation(&reversed) < -0.99);
        // Keys spread over blocks by a multiplicative hash: no order.
        let scattered: Vec<i64> = (0..1000u64)
            .map(|i| ((i * 2654435761) % 997) as i64)
            .collect();
        assert!(order_correlation(&scattered).abs() < 0.1);
        assert_eq!(order_correlation(&[5]), 0.0);
        assert_eq!(order_correlation(&[3, 3, 3]), 0.0);
    }
}
