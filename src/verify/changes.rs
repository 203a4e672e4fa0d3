//! The schema stage's change list (`supamigrate.schema_changes`) as
//! explanations for schema differences, so that `verify` after `schema`
//! needs no `--changes` file: every difference the rewrite made on purpose
//! is reported with its rule, and anything else still fails.
//!
//! Touches: target ledger, read only.

use tokio_postgres::Client;

use super::inventory::Explanation;
use crate::error::{Error, Result};
use crate::ledger::db_message;

pub async fn from_ledger(client: &Client, run_id: &str) -> Result<Vec<Explanation>> {
    let err = |e: tokio_postgres::Error| {
        Error::failure(format!(
            "ledger: reading schema changes: {}",
            db_message(&e)
        ))
    };
    let rows = client
        .query(
            "SELECT rule, reason, action, object FROM supamigrate.schema_changes
             WHERE run_id = $1 AND object IS NOT NULL ORDER BY id",
            &[&run_id],
        )
        .await
        .map_err(err)?;
    Ok(rows
        .iter()
        .flat_map(|r| {
            let (rule, reason, action, object): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            patterns(&action, &object)
                .into_iter()
                .map(move |object| Explanation {
                    object,
                    rule: rule.clone(),
                    reason: reason.clone(),
                })
        })
        .collect())
}

/// Inventory names a change to `object` (the schema stage's label, such as
/// `function auth.uid` or `relation public.v`) accounts for.
fn patterns(action: &str, object: &str) -> Vec<String> {
    let Some((kind, name)) = object.split_once(' ') else {
        return Vec::new();
    };
    match kind {
        // Overloads share a name; the inventory spells out the arguments.
        "function" | "procedure" | "aggregate" => vec![format!("function {name}(*")],
        "relation" | "table" | "view" | "matview" => vec![
            format!("table {name}"),
            format!("view {name}"),
            format!("materialized view {name}"),
        ],
        "type" => vec![format!("enum {name}")],
        // A dropped schema takes everything in it along.
        "schema" if action == "dropped" => vec![format!("* {name}.*")],
        "schema" => Vec::new(),
        _ => vec![object.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::patterns;

    #[test]
    fn labels_become_inventory_patterns() {
        assert_eq!(
            patterns("changed", "function auth.uid"),
            vec!["function auth.uid(*"]
        );
        assert_eq!(patterns("dropped", "schema graphql"), vec!["* graphql.*"]);
        assert!(patterns("changed", "schema auth").is_empty());
        assert_eq!(
            patterns("changed", "type public.app_role"),
            vec!["enum public.app_role"]
        );
        assert_eq!(
            patterns("dropped", "policy public.t.p"),
            vec!["policy public.t.p"]
        );
    }
}
