//! The pure range planner used by data (chunks), verify (ranges and
//! narrowing) and, later, sync: how a table is cut into ranges, the SQL
//! predicate of each, and their form in the ledger. No I/O: the stages read
//! sizes and sample keys, and run the SQL built here.
//!
//! A range is one of:
//! - the whole table;
//! - a key range, the rows with `lo <= (key) < hi` compared as row
//!   constructors, each bound one value per key column as PostgreSQL text
//!   (`k::text`); the key is a primary key or a NOT NULL unique index, so no
//!   bound holds a NULL;
//! - a ctid range, the rows in heap blocks `lo <= block < hi`. Ctid ranges
//!   mean nothing under another snapshot.
//!
//! A `None` bound is open. A plan's first range is open below and its last
//! open above, so together they cover rows outside the sampled span too.
//!
//! Ledger form (the chunk rows of `ledger::chunks`, written by `data`, read
//! by `verify`),
//! which is also the serde form of [`Range`], as `to_jsonb` of a chunk row
//! shows it:
//! - `kind = 'whole'`: `range_lo` and `range_hi` are NULL.
//! - `kind = 'key_range'`: `range_lo` and `range_hi` are JSON arrays of
//!   strings, the key's values; the row's `key_columns` names the key.
//! - `kind = 'ctid_range'`: `range_lo` and `range_hi` are JSON numbers, heap
//!   block numbers.
//!
//! An open bound is SQL NULL, not JSON `null`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pg::{quote_ident, quote_literal};

/// One column of the key a table is cut on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyColumn {
    pub name: String,
    /// `format_type` of the column, used to cast the text bounds back.
    pub type_name: String,
}

/// One part of a table; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Range {
    #[default]
    #[serde(rename = "whole")]
    Whole,
    #[serde(rename = "key_range")]
    Key {
        #[serde(rename = "range_lo", skip_serializing_if = "Option::is_none")]
        lo: Option<Vec<String>>,
        #[serde(rename = "range_hi", skip_serializing_if = "Option::is_none")]
        hi: Option<Vec<String>>,
    },
    #[serde(rename = "ctid_range")]
    Ctid {
        #[serde(rename = "range_lo", skip_serializing_if = "Option::is_none")]
        lo: Option<u64>,
        #[serde(rename = "range_hi", skip_serializing_if = "Option::is_none")]
        hi: Option<u64>,
    },
}

impl Range {
    /// The ledger's `kind` of this range.
    pub fn kind(&self) -> &'static str {
        match self {
            Range::Whole => "whole",
            Range::Key { .. } => "key_range",
            Range::Ctid { .. } => "ctid_range",
        }
    }

    /// The ledger's `(range_lo, range_hi)`, taken from the serde form so that
    /// the columns and `to_jsonb` of the row agree.
    pub fn ledger_bounds(&self) -> (Option<Value>, Option<Value>) {
        let mut row = serde_json::to_value(self).expect("a range is plain JSON");
        (
            row.get_mut("range_lo").map(Value::take),
            row.get_mut("range_hi").map(Value::take),
        )
    }

    /// Reads back the ledger's `kind`, `range_lo` and `range_hi`; `None` if
    /// this version cannot read them.
    pub fn from_ledger(kind: &str, lo: Option<&Value>, hi: Option<&Value>) -> Option<Range> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "range_lo": lo, "range_hi": hi }))
            .ok()
    }

    /// The `WHERE` clause (without the keyword) selecting this range, each
    /// key column compared in its own collation; `None` for the whole table.
    pub fn predicate(&self, key: &[KeyColumn]) -> Option<String> {
        self.predicate_collated(key, &[])
    }

    /// As [`Range::predicate`], but the key columns flagged in `in_c` (by
    /// position; a missing flag is `false`) compare in `COLLATE "C"`.
    pub fn predicate_collated(&self, key: &[KeyColumn], in_c: &[bool]) -> Option<String> {
        let parts: Vec<String> = match self {
            Range::Whole => Vec::new(),
            Range::Key { lo, hi } => {
                let cols = compared_columns(key, in_c);
                let bound = |values: &Vec<String>| {
                    key.iter()
                        .zip(values)
                        .enumerate()
                        .map(|(i, (k, v))| {
                            collated(format!("{}::{}", quote_literal(v), k.type_name), in_c, i)
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                [(">=", lo), ("<", hi)]
                    .into_iter()
                    .filter_map(|(op, b)| {
                        b.as_ref()
                            .map(|b| format!("ROW({cols}) {op} ROW({})", bound(b)))
                    })
                    .collect()
            }
            Range::Ctid { lo, hi } => [(">=", lo), ("<", hi)]
                .into_iter()
                .filter_map(|(op, b)| b.map(|b| format!("ctid {op} '({b},0)'::tid")))
                .collect(),
        };
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }
}

/// The key columns as range bounds compare them, comma-separated: the same
/// order serves ORDER BY, so that a range's rows come sorted as its bounds
/// compare them. Columns flagged in `in_c` compare in `COLLATE "C"`.
pub fn compared_columns(key: &[KeyColumn], in_c: &[bool]) -> String {
    key.iter()
        .enumerate()
        .map(|(i, k)| collated(quote_ident(&k.name), in_c, i))
        .collect::<Vec<_>>()
        .join(", ")
}

fn collated(expr: String, in_c: &[bool], i: usize) -> String {
    if in_c.get(i).copied().unwrap_or(false) {
        format!("{expr} COLLATE \"C\"")
    } else {
        expr
    }
}

/// How many ranges a table of `bytes` gets at `chunk_bytes` each; at least
/// one, as an empty table is still one range to copy or to compare.
pub fn range_count(bytes: u64, chunk_bytes: u64) -> usize {
    usize::try_from(bytes.div_ceil(chunk_bytes.max(1)))
        .unwrap_or(usize::MAX)
        .max(1)
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
        // Rank 0 only comes up when the sample holds fewer keys than ranges
        // are wanted, that is when it is the whole table: a range below its
        // first key would be empty.
        if at == 0 {
            continue;
        }
        let p = &sample[at];
        if points.last() != Some(p) {
            points.push(p.clone());
        }
    }
    points
}

/// Consecutive key ranges around sorted, distinct split points, open at both
/// ends; the whole table when there are none.
pub fn key_ranges(points: Vec<Vec<String>>) -> Vec<Range> {
    within(&Range::Whole, points)
}

/// Sub-ranges of `range` between the sorted, distinct key `points` inside
/// it: together they cover exactly what `range` covers. Key points cannot
/// cut a ctid range, which is its own only sub-range.
pub fn within(range: &Range, points: Vec<Vec<String>>) -> Vec<Range> {
    let (mut lo, hi) = match range {
        Range::Key { lo, hi } => (lo.clone(), hi.clone()),
        Range::Whole if !points.is_empty() => (None, None),
        Range::Whole | Range::Ctid { .. } => return vec![range.clone()],
    };
    let mut out = Vec::with_capacity(points.len() + 1);
    for p in points {
        out.push(Range::Key {
            lo: lo.take(),
            hi: Some(p.clone()),
        });
        lo = Some(p);
    }
    out.push(Range::Key { lo, hi });
    out
}

/// Up to `n` ctid ranges of equal whole steps over a heap of `blocks`
/// blocks; the last is open so rows in blocks added after the size was read
/// are still covered.
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

/// Exactly `parts` ctid ranges over a heap of `blocks` blocks, cut evenly
/// (some are empty when there are fewer blocks than parts): part `i` of one
/// server's heap is read next to part `i` of the other's, so both need the
/// same count whatever their sizes. The first is open below and the last
/// above, so the parts cover every row.
pub fn page_parts(blocks: u64, parts: usize) -> Vec<Range> {
    let n = parts as u64;
    let at = |j: u64| blocks * j / n;
    (0..n)
        .map(|i| Range::Ctid {
            lo: (i > 0).then(|| at(i)),
            hi: (i + 1 < n).then(|| at(i + 1)),
        })
        .collect()
}

/// Merges neighbouring ranges (contiguous and in order, as planned) into
/// `want` ranges of about as many given ranges each; never more ranges than
/// given, nor none of them.
pub fn coarsen(ranges: Vec<Range>, want: usize) -> Vec<Range> {
    let n = ranges.len();
    let want = want.max(1);
    if want >= n {
        return ranges;
    }
    (0..want)
        .map(|i| span(&ranges[i * n / want], &ranges[(i + 1) * n / want - 1]))
        .collect()
}

/// The range from the start of `first` to the end of `last`. A plan's ranges
/// are all of one kind; anything else is spanned by the whole table, which
/// at least covers it.
fn span(first: &Range, last: &Range) -> Range {
    match (first, last) {
        (Range::Key { lo, .. }, Range::Key { hi, .. }) => Range::Key {
            lo: lo.clone(),
            hi: hi.clone(),
        },
        (Range::Ctid { lo, .. }, Range::Ctid { hi, .. }) => Range::Ctid { lo: *lo, hi: *hi },
        _ => Range::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn k(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn key(lo: Option<&[&str]>, hi: Option<&[&str]>) -> Range {
        Range::Key {
            lo: lo.map(k),
            hi: hi.map(k),
        }
    }

    fn ctid(lo: Option<u64>, hi: Option<u64>) -> Range {
        Range::Ctid { lo, hi }
    }

    fn col(name: &str, type_name: &str) -> KeyColumn {
        KeyColumn {
            name: name.into(),
            type_name: type_name.into(),
        }
    }

    /// Checks that `ranges` tile the key space: open ends, each range's upper
    /// bound the next one's lower bound.
    fn assert_tiles(ranges: &[Range]) {
        let bounds: Vec<_> = ranges
            .iter()
            .map(|r| match r {
                Range::Key { lo, hi } => (lo.clone(), hi.clone()),
                other => panic!("not a key range: {other:?}"),
            })
            .collect();
        assert_eq!(bounds.first().unwrap().0, None, "{ranges:?}");
        assert_eq!(bounds.last().unwrap().1, None, "{ranges:?}");
        for pair in bounds.windows(2) {
            assert!(pair[0].1.is_some(), "{ranges:?}");
            assert_eq!(pair[0].1, pair[1].0, "{ranges:?}");
        }
    }

    #[test]
    fn range_count_rounds_up_and_is_at_least_one() {
        assert_eq!(range_count(0, 64), 1);
        assert_eq!(range_count(1, 64), 1);
        assert_eq!(range_count(64, 64), 1);
        assert_eq!(range_count(65, 64), 2);
        assert_eq!(range_count(3000, 1024), 3);
        assert_eq!(range_count(10, 0), 10);
    }

    #[test]
    fn split_points_are_even_by_rank_and_distinct() {
        let sample: Vec<_> = (0..100).map(|i| k(&[&i.to_string()])).collect();
        assert_eq!(
            split_points(&sample, 4),
            vec![k(&["25"]), k(&["50"]), k(&["75"])]
        );
        let dup = vec![k(&["a"]), k(&["b"]), k(&["b"]), k(&["b"])];
        assert_eq!(split_points(&dup, 4), vec![k(&["b"])]);
        let s: Vec<_> = ["1", "1", "1", "2", "3", "4"]
            .iter()
            .map(|v| k(&[v]))
            .collect();
        assert_eq!(split_points(&s, 3), vec![k(&["1"]), k(&["3"])]);
        assert!(split_points(&s, 1).is_empty());
        assert!(split_points(&s, 0).is_empty());
    }

    #[test]
    fn an_empty_or_one_row_table_is_one_whole_range() {
        assert!(split_points(&[], 8).is_empty());
        assert_eq!(key_ranges(split_points(&[], 8)), vec![Range::Whole]);
        let one = vec![k(&["only"])];
        assert!(split_points(&one, 8).is_empty());
        assert_eq!(key_ranges(split_points(&one, 8)), vec![Range::Whole]);
        assert_eq!(ctid_ranges(0, 5), vec![Range::Whole]);
        assert_eq!(ctid_ranges(1, 5), vec![Range::Whole]);
    }

    #[test]
    fn a_sample_smaller_than_the_plan_makes_no_empty_first_range() {
        // Three keys, eight ranges wanted: rank 0 would cut below "a".
        let s = vec![k(&["a"]), k(&["b"]), k(&["c"])];
        assert_eq!(split_points(&s, 8), vec![k(&["b"]), k(&["c"])]);
    }

    #[test]
    fn duplicate_keys_never_make_an_empty_range() {
        let s = vec![k(&["x"]); 50];
        let points = split_points(&s, 10);
        assert_eq!(points, vec![k(&["x"])]);
        let ranges = key_ranges(points);
        assert_eq!(
            ranges,
            vec![key(None, Some(&["x"])), key(Some(&["x"]), None)]
        );
    }

    #[test]
    fn key_ranges_cover_everything_without_overlap() {
        let r = key_ranges(vec![k(&["10"]), k(&["20"])]);
        assert_eq!(
            r,
            vec![
                key(None, Some(&["10"])),
                key(Some(&["10"]), Some(&["20"])),
                key(Some(&["20"]), None),
            ]
        );
        assert_tiles(&r);
        assert_eq!(key_ranges(vec![]), vec![Range::Whole]);
    }

    #[test]
    fn composite_keys_split_and_tile() {
        let sample: Vec<_> = (0..40)
            .map(|i| k(&[&format!("t{}", i / 10), &(i % 10).to_string()]))
            .collect();
        let points = split_points(&sample, 4);
        assert_eq!(
            points,
            vec![k(&["t1", "0"]), k(&["t2", "0"]), k(&["t3", "0"])]
        );
        let ranges = key_ranges(points);
        assert_eq!(ranges.len(), 4);
        assert_tiles(&ranges);
        assert_eq!(ranges[1], key(Some(&["t1", "0"]), Some(&["t2", "0"])));
    }

    #[test]
    fn sub_ranges_tile_their_range() {
        let range = key(Some(&["b"]), Some(&["m"]));
        assert_eq!(
            within(&range, vec![k(&["d"]), k(&["g"])]),
            vec![
                key(Some(&["b"]), Some(&["d"])),
                key(Some(&["d"]), Some(&["g"])),
                key(Some(&["g"]), Some(&["m"])),
            ]
        );
        assert_eq!(within(&range, Vec::new()), vec![range.clone()]);
        let open = within(&Range::Whole, vec![k(&["d"])]);
        assert_eq!(open, vec![key(None, Some(&["d"])), key(Some(&["d"]), None)]);
        assert_eq!(within(&Range::Whole, Vec::new()), vec![Range::Whole]);
        let half_open = within(&key(Some(&["b"]), None), vec![k(&["d"])]);
        assert_eq!(
            half_open,
            vec![key(Some(&["b"]), Some(&["d"])), key(Some(&["d"]), None)]
        );
        let pages = ctid(Some(4), Some(8));
        assert_eq!(within(&pages, vec![k(&["d"])]), vec![pages.clone()]);
    }

    #[test]
    fn ctid_ranges_split_blocks_and_leave_the_ends_open() {
        assert_eq!(
            ctid_ranges(10, 3),
            vec![
                ctid(None, Some(4)),
                ctid(Some(4), Some(8)),
                ctid(Some(8), None)
            ]
        );
        // Whole steps: 10 blocks in 6 wanted are 5 ranges of 2.
        assert_eq!(ctid_ranges(10, 6).len(), 5);
        // Never more ranges than blocks.
        assert_eq!(
            ctid_ranges(2, 5),
            vec![ctid(None, Some(1)), ctid(Some(1), None)]
        );
        assert_eq!(ctid_ranges(100, 1), vec![Range::Whole]);
    }

    #[test]
    fn page_parts_cover_every_block_once_with_open_ends() {
        for (blocks, parts) in [(10, 3), (3, 5), (0, 2), (1000, 7), (5, 1)] {
            let bounds: Vec<_> = page_parts(blocks, parts)
                .into_iter()
                .map(|r| match r {
                    Range::Ctid { lo, hi } => (lo, hi),
                    other => panic!("not a ctid range: {other:?}"),
                })
                .collect();
            assert_eq!(bounds.len(), parts);
            assert_eq!(bounds[0].0, None);
            assert_eq!(bounds[parts - 1].1, None);
            for pair in bounds.windows(2) {
                assert_eq!(
                    pair[0].1, pair[1].0,
                    "{blocks} blocks in {parts}: {bounds:?}"
                );
            }
            for b in &bounds[..parts - 1] {
                assert!(b.1.unwrap() <= blocks);
            }
        }
        assert_eq!(page_parts(10, 3)[1], ctid(Some(3), Some(6)));
        assert!(page_parts(10, 0).is_empty());
    }

    #[test]
    fn coarsening_merges_neighbours_and_keeps_the_ends_open() {
        let points: Vec<_> = (1..9).map(|i| k(&[&i.to_string()])).collect();
        let fine = key_ranges(points);
        assert_eq!(fine.len(), 9);
        let coarse = coarsen(fine.clone(), 3);
        assert_eq!(
            coarse,
            vec![
                key(None, Some(&["3"])),
                key(Some(&["3"]), Some(&["6"])),
                key(Some(&["6"]), None),
            ]
        );
        assert_tiles(&coarse);
        assert_eq!(coarsen(fine.clone(), 1), vec![key(None, None)]);
        assert_eq!(coarsen(fine.clone(), 0).len(), 1);
        assert_eq!(coarsen(fine.clone(), 9), fine);
        assert_eq!(coarsen(fine[..2].to_vec(), 5), fine[..2].to_vec());
        assert_eq!(
            coarsen(ctid_ranges(12, 4), 2),
            vec![ctid(None, Some(6)), ctid(Some(6), None)]
        );
        assert_eq!(coarsen(Vec::new(), 3), Vec::new());
    }

    #[test]
    fn key_predicates_quote_names_and_values() {
        let key2 = vec![col("Org", "text"), col("id", "bigint")];
        assert_eq!(
            key(Some(&["it's", "1"]), None).predicate(&key2).unwrap(),
            "ROW(\"Org\", \"id\") >= ROW('it''s'::text, '1'::bigint)"
        );
        assert_eq!(
            key(None, Some(&["b", "2"])).predicate(&key2).unwrap(),
            "ROW(\"Org\", \"id\") < ROW('b'::text, '2'::bigint)"
        );
        let id = vec![col("id", "bigint")];
        assert_eq!(
            key(Some(&["1"]), Some(&["9"])).predicate(&id).unwrap(),
            "ROW(\"id\") >= ROW('1'::bigint) AND ROW(\"id\") < ROW('9'::bigint)"
        );
        // Open bounds compare against nothing, not against NULL.
        assert_eq!(key(None, None).predicate(&id), None);
        let half = key(Some(&["1"]), None).predicate(&id).unwrap();
        assert!(!half.contains("NULL") && !half.contains('<'), "{half}");
        assert_eq!(Range::Whole.predicate(&key2), None);
    }

    #[test]
    fn collated_predicates_compare_flagged_columns_in_c() {
        let key2 = vec![col("tenant", "text"), col("id", "bigint")];
        let r = key(Some(&["a'b", "1"]), Some(&["c", "2"]));
        assert_eq!(
            r.predicate_collated(&key2, &[true, false]).unwrap(),
            "ROW(\"tenant\" COLLATE \"C\", \"id\") >= ROW('a''b'::text COLLATE \"C\", '1'::bigint) \
             AND ROW(\"tenant\" COLLATE \"C\", \"id\") < ROW('c'::text COLLATE \"C\", '2'::bigint)"
        );
        assert_eq!(r.predicate_collated(&key2, &[]), r.predicate(&key2));
        assert_eq!(
            compared_columns(&key2, &[false, true]),
            "\"tenant\", \"id\" COLLATE \"C\""
        );
    }

    #[test]
    fn ctid_predicates_bound_heap_blocks() {
        assert_eq!(
            ctid(Some(8), Some(16)).predicate(&[]).unwrap(),
            "ctid >= '(8,0)'::tid AND ctid < '(16,0)'::tid"
        );
        assert_eq!(
            ctid(None, Some(4)).predicate(&[]).unwrap(),
            "ctid < '(4,0)'::tid"
        );
        assert_eq!(
            ctid(Some(4), None).predicate(&[]).unwrap(),
            "ctid >= '(4,0)'::tid"
        );
        assert_eq!(ctid(None, None).predicate(&[]), None);
    }

    #[test]
    fn ledger_form_is_the_chunk_rows_json() {
        let cases = [
            (Range::Whole, json!({ "kind": "whole" })),
            (
                key(Some(&["a", "1"]), None),
                json!({ "kind": "key_range", "range_lo": ["a", "1"] }),
            ),
            (
                key(None, Some(&["z"])),
                json!({ "kind": "key_range", "range_hi": ["z"] }),
            ),
            (
                ctid(Some(3), Some(7)),
                json!({ "kind": "ctid_range", "range_lo": 3, "range_hi": 7 }),
            ),
        ];
        for (range, form) in cases {
            assert_eq!(serde_json::to_value(&range).unwrap(), form);
            assert_eq!(form["kind"], range.kind());
            let (lo, hi) = range.ledger_bounds();
            // Open bounds are SQL NULL, never JSON null.
            assert_eq!(lo.as_ref(), form.get("range_lo"));
            assert_eq!(hi.as_ref(), form.get("range_hi"));
            assert_eq!(
                Range::from_ledger(range.kind(), lo.as_ref(), hi.as_ref()),
                Some(range)
            );
        }
    }

    #[test]
    fn ledger_rows_as_stored_read_back() {
        // As earlier versions wrote them, and as a whole chunk row reads.
        assert_eq!(
            Range::from_ledger("key_range", Some(&json!(["a", "1"])), Some(&Value::Null)),
            Some(key(Some(&["a", "1"]), None))
        );
        assert_eq!(
            Range::from_ledger("ctid_range", None, Some(&json!(9))),
            Some(ctid(None, Some(9)))
        );
        assert_eq!(
            Range::from_ledger("whole", Some(&Value::Null), None),
            Some(Range::Whole)
        );
        let row = json!({
            "id": 4, "run_id": "r", "kind": "key_range", "ordinal": 1,
            "range_lo": ["5"], "range_hi": null, "state": "done", "note": null
        });
        assert_eq!(
            serde_json::from_value::<Range>(row).unwrap(),
            key(Some(&["5"]), None)
        );
    }

    #[test]
    fn unreadable_ledger_ranges_are_refused() {
        assert_eq!(Range::from_ledger("bogus", None, None), None);
        assert_eq!(Range::from_ledger("key_range", Some(&json!(5)), None), None);
        assert_eq!(
            Range::from_ledger("key_range", Some(&json!(["a", 1])), None),
            None
        );
        assert_eq!(
            Range::from_ledger("ctid_range", Some(&json!(-1)), None),
            None
        );
        assert_eq!(
            Range::from_ledger("ctid_range", Some(&json!(["3"])), None),
            None
        );
    }
}
