//! Source sequence values, read at the data snapshot and kept for
//! `finalize`: table `supamigrate.sequence_values`.

use tokio_postgres::Client;

use crate::error::{Error, Result};
pub use crate::pg::catalog::SequenceValue;

pub async fn store(client: &mut Client, run_id: &str, values: &[SequenceValue]) -> Result<()> {
    let tx = client.transaction().await.map_err(ledger_err)?;
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
        .map_err(ledger_err)?;
    }
    tx.commit().await.map_err(ledger_err)
}

pub async fn stored(client: &Client, run_id: &str) -> Result<Vec<SequenceValue>> {
    let rows = client
        .query(
            "SELECT schema_name, sequence_name, last_value, is_called
             FROM supamigrate.sequence_values WHERE run_id = $1 ORDER BY 1, 2",
            &[&run_id],
        )
        .await
        .map_err(ledger_err)?;
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

fn ledger_err(e: tokio_postgres::Error) -> Error {
    Error::db("ledger: sequence values", e)
}
