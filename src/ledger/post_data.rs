//! Post-data statements in the ledger (`supamigrate.post_data`): what
//! `schema` stores and `finalize` applies after the rows are in. Each step is applied
//! in its own transaction together with its `done` mark, so a crash leaves
//! a step fully applied and marked, or neither.
//!
//! Touches: target ledger table `post_data` (and the objects the steps
//! create, when applied).

use serde::Serialize;
use tokio_postgres::{Client, GenericClient, Transaction};

use super::Ledger;
use crate::error::{Error, Result};
use crate::sqlrewrite::classify::PostKind;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PostDataStep {
    pub id: i64,
    /// Dump order: steps of one kind must run in this order.
    pub ordinal: i32,
    pub kind: PostKind,
    pub object: Option<String>,
    pub sql: String,
    pub done: bool,
}

/// Every post-data step of the ledger's run, in dump order.
pub async fn post_data_steps(ledger: &Ledger) -> Result<Vec<PostDataStep>> {
    steps(ledger.client(), ledger.run_id()).await
}

pub async fn steps(client: &Client, run_id: &str) -> Result<Vec<PostDataStep>> {
    let rows = client
        .query(
            "SELECT id, ordinal, kind, object, sql, state = 'done'
             FROM supamigrate.post_data WHERE run_id = $1 ORDER BY ordinal",
            &[&run_id],
        )
        .await
        .map_err(|e| Error::db("ledger: reading post-data steps", e))?;
    Ok(rows
        .iter()
        .map(|r| PostDataStep {
            id: r.get(0),
            ordinal: r.get(1),
            kind: PostKind::parse(r.get(2)),
            object: r.get(3),
            sql: r.get(4),
            done: r.get(5),
        })
        .collect())
}

/// A step as the schema stage stores it.
pub struct NewStep<'a> {
    pub kind: PostKind,
    pub object: Option<String>,
    pub sql: &'a str,
}

/// Stores the run's steps in `tx`, the schema stage's transaction; their
/// order is dump order.
pub async fn record(
    tx: &Transaction<'_>,
    run_id: &str,
    steps: &[NewStep<'_>],
) -> Result<(), tokio_postgres::Error> {
    let ordinals: Vec<i32> = (0..steps.len()).map(|i| i as i32).collect();
    let kinds: Vec<&str> = steps.iter().map(|s| s.kind.as_str()).collect();
    let objects: Vec<Option<&str>> = steps.iter().map(|s| s.object.as_deref()).collect();
    let sqls: Vec<&str> = steps.iter().map(|s| s.sql).collect();
    tx.execute(
        "INSERT INTO supamigrate.post_data (run_id, ordinal, kind, object, sql)
         SELECT $1, o, k, ob, q
         FROM unnest($2::int4[], $3::text[], $4::text[], $5::text[]) AS t(o, k, ob, q) ORDER BY o",
        &[&run_id, &ordinals, &kinds, &objects, &sqls],
    )
    .await?;
    Ok(())
}

/// Marks a step done; call inside the transaction that applied it.
pub async fn mark_done(client: &impl GenericClient, id: i64) -> Result<()> {
    client
        .execute(
            "UPDATE supamigrate.post_data SET state = 'done', applied_at = clock_timestamp() WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(|e| Error::db(format!("ledger: marking post-data step {id}"), e))?;
    Ok(())
}

/// Applies every pending step in dump order on `client` (a target
/// connection), each with its mark in one transaction. Returns how many ran.
pub async fn apply_pending(client: &mut Client, run_id: &str) -> Result<usize> {
    let mut applied = 0;
    for step in steps(client, run_id).await?.into_iter().filter(|s| !s.done) {
        let fail = |e: tokio_postgres::Error| {
            Error::db(
                format!(
                    "post-data {} {}",
                    step.kind.as_str(),
                    step.object.as_deref().unwrap_or("statement")
                ),
                e,
            )
        };
        let tx = client.transaction().await.map_err(fail)?;
        tx.batch_execute(&step.sql).await.map_err(fail)?;
        mark_done(&tx, step.id).await?;
        tx.commit().await.map_err(fail)?;
        applied += 1;
    }
    Ok(applied)
}
