//! Sequence values on both sides: the value the next `nextval` would return
//! must be the same, or the target would hand out keys the source already
//! used (or skip some).

use std::collections::BTreeMap;

use serde::Serialize;
use tokio_postgres::Client;

use super::catalog::catalog_err;
use crate::error::Result;
use crate::mapping::scope::Scope;
use crate::pg::{quote_qualified, Side};

#[derive(Debug, Clone, Serialize)]
pub struct SequenceReport {
    pub name: String,
    /// The next value `nextval` would return.
    pub source: i64,
    pub target: i64,
    #[serde(rename = "match")]
    pub matches: bool,
}

/// Next values of every sequence in scope, by qualified name.
pub async fn read(client: &Client, side: Side, scope: &Scope) -> Result<BTreeMap<String, i64>> {
    let rows = client
        .query(
            &format!(
                "SELECT n.nspname::text, c.relname::text, s.seqincrement
                 FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
                 WHERE c.relkind = 'S' AND {}
                 ORDER BY 1, 2",
                scope.relation_sql("c", "n")
            ),
            &[],
        )
        .await
        .map_err(|e| catalog_err(side, "listing sequences", e))?;
    let mut out = BTreeMap::new();
    for r in rows {
        let (schema, name, increment): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
        let qualified = quote_qualified(&schema, &name);
        let row = client
            .query_one(
                &format!("SELECT last_value, is_called FROM {qualified}"),
                &[],
            )
            .await
            .map_err(|e| catalog_err(side, &format!("reading sequence {schema}.{name}"), e))?;
        out.insert(
            format!("{schema}.{name}"),
            next_value(row.get(0), row.get(1), increment),
        );
    }
    Ok(out)
}

/// What `nextval` returns next (ignoring wrap-around at the bounds).
pub fn next_value(last_value: i64, is_called: bool, increment: i64) -> i64 {
    if is_called {
        last_value.saturating_add(increment)
    } else {
        last_value
    }
}

/// Compares the sequences both sides have; one missing on a side is a
/// schema inventory difference, judged there against the change list.
pub fn compare(
    source: &BTreeMap<String, i64>,
    target: &BTreeMap<String, i64>,
) -> Vec<SequenceReport> {
    source
        .iter()
        .filter_map(|(name, &s)| {
            target.get(name).map(|&t| SequenceReport {
                name: name.clone(),
                source: s,
                target: t,
                matches: s == t,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_value_respects_is_called() {
        assert_eq!(next_value(10, true, 1), 11);
        assert_eq!(next_value(10, false, 1), 10);
        assert_eq!(next_value(100, true, 7), 107);
    }

    #[test]
    fn a_sequence_behind_does_not_match() {
        let src = BTreeMap::from([("public.a".to_string(), 5), ("public.b".to_string(), 3)]);
        let tgt = BTreeMap::from([("public.a".to_string(), 4)]);
        let r = compare(&src, &tgt);
        assert_eq!(r.len(), 1);
        assert!(!r[0].matches);
        assert!(compare(&src, &src).iter().all(|s| s.matches));
    }
}
