//! Row hashes of a keyless table that differs, written to temporary files
//! partitioned by their first byte, so that the two sides' multisets are
//! compared one partition at a time: memory holds one partition of one side,
//! not the whole table (a keyless log table can be the largest of all).
//!
//! Touches: temporary files only, removed when dropped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

/// Partitions per side: a table of 256 million rows holds about a million
/// row hashes in memory at a time.
pub const PARTS: usize = 256;

/// One side's row hashes, partitioned.
pub struct Spill {
    files: Vec<BufWriter<File>>,
    /// The first write error; later rows are not written.
    failed: Option<io::Error>,
}

impl Spill {
    pub fn new() -> io::Result<Spill> {
        let files = (0..PARTS)
            .map(|_| tempfile::tempfile().map(BufWriter::new))
            .collect::<io::Result<_>>()?;
        Ok(Spill {
            files,
            failed: None,
        })
    }

    pub fn push(&mut self, hash: &[u8; 32]) {
        if self.failed.is_some() {
            return;
        }
        let part = usize::from(hash[0]) * PARTS / 256;
        if let Err(e) = self.files[part].write_all(hash) {
            self.failed = Some(e);
        }
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
pub fn compare(source: Spill, target: Spill) -> io::Result<(u64, u64)> {
    let (mut missing, mut extra) = (0, 0);
    for (s, t) in source.into_files()?.into_iter().zip(target.into_files()?) {
        let mut counts: HashMap<[u8; 32], u64> = HashMap::new();
        each_hash(s, |h| *counts.entry(h).or_insert(0) += 1)?;
        each_hash(t, |h| match counts.get_mut(&h) {
            Some(n) if *n > 0 => *n -= 1,
            _ => extra += 1,
        })?;
        missing += counts.values().sum::<u64>();
    }
    Ok((missing, extra))
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
    use crate::verify::canonical::row_hash;

    fn spill(rows: &[&str]) -> Spill {
        let mut s = Spill::new().unwrap();
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
}
