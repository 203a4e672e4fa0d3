//! The schema stage's change list (`supamigrate.schema_changes`): every
//! statement a rule dropped, changed or added, with what it accounts for in
//! verify's inventory.

use tokio_postgres::{Client, Transaction};

use crate::error::{Error, Result};
use crate::sqlrewrite::affects::affects;
use crate::sqlrewrite::Change;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Dropped,
    Changed,
    Added,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        match s {
            "dropped" => Some(Action::Dropped),
            "changed" => Some(Action::Changed),
            "added" => Some(Action::Added),
            _ => None,
        }
    }
}

/// A change as verify reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub rule: String,
    pub reason: String,
    pub action: Action,
    pub object: String,
    /// Inventory names and patterns the change accounts for.
    pub affects: Vec<String>,
}

/// Stores the changes in `tx`, the schema stage's transaction, in order,
/// each with what it affects.
pub async fn record(
    tx: &Transaction<'_>,
    run_id: &str,
    changes: &[Change],
) -> Result<(), tokio_postgres::Error> {
    let rules: Vec<&str> = changes.iter().map(|c| c.rule.as_str()).collect();
    let reasons: Vec<&str> = changes.iter().map(|c| c.reason.as_str()).collect();
    let actions: Vec<&str> = changes.iter().map(|c| c.action).collect();
    let objects: Vec<Option<&str>> = changes.iter().map(|c| c.object.as_deref()).collect();
    let originals: Vec<Option<&str>> = changes.iter().map(|c| c.original.as_deref()).collect();
    let news: Vec<Option<&str>> = changes.iter().map(|c| c.new.as_deref()).collect();
    // One text[] per row cannot travel as a 2-D array parameter (ragged);
    // each row's list goes as one JSON array text instead.
    let affected: Vec<String> = changes
        .iter()
        .map(|c| {
            serde_json::to_string(&affects(
                c.action,
                c.object.as_deref(),
                c.original.as_deref(),
            ))
            .unwrap_or_else(|_| "[]".into())
        })
        .collect();
    tx.execute(
        "INSERT INTO supamigrate.schema_changes (run_id, rule, reason, action, object, original, new, affects)
         SELECT $1, r, re, a, ob, og, nw, ARRAY(SELECT jsonb_array_elements_text(af::jsonb))
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
              WITH ORDINALITY AS t(r, re, a, ob, og, nw, af, n) ORDER BY n",
        &[&run_id, &rules, &reasons, &actions, &objects, &originals, &news, &affected],
    )
    .await?;
    Ok(())
}

/// The run's changes that name an object, in the order they were made.
/// Rows an older version wrote carry no `affects`; theirs is derived from
/// the statement as that version's verify did.
pub async fn read(client: &Client, run_id: &str) -> Result<Vec<ChangeRecord>> {
    let rows = client
        .query(
            "SELECT rule, reason, action, object, original, affects FROM supamigrate.schema_changes
             WHERE run_id = $1 AND object IS NOT NULL ORDER BY id",
            &[&run_id],
        )
        .await
        .map_err(|e| Error::db("ledger: reading schema changes", e))?;
    rows.iter()
        .map(|r| {
            let action: String = r.get(2);
            let object: String = r.get(3);
            let original: Option<String> = r.get(4);
            let stored: Option<Vec<String>> = r.get(5);
            Ok(ChangeRecord {
                rule: r.get(0),
                reason: r.get(1),
                action: Action::parse(&action).ok_or_else(|| {
                    Error::failure(format!(
                        "ledger: schema change with unknown action `{action}`"
                    ))
                })?,
                affects: stored
                    .unwrap_or_else(|| affects(&action, Some(&object), original.as_deref())),
                object,
            })
        })
        .collect()
}
