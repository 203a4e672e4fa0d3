//! What the data stage reads from the catalogs: the tables to copy with their
//! columns, size and split key on the source, and the matching tables on the
//! target.
//!
//! Touches: source and target catalogs, read only.

use tokio_postgres::GenericClient;

use super::chunk::{KeyColumn, Splitter};
use crate::error::{Error, Result};
use crate::pg::quote_qualified;

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

/// Ordinary tables and leaf partitions in user schemas, without the ones an
/// extension owns (the extension recreates those itself).
const TABLES: &str = "
SELECT c.oid, n.nspname, c.relname,
       pg_table_size(c.oid)::int8,
       (pg_relation_size(c.oid) / current_setting('block_size')::int8)::int8,
       c.reltuples::float8
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'supamigrate')
  AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname";

/// Columns with whether their type is safe for binary COPY between clusters:
/// no user-defined type OID may travel inside an array or composite value,
/// every scalar type needs binary send/receive functions, and no `reg*`
/// value may travel as the bare OID its binary form is (text has the name).
const COLUMNS: &str = "
SELECT a.attname, format_type(a.atttypid, a.atttypmod),
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
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum";

/// The primary key, else the narrowest NOT NULL unique index on plain
/// columns; its key columns in index order.
const KEY: &str = "
SELECT i.indexrelid,
       array_agg(a.attname ORDER BY k.pos),
       array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.pos),
       bool_and(a.attnotnull)
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
  AND i.indexprs IS NULL AND k.pos <= i.indnkeyatts
GROUP BY i.indexrelid, i.indisprimary, i.indnkeyatts
HAVING bool_and(a.attnotnull)
ORDER BY i.indisprimary DESC, i.indnkeyatts, i.indexrelid
LIMIT 1";

/// Reads every table to copy from the source, inside the caller's snapshot.
pub async fn source_tables(client: &impl GenericClient) -> Result<Vec<Table>> {
    let rows = client
        .query(TABLES, &[])
        .await
        .map_err(|e| source_err("listing tables", &e))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let oid: u32 = row.get(0);
        let schema: String = row.get(1);
        let name: String = row.get(2);
        let cols = client
            .query(COLUMNS, &[&oid])
            .await
            .map_err(|e| source_err("reading columns", &e))?;
        let columns: Vec<String> = cols.iter().map(|r| r.get(0)).collect();
        let column_types: Vec<String> = cols.iter().map(|r| r.get(1)).collect();
        let binary = cols.iter().all(|r| r.get::<_, bool>(2));
        let splitter = match client
            .query_opt(KEY, &[&oid])
            .await
            .map_err(|e| source_err("reading keys", &e))?
        {
            Some(k) => {
                let names: Vec<String> = k.get(1);
                let types: Vec<String> = k.get(2);
                Splitter::Key(
                    names
                        .into_iter()
                        .zip(types)
                        .map(|(name, type_name)| KeyColumn { name, type_name })
                        .collect(),
                )
            }
            None => Splitter::Ctid,
        };
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
#[derive(Debug, Clone)]
pub struct TargetTable {
    pub columns: Vec<(String, String)>,
}

/// Looks a table up on the target; `None` if it does not exist there.
pub async fn target_table(
    client: &impl GenericClient,
    schema: &str,
    name: &str,
) -> Result<Option<TargetTable>> {
    let rows = client
        .query(
            // LEFT JOIN: a table without (non-generated) columns still has
            // rows to copy and must not look missing.
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                     AND a.attgenerated = ''
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
             ORDER BY a.attnum",
            &[&schema, &name],
        )
        .await
        .map_err(|e| {
            Error::failure(format!(
                "target: reading table {schema}.{name}: {}",
                crate::ledger::db_message(&e)
            ))
        })?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(TargetTable {
        columns: rows
            .iter()
            .filter_map(|r| Some((r.get::<_, Option<String>>(0)?, r.get(1))))
            .collect(),
    }))
}

/// Whether a target table has any row at all.
pub async fn target_has_rows(client: &impl GenericClient, table: &Table) -> Result<bool> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", table.qualified());
    client
        .query_one(&sql, &[])
        .await
        .map(|r| r.get(0))
        .map_err(|e| {
            Error::failure(format!(
                "target: reading {}: {}",
                table.label(),
                crate::ledger::db_message(&e)
            ))
        })
}

fn source_err(doing: &str, e: &tokio_postgres::Error) -> Error {
    Error::failure(format!("source: {doing}: {}", crate::ledger::db_message(e)))
}
