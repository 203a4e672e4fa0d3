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
pub fn copy_sql(
    schema: &str,
    table: &str,
    columns: &[String],
    predicate: Option<&str>,
    order_by: Option<&str>,
    binary: bool,
) -> String {
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
    if let Some(o) = order_by {
        sql.push_str(" ORDER BY ");
        sql.push_str(o);
    }
    sql.push_str(") TO STDOUT");
    if binary {
        sql.push_str(" (FORMAT binary)");
    }
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
        self.add_stream(hash, 1);
    }

    /// Adds a range read in key order and hashed as one stream of `rows`
    /// rows: the digests of two sides then match only if they sent the same
    /// rows in the same order, and a unique key fixes that order.
    pub fn add_stream(&mut self, hash: &[u8; 32], rows: u64) {
        let mut carry = 0u128;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let word = u64::from_le_bytes(hash[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            let total = u128::from(*limb) + u128::from(word) + carry;
            *limb = total as u64;
            carry = total >> 64;
        }
        self.rows += rows;
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

/// Cuts a binary COPY stream into tuples: the signature and header first,
/// then per tuple a 16-bit field count and per field a 32-bit length (-1 for
/// NULL) and the bytes, up to a -1 trailer. A tuple's hash covers its counts
/// and lengths, so NULL and an empty value differ. Used for tables whose
/// columns all have a server-independent binary form, which is cheaper for
/// the servers to produce than text.
#[derive(Debug, Default)]
pub struct TupleSplitter {
    pending: Vec<u8>,
    header_done: bool,
    ended: bool,
}

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

impl TupleSplitter {
    /// Calls `f` with every complete tuple in `chunk`; an error names what is
    /// malformed.
    pub fn feed(&mut self, chunk: &[u8], mut f: impl FnMut(&[u8])) -> Result<(), &'static str> {
        if self.pending.is_empty() {
            let used = self.parse(chunk, &mut f)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            self.pending.extend_from_slice(chunk);
            let pending = std::mem::take(&mut self.pending);
            let used = self.parse(&pending, &mut f)?;
            self.pending = pending[used..].to_vec();
        }
        Ok(())
    }

    /// Parses what is complete in `buf`; returns the bytes used.
    fn parse(&mut self, buf: &[u8], f: &mut impl FnMut(&[u8])) -> Result<usize, &'static str> {
        let mut at = 0;
        if !self.header_done {
            let fixed = SIGNATURE.len() + 8;
            if buf.len() < fixed {
                return Ok(0);
            }
            if &buf[..SIGNATURE.len()] != SIGNATURE {
                return Err("not a binary COPY stream");
            }
            let ext = be_u32(&buf[SIGNATURE.len() + 4..]) as usize;
            if buf.len() < fixed + ext {
                return Ok(0);
            }
            at = fixed + ext;
            self.header_done = true;
        }
        while at + 2 <= buf.len() {
            if self.ended {
                return Err("data after the end of a binary COPY stream");
            }
            let fields = i16::from_be_bytes([buf[at], buf[at + 1]]);
            if fields == -1 {
                self.ended = true;
                at += 2;
                continue;
            }
            let Some(end) = tuple_end(buf, at + 2, fields)? else {
                break;
            };
            f(&buf[at..end]);
            at = end;
        }
        Ok(at)
    }

    /// True when the stream ended with its trailer and nothing after it.
    pub fn is_clean(&self) -> bool {
        self.ended && self.pending.is_empty()
    }
}

/// Where the tuple whose fields start at `at` ends; `None` when `buf` holds
/// only part of it.
fn tuple_end(buf: &[u8], mut at: usize, fields: i16) -> Result<Option<usize>, &'static str> {
    if fields < 0 {
        return Err("negative field count in a binary COPY tuple");
    }
    for _ in 0..fields {
        if at + 4 > buf.len() {
            return Ok(None);
        }
        let len = i32::from_be_bytes(buf[at..at + 4].try_into().expect("4 bytes"));
        at += 4;
        if len == -1 {
            continue;
        }
        let len =
            usize::try_from(len).map_err(|_| "negative field length in a binary COPY tuple")?;
        if at + len > buf.len() {
            return Ok(None);
        }
        at += len;
    }
    Ok(Some(at))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().expect("4 bytes"))
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

    fn binary_stream(tuples: &[&[Option<&[u8]>]]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&4u32.to_be_bytes());
        out.extend_from_slice(b"ext!");
        for t in tuples {
            out.extend_from_slice(&(t.len() as i16).to_be_bytes());
            for f in *t {
                match f {
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(b) => {
                        out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                        out.extend_from_slice(b);
                    }
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[test]
    fn tuple_splitter_finds_tuples_across_any_cut() {
        let stream = binary_stream(&[
            &[Some(b"1"), None],
            &[Some(b"22"), Some(b"")],
            &[Some(b"333"), Some(b"x\n\ty")],
        ]);
        let mut whole = Vec::new();
        let mut s = TupleSplitter::default();
        s.feed(&stream, |t| whole.push(t.to_vec())).unwrap();
        assert!(s.is_clean());
        assert_eq!(whole.len(), 3);
        // NULL and '' are different tuples.
        assert_ne!(whole[0][6..], whole[1][6..]);
        for cut in 1..stream.len() {
            let mut parts = Vec::new();
            let mut s = TupleSplitter::default();
            s.feed(&stream[..cut], |t| parts.push(t.to_vec())).unwrap();
            s.feed(&stream[cut..], |t| parts.push(t.to_vec())).unwrap();
            assert!(s.is_clean(), "cut at {cut}");
            assert_eq!(parts, whole, "cut at {cut}");
        }
    }

    #[test]
    fn tuple_splitter_rejects_what_is_not_binary_copy() {
        let mut s = TupleSplitter::default();
        assert!(s.feed(b"1\tx\n2\ty\n3\tz\n4\tw\n5\tv\n", |_| {}).is_err());
        let stream = binary_stream(&[&[Some(b"1")]]);
        let mut s = TupleSplitter::default();
        s.feed(&stream[..stream.len() - 1], |_| {}).unwrap();
        assert!(
            !s.is_clean(),
            "a stream without its trailer is not complete"
        );
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
            None,
            false,
        );
        assert_eq!(
            sql,
            "COPY (SELECT \"select\", \"a b\" FROM ONLY \"My \"\"Schema\"\"\".\"t\" WHERE true) TO STDOUT"
        );
    }
}
