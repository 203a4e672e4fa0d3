//! Running one finalize step with its ledger row in one target transaction,
//! and reading which steps are done.
//!
//! Touches: target (the step's statement), target `supamigrate.finalize_steps`.

use std::collections::HashSet;

use deadpool_postgres::Pool;
use tokio_postgres::Client;

use super::PostDataStep;
use crate::error::{Error, Result};
use crate::ledger::db_message;

pub async fn done(client: &Client, run_id: &str) -> Result<HashSet<(String, String)>> {
    Ok(client
        .query(
            "SELECT kind, object FROM supamigrate.finalize_steps WHERE run_id = $1",
            &[&run_id],
        )
        .await
        .map_err(|e| {
            Error::failure(format!(
                "ledger: reading finalize steps: {}",
                db_message(&e)
            ))
        })?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

pub async fn execute(pool: &Pool, run_id: &str, step: &PostDataStep) -> Result<()> {
    let what = format!("finalize: {} {}", step.kind.as_str(), step.object);
    let mut obj = pool
        .get()
        .await
        .map_err(|e| Error::failure(format!("{what}: connecting: {e}")))?;
    let client: &mut Client = &mut obj;
    let res = async {
        let tx = client.transaction().await?;
        // Index builds and refreshes run as long as they need; more memory
        // for sorts makes index builds markedly faster.
        tx.batch_execute("SET LOCAL statement_timeout = 0; SET LOCAL maintenance_work_mem = '256MB'")
            .await?;
        tx.batch_execute(&step.sql).await?;
        tx.execute(
            "INSERT INTO supamigrate.finalize_steps (run_id, kind, object, sql) VALUES ($1, $2, $3, $4)",
            &[&run_id, &step.kind.as_str(), &step.object, &step.sql],
        )
        .await?;
        tx.commit().await
    }
    .await;
    match res {
        Ok(()) => {
            tracing::debug!(kind = step.kind.as_str(), object = %step.object, "finalize step done");
            Ok(())
        }
        Err(e) => {
            drop(deadpool_postgres::Object::take(obj));
            Err(Error::failure(format!("{what}: {}", db_message(&e)))
                .with_fix("fix the cause on the target, then resume with `supamigrate finalize`"))
        }
    }
}
