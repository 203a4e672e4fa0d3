//! Running one finalize step with its ledger row in one target transaction.
//!
//! Touches: target (the step's statement) and its ledger row
//! (`ledger::finalize_steps`).

use deadpool_postgres::Pool;
use tokio_postgres::Client;

use super::PostDataStep;
use crate::error::{Error, Result};
use crate::ledger::finalize_steps;
use crate::pg::quote_qualified;
use crate::pg::running::Running;
use crate::sqlrewrite::classify::{created_index, PostKind};

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
    let mut drop_first = String::new();
    if step.kind == PostKind::Index {
        match leftover(client, &step.sql)
            .await
            .map_err(|e| Error::db(&what, e))?
        {
            Leftover::None => {}
            Leftover::Built => {
                // Built and committed without its ledger row (by hand, or by a
                // run that did not record it): recorded, not built again.
                let sql =
                    finalize_steps::record_sql(run_id, step.kind.as_str(), &step.object, &step.sql);
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| Error::db(&what, e))?;
                tracing::info!(object = %step.object, "index already built as the step defines it; recorded as done");
                return Ok(());
            }
            Leftover::Invalid(name) => {
                tracing::warn!(object = %step.object, "dropping an invalid leftover of the index to build it again");
                drop_first = format!("DROP INDEX {name};\n");
            }
        }
    }
    // Index builds and refreshes run as long as they need; more memory for
    // sorts makes index builds markedly faster. The newline before the `;`
    // ends a trailing line comment in the step's SQL.
    let batch = format!(
        "BEGIN;\nSET LOCAL statement_timeout = 0;\nSET LOCAL maintenance_work_mem = '256MB';\n{drop_first}{}\n;\n\
         {}\nCOMMIT;",
        step.sql,
        finalize_steps::record_sql(run_id, step.kind.as_str(), &step.object, &step.sql)
    );
    let tracked = running.track(client);
    if running.stopped() {
        // Interrupted between taking the step and registering it.
        return Err(Error::failure(format!("{what}: interrupted")));
    }
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

/// What the target already holds of the index a step builds.
enum Leftover {
    None,
    /// Valid, with the step's definition.
    Built,
    /// Invalid (a failed concurrent build): dropped and built again. Holds
    /// the qualified name.
    Invalid(String),
}

async fn leftover(client: &Client, sql: &str) -> Result<Leftover, tokio_postgres::Error> {
    let Some((schema, name)) = created_index(sql) else {
        return Ok(Leftover::None);
    };
    let row = client
        .query_opt(
            "SELECT i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid)
               FROM pg_catalog.pg_index i
               JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Leftover::None);
    };
    let (valid, def): (bool, String) = (row.get(0), row.get(1));
    // pg_dump writes what pg_get_indexdef says; a parent built from the
    // catalog has its ONLY taken out.
    let same = |s: &str| {
        s.replace(" ON ONLY ", " ON ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .trim_end_matches(';')
            .to_string()
    };
    Ok(if !valid {
        Leftover::Invalid(quote_qualified(&schema, &name))
    } else if same(&def) == same(sql) {
        Leftover::Built
    } else {
        // Another index of that name: the build fails and says so.
        Leftover::None
    })
}
