//! Schema inventory: tables, columns, constraints, indexes, policies,
//! functions, triggers, rules, views, extended statistics, enums, domains,
//! composite and range types, extensions and sequences of both sides, each as an
//! object name and a definition rendered by the server itself (`pg_get_*`
//! under `search_path = ''`, so names are qualified and no OID shows).
//! Every difference must be explained by a rule from the change list, or it
//! counts as a failure. Grants are compared apart, in `privileges`, because
//! what explains them is the grantee's role rule.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::mapping::rules::{ExtensionAction, SchemaRules};
use crate::mapping::scope::Scope;
use crate::pg::Side;
use crate::verify::rows::catalog::catalog_err;

/// Object name → definition.
pub type Inventory = BTreeMap<String, String>;

/// `NOT EXISTS` an extension membership for an object of catalog `cat`.
pub(super) fn not_ext(cat: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.{cat}'::regclass AND d.objid = {oid} AND d.deptype = 'e')"
    )
}

fn queries(scope: &Scope) -> Vec<(&'static str, String)> {
    let in_scope = scope.schema_sql("n.nspname");
    let rel = "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace";
    let ext_c = not_ext("pg_class", "c.oid");
    vec![
        ("tables", format!(
            "SELECT format('table %I.%I', n.nspname, c.relname),
                    c.relkind::text || ' rls=' || c.relrowsecurity || ' force_rls=' || c.relforcerowsecurity
                    || coalesce(' ' || pg_catalog.pg_get_expr(c.relpartbound, c.oid), '')
                    -- an unlogged table is emptied by a crash or failover
                    || CASE c.relpersistence WHEN 'u' THEN ' unlogged' ELSE '' END
                    -- what logical decoding (Supabase Realtime) sends of old rows
                    || CASE c.relreplident WHEN 'd' THEN ''
                         ELSE ' replica_identity=' || c.relreplident::text END
                    -- a parent's queries include its children's rows
                    || coalesce(' inherits ' || (
                         SELECT string_agg(format('%I.%I', pn.nspname, p.relname), ', '
                                           ORDER BY i.inhseqno)
                         FROM pg_catalog.pg_inherits i
                         JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                         JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
                         WHERE i.inhrelid = c.oid), '')
             {rel} WHERE c.relkind IN ('r', 'p', 'f') AND {in_scope} AND {ext_c}")),
        ("columns", format!(
            "SELECT format('column %I.%I.%I', n.nspname, c.relname, a.attname),
                    pg_catalog.format_type(a.atttypid, a.atttypmod)
                    || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                    || CASE a.attgenerated WHEN 's' THEN ' generated' ELSE '' END
                    || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
                    || coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
                    || coalesce(' collate ' || quote_ident(co.collname), '')
             {rel} JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
             JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
             LEFT JOIN pg_catalog.pg_collation co
               ON co.oid = a.attcollation AND a.attcollation <> ty.typcollation
             LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
             WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
               AND {in_scope} AND {ext_c}")),
        ("constraints", format!(
            "SELECT format('constraint %I.%I.%I', n.nspname, coalesce(c.relname, t.typname), con.conname),
                    pg_catalog.pg_get_constraintdef(con.oid)
             FROM pg_catalog.pg_constraint con
             JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace
             LEFT JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
             LEFT JOIN pg_catalog.pg_type t ON t.oid = con.contypid
             WHERE con.contype <> 'n' AND {in_scope}
               AND {} AND {}", not_ext("pg_class", "con.conrelid"), not_ext("pg_type", "con.contypid"))),
        ("indexes", format!(
            "SELECT format('index %I.%I', n.nspname, c.relname),
                    pg_catalog.pg_get_indexdef(i.indexrelid)
                    -- an invalid index (a failed concurrent build) serves no
                    -- query and enforces no uniqueness
                    || CASE WHEN i.indisvalid THEN '' ELSE ' invalid' END
             FROM pg_catalog.pg_index i
             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE {in_scope} AND {}", not_ext("pg_class", "i.indrelid"))),
        ("policies", format!(
            "SELECT format('policy %I.%I.%I', n.nspname, c.relname, p.polname),
                    p.polcmd::text || CASE WHEN p.polpermissive THEN ' permissive' ELSE ' restrictive' END
                    || ' to ' || (SELECT string_agg(r.name, ',' ORDER BY r.name)
                                  FROM (SELECT CASE WHEN o = 0 THEN 'public'
                                               ELSE pg_catalog.pg_get_userbyid(o)::text END AS name
                                        FROM unnest(p.polroles) AS o) AS r)
                    || coalesce(' using ' || pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')
                    || coalesce(' check ' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')
             FROM pg_catalog.pg_policy p
             JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE {in_scope}")),
        ("functions", format!(
            "SELECT format('function %I.%I(%s)', n.nspname, p.proname,
                           pg_catalog.pg_get_function_identity_arguments(p.oid)),
                    pg_catalog.pg_get_functiondef(p.oid)
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE p.prokind IN ('f', 'p') AND {in_scope} AND {}", not_ext("pg_proc", "p.oid"))),
        // pg_get_functiondef refuses aggregates: their definition is their
        // state function, types and final function.
        ("aggregates", format!(
            "SELECT format('function %I.%I(%s)', n.nspname, p.proname,
                           pg_catalog.pg_get_function_identity_arguments(p.oid)),
                    concat_ws(' ', 'aggregate kind=' || a.aggkind::text,
                              'returns ' || pg_catalog.format_type(p.prorettype, NULL),
                              'sfunc ' || a.aggtransfn::regprocedure::text,
                              'stype ' || pg_catalog.format_type(a.aggtranstype, NULL),
                              'finalfunc ' || nullif(a.aggfinalfn, 0)::regprocedure::text,
                              'combinefunc ' || nullif(a.aggcombinefn, 0)::regprocedure::text,
                              'initcond ' || pg_catalog.quote_literal(a.agginitval),
                              'sortop ' || nullif(a.aggsortop, 0)::regoperator::text,
                              'window ' || (p.prokind = 'w')::text)
             FROM pg_catalog.pg_proc p
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
             WHERE p.prokind IN ('a', 'w') AND {in_scope} AND {}", not_ext("pg_proc", "p.oid"))),
        ("triggers", format!(
            "SELECT format('trigger %I.%I.%I', n.nspname, c.relname, t.tgname),
                    pg_catalog.pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
             FROM pg_catalog.pg_trigger t
             JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT t.tgisinternal AND {in_scope}")),
        ("views", format!(
            "SELECT format('%s %I.%I', CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,
                           n.nspname, c.relname),
                    pg_catalog.pg_get_viewdef(c.oid)
                    || coalesce(' with ' || array_to_string(c.reloptions, ','), '')
                    -- an unpopulated materialized view fails every query
                    || CASE WHEN c.relkind = 'm' AND NOT c.relispopulated
                            THEN ' not populated' ELSE '' END
             {rel} WHERE c.relkind IN ('v', 'm') AND {in_scope} AND {ext_c}")),
        // Rewrite rules other than a view's own: they change what a
        // statement on the table does.
        ("rules", format!(
            "SELECT format('rule %I.%I.%I', n.nspname, c.relname, r.rulename),
                    pg_catalog.pg_get_ruledef(r.oid)
                    || CASE r.ev_enabled WHEN 'O' THEN '' ELSE ' enabled=' || r.ev_enabled::text END
             FROM pg_catalog.pg_rewrite r
             JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE r.rulename <> '_RETURN' AND {in_scope} AND {ext_c}")),
        ("statistics", format!(
            "SELECT format('statistics %I.%I', n.nspname, s.stxname),
                    pg_catalog.pg_get_statisticsobjdef(s.oid)
             FROM pg_catalog.pg_statistic_ext s
             JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
             WHERE {in_scope}")),
        ("enums", format!(
            "SELECT format('enum %I.%I', n.nspname, t.typname),
                    (array_agg(e.enumlabel ORDER BY e.enumsortorder))::text
             FROM pg_catalog.pg_type t
             JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             WHERE {in_scope} AND {}
             GROUP BY n.nspname, t.typname", not_ext("pg_type", "t.oid"))),
        ("types", format!(
            "SELECT format('%s %I.%I', CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range'
                                           ELSE 'type' END, n.nspname, t.typname),
                    CASE t.typtype
                      WHEN 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                        || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                        || coalesce(' default ' || pg_catalog.pg_get_expr(t.typdefaultbin, 0), '')
                        || coalesce(' collate ' || quote_ident(co.collname), '')
                      WHEN 'r' THEN (SELECT pg_catalog.format_type(r.rngsubtype, NULL)
                                     FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid)
                      ELSE (SELECT string_agg(quote_ident(a.attname) || ' '
                                              || pg_catalog.format_type(a.atttypid, a.atttypmod),
                                              ', ' ORDER BY a.attnum)
                            FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
                    END
             FROM pg_catalog.pg_type t
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
             LEFT JOIN pg_catalog.pg_collation co
               ON co.oid = t.typcollation AND t.typtype = 'd'
                  AND t.typcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b
                                         WHERE b.oid = t.typbasetype)
             WHERE (t.typtype IN ('d', 'r')
                    OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c
                                             WHERE c.oid = t.typrelid) = 'c'))
               AND {in_scope} AND {}", not_ext("pg_type", "t.oid"))),
        // Present or not, and where; versions differ by design between
        // Supabase and Aurora. plpgsql is in every database.
        ("extensions", format!(
            "SELECT 'extension ' || e.extname, 'schema ' || quote_ident(n.nspname)
             FROM pg_catalog.pg_extension e
             JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
             WHERE e.extname <> 'plpgsql' AND {in_scope}")),
        ("sequences", format!(
            "SELECT format('sequence %I.%I', n.nspname, c.relname),
                    pg_catalog.format_type(s.seqtypid, NULL) || ' start ' || s.seqstart
                    || ' increment ' || s.seqincrement || ' min ' || s.seqmin
                    || ' max ' || s.seqmax || ' cycle ' || s.seqcycle
             {rel} JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
             WHERE {in_scope} AND {ext_c}")),
    ]
}

/// Reads one side's inventory.
pub async fn read(client: &Client, side: Side, scope: &Scope) -> Result<Inventory> {
    let mut out = Inventory::new();
    for (what, sql) in queries(scope) {
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| catalog_err(side, &format!("reading the schema inventory ({what})"), e))?;
        for r in rows {
            out.insert(r.get(0), r.get::<_, Option<String>>(1).unwrap_or_default());
        }
    }
    Ok(out)
}

/// The extensions the mappings drop are expected to be missing on the
/// target, each explained by its rule.
pub fn dropped_extensions(rules: &SchemaRules) -> Vec<Explanation> {
    rules
        .extensions
        .iter()
        .filter(|r| r.action == ExtensionAction::Drop)
        .flat_map(|r| {
            r.names.iter().map(|name| Explanation {
                object: format!("extension {name}"),
                rule: r.id.clone(),
                reason: r.reason.clone(),
            })
        })
        .collect()
}

/// One entry of the change list: which objects a rule changed, and why.
/// `object` is an inventory name; `*` in it matches any run of characters.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Explanation {
    pub object: String,
    pub rule: String,
    #[serde(default)]
    pub reason: String,
}

impl Explanation {
    pub fn covers(&self, object: &str) -> bool {
        crate::mapping::rules::glob(&self.object, object)
    }
}

/// Reads a change list: a JSON array of explanations, or an object with
/// them under `changes` (the shape `rewrite --changes` writes); entries
/// without an `object` (rules that changed no inventory object) are skipped.
pub fn load_explanations(path: &Path) -> Result<Vec<Explanation>> {
    let what = format!("change list {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!("{what}: {e}"))
            .with_source(e)
            .with_fix("check the --changes path")
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::config(format!("{what}: not JSON: {e}"))
            .with_source(e)
            .with_fix("pass the JSON file written by `rewrite --changes`")
    })?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => match map.remove("changes") {
            Some(serde_json::Value::Array(items)) => items,
            _ => {
                return Err(Error::config(format!("{what}: no `changes` array"))
                    .with_fix("pass a JSON array of {\"object\", \"rule\", \"reason\"}"))
            }
        },
        _ => {
            return Err(Error::config(format!("{what}: expected a JSON array"))
                .with_fix("pass a JSON array of {\"object\", \"rule\", \"reason\"}"))
        }
    };
    let mut out = Vec::new();
    for item in items {
        if item.get("object").is_none() {
            continue;
        }
        // An entry `rewrite --changes` wrote names the dump statement it
        // changed: it explains what that statement shows in the inventory,
        // as the schema stage's ledger entries do. Hand-written entries are
        // inventory globs as they stand.
        let action = item
            .get("action")
            .and_then(|a| a.as_str())
            .map(str::to_string);
        let original = item
            .get("original")
            .and_then(|a| a.as_str())
            .map(str::to_string);
        let entry: Explanation = serde_json::from_value(item).map_err(|e| {
            Error::config(format!("{what}: {e}"))
                .with_source(e)
                .with_fix("each entry needs string fields `object` and `rule`")
        })?;
        match action {
            None => out.push(entry),
            Some(action) => out.extend(
                crate::sqlrewrite::affects::affects(
                    &action,
                    Some(&entry.object),
                    original.as_deref(),
                )
                .into_iter()
                .map(|object| Explanation {
                    object,
                    ..entry.clone()
                }),
            ),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Difference {
    pub object: String,
    /// `missing` (on the target), `extra` (only on the target) or `changed`.
    pub difference: &'static str,
    pub explained: bool,
    pub rule: Option<String>,
    pub reason: Option<String>,
}

/// Every difference between the two inventories, each with the rule that
/// explains it, if one does.
pub fn compare(source: &Inventory, target: &Inventory, rules: &[Explanation]) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |object: &String, difference: &'static str| {
        let rule = rules.iter().find(|r| r.covers(object));
        out.push(Difference {
            object: object.clone(),
            difference,
            explained: rule.is_some(),
            rule: rule.map(|r| r.rule.clone()),
            reason: rule.map(|r| r.reason.clone()),
        });
    };
    for (name, def) in source {
        match target.get(name) {
            None => push(name, "missing"),
            Some(t) if t != def => push(name, "changed"),
            Some(_) => {}
        }
    }
    for name in target.keys().filter(|n| !source.contains_key(*n)) {
        push(name, "extra");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::rules::glob;

    fn inv(items: &[(&str, &str)]) -> Inventory {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn differences_need_a_rule() {
        let src = inv(&[
            ("index public.a_idx", "x"),
            ("policy public.t.p", "y"),
            ("function auth.uid()", "z"),
        ]);
        let tgt = inv(&[
            ("policy public.t.p", "Y"),
            ("function auth.uid()", "shim"),
            ("table public.new", "r"),
        ]);
        let rules = vec![Explanation {
            object: "function auth.*".into(),
            rule: "auth-shim".into(),
            reason: "GoTrue helpers are recreated".into(),
        }];
        let d = compare(&src, &tgt, &rules);
        let summary: Vec<(&str, &str, bool)> = d
            .iter()
            .map(|d| (d.object.as_str(), d.difference, d.explained))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("function auth.uid()", "changed", true),
                ("index public.a_idx", "missing", false),
                ("policy public.t.p", "changed", false),
                ("table public.new", "extra", false),
            ]
        );
        assert_eq!(d[0].rule.as_deref(), Some("auth-shim"));
    }

    #[test]
    fn extensions_the_mappings_drop_are_explained() {
        let rules = SchemaRules::defaults().unwrap();
        let src = inv(&[
            ("extension pg_stat_statements", "schema extensions"),
            ("extension pgcrypto", "schema extensions"),
        ]);
        let d = compare(&src, &inv(&[]), &dropped_extensions(&rules));
        let summary: Vec<(&str, Option<&str>)> = d
            .iter()
            .map(|d| (d.object.as_str(), d.rule.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "extension pg_stat_statements",
                    Some("aurora.pg-stat-statements")
                ),
                ("extension pgcrypto", None),
            ]
        );
    }

    #[test]
    fn globs_match_anywhere() {
        assert!(glob(
            "*public.file_metadata*",
            "column public.file_metadata.size"
        ));
        assert!(glob("index public.a_idx", "index public.a_idx"));
        assert!(glob("function auth.*", "function auth.uid()"));
        assert!(glob("*.*_idx", "index public.x_idx"));
        assert!(!glob("*_idx", "index public.x_idx2"));
        assert!(!glob("ab*ba", "aba"));
        assert!(!glob("index public.a_idx", "index public.a_idx2"));
    }

    #[test]
    fn change_lists_load_in_both_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(
            &a,
            r#"[{"object":"index public.x","rule":"r1","reason":"why"}]"#,
        )
        .unwrap();
        let b = dir.path().join("b.json");
        std::fs::write(
            &b,
            r#"{"changes":[{"rule":"r0","statement":"x"},{"object":"view public.v","rule":"r2"}]}"#,
        )
        .unwrap();
        assert_eq!(load_explanations(&a).unwrap()[0].rule, "r1");
        let loaded = load_explanations(&b).unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].object, "view public.v");
        // What `rewrite --changes` writes: labels become inventory names,
        // and an owner change explains nothing.
        let r = dir.path().join("r.json");
        std::fs::write(
            &r,
            r#"{"changes":[
                {"rule":"shim","reason":"","action":"changed","object":"function auth.uid",
                 "original":"CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql AS 'select 1'"},
                {"rule":"admin","reason":"","action":"changed","object":"relation public.t",
                 "original":"ALTER TABLE public.t OWNER TO postgres"}]}"#,
        )
        .unwrap();
        let loaded: Vec<(String, String)> = load_explanations(&r)
            .unwrap()
            .into_iter()
            .map(|e| (e.object, e.rule))
            .collect();
        assert_eq!(loaded, vec![("function auth.uid(*".into(), "shim".into())]);
        let bad = dir.path().join("c.json");
        std::fs::write(&bad, "{}").unwrap();
        assert_eq!(
            load_explanations(&bad).unwrap_err().kind(),
            crate::error::Kind::Config
        );
    }
}
