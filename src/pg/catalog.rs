//! Catalog reads that several stages share.

use tokio_postgres::GenericClient;

use super::quote_qualified;
use crate::error::{Error, Result};
use crate::mapping::scope::Scope;

/// Tables per schema outside the system schemas, without the ones an
/// extension owns (its script recreates those): what a side holds, before
/// the scope decides what of it is carried.
pub async fn tables_by_schema(
    client: &impl GenericClient,
) -> Result<Vec<(String, i64)>, tokio_postgres::Error> {
    Ok(client
        .query(
            &format!(
                "SELECT n.nspname::text, count(*) FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p') AND NOT {}
                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                   WHERE d.classid = 'pg_catalog.pg_class'::regclass
                                     AND d.objid = c.oid AND d.deptype = 'e')
                 GROUP BY 1 ORDER BY 1",
                Scope::system_sql("n.nspname")
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceValue {
    pub schema: String,
    pub name: String,
    pub last_value: i64,
    pub is_called: bool,
}

/// Every sequence in scope. Sequences are not
/// MVCC: `last_value` is the current value, which, read right after the
/// snapshot was exported, is at least every value the snapshot's rows hold.
pub async fn sequence_values(
    client: &impl GenericClient,
    scope: &Scope,
) -> Result<Vec<SequenceValue>> {
    let rows = client
        .query(
            &format!(
                "SELECT n.nspname, c.relname FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'S' AND {}
                 ORDER BY 1, 2",
                scope.relation_sql("c", "n")
            ),
            &[],
        )
        .await
        .map_err(|e| err("listing sequences", e))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (schema, name): (String, String) = (r.get(0), r.get(1));
        let v = client
            .query_one(
                &format!(
                    "SELECT last_value, is_called FROM {}",
                    quote_qualified(&schema, &name)
                ),
                &[],
            )
            .await
            .map_err(|e| err(&format!("reading sequence {schema}.{name}"), e))?;
        out.push(SequenceValue {
            schema,
            name,
            last_value: v.get(0),
            is_called: v.get(1),
        });
    }
    Ok(out)
}

fn err(doing: &str, e: tokio_postgres::Error) -> Error {
    Error::db(format!("source: {doing}"), e)
}
