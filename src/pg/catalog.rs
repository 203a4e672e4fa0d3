//! Catalog reads that several stages share.

use tokio_postgres::GenericClient;

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
