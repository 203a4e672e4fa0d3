//! Finalize's done steps in the ledger (`supamigrate.finalize_steps`): each
//! is recorded in the transaction that runs it, so a crash leaves a step
//! applied and recorded, or neither.
//!
//! Touches: target `supamigrate.finalize_steps`.

use std::collections::HashSet;

use tokio_postgres::Client;

use super::db_err;
use crate::error::Result;
use crate::pg::quote_escaped_literal;

/// The (kind, object) of every step the run has done.
pub async fn done(client: &Client, run_id: &str) -> Result<HashSet<(String, String)>> {
    Ok(client
        .query(
            "SELECT kind, object FROM supamigrate.finalize_steps WHERE run_id = $1",
            &[&run_id],
        )
        .await
        .map_err(|e| db_err("reading finalize steps", e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The statement that records a step, for the batch that runs it: a batch
/// is one message, lexed whole before it runs, so the literals are escape
/// strings rather than parameters.
pub fn record_sql(run_id: &str, kind: &str, object: &str, sql: &str) -> String {
    format!(
        "INSERT INTO supamigrate.finalize_steps (run_id, kind, object, sql) VALUES ({}, {}, {}, {});",
        quote_escaped_literal(run_id),
        quote_escaped_literal(kind),
        quote_escaped_literal(object),
        quote_escaped_literal(sql)
    )
}
