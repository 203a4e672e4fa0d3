//! What verify compares: the tables of one side, their columns and their row
//! key, read from the catalog inside the verify snapshot.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::pg::Side;

/// Schemas that hold Supabase platform state which is not migrated (see
/// SUPABASE_FACTS §1), plus our own ledger. `auth` and `storage` are not in
/// the list: their rows (users, object metadata) are migrated data.
pub const SKIPPED_SCHEMAS: &[&str] = &[
    "information_schema",
    "supamigrate",
    "_analytics",
    "_realtime",
    "_supavisor",
    "realtime",
    "supabase_functions",
    "supabase_migrations",
    "pgbouncer",
    "cron",
    "dbdev",
    "graphql",
    "graphql_public",
    "net",
    "pgmq",
    "pgsodium",
    "pgsodium_masks",
    "pgtle",
    "repack",
    "vault",
    "tiger",
    "tiger_data",
    "topology",
];

/// The predicate that keeps a namespace `n` in scope, for catalog queries
/// that take the skipped list as `$1`.
pub const IN_SCOPE: &str = "n.nspname <> ALL($1::text[]) AND n.nspname NOT LIKE 'pg\\_%'
    AND n.nspname NOT LIKE '\\_timescaledb\\_%' AND n.nspname NOT LIKE 'timescaledb\\_%'";

pub fn skipped() -> Vec<String> {
    SKIPPED_SCHEMAS.iter().map(|s| s.to_string()).collect()
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `format_type` under `search_path = ''`, so user types are qualified.
    pub type_sql: String,
    /// What decides the column's sort order: provider, locale and library
    /// version of its collation (the database's for `default`); `None` when
    /// the type is not collatable.
    pub collation: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub bytes: i64,
    /// The planner's row estimate; negative when never analyzed.
    pub est_rows: f32,
    pub columns: Vec<Column>,
    /// The row key: the primary key, else the smallest unique index over NOT
    /// NULL columns without expressions or predicate; empty when neither.
    pub key: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

pub type Tables = BTreeMap<(String, String), Table>;

/// Every ordinary table (leaf partitions included, partitioned parents not:
/// their rows live in the leaves) in scope, without extension-owned tables.
pub async fn tables(client: &Client, side: Side) -> Result<Tables> {
    let skipped = skipped();
    let rows = client
        .query(
            &format!(
                "SELECT c.oid, n.nspname::text, c.relname::text, pg_catalog.pg_table_size(c.oid), c.reltuples
                 FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r' AND {IN_SCOPE}
                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                   WHERE d.classid = 'pg_catalog.pg_class'::regclass
                                     AND d.objid = c.oid AND d.deptype = 'e')"
            ),
            &[&skipped],
        )
        .await
        .map_err(|e| catalog_err(side, "listing tables", &e))?;
    let mut by_oid = BTreeMap::new();
    for r in rows {
        let oid: u32 = r.get(0);
        by_oid.insert(
            oid,
            Table {
                schema: r.get(1),
                name: r.get(2),
                bytes: r.get(3),
                est_rows: r.get(4),
                columns: Vec::new(),
                key: Vec::new(),
            },
        );
    }
    let oids: Vec<u32> = by_oid.keys().copied().collect();
    let cols = client
        .query(
            // Through to_jsonb because the locale columns differ between
            // PostgreSQL 15 and 17 (colliculocale / colllocale).
            "SELECT a.attrelid, a.attname::text,
                    pg_catalog.format_type(a.atttypid, a.atttypmod),
                    CASE WHEN a.attcollation = 0 THEN NULL
                         WHEN co.collname = 'default' THEN
                           (SELECT concat_ws(':', j->>'datlocprovider', j->>'datcollate',
                                             j->>'daticulocale', j->>'datlocale', j->>'datcollversion')
                            FROM pg_catalog.pg_database AS d, to_jsonb(d) AS j
                            WHERE d.datname = pg_catalog.current_database())
                         ELSE concat_ws(':', j->>'collprovider', j->>'collcollate', j->>'colliculocale',
                                        j->>'colllocale', j->>'collversion')
                    END
             FROM pg_catalog.pg_attribute a
             LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
             LEFT JOIN LATERAL to_jsonb(co) AS j ON true
             WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attrelid, a.attnum",
            &[&oids],
        )
        .await
        .map_err(|e| catalog_err(side, "listing columns", &e))?;
    for r in cols {
        let oid: u32 = r.get(0);
        if let Some(t) = by_oid.get_mut(&oid) {
            t.columns.push(Column {
                name: r.get(1),
                type_sql: r.get(2),
                collation: r.get(3),
            });
        }
    }
    let keys = client
        .query(
            "SELECT DISTINCT ON (i.indrelid) i.indrelid,
                    array_agg(a.attname::text ORDER BY k.ord)
             FROM pg_catalog.pg_index i
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = ANY($1) AND i.indisunique AND i.indisvalid
               AND i.indexprs IS NULL AND i.indpred IS NULL AND k.ord <= i.indnkeyatts
             GROUP BY i.indrelid, i.indexrelid, i.indisprimary, i.indnkeyatts
             HAVING bool_and(a.attnotnull) AND count(*) = i.indnkeyatts
             ORDER BY i.indrelid, i.indisprimary DESC, i.indnkeyatts, i.indexrelid",
            &[&oids],
        )
        .await
        .map_err(|e| catalog_err(side, "reading primary keys", &e))?;
    for r in keys {
        let oid: u32 = r.get(0);
        if let Some(t) = by_oid.get_mut(&oid) {
            t.key = r.get(1);
        }
    }
    Ok(by_oid
        .into_values()
        .map(|t| ((t.schema.clone(), t.name.clone()), t))
        .collect())
}

pub fn catalog_err(side: Side, doing: &str, e: &tokio_postgres::Error) -> Error {
    Error::failure(format!("{side}: {doing}: {}", crate::ledger::db_message(e)))
}
