//! Post-data steps as the schema stage stored them in the ledger
//! (`ledger::post_data`): the rewritten statements, in dump order. When
//! they exist they win over reading the source catalog, because only they
//! carry the rewrite's changes and pg_dump's deferred statements (such as
//! the real definition of a view that needs a primary key to exist).
//!
//! A plain primary key or unique constraint (`ADD CONSTRAINT k PRIMARY KEY
//! (id)`, as pg_dump writes it) becomes two steps: its unique index, built in
//! the parallel index phase beside the other indexes, and `ADD CONSTRAINT
//! ... USING INDEX`, which only takes the built index over. Run as dumped,
//! each key's index would be built in the sequential constraint phase.
//!
//! Touches: target ledger table `post_data` and the catalog, read only.

use std::collections::HashSet;

use pg_query::protobuf::{node::Node as N, AlterTableType, ConstrType};
use tokio_postgres::Client;

use super::PostDataStep;
use crate::error::{Error, Result};
use crate::pg::{quote_ident, quote_qualified};
use crate::sqlrewrite::classify::PostKind;

/// The run's stored steps, or `None` when the schema stage stored none
/// (data copied into a schema made elsewhere).
pub async fn stored_steps(client: &Client, run_id: &str) -> Result<Option<Vec<PostDataStep>>> {
    let steps = crate::ledger::post_data::steps(client, run_id).await?;
    if steps.is_empty() {
        return Ok(None);
    }
    let partitioned = partitioned_tables(client).await?;
    Ok(Some(
        steps
            .into_iter()
            .flat_map(|s| split_key(convert(s), &partitioned))
            .collect(),
    ))
}

/// Partitioned tables: `ADD CONSTRAINT ... USING INDEX` is not supported on
/// them, so their keys run as dumped.
async fn partitioned_tables(client: &Client) -> Result<HashSet<(String, String)>> {
    Ok(client
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'p'",
            &[],
        )
        .await
        .map_err(|e| Error::db("target: listing partitioned tables", e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Splits a plain key constraint into its index build and the constraint
/// that takes the index over; any other step is returned as it is. Only
/// plain keys qualify: no INCLUDE, storage options, tablespace, NULLS NOT
/// DISTINCT or deferrability, on a schema-qualified ordinary table.
fn split_key(step: PostDataStep, partitioned: &HashSet<(String, String)>) -> Vec<PostDataStep> {
    if step.kind != PostKind::Constraint {
        return vec![step];
    }
    let Some((index_sql, constraint_sql)) = key_parts(&step.sql, partitioned) else {
        return vec![step];
    };
    vec![
        PostDataStep {
            kind: PostKind::Index,
            object: format!("{} (index)", step.object),
            sql: index_sql,
        },
        PostDataStep {
            sql: constraint_sql,
            ..step
        },
    ]
}

fn key_parts(sql: &str, partitioned: &HashSet<(String, String)>) -> Option<(String, String)> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let [stmt] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let Some(N::AlterTableStmt(alter)) = stmt.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    let rel = alter.relation.as_ref()?;
    if rel.schemaname.is_empty()
        || partitioned.contains(&(rel.schemaname.clone(), rel.relname.clone()))
    {
        return None;
    }
    let [cmd] = alter.cmds.as_slice() else {
        return None;
    };
    let Some(N::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
        return None;
    };
    if cmd.subtype != AlterTableType::AtAddConstraint as i32 {
        return None;
    }
    let Some(N::Constraint(k)) = cmd.def.as_ref()?.node.as_ref() else {
        return None;
    };
    let what = if k.contype == ConstrType::ConstrPrimary as i32 {
        "PRIMARY KEY"
    } else if k.contype == ConstrType::ConstrUnique as i32 {
        "UNIQUE"
    } else {
        return None;
    };
    let plain = !k.conname.is_empty()
        && k.indexname.is_empty()
        && k.indexspace.is_empty()
        && k.including.is_empty()
        && k.options.is_empty()
        && !k.nulls_not_distinct
        && !k.deferrable
        && !k.initdeferred;
    if !plain {
        return None;
    }
    let columns = k
        .keys
        .iter()
        .map(|n| match n.node.as_ref() {
            Some(N::String(s)) => Some(quote_ident(&s.sval)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    if columns.is_empty() {
        return None;
    }
    let table = quote_qualified(&rel.schemaname, &rel.relname);
    let name = quote_ident(&k.conname);
    // IF NOT EXISTS: a resumed run whose constraint step already committed
    // (so the index exists under the constraint's name) skips the build.
    Some((
        format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} USING btree ({})",
            columns.join(", ")
        ),
        format!("ALTER TABLE ONLY {table} ADD CONSTRAINT {name} {what} USING INDEX {name}"),
    ))
}

fn convert(step: crate::ledger::post_data::PostDataStep) -> PostDataStep {
    let attach = step.sql.contains("ATTACH PARTITION");
    let kind = match step.kind {
        // Attaching a partition's index must follow both indexes (and, for
        // keys, both constraints) in dump order, so it runs in the
        // sequential constraint phase, never among the parallel index builds.
        PostKind::Index if attach => PostKind::Constraint,
        // Sequences, refreshes and statistics are finalize's own steps, never
        // the schema stage's.
        PostKind::Sequence | PostKind::Refresh | PostKind::Analyze => PostKind::Other,
        kind => kind,
    };
    PostDataStep {
        kind,
        // The resume key must be unique per kind; the dump position is.
        object: format!(
            "#{} {}",
            step.ordinal,
            step.object.as_deref().unwrap_or_default()
        ),
        sql: step.sql,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(kind: &str, sql: &str) -> crate::ledger::post_data::PostDataStep {
        crate::ledger::post_data::PostDataStep {
            id: 1,
            ordinal: 7,
            kind: PostKind::parse(kind),
            object: Some("public.events_pkey".to_string()),
            sql: sql.to_string(),
            done: false,
        }
    }

    #[test]
    fn partition_attaches_run_in_the_sequential_phase() {
        let s = convert(step(
            "index",
            "ALTER INDEX public.events_pkey ATTACH PARTITION public.events_2025_01_pkey;",
        ));
        assert_eq!(s.kind, PostKind::Constraint);
        let s = convert(step("index", "CREATE INDEX i ON public.t USING btree (a);"));
        assert_eq!(s.kind, PostKind::Index);
        assert_eq!(s.object, "#7 public.events_pkey");
        assert_eq!(
            convert(step("other", "CREATE OR REPLACE VIEW v AS SELECT 1;")).kind,
            PostKind::Other
        );
    }

    fn split(sql: &str, partitioned: &[(&str, &str)]) -> Vec<(PostKind, String, String)> {
        let partitioned = partitioned
            .iter()
            .map(|(s, t)| (s.to_string(), t.to_string()))
            .collect();
        split_key(convert(step("constraint", sql)), &partitioned)
            .into_iter()
            .map(|s| (s.kind, s.object, s.sql))
            .collect()
    }

    #[test]
    fn plain_keys_build_their_index_in_the_index_phase() {
        assert_eq!(
            split(
                "ALTER TABLE ONLY public.\"Order Items\"\n    ADD CONSTRAINT \"Order Items_pkey\" PRIMARY KEY (\"Order\", line);",
                &[],
            ),
            vec![
                (
                    PostKind::Index,
                    "#7 public.events_pkey (index)".to_string(),
                    "CREATE UNIQUE INDEX IF NOT EXISTS \"Order Items_pkey\" ON \"public\".\"Order Items\" USING btree (\"Order\", \"line\")".to_string()
                ),
                (
                    PostKind::Constraint,
                    "#7 public.events_pkey".to_string(),
                    "ALTER TABLE ONLY \"public\".\"Order Items\" ADD CONSTRAINT \"Order Items_pkey\" PRIMARY KEY USING INDEX \"Order Items_pkey\"".to_string()
                ),
            ]
        );
        let unique = split(
            "ALTER TABLE ONLY public.profiles ADD CONSTRAINT profiles_email_key UNIQUE (email);",
            &[],
        );
        assert_eq!(unique.len(), 2);
        assert!(unique[1]
            .2
            .ends_with("UNIQUE USING INDEX \"profiles_email_key\""));
    }

    #[test]
    fn other_constraints_run_as_dumped() {
        for sql in [
            "ALTER TABLE ONLY public.events ADD CONSTRAINT events_pkey PRIMARY KEY (id, at);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_key UNIQUE (a) DEFERRABLE INITIALLY DEFERRED;",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_key UNIQUE NULLS NOT DISTINCT (a);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (a) INCLUDE (b);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (a) WITH (fillfactor = 70);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_excl EXCLUDE USING gist (r WITH &&);",
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_check CHECK (a > 0) NOT VALID;",
            "ALTER TABLE ONLY t ADD CONSTRAINT t_pkey PRIMARY KEY (a);",
        ] {
            let steps = split(sql, &[("public", "events")]);
            assert_eq!(steps.len(), 1, "{sql}");
            assert_eq!(steps[0].0, PostKind::Constraint, "{sql}");
            assert_eq!(steps[0].2, sql, "{sql}");
        }
    }
}
