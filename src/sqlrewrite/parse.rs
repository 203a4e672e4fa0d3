//! Splits a dump into statements with PostgreSQL's own grammar (libpg_query),
//! keeping every byte of the original so that statements no rule touches are
//! written back exactly as the dump had them.
//!
//! A dump is not pure SQL: psql meta-commands (`\restrict`, `\connect`, ...)
//! sit between statements, and a full dump carries `COPY ... FROM stdin` data
//! blocks ended by `\.`. A line starting with a backslash is taken as a
//! meta-command only where the SQL before it is complete; otherwise it belongs
//! to the statement (a function body can hold such a line).

use pg_query::protobuf::{self, node::Node as N, Node};

use crate::error::{Error, Result};

/// One unit of the dump.
#[derive(Debug, Clone)]
pub struct Item {
    /// Text between the previous item and this one (comments, blank lines),
    /// written back before the item.
    pub lead: String,
    /// The statement without its `;`, or the meta-command line without its
    /// newline, or a COPY data block including its `\.` line.
    pub text: String,
    /// What follows `text` in the dump: `;` for statements, `\n` for lines.
    pub end: String,
    /// 1-based line of the item's first character, for messages.
    pub line: usize,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum Body {
    Sql(Box<Node>),
    /// A psql meta-command; holds its name without the backslash.
    Meta(String),
    /// Rows of a `COPY ... FROM stdin`, kept untouched.
    CopyData,
}

/// A parsed dump: items in order, plus whatever trails the last one.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub items: Vec<Item>,
    pub tail: String,
    /// libpg_query's version tag, needed to deparse single statements.
    pub version: i32,
}

/// Parses a whole dump. `name` is used in error messages (a file name).
pub fn parse_dump(name: &str, text: &str) -> Result<Dump> {
    let mut dump = Dump::default();
    let mut pos = 0;
    let mut lead_start = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        if let Some(meta_len) = meta_line_at(rest) {
            let line = &rest[..meta_len];
            let (cmd_text, nl) = line.strip_suffix('\n').map_or((line, ""), |l| (l, "\n"));
            let name = cmd_text[1..]
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_string();
            dump.items.push(Item {
                lead: text[lead_start..pos].to_string(),
                text: cmd_text.to_string(),
                end: nl.to_string(),
                line: line_of(text, pos),
                body: Body::Meta(name),
            });
            pos += meta_len;
            lead_start = pos;
            continue;
        }
        // SQL up to the next backslash line at which the SQL is complete.
        let mut seg_end = next_backslash_line(text, pos);
        let parsed = loop {
            match pg_query::parse(&text[pos..seg_end], 0) {
                Ok(p) => break p,
                Err(_) => {
                    if let Some(cut) = copy_cut(&text[pos..seg_end]) {
                        seg_end = pos + cut;
                    } else if seg_end < text.len() {
                        seg_end = next_backslash_line(text, seg_end + 1);
                    } else {
                        return Err(locate_error(name, text, pos));
                    }
                }
            }
        };
        dump.version = parsed.protobuf.version;
        let mut consumed = seg_end;
        for raw in parsed.protobuf.stmts {
            let start = pos + raw.stmt_location as usize;
            let len = if raw.stmt_len == 0 {
                seg_end - start
            } else {
                raw.stmt_len as usize
            };
            let stmt_text = &text[start..start + len];
            let mut after = start + len;
            let end = if text[after..].starts_with(';') {
                after += 1;
                ";"
            } else {
                ""
            };
            let Some(node) = raw.stmt else { continue };
            let copy_in = is_copy_from_stdin(&node);
            dump.items.push(Item {
                lead: text[lead_start..start].to_string(),
                text: stmt_text.trim_end().to_string(),
                end: format!("{}{end}", &stmt_text[stmt_text.trim_end().len()..]),
                line: line_of(text, start),
                body: Body::Sql(node),
            });
            lead_start = after;
            if copy_in {
                // The data starts on the next line and ends with a `\.` line;
                // whatever the parser saw after the COPY was data, not SQL.
                let data_start = text[after..]
                    .find('\n')
                    .map_or(text.len(), |i| after + i + 1);
                let data_end = copy_data_end(text, data_start).ok_or_else(|| {
                    Error::config(format!(
                        "{name}: line {}: COPY data has no terminating \\. line",
                        line_of(text, start)
                    ))
                })?;
                dump.items.push(Item {
                    lead: text[after..data_start].to_string(),
                    text: text[data_start..data_end].to_string(),
                    end: String::new(),
                    line: line_of(text, data_start),
                    body: Body::CopyData,
                });
                lead_start = data_end;
                consumed = data_end;
                break;
            }
        }
        pos = consumed;
    }
    dump.tail = text[lead_start.min(text.len())..].to_string();
    Ok(dump)
}

/// Length of the meta-command line at the start of `rest` (after blank
/// lines and `--` comments, which stay in the lead), if there is one.
fn meta_line_at(rest: &str) -> Option<usize> {
    let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
    if !trimmed.starts_with('\\') || trimmed.len() != rest.len() {
        return None;
    }
    Some(rest.find('\n').map_or(rest.len(), |i| i + 1))
}

/// Start of the next line at or after `from` that begins with a backslash, or
/// the end of the text.
fn next_backslash_line(text: &str, from: usize) -> usize {
    let mut i = from;
    while i < text.len() {
        let at_line_start = i == 0 || text.as_bytes()[i - 1] == b'\n';
        if at_line_start && text.as_bytes()[i] == b'\\' {
            return i;
        }
        i = match text[i..].find('\n') {
            Some(n) => i + n + 1,
            None => text.len(),
        };
    }
    text.len()
}

fn copy_data_end(text: &str, from: usize) -> Option<usize> {
    let mut i = from;
    while i < text.len() {
        let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n + 1);
        if text[i..line_end].trim_end() == "\\." {
            return Some(line_end);
        }
        i = line_end;
    }
    None
}

/// Where SQL stops because a `COPY ... FROM stdin` starts data rows: the
/// offset just after that statement's `;`.
fn copy_cut(segment: &str) -> Option<usize> {
    for piece in pg_query::split_with_scanner(segment).ok()? {
        let Ok(parsed) = pg_query::parse(piece, 0) else {
            return None;
        };
        let copy = parsed
            .protobuf
            .stmts
            .first()
            .and_then(|s| s.stmt.as_deref());
        if copy.is_some_and(is_copy_from_stdin) {
            let end = piece.as_ptr() as usize - segment.as_ptr() as usize + piece.len();
            return Some(end + usize::from(segment[end..].starts_with(';')));
        }
    }
    None
}

fn is_copy_from_stdin(node: &Node) -> bool {
    matches!(&node.node, Some(N::CopyStmt(c)) if c.is_from && c.filename.is_empty())
}

pub fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Finds the statement that does not parse and names its line. The scanner
/// split leaves out an unterminated last statement: then that one is it.
fn locate_error(name: &str, text: &str, from: usize) -> Error {
    let segment = &text[from..];
    let mut covered = 0;
    for piece in pg_query::split_with_scanner(segment).unwrap_or_default() {
        let offset = piece.as_ptr() as usize - segment.as_ptr() as usize;
        if let Err(e) = pg_query::parse(piece, 0) {
            return syntax_error(name, line_of(text, from + skip_blank(segment, offset)), e);
        }
        covered = offset + piece.len();
    }
    let rest = skip_blank(segment, covered);
    match pg_query::parse(&segment[rest..], 0) {
        Err(e) => syntax_error(name, line_of(text, from + rest), e),
        Ok(_) => Error::config(format!("{name}: cannot split the SQL")),
    }
}

/// Skips `;`, whitespace and `--` comment lines from `pos`.
fn skip_blank(text: &str, mut pos: usize) -> usize {
    loop {
        let rest = &text[pos..];
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        pos += rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            pos += trimmed.find('\n').map_or(trimmed.len(), |i| i + 1);
        } else {
            return pos;
        }
    }
}

fn syntax_error(name: &str, line: usize, e: pg_query::Error) -> Error {
    let msg = match &e {
        pg_query::Error::Parse(m) | pg_query::Error::Split(m) => m.clone(),
        other => other.to_string(),
    };
    Error::config(format!("{name}: line {line}: {msg}"))
        .with_source(e)
        .with_fix(
            "the input must be pg_dump or `supabase db dump` output; fix or remove that statement",
        )
}

/// Turns one statement back into SQL text (after a rule changed its tree).
pub fn deparse(version: i32, node: &Node) -> Result<String> {
    let tree = protobuf::ParseResult {
        version,
        stmts: vec![protobuf::RawStmt {
            stmt: Some(Box::new(node.clone())),
            stmt_location: 0,
            stmt_len: 0,
        }],
    };
    pg_query::deparse(&tree, Default::default()).map_err(|e| {
        Error::failure(format!(
            "cannot write a rewritten statement back as SQL: {e}"
        ))
        .with_source(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuild(d: &Dump) -> String {
        let mut s = String::new();
        for i in &d.items {
            s.push_str(&i.lead);
            s.push_str(&i.text);
            s.push_str(&i.end);
        }
        s.push_str(&d.tail);
        s
    }

    #[test]
    fn round_trips_every_byte() {
        let text = "\\restrict abc\n\n--\n-- Name: t\n--\nCREATE TABLE a (id int);\n\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$\n\\not a command\nselect 1; $$;\nCOPY a (id) FROM stdin;\n\\N\n1\n\\.\n\nSELECT 1;\n\\unrestrict abc\n";
        let d = parse_dump("t.sql", text).unwrap();
        assert_eq!(rebuild(&d), text);
        let kinds: Vec<String> = d
            .items
            .iter()
            .map(|i| match &i.body {
                Body::Meta(m) => format!("meta:{m}"),
                Body::CopyData => "data".into(),
                Body::Sql(_) => format!("sql@{}", i.line),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "meta:restrict",
                "sql@6",
                "sql@8",
                "sql@11",
                "data",
                "sql@16",
                "meta:unrestrict"
            ]
        );
    }

    #[test]
    fn names_the_line_of_a_bad_statement() {
        let text = "CREATE TABLE a (id int);\n\nCREATE TABEL b (id int);\n";
        let err = parse_dump("x.sql", text).unwrap_err();
        assert!(
            err.to_string().starts_with("x.sql: line 3: syntax error"),
            "{err}"
        );
    }
}
