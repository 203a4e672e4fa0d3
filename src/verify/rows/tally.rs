//! What differs in one table, folded in range by range as each range is
//! narrowed, in bounded memory: exact counts, the sample (the smallest keys,
//! so two runs over the same data report alike), and the keys found on one
//! side only, held until the table is done to be matched with the other
//! side's keys of other ranges (a key a server placed into another range is
//! then neither missing nor extra).
//!
//! A target that lacks most of a table (verify after an interrupted `data`,
//! a truncated table) would otherwise hold every key of every table until
//! the end. At most [`HELD_KEYS`] one-sided keys are held per table; past
//! that, a one-sided key is counted as missing or extra at once.

use std::collections::BTreeMap;

use super::table::{classify, Entry, Kind, RangeDiff, RowMap};

/// One-sided keys held per table for matching across ranges (about 150
/// bytes each): a key that moved ranges is reported as missing and extra
/// only in a table that already differs by more keys than this.
pub const HELD_KEYS: usize = 200_000;

#[derive(Debug)]
pub struct Tally {
    sample: usize,
    held: usize,
    source_only: RowMap,
    target_only: RowMap,
    missing: u64,
    extra: u64,
    different: u64,
    samples: BTreeMap<Vec<u8>, Kind>,
}

/// What differs in one table, once all its ranges are in.
#[derive(Debug)]
pub struct Differences {
    pub missing: u64,
    pub extra: u64,
    pub different: u64,
    /// Kind and raw key fields of the smallest keys, in key order.
    pub samples: Vec<(Kind, Vec<u8>)>,
}

impl Differences {
    pub fn total(&self) -> u64 {
        self.missing + self.extra + self.different
    }
}

impl Tally {
    pub fn new(sample: usize) -> Self {
        Self::holding(sample, HELD_KEYS)
    }

    fn holding(sample: usize, held: usize) -> Self {
        Tally {
            sample,
            held,
            source_only: RowMap::new(),
            target_only: RowMap::new(),
            missing: 0,
            extra: 0,
            different: 0,
            samples: BTreeMap::new(),
        }
    }

    /// Adds what one range's narrowing of a keyed table found.
    pub fn fold(&mut self, diff: RangeDiff) {
        for (kind, key, n) in diff.found {
            self.count(kind, key, n);
        }
        for (key, entry) in diff.source_only {
            self.one_sided(true, key, entry);
        }
        for (key, entry) in diff.target_only {
            self.one_sided(false, key, entry);
        }
    }

    /// Counts of a keyless table, compared as a whole: no keys to sample.
    pub fn add_unkeyed(&mut self, missing: u64, extra: u64) {
        self.missing += missing;
        self.extra += extra;
    }

    fn one_sided(&mut self, source: bool, key: Vec<u8>, entry: Entry) {
        let (mine, theirs) = if source {
            (&mut self.source_only, &mut self.target_only)
        } else {
            (&mut self.target_only, &mut self.source_only)
        };
        if let Some(other) = theirs.remove(&key) {
            let (src, tgt) = if source {
                (entry, other)
            } else {
                (other, entry)
            };
            if let Some((kind, n)) = classify(src, tgt) {
                self.count(kind, key, n);
            }
        } else if let Some(held) = mine.get_mut(&key) {
            held.count += entry.count;
            if held.hash != entry.hash {
                // The same key twice with different rows: never equal to the
                // other side's single row.
                held.hash = [0; 32];
            }
        } else if mine.len() + theirs.len() < self.held {
            mine.insert(key, entry);
        } else {
            let kind = if source { Kind::Missing } else { Kind::Extra };
            self.count(kind, key, entry.count);
        }
    }

    fn count(&mut self, kind: Kind, key: Vec<u8>, n: u64) {
        match kind {
            Kind::Missing => self.missing += n,
            Kind::Extra => self.extra += n,
            Kind::Different => self.different += n,
        }
        if self.sample > 0 {
            self.samples.insert(key, kind);
            if self.samples.len() > self.sample {
                self.samples.pop_last();
            }
        }
    }

    /// Counts the keys still unmatched as missing or extra; the sample is
    /// handed over.
    pub fn finish(&mut self) -> Differences {
        for (key, e) in std::mem::take(&mut self.source_only) {
            self.count(Kind::Missing, key, e.count);
        }
        for (key, e) in std::mem::take(&mut self.target_only) {
            self.count(Kind::Extra, key, e.count);
        }
        Differences {
            missing: self.missing,
            extra: self.extra,
            different: self.different,
            samples: std::mem::take(&mut self.samples)
                .into_iter()
                .map(|(key, kind)| (kind, key))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::rows::table::diff_maps;
    use crate::verify::rows::table::tests::map;

    fn totals(t: &Tally) -> (u64, u64, u64) {
        (t.missing, t.extra, t.different)
    }

    #[test]
    fn keys_in_other_ranges_are_matched_before_reporting() {
        // Key 5 sits in range 0 on the source and in range 1 on the target.
        let mut t = Tally::new(10);
        t.fold(diff_maps(map(&[("5", "x")]), map(&[])));
        t.fold(diff_maps(
            map(&[("6", "y")]),
            map(&[("5", "x"), ("6", "Y")]),
        ));
        let samples = t.finish().samples;
        assert_eq!(totals(&t), (0, 0, 1));
        assert_eq!(samples, vec![(Kind::Different, b"6".to_vec())]);
    }

    #[test]
    fn samples_are_the_smallest_keys_whatever_the_order_ranges_finish_in() {
        let keys: Vec<String> = (0..50).map(|i| format!("{i:02}")).collect();
        let mut t = Tally::new(7);
        // Ranges finish in reverse key order, ten keys each.
        for chunk in keys.chunks(10).rev() {
            let rows: Vec<(&str, &str)> = chunk.iter().map(|k| (k.as_str(), "v")).collect();
            t.fold(diff_maps(map(&rows), map(&[])));
        }
        let samples = t.finish().samples;
        assert_eq!(t.missing, 50);
        let got: Vec<Vec<u8>> = samples.into_iter().map(|(_, k)| k).collect();
        let want: Vec<Vec<u8>> = keys[..7].iter().map(|k| k.as_bytes().to_vec()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn one_sided_keys_beyond_the_limit_are_counted_not_held() {
        let mut t = Tally::holding(3, 4);
        // Ten ranges with one source-only key each: s0 to s3 are held.
        for i in 0..10 {
            t.fold(diff_maps(map(&[(format!("s{i}").as_str(), "v")]), map(&[])));
        }
        assert_eq!(t.source_only.len(), 4);
        assert_eq!(t.missing, 6);
        // Held keys are still matched across ranges: s0 turns up on the
        // target in another range, equal.
        t.fold(diff_maps(map(&[]), map(&[("s0", "v"), ("t", "w")])));
        t.finish();
        assert_eq!(totals(&t), (9, 1, 0));
        assert!(t.source_only.is_empty() && t.target_only.is_empty());
    }
}
