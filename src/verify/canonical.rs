//! The canonical row representation both sides are hashed in.
//!
//! Every row is read as one line of `COPY (SELECT ...) TO STDOUT` text
//! output, which renders each value through its type's own output function
//! and escapes tabs, newlines and backslashes, with `\N` for NULL. Under the
//! fixed session settings in [`SESSION_SETUP`] that text is a pure function of
//! the stored value: it does not depend on the server's OIDs, its TimeZone,
//! DateStyle, IntervalStyle, extra_float_digits, bytea_output, lc_monetary or
//! search_path, and it keeps what PostgreSQL keeps: `-0` apart from `0` for
//! floats, numeric scale, json whitespace and key order, NULL apart from ''.
//! Nested values (arrays of enums, composites, ranges, domains) go through
//! the same output functions, so they need no special casing.
//!
//! A line's blake3 hash is the row's hash. A set of rows is summarised by the
//! sum of its row hashes modulo 2^256 plus the row count: the sum is order
//! independent (no ORDER BY on either side) and, unlike XOR, counts
//! duplicates, so it is a multiset digest that also works for tables
//! without a key. Sums of ranges add up to the table's sum, so a table's
//! checksum does not depend on how it was split.

use crate::pg::{quote_ident, quote_qualified};

/// Run on every verify connection before its snapshot is taken. These
/// settings fix every session-dependent part of the text output.
/// `row_security = off` makes a read that a row-level security policy would
/// filter fail instead of silently returning fewer rows (a table that
/// forces RLS on its owner), so both sides are always read in full.
pub const SESSION_SETUP: &str = "SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SET bytea_output = 'hex';
SET lc_monetary = 'C';
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET search_path = '';
SET row_security = off;
SET statement_timeout = 0;
SET idle_in_transaction_session_timeout = 0;";

/// The statement that streams the canonical lines of one table or range.
/// Columns are only ever referenced by their quoted names against a single
/// table, so no generated alias exists that a column name could shadow.
/// `ONLY` keeps an inheritance parent from also counting its children's rows.
pub fn copy_sql(schema: &str, table: &str, columns: &[String], predicate: Option<&str>) -> String {
    let list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "COPY (SELECT {list} FROM ONLY {}",
        quote_qualified(schema, table)
    );
    if let Some(p) = predicate {
        sql.push_str(" WHERE ");
        sql.push_str(p);
    }
    sql.push_str(") TO STDOUT");
    sql
}

/// Order-independent digest of a multiset of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digest {
    /// Sum of row hashes as a little-endian 256-bit number, modulo 2^256.
    sum: [u64; 4],
    pub rows: u64,
}

impl Digest {
    pub fn add_row(&mut self, hash: &[u8; 32]) {
        let mut carry = 0u128;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let word = u64::from_le_bytes(hash[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            let total = u128::from(*limb) + u128::from(word) + carry;
            *limb = total as u64;
            carry = total >> 64;
        }
        self.rows += 1;
    }

    pub fn merge(&mut self, other: &Digest) {
        let mut carry = 0u128;
        for (limb, word) in self.sum.iter_mut().zip(other.sum) {
            let total = u128::from(*limb) + u128::from(word) + carry;
            *limb = total as u64;
            carry = total >> 64;
        }
        self.rows += other.rows;
    }

    /// The checksum shown in reports: blake3 over the sum and the count.
    pub fn hex(&self) -> String {
        let mut h = blake3::Hasher::new();
        for limb in self.sum {
            h.update(&limb.to_le_bytes());
        }
        h.update(&self.rows.to_le_bytes());
        h.finalize().to_hex().to_string()
    }
}

pub fn row_hash(line: &[u8]) -> [u8; 32] {
    *blake3::hash(line).as_bytes()
}

/// Cuts a COPY byte stream into lines. The server sends one row per message,
/// but nothing in the protocol promises it, so partial lines are carried over.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Calls `f` with every complete line in `chunk` (without its newline).
    pub fn feed(&mut self, chunk: &[u8], mut f: impl FnMut(&[u8])) {
        let mut rest = chunk;
        // memchr's vectorised search: a byte-at-a-time scan for the newline
        // cost as much as a sixth of verify's own CPU time.
        while let Some(pos) = memchr::memchr(b'\n', rest) {
            if self.pending.is_empty() {
                f(&rest[..pos]);
            } else {
                self.pending.extend_from_slice(&rest[..pos]);
                f(&self.pending);
                self.pending.clear();
            }
            rest = &rest[pos + 1..];
        }
        self.pending.extend_from_slice(rest);
    }

    /// True when the stream ended on a line boundary, as a COPY stream must.
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty()
    }
}

/// The first `n` fields of a line, raw: the row's key. Data tabs are escaped
/// as `\t`, so every raw tab byte is a field separator.
pub fn key_prefix(line: &[u8], n: usize) -> &[u8] {
    if n == 0 {
        return &[];
    }
    let mut seen = 0;
    for (i, &b) in line.iter().enumerate() {
        if b == b'\t' {
            seen += 1;
            if seen == n {
                return &line[..i];
            }
        }
    }
    line
}

/// Decodes the raw key fields back into values for reports: `None` is NULL.
pub fn decode_fields(raw: &[u8]) -> Vec<Option<String>> {
    raw.split(|&b| b == b'\t').map(decode_field).collect()
}

fn decode_field(field: &[u8]) -> Option<String> {
    if field == b"\\N" {
        return None;
    }
    let mut out = Vec::with_capacity(field.len());
    let mut it = field.iter().copied();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'b') => out.push(8),
            Some(b'f') => out.push(12),
            Some(b'v') => out.push(11),
            Some(other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_of(lines: &[&str]) -> Digest {
        let mut d = Digest::default();
        for l in lines {
            d.add_row(&row_hash(l.as_bytes()));
        }
        d
    }

    #[test]
    fn digest_ignores_order_but_counts_duplicates() {
        assert_eq!(digest_of(&["a", "b", "c"]), digest_of(&["c", "a", "b"]));
        assert_ne!(digest_of(&["a", "a"]), digest_of(&[]));
        assert_ne!(digest_of(&["a", "a", "b"]), digest_of(&["a", "b", "b"]));
        assert_ne!(digest_of(&["a"]).hex(), digest_of(&["b"]).hex());
    }

    #[test]
    fn merged_ranges_equal_the_whole() {
        let mut left = digest_of(&["1\tx", "2\ty"]);
        left.merge(&digest_of(&["3\tz"]));
        assert_eq!(left, digest_of(&["3\tz", "1\tx", "2\ty"]));
        assert_eq!(left.rows, 3);
    }

    #[test]
    fn null_and_empty_string_hash_differently() {
        assert_ne!(row_hash(b"1\t\\N"), row_hash(b"1\t"));
    }

    #[test]
    fn splitter_joins_lines_across_chunks() {
        let mut s = LineSplitter::default();
        let mut lines = Vec::new();
        s.feed(b"a\tb\nc", |l| lines.push(l.to_vec()));
        s.feed(b"d\n\n", |l| lines.push(l.to_vec()));
        assert!(s.is_clean());
        assert_eq!(lines, vec![b"a\tb".to_vec(), b"cd".to_vec(), Vec::new()]);
        s.feed(b"tail", |_| {});
        assert!(!s.is_clean());
    }

    #[test]
    fn key_prefix_takes_leading_fields() {
        assert_eq!(key_prefix(b"1\t2\t3", 2), b"1\t2");
        assert_eq!(key_prefix(b"1", 1), b"1");
        assert_eq!(key_prefix(b"1\t2", 0), b"");
    }

    #[test]
    fn fields_decode_copy_escapes() {
        assert_eq!(
            decode_fields(b"a\\tb\t\\N\t\\\\x"),
            vec![Some("a\tb".into()), None, Some("\\x".into())]
        );
    }

    #[test]
    fn copy_sql_quotes_every_name() {
        let sql = copy_sql(
            "My \"Schema\"",
            "t",
            &["select".into(), "a b".into()],
            Some("true"),
        );
        assert_eq!(
            sql,
            "COPY (SELECT \"select\", \"a b\" FROM ONLY \"My \"\"Schema\"\"\".\"t\" WHERE true) TO STDOUT"
        );
    }
}
