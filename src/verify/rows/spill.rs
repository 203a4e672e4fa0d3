//! Row hashes of a keyless table that differs, held in memory while they
//! are few and otherwise written to temporary files partitioned by their
//! first byte, so that the two sides' multisets are compared one partition
//! at a time: memory holds one partition of one side, not the whole table
//! (a keyless log table can be the largest of all).
//!
//! Touches: temporary files only, removed when dropped; and the process's
//! soft limit of open files, raised to the hard one before they are opened.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

/// Partitions per side on disk: a table of 256 million rows holds about a
/// million row hashes in memory at a time.
pub const PARTS: usize = 256;

/// Row hashes a side holds in memory (4 MiB) before it opens its partition
/// files: small keyless tables, however many differ at once, then open no
/// files at all (each side's partitions take 256 file descriptors, and
/// several tables narrowing at once could pass a host's limit of open files).
const HELD: usize = 1 << 17;

/// One side's row hashes, held or partitioned on disk.
#[derive(Default)]
pub struct Spill {
    held: Vec<[u8; 32]>,
    /// Empty until more than [`HELD`] hashes came.
    files: Vec<BufWriter<File>>,
    /// The first write error; later rows are not written.
    failed: Option<io::Error>,
}

impl Spill {
    pub fn push(&mut self, hash: &[u8; 32]) {
        if self.failed.is_some() {
            return;
        }
        if self.files.is_empty() {
            if self.held.len() < HELD {
                self.held.push(*hash);
                return;
            }
            if let Err(e) = self.spill_to_disk() {
                self.failed = Some(e);
                return;
            }
        }
        if let Err(e) = self.write(hash) {
            self.failed = Some(e);
        }
    }

    fn write(&mut self, hash: &[u8; 32]) -> io::Result<()> {
        let part = usize::from(hash[0]) * PARTS / 256;
        self.files[part].write_all(hash)
    }

    /// Opens the partition files and moves the held hashes into them.
    fn spill_to_disk(&mut self) -> io::Result<()> {
        // Each side's partitions take PARTS descriptors and several tables
        // can spill at once: the soft limit of open files (1024 by default
        // on Debian) goes up to the hard one first, as many runtimes do.
        if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
            tracing::debug!(error = %e, "could not raise the limit of open files");
        }
        self.files = (0..PARTS)
            .map(|_| tempfile::tempfile().map(BufWriter::new))
            .collect::<io::Result<_>>()?;
        for hash in std::mem::take(&mut self.held) {
            self.write(&hash)?;
        }
        Ok(())
    }

    /// The partitions, flushed and rewound for reading.
    fn into_files(self) -> io::Result<Vec<File>> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        self.files
            .into_iter()
            .map(|w| {
                let mut f = w.into_inner().map_err(|e| e.into_error())?;
                f.rewind()?;
                Ok(f)
            })
            .collect()
    }
}

/// Rows of the source not on the target (missing) and of the target not on
/// the source (extra), counted as multisets: duplicates count.
pub fn compare(mut source: Spill, mut target: Spill) -> io::Result<(u64, u64)> {
    if let Some(e) = source.failed.take().or(target.failed.take()) {
        return Err(e);
    }
    if source.files.is_empty() && target.files.is_empty() {
        let mut tally = Multiset::default();
        source.held.iter().for_each(|h| tally.source(*h));
        target.held.iter().for_each(|h| tally.target(*h));
        return Ok(tally.finish());
    }
    // One side went to disk: the other joins it there, so that both are
    // partitioned alike.
    for side in [&mut source, &mut target] {
        if side.files.is_empty() {
            side.spill_to_disk()?;
        }
    }
    let (mut missing, mut extra) = (0, 0);
    for (s, t) in source.into_files()?.into_iter().zip(target.into_files()?) {
        let mut tally = Multiset::default();
        each_hash(s, |h| tally.source(h))?;
        each_hash(t, |h| tally.target(h))?;
        let (m, e) = tally.finish();
        missing += m;
        extra += e;
    }
    Ok((missing, extra))
}

/// Source rows counted in, target rows counted off.
#[derive(Default)]
struct Multiset {
    counts: HashMap<[u8; 32], u64>,
    extra: u64,
}

impl Multiset {
    fn source(&mut self, hash: [u8; 32]) {
        *self.counts.entry(hash).or_insert(0) += 1;
    }

    fn target(&mut self, hash: [u8; 32]) {
        match self.counts.get_mut(&hash) {
            Some(n) if *n > 0 => *n -= 1,
            _ => self.extra += 1,
        }
    }

    /// (missing, extra)
    fn finish(self) -> (u64, u64) {
        (self.counts.values().sum(), self.extra)
    }
}

fn each_hash(file: File, mut f: impl FnMut([u8; 32])) -> io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 16, file);
    let mut hash = [0u8; 32];
    loop {
        match r.read_exact(&mut hash) {
            Ok(()) => f(hash),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::rows::canonical::row_hash;

    fn spill(rows: &[&str]) -> Spill {
        let mut s = Spill::default();
        for r in rows {
            s.push(&row_hash(r.as_bytes()));
        }
        s
    }

    #[test]
    fn multisets_compare_with_duplicates_across_partitions() {
        let many: Vec<String> = (0..2000).map(|i| format!("row {i}")).collect();
        let mut src: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut tgt = src.clone();
        src.extend(["dup", "dup", "dup", "gone"]);
        tgt.extend(["dup", "new", "new"]);
        tgt.retain(|r| *r != "row 7");
        // Missing: two of three "dup", "gone", "row 7"; extra: two "new".
        assert_eq!(compare(spill(&src), spill(&tgt)).unwrap(), (4, 2));
        assert_eq!(compare(spill(&src), spill(&src)).unwrap(), (0, 0));
    }

    #[test]
    fn a_side_past_what_memory_holds_is_compared_on_disk_with_the_other() {
        let many: Vec<String> = (0..HELD + 10).map(|i| format!("row {i}")).collect();
        let big: Vec<&str> = many.iter().map(String::as_str).collect();
        let (big_side, small_side) = (spill(&big), spill(&big[..5]));
        assert_eq!(big_side.files.len(), PARTS);
        assert!(small_side.files.is_empty());
        assert_eq!(compare(big_side, small_side).unwrap(), (HELD as u64 + 5, 0));
        let mut changed = big.clone();
        changed[HELD] = "changed";
        assert_eq!(compare(spill(&changed), spill(&big)).unwrap(), (1, 1));
    }
}
