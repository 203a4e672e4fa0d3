//! The undo journal (`supamigrate.undo_journal`): for every change a stage
//! makes outside the ledger, the statement that reverts it, written in the
//! same transaction as the change. Rollback replays it newest first.

use tokio_postgres::Transaction;

use super::Stage;

/// Journals `entries` (object, undo SQL) in `tx`, the transaction that makes
/// the changes; ids follow the list's order, which rollback reverses.
pub async fn record_target_sql(
    tx: &Transaction<'_>,
    run_id: &str,
    stage: Stage,
    entries: &[(String, String)],
) -> Result<(), tokio_postgres::Error> {
    let (objects, undos): (Vec<&str>, Vec<&str>) = entries
        .iter()
        .map(|(o, u)| (o.as_str(), u.as_str()))
        .unzip();
    tx.execute(
        "INSERT INTO supamigrate.undo_journal (run_id, stage, kind, object, undo)
         SELECT $1, $2, 'target_sql', o, u
         FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(o, u, n) ORDER BY n",
        &[&run_id, &stage.as_str(), &objects, &undos],
    )
    .await?;
    Ok(())
}
