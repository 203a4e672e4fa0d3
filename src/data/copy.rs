//! The COPY pump: `COPY (SELECT ...) TO STDOUT` on the source streamed into
//! `COPY ... FROM STDIN` on the target, bytes passed through undecoded.
//!
//! Touches: source (read), target (rows of one table, in the caller's
//! transaction).
//!
//! Memory stays bounded: the target sink takes one message at a time and the
//! driver's channels are bounded, so a slow target slows the source read
//! instead of piling rows up here.

use futures::{SinkExt, TryStreamExt};
use tokio_postgres::{Client, Transaction};

use super::catalog::Table;
use crate::pg::{quote_ident, Side};
use crate::ranges::{KeyColumn, Range};

/// The two statements that move one chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySql {
    pub out: String,
    pub into: String,
}

/// Builds the COPY pair for a range of a table (pure).
pub fn copy_sql(table: &Table, key: &[KeyColumn], range: &Range) -> CopySql {
    let cols = table
        .columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let filter = range
        .predicate(key)
        .map(|p| format!(" WHERE {p}"))
        .unwrap_or_default();
    let format = if table.binary { " (FORMAT binary)" } else { "" };
    CopySql {
        out: format!(
            "COPY (SELECT {cols} FROM ONLY {}{filter}) TO STDOUT{format}",
            table.qualified()
        ),
        // An empty column list is a syntax error; without one, COPY takes
        // every non-generated column, which is then none as well.
        into: if table.columns.is_empty() {
            format!("COPY {} FROM STDIN{format}", table.qualified())
        } else {
            format!("COPY {} ({cols}) FROM STDIN{format}", table.qualified())
        },
    }
}

/// Rows and bytes one chunk moved.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moved {
    pub rows: u64,
    pub bytes: u64,
}

/// Rows are gathered into messages of about this size before they go to
/// the target. The source sends one message per row; passing each on alone
/// would cost a channel send and a wakeup per few KiB, and a progress update
/// per row.
const BATCH_BYTES: usize = 256 * 1024;

/// Streams one chunk; `on_bytes` sees the size of every batch as it passes.
/// The caller commits the target transaction; on error nothing is committed.
pub async fn pump(
    source: &Client,
    target: &Transaction<'_>,
    sql: &CopySql,
    mut on_bytes: impl FnMut(u64),
) -> Result<Moved, (Side, tokio_postgres::Error)> {
    let stream = source
        .copy_out(sql.out.as_str())
        .await
        .map_err(|e| (Side::Source, e))?;
    let sink = target
        .copy_in::<_, bytes::Bytes>(sql.into.as_str())
        .await
        .map_err(|e| (Side::Target, e))?;
    futures::pin_mut!(stream);
    futures::pin_mut!(sink);
    let mut bytes = 0u64;
    let mut batch = bytes::BytesMut::with_capacity(BATCH_BYTES * 2);
    while let Some(buf) = stream.try_next().await.map_err(|e| (Side::Source, e))? {
        batch.extend_from_slice(&buf);
        if batch.len() >= BATCH_BYTES {
            let n = batch.len() as u64;
            // A message larger than the sink's own 4 KiB buffer is sent as
            // it is, without another copy.
            sink.feed(batch.split().freeze())
                .await
                .map_err(|e| (Side::Target, e))?;
            bytes += n;
            on_bytes(n);
        }
    }
    if !batch.is_empty() {
        let n = batch.len() as u64;
        sink.feed(batch.freeze())
            .await
            .map_err(|e| (Side::Target, e))?;
        bytes += n;
        on_bytes(n);
    }
    let rows = sink
        .as_mut()
        .finish()
        .await
        .map_err(|e| (Side::Target, e))?;
    Ok(Moved { rows, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::data::chunk::Splitter;

    fn table(binary: bool) -> Table {
        Table {
            schema: "public".into(),
            name: "Order Items".into(),
            columns: vec!["id".into(), "note".into()],
            column_types: vec!["bigint".into(), "text".into()],
            binary,
            bytes: 0,
            heap_blocks: 0,
            est_rows: 0.0,
            splitter: Splitter::Ctid,
        }
    }

    #[test]
    fn copy_sql_quotes_and_filters() {
        let key = vec![KeyColumn {
            name: "id".into(),
            type_name: "bigint".into(),
        }];
        let r = Range::Key {
            lo: None,
            hi: Some(vec!["5".into()]),
        };
        let sql = copy_sql(&table(true), &key, &r);
        assert_eq!(
            sql.out,
            "COPY (SELECT \"id\", \"note\" FROM ONLY \"public\".\"Order Items\" WHERE ROW(\"id\") < ROW('5'::bigint)) TO STDOUT (FORMAT binary)"
        );
        assert_eq!(
            sql.into,
            "COPY \"public\".\"Order Items\" (\"id\", \"note\") FROM STDIN (FORMAT binary)"
        );
    }

    #[test]
    fn text_format_when_binary_is_unsafe() {
        let sql = copy_sql(&table(false), &[], &Range::Whole);
        assert_eq!(
            sql.out,
            "COPY (SELECT \"id\", \"note\" FROM ONLY \"public\".\"Order Items\") TO STDOUT"
        );
        assert!(!sql.into.contains("binary"));
    }
}
