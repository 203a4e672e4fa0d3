//! Source sequence values, read at the data snapshot and kept in the ledger
//! for `finalize`.
//!
//! Touches: source (read), target `supamigrate.sequence_values`.

use tokio_postgres::{Client, GenericClient};

use crate::error::{Error, Result};
use crate::ledger::db_message;
use crate::mapping::scope::Scope;
use crate::pg::quote_qualified;

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
pub async fn read_source(client: &impl GenericClient, scope: &Scope) -> Result<Vec<SequenceValue>> {
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
        .map_err(|e| err("listing sequences", &e))?;
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
            .map_err(|e| err(&format!("reading sequence {schema}.{name}"), &e))?;
        out.push(SequenceValue {
            schema,
            name,
            last_value: v.get(0),
            is_called: v.get(1),
        });
    }
    Ok(out)
}

pub async fn store(client: &mut Client, run_id: &str, values: &[SequenceValue]) -> Result<()> {
    let tx = client.transaction().await.map_err(|e| ledger_err(&e))?;
    for v in values {
        tx.execute(
            "INSERT INTO supamigrate.sequence_values
               (run_id, schema_name, sequence_name, last_value, is_called)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (run_id, schema_name, sequence_name) DO UPDATE
             SET last_value = excluded.last_value, is_called = excluded.is_called,
                 read_at = excluded.read_at",
            &[&run_id, &v.schema, &v.name, &v.last_value, &v.is_called],
        )
        .await
        .map_err(|e| ledger_err(&e))?;
    }
    tx.commit().await.map_err(|e| ledger_err(&e))
}

pub async fn stored(client: &Client, run_id: &str) -> Result<Vec<SequenceValue>> {
    let rows = client
        .query(
            "SELECT schema_name, sequence_name, last_value, is_called
             FROM supamigrate.sequence_values WHERE run_id = $1 ORDER BY 1, 2",
            &[&run_id],
        )
        .await
        .map_err(|e| ledger_err(&e))?;
    Ok(rows
        .iter()
        .map(|r| SequenceValue {
            schema: r.get(0),
            name: r.get(1),
            last_value: r.get(2),
            is_called: r.get(3),
        })
        .collect())
}

fn err(doing: &str, e: &tokio_postgres::Error) -> Error {
    Error::failure(format!("source: {doing}: {}", db_message(e)))
}

fn ledger_err(e: &tokio_postgres::Error) -> Error {
    Error::failure(format!("ledger: sequence values: {}", db_message(e)))
}
