//! What the schema stage created, found by comparing the target's catalog
//! before and after (inside the same transaction), turned into undo SQL for
//! the ledger's undo journal. Comparing catalogs instead of guessing from
//! statements catches everything, including objects an extension's script
//! or a DO block made.

use std::collections::BTreeMap;

use tokio_postgres::GenericClient;

use crate::error::{Error, Result};
use crate::mapping::scope::Scope;

fn not_extension_member(class: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = '{class}'::regclass AND d.objid = {oid} AND d.deptype = 'e')"
    )
}

fn inventory_sql() -> String {
    let rel = not_extension_member("pg_class", "c.oid");
    let pro = not_extension_member("pg_proc", "p.oid");
    let not_system = format!("NOT {}", Scope::system_sql("n.nspname"));
    let typ = not_extension_member("pg_type", "t.oid");
    format!(
        "SELECT 'role', quote_ident(rolname), format('DO $u$BEGIN IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %L) THEN DROP OWNED BY %I; DROP ROLE %I; END IF; END$u$', rolname, rolname, rolname), ''
           FROM pg_catalog.pg_roles
         UNION ALL
         SELECT 'extension', quote_ident(extname), format('DROP EXTENSION IF EXISTS %I CASCADE', extname), ''
           FROM pg_catalog.pg_extension
         UNION ALL
         SELECT 'schema', quote_ident(n.nspname), format('DROP SCHEMA IF EXISTS %I CASCADE', n.nspname), n.nspname
           FROM pg_catalog.pg_namespace n WHERE {not_system}
         UNION ALL
         SELECT 'relation', format('%I.%I', n.nspname, c.relname),
                format('DROP %s IF EXISTS %I.%I CASCADE',
                       CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                      WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                       n.nspname, c.relname), n.nspname
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {not_system} AND {rel}
         UNION ALL
         SELECT 'routine', p.oid::regprocedure::text, format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure), n.nspname
           FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
          WHERE {not_system} AND {pro}
         UNION ALL
         SELECT 'type', t.oid::regtype::text,
                format('DROP %s IF EXISTS %s CASCADE', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype), n.nspname
           FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
          WHERE t.typtype IN ('e', 'd', 'r', 'c') AND {not_system} AND {typ}
            AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c')"
    )
}

/// Objects outside the system schemas that are not extension members:
/// (kind, qualified name) → (undo SQL, schema). Names print schema-qualified: the search path is
/// set to pg_catalog alone for the rest of the transaction.
pub async fn inventory(
    client: &impl GenericClient,
) -> Result<BTreeMap<(String, String), (String, String)>> {
    client
        .batch_execute("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)")
        .await
        .map_err(fail)?;
    let rows = client.query(&inventory_sql(), &[]).await.map_err(fail)?;
    Ok(rows
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
        .collect())
}

fn fail(e: tokio_postgres::Error) -> Error {
    Error::db("target: reading the catalog for the undo journal", e)
}

/// What is new in `after`, as (object, undo SQL), in creation-dependency
/// order: roles, extensions, schemas, then objects in schemas that existed
/// before (objects in new schemas go with their schema).
pub fn created(
    before: &BTreeMap<(String, String), (String, String)>,
    after: &BTreeMap<(String, String), (String, String)>,
) -> Vec<(String, String)> {
    let new_schemas: Vec<&String> = after
        .keys()
        .filter(|k| k.0 == "schema" && !before.contains_key(*k))
        .map(|k| &k.1)
        .collect();
    let mut out = Vec::new();
    for kind in ["role", "extension", "schema", "type", "relation", "routine"] {
        for ((k, name), (undo, schema)) in after {
            if k != kind || before.contains_key(&(k.clone(), name.clone())) {
                continue;
            }
            let in_new_schema = kind != "schema"
                && !schema.is_empty()
                && new_schemas
                    .iter()
                    .any(|s| crate::sqlrewrite::scan::ident(s) == *schema);
            if !in_new_schema {
                out.push((format!("{kind} {name}"), undo.clone()));
            }
        }
    }
    out
}

/// User objects already on the target (for the non-empty check): schemas
/// other than public, relations, routines and types outside extensions.
pub async fn user_objects(
    client: &impl GenericClient,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query(
            &format!(
                "SELECT kind || ' ' || name FROM ({}) i(kind, name, undo, schema)
                 WHERE kind IN ('schema', 'relation', 'routine', 'type') AND NOT (kind = 'schema' AND name = 'public')
                 ORDER BY 1",
                inventory_sql()
            ),
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
