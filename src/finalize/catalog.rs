//! Post-data steps read straight from the source catalog, for when no schema
//! stage handed any over: indexes, primary keys and unique constraints on
//! those indexes, other table constraints, foreign keys, triggers, row level
//! security and policies, each as the source defines it (no rewriting).
//!
//! Touches: source catalog, read only.

use std::collections::HashSet;

use tokio_postgres::GenericClient;

use super::PostDataStep;
use crate::error::{Error, Result};
use crate::mapping::scope::Scope;
use crate::pg::{self, quote_ident, quote_qualified, Endpoint, Side};
use crate::sqlrewrite::classify::PostKind;

/// The steps for every table on the source that the target has too (tables
/// the schema stage left out have no rows and get no keys either).
pub async fn post_data_steps(
    source: &Endpoint,
    target: &tokio_postgres::Client,
    scope: &Scope,
) -> Result<Vec<PostDataStep>> {
    let source = pg::connect(Side::Source, source).await?;
    let on_target: HashSet<(String, String)> = target
        .query(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'm')",
            &[],
        )
        .await
        .map_err(|e| Error::db("target: listing tables", e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut out = Vec::new();
    let rel = scope.relation_sql("c", "n");
    indexes(&source, &rel, &mut out).await?;
    constraints(&source, &rel, &mut out).await?;
    triggers(&source, &rel, &mut out).await?;
    policies(&source, &rel, &scope.schema_sql("schemaname"), &mut out).await?;
    Ok(out
        .into_iter()
        .filter(|(schema, table, _)| on_target.contains(&(schema.clone(), table.clone())))
        .map(|(_, _, step)| step)
        .collect())
}

/// A step with the table it belongs to.
type Found = (String, String, PostDataStep);

async fn query(
    client: &impl GenericClient,
    what: &str,
    sql: &str,
) -> Result<Vec<tokio_postgres::Row>> {
    client
        .query(sql, &[])
        .await
        .map_err(|e| Error::db(format!("source: reading {what}"), e))
}

/// Indexes not made by a constraint other than PK/unique (those come with
/// their constraint), and not partition copies of a parent's index (the
/// parent's index creates them).
/// `rel` selects the tables in scope (aliases `c`, `n`).
async fn indexes(client: &impl GenericClient, rel: &str, out: &mut Vec<Found>) -> Result<()> {
    let sql = format!(
        "SELECT n.nspname, i.relname, pg_get_indexdef(x.indexrelid), c.relname
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class c ON c.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE {rel} AND c.relkind IN ('r', 'p', 'm')
           AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = x.indexrelid)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid
                           AND k.contype NOT IN ('p', 'u'))
         ORDER BY c.relpages DESC, 1, 2"
    );
    for r in query(client, "indexes", &sql).await? {
        let (schema, name, def, table): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        out.push((
            schema.clone(),
            table.clone(),
            PostDataStep {
                kind: PostKind::Index,
                object: format!("{schema}.{name}"),
                // On a partitioned table the definition says ON ONLY; without
                // ONLY the build cascades to the partitions' own indexes.
                sql: def.replacen(" ON ONLY ", " ON ", 1),
            },
        ));
    }
    Ok(())
}

/// `rel` selects the tables in scope (aliases `c`, `n`).
async fn constraints(client: &impl GenericClient, rel: &str, out: &mut Vec<Found>) -> Result<()> {
    let sql = format!(
        "SELECT k.contype::text, n.nspname, c.relname, k.conname, pg_get_constraintdef(k.oid),
                c.relkind::text, i.relname, k.condeferrable, k.condeferred
         FROM pg_constraint k
         JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_class i ON i.oid = k.conindid
         WHERE {rel} AND k.contype IN ('p', 'u', 'x', 'f') AND k.conparentid = 0
         ORDER BY k.contype, 2, 3, 4"
    );
    for r in query(client, "constraints", &sql).await? {
        let contype: String = r.get(0);
        let (schema, table, name, def): (String, String, String, String) =
            (r.get(1), r.get(2), r.get(3), r.get(4));
        let relkind: String = r.get(5);
        let index: Option<String> = r.get(6);
        let (deferrable, deferred): (bool, bool) = (r.get(7), r.get(8));
        let t = quote_qualified(&schema, &table);
        let only = if relkind == "p" { "" } else { "ONLY " };
        let sql = match (contype.as_str(), relkind.as_str(), index) {
            // The index was built in the index phase; the constraint adopts it.
            ("p" | "u", "r", Some(index)) => {
                let what = if contype == "p" {
                    "PRIMARY KEY"
                } else {
                    "UNIQUE"
                };
                let mut s = format!(
                    "ALTER TABLE ONLY {t} ADD CONSTRAINT {} {what} USING INDEX {}",
                    quote_ident(&name),
                    quote_ident(&index)
                );
                if deferrable {
                    s.push_str(" DEFERRABLE");
                    if deferred {
                        s.push_str(" INITIALLY DEFERRED");
                    }
                }
                s
            }
            _ => format!(
                "ALTER TABLE {only}{t} ADD CONSTRAINT {} {def}",
                quote_ident(&name)
            ),
        };
        let kind = if contype == "f" {
            PostKind::ForeignKey
        } else {
            PostKind::Constraint
        };
        out.push((
            schema.clone(),
            table.clone(),
            PostDataStep {
                kind,
                object: format!("{schema}.{table}.{name}"),
                sql,
            },
        ));
    }
    // Constraints of partitioned tables build their own indexes; the index
    // phase must not build them first.
    let partitioned: Vec<String> = out
        .iter()
        .filter(|(_, _, s)| s.kind == PostKind::Constraint && !s.sql.contains(" USING INDEX "))
        .map(|(_, _, s)| s.object.clone())
        .collect();
    if !partitioned.is_empty() {
        let owned = format!(
            "SELECT n.nspname || '.' || c.relname || '.' || k.conname, n.nspname || '.' || i.relname
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class i ON i.oid = k.conindid
             WHERE {rel} AND k.contype IN ('p', 'u', 'x')"
        );
        let rows = query(client, "constraint indexes", &owned).await?;
        let skip: Vec<String> = rows
            .iter()
            .filter(|r| partitioned.contains(&r.get::<_, String>(0)))
            .map(|r| r.get(1))
            .collect();
        out.retain(|(_, _, s)| !(s.kind == PostKind::Index && skip.contains(&s.object)));
    }
    Ok(())
}

/// `rel` selects the tables in scope (aliases `c`, `n`).
async fn triggers(client: &impl GenericClient, rel: &str, out: &mut Vec<Found>) -> Result<()> {
    let sql = format!(
        "SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid)
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE {rel} AND NOT t.tgisinternal AND t.tgparentid = 0
         ORDER BY 1, 2, 3"
    );
    for r in query(client, "triggers", &sql).await? {
        let (schema, table, name, def): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        out.push((
            schema.clone(),
            table.clone(),
            PostDataStep {
                kind: PostKind::Trigger,
                object: format!("{schema}.{table}.{name}"),
                sql: def,
            },
        ));
    }
    Ok(())
}

/// `rel` selects the tables in scope (aliases `c`, `n`), `in_scope` the
/// schemas (of `pg_policies.schemaname`).
async fn policies(
    client: &impl GenericClient,
    rel: &str,
    in_scope: &str,
    out: &mut Vec<Found>,
) -> Result<()> {
    let sql = format!(
        "SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE {rel} AND (c.relrowsecurity OR c.relforcerowsecurity)
         ORDER BY 1, 2"
    );
    for r in query(client, "row level security", &sql).await? {
        let (schema, table, rls, force): (String, String, bool, bool) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let t = quote_qualified(&schema, &table);
        let mut s = Vec::new();
        if rls {
            s.push(format!("ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"));
        }
        if force {
            s.push(format!("ALTER TABLE {t} FORCE ROW LEVEL SECURITY"));
        }
        out.push((
            schema.clone(),
            table.clone(),
            PostDataStep {
                kind: PostKind::Policy,
                object: format!("{schema}.{table} row level security"),
                sql: s.join("; "),
            },
        ));
    }
    let sql = format!(
        "SELECT schemaname, tablename, policyname, permissive, cmd,
                array(SELECT CASE WHEN r = 'public' THEN 'PUBLIC' ELSE quote_ident(r) END
                      FROM unnest(roles) r), qual, with_check
         FROM pg_policies WHERE {in_scope}
         ORDER BY 1, 2, 3"
    );
    for r in query(client, "policies", &sql).await? {
        let (schema, table, name, permissive, cmd): (String, String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
        let roles: Vec<String> = r.get(5);
        let qual: Option<String> = r.get(6);
        let check: Option<String> = r.get(7);
        let mut s = format!(
            "CREATE POLICY {} ON {} AS {permissive} FOR {cmd} TO {}",
            quote_ident(&name),
            quote_qualified(&schema, &table),
            roles.join(", ")
        );
        if let Some(q) = qual {
            s.push_str(&format!(" USING ({q})"));
        }
        if let Some(c) = check {
            s.push_str(&format!(" WITH CHECK ({c})"));
        }
        out.push((
            schema.clone(),
            table.clone(),
            PostDataStep {
                kind: PostKind::Policy,
                object: format!("{schema}.{table}.{name}"),
                sql: s,
            },
        ));
    }
    Ok(())
}
