//! Running one finalize step with its ledger row in one target transaction.
//!
//! Touches: target (the step's statement), target `supamigrate.finalize_steps`.

use deadpool_postgres::Pool;
use tokio_postgres::Client;

use super::PostDataStep;
use crate::error::{Error, Result};
use crate::ledger::finalize_steps;
use crate::pg::running::Running;

/// Runs a step and records it in one transaction sent as one message: a
/// schema of thousands of tables has thousands of steps, and each round
/// trip saved is one per step.
pub async fn execute(
    pool: &Pool,
    running: &Running,
    run_id: &str,
    step: &PostDataStep,
) -> Result<()> {
    let what = format!("finalize: {} {}", step.kind.as_str(), step.object);
    let obj = pool
        .get()
        .await
        .map_err(|e| Error::pool(format!("{what}: connecting"), e))?;
    let client: &Client = &obj;
    // Index builds and refreshes run as long as they need; more memory for
    // sorts makes index builds markedly faster. The newline before the `;`
    // ends a trailing line comment in the step's SQL.
    let batch = format!(
        "BEGIN;\nSET LOCAL statement_timeout = 0;\nSET LOCAL maintenance_work_mem = '256MB';\n{}\n;\n\
         {}\nCOMMIT;",
        step.sql,
        finalize_steps::record_sql(run_id, step.kind.as_str(), &step.object, &step.sql)
    );
    let tracked = running.track(client);
    let done = client.batch_execute(&batch).await;
    drop(tracked);
    match done {
        Ok(()) => {
            tracing::debug!(kind = step.kind.as_str(), object = %step.object, "finalize step done");
            Ok(())
        }
        Err(e) => {
            // The transaction may be open and aborted: the connection goes.
            drop(deadpool_postgres::Object::take(obj));
            Err(Error::db(&what, e)
                .with_fix("fix the cause on the target, then resume with `supamigrate finalize`"))
        }
    }
}
