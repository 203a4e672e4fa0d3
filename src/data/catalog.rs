//! What the data stage reads from the catalogs: the tables to copy with their
//! columns, size and split key on the source, and the matching tables on the
//! target.
//!
//! Touches: source and target catalogs, read only.

use std::collections::HashMap;

use tokio_postgres::GenericClient;

use super::chunk::Splitter;
use crate::error::{Error, Result};
use crate::mapping::scope::Scope;
use crate::pg::quote_qualified;
use crate::ranges::KeyColumn;

#[derive(Debug, Clone)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// Columns copied, in source order: generated columns are left out.
    pub columns: Vec<String>,
    /// `format_type` of each column in `columns`.
    pub column_types: Vec<String>,
    /// Binary COPY passes bytes through unchanged, but arrays and composites
    /// carry their element types' OIDs, which differ between clusters for
    /// user-defined types; such tables go through text COPY instead.
    pub binary: bool,
    /// Heap plus TOAST, for planning and progress.
    pub bytes: u64,
    pub heap_blocks: u64,
    pub est_rows: f64,
    pub splitter: Splitter,
}

impl Table {
    pub fn qualified(&self) -> String {
        quote_qualified(&self.schema, &self.name)
    }

    pub fn label(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Ordinary tables and leaf partitions in scope (an extension's own tables
/// are out: the extension recreates those itself).
fn tables_sql(scope: &Scope) -> String {
    format!(
        "SELECT c.oid, n.nspname, c.relname,
                pg_table_size(c.oid)::int8,
                (pg_relation_size(c.oid) / current_setting('block_size')::int8)::int8,
                c.reltuples::float8
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND {}
         ORDER BY n.nspname, c.relname",
        scope.relation_sql("c", "n")
    )
}

/// Columns of the tables `$1` (one query for all: per table, planning it
/// took longer than copying small tables' rows) with whether their type is
/// safe for binary COPY between clusters:
/// no user-defined type OID may travel inside an array or composite value,
/// every scalar type needs binary send/receive functions, and no `reg*`
/// value may travel as the bare OID its binary form is (text has the name).
const COLUMNS: &str = "
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
  (WITH RECURSIVE t(oid, carried) AS (
      SELECT a.atttypid, false
      UNION
      SELECT x.child, x.carried
      FROM t JOIN pg_type ty ON ty.oid = t.oid
      CROSS JOIN LATERAL (
          SELECT ty.typbasetype AS child, false AS carried WHERE ty.typtype = 'd'
          UNION ALL
          SELECT ty.typelem, true WHERE ty.typcategory = 'A' AND ty.typelem <> 0
          UNION ALL
          SELECT f.atttypid, true FROM pg_attribute f
          WHERE ty.typtype = 'c' AND f.attrelid = ty.typrelid AND f.attnum > 0 AND NOT f.attisdropped
          UNION ALL
          SELECT r.rngsubtype, false FROM pg_range r WHERE ty.typtype = 'r' AND r.rngtypid = ty.oid
          UNION ALL
          SELECT r.rngtypid, false FROM pg_range r WHERE ty.typtype = 'm' AND r.rngmultitypid = ty.oid
      ) x)
   SELECT coalesce(bool_and(NOT (t.carried AND t.oid >= 16384)
                            AND (ty.typtype <> 'b' OR (ty.typsend <> 0 AND ty.typreceive <> 0))
                            AND NOT (ty.oid < 16384 AND ty.typname LIKE 'reg%')), true)
   FROM t JOIN pg_type ty ON ty.oid = t.oid)
FROM pg_attribute a
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attrelid, a.attnum";

/// Per table of `$1`: the primary key, else the narrowest NOT NULL unique
/// index on plain columns; its key columns in index order.
const KEY: &str = "
SELECT DISTINCT ON (i.indrelid) i.indrelid,
       array_agg(a.attname ORDER BY k.pos),
       array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.pos),
       bool_and(a.attnotnull)
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = ANY($1) AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
  AND i.indexprs IS NULL AND k.pos <= i.indnkeyatts
GROUP BY i.indrelid, i.indexrelid, i.indisprimary, i.indnkeyatts
HAVING bool_and(a.attnotnull)
ORDER BY i.indrelid, i.indisprimary DESC, i.indnkeyatts, i.indexrelid";

/// Reads every table to copy from the source, inside the caller's snapshot.
pub async fn source_tables(client: &impl GenericClient, scope: &Scope) -> Result<Vec<Table>> {
    let rows = client
        .query(&tables_sql(scope), &[])
        .await
        .map_err(|e| source_err("listing tables", e))?;
    let oids: Vec<u32> = rows.iter().map(|r| r.get(0)).collect();
    let mut columns: HashMap<u32, Vec<tokio_postgres::Row>> = HashMap::new();
    for r in client
        .query(COLUMNS, &[&oids])
        .await
        .map_err(|e| source_err("reading columns", e))?
    {
        columns.entry(r.get(0)).or_default().push(r);
    }
    let mut keys: HashMap<u32, Splitter> = HashMap::new();
    for k in client
        .query(KEY, &[&oids])
        .await
        .map_err(|e| source_err("reading keys", e))?
    {
        let names: Vec<String> = k.get(1);
        let types: Vec<String> = k.get(2);
        keys.insert(
            k.get(0),
            Splitter::Key(
                names
                    .into_iter()
                    .zip(types)
                    .map(|(name, type_name)| KeyColumn { name, type_name })
                    .collect(),
            ),
        );
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let oid: u32 = row.get(0);
        let schema: String = row.get(1);
        let name: String = row.get(2);
        let cols = columns.remove(&oid).unwrap_or_default();
        let columns: Vec<String> = cols.iter().map(|r| r.get(1)).collect();
        let column_types: Vec<String> = cols.iter().map(|r| r.get(2)).collect();
        let binary = cols.iter().all(|r| r.get::<_, bool>(3));
        let splitter = keys.remove(&oid).unwrap_or(Splitter::Ctid);
        out.push(Table {
            schema,
            name,
            columns,
            column_types,
            binary,
            bytes: row.get::<_, i64>(3).max(0) as u64,
            heap_blocks: row.get::<_, i64>(4).max(0) as u64,
            est_rows: row.get(5),
            splitter,
        });
    }
    Ok(out)
}

/// A target table as the copy needs it: its columns and their types.
#[derive(Debug, Clone, Default)]
pub struct TargetTable {
    pub columns: Vec<(String, String)>,
}

/// Every table on the target with its columns, by (schema, name): one
/// query, however many tables there are.
pub async fn target_tables(
    client: &impl GenericClient,
) -> Result<HashMap<(String, String), TargetTable>> {
    let rows = client
        .query(
            // LEFT JOIN: a table without (non-generated) columns still has
            // rows to copy and must not look missing.
            &format!(
                "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                         AND a.attgenerated = ''
                 WHERE c.relkind IN ('r', 'p') AND NOT {}
                 ORDER BY n.nspname, c.relname, a.attnum",
                Scope::system_sql("n.nspname")
            ),
            &[],
        )
        .await
        .map_err(|e| {
            Error::db("target: reading its tables", e)
        })?;
    let mut out: HashMap<(String, String), TargetTable> = HashMap::new();
    for r in rows {
        let table = out.entry((r.get(0), r.get(1))).or_default();
        if let Some(column) = r.get::<_, Option<String>>(2) {
            table.columns.push((column, r.get(3)));
        }
    }
    Ok(out)
}

/// Tables whose emptiness one statement checks.
const EMPTY_CHECK_BATCH: usize = 100;

/// The first of `tables`, in their order, that already has a row on the
/// target; a statement checks many tables at once, so that thousands of
/// tables do not cost thousands of round trips.
pub async fn first_with_rows<'t>(
    client: &impl GenericClient,
    tables: &'t [Table],
) -> Result<Option<&'t Table>> {
    for batch in tables.chunks(EMPTY_CHECK_BATCH) {
        let sql = batch
            .iter()
            .enumerate()
            .map(|(i, t)| format!("SELECT {i} WHERE EXISTS (SELECT 1 FROM {})", t.qualified()))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| Error::db("target: checking that its tables are empty", e))?;
        if let Some(first) = rows.iter().map(|r| r.get::<_, i32>(0)).min() {
            return Ok(batch.get(usize::try_from(first).unwrap_or(usize::MAX)));
        }
    }
    Ok(None)
}

fn source_err(doing: &str, e: tokio_postgres::Error) -> Error {
    Error::db(format!("source: {doing}"), e)
}
