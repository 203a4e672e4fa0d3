//! Privileges of both sides: what each role may do on every table, view,
//! sequence, column, function and schema in scope, and the default
//! privileges that future objects will get. On Supabase grants are half of
//! the access model (the API roles reach tables through them, and policies
//! only filter what a grant allows), so a revoked or an added grant is a
//! schema difference like a missing policy.
//!
//! Owners differ by design (the target login role owns what the schema
//! stage created), so an owner's own privileges are not compared, and the
//! grantor is not part of an entry. Grants to roles the mappings drop or
//! remap are expected to be missing on the target and are explained by that
//! role rule; the decision is made on the grantee's name itself, never by
//! matching a pattern against the entry's label, so no object name can make
//! a difference look explained.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use super::inventory::{not_ext, Difference, Explanation};
use crate::error::Result;
use crate::mapping::rules::{RoleAction, SchemaRules};
use crate::mapping::scope::Scope;
use crate::pg::Side;
use crate::verify::rows::catalog::catalog_err;

/// What one side grants: object label → grantee → privileges. An object
/// whose only privileges are its owner's is present with no grantees.
pub type Grants = BTreeMap<String, BTreeMap<String, String>>;

fn query(scope: &Scope) -> String {
    let in_scope = scope.schema_sql("n.nspname");
    let rel = "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace";
    let ext_c = not_ext("pg_class", "c.oid");
    let ext_p = not_ext("pg_proc", "p.oid");
    let ext_n = not_ext("pg_namespace", "n.oid");
    // A NULL acl means the built-in default (functions: EXECUTE to PUBLIC),
    // which acldefault spells out; columns have no default beyond the table.
    format!(
        "WITH objects(label, owner, acl) AS (
             SELECT format('%s %I.%I', CASE c.relkind WHEN 'v' THEN 'view'
                             WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                             ELSE 'table' END, n.nspname, c.relname),
                    c.relowner,
                    coalesce(c.relacl, pg_catalog.acldefault(
                        (CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::\"char\", c.relowner))
             {rel} WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {in_scope} AND {ext_c}
           UNION ALL
             SELECT format('column %I.%I.%I', n.nspname, c.relname, a.attname), c.relowner, a.attacl
             {rel} JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
               AND {in_scope} AND {ext_c}
           UNION ALL
             SELECT format('function %I.%I(%s)', n.nspname, p.proname,
                           pg_catalog.pg_get_function_identity_arguments(p.oid)),
                    p.proowner, coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
             WHERE {in_scope} AND {ext_p}
           UNION ALL
             SELECT format('schema %I', n.nspname), n.nspowner,
                    coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))
             FROM pg_catalog.pg_namespace n WHERE {in_scope} AND {ext_n}
         )
         SELECT o.label, g.grantee, g.privileges
         FROM objects o
         LEFT JOIN LATERAL (
             SELECT {GRANTEE} AS grantee, {PRIVILEGES} AS privileges
             FROM pg_catalog.aclexplode(o.acl) e
             WHERE e.grantee <> o.owner
             GROUP BY e.grantee
         ) g ON true"
    )
}

/// An `aclexplode` entry `e`'s grantee, by name.
const GRANTEE: &str =
    "CASE WHEN e.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(e.grantee)::text END";

/// One grantee's privileges from `aclexplode` entries `e`, in one order on
/// both sides, whichever grantors gave them.
const PRIVILEGES: &str = "string_agg(DISTINCT e.privilege_type
        || CASE WHEN e.is_grantable THEN ' with grant option' ELSE '' END,
        ', ' ORDER BY e.privilege_type
        || CASE WHEN e.is_grantable THEN ' with grant option' ELSE '' END)";

/// Default privileges (`ALTER DEFAULT PRIVILEGES`), labelled by the role
/// whose new objects get them; that role is a name to map like a grantee.
/// Global ones (no schema) are in scope too.
fn defaults_query(scope: &Scope) -> String {
    let in_scope = scope.schema_sql("n.nspname");
    format!(
        "SELECT d.defaclrole::pg_catalog.regrole::text,
                CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                     WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
                     ELSE d.defaclobjtype::text END
                || coalesce(' in schema ' || pg_catalog.quote_ident(n.nspname), ''),
                {GRANTEE}, {PRIVILEGES}
         FROM pg_catalog.pg_default_acl d
         LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
         CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) e
         WHERE e.grantee <> d.defaclrole AND (n.oid IS NULL OR ({in_scope}))
         GROUP BY 1, 2, 3"
    )
}

/// One default-privilege entry before its role is mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultGrant {
    pub role: String,
    /// `tables in schema public`, `functions`, ...
    pub on: String,
    pub grantee: String,
    pub privileges: String,
}

/// Reads one side's grants and default privileges.
pub async fn read(
    client: &Client,
    side: Side,
    scope: &Scope,
) -> Result<(Grants, Vec<DefaultGrant>)> {
    let rows = client
        .query(&query(scope), &[])
        .await
        .map_err(|e| catalog_err(side, "reading the schema inventory (privileges)", e))?;
    let mut grants = Grants::new();
    for r in rows {
        let entry = grants.entry(r.get(0)).or_default();
        if let (Some(grantee), Some(privileges)) =
            (r.get::<_, Option<String>>(1), r.get::<_, Option<String>>(2))
        {
            entry.insert(grantee, privileges);
        }
    }
    let defaults = client
        .query(&defaults_query(scope), &[])
        .await
        .map_err(|e| catalog_err(side, "reading the schema inventory (default privileges)", e))?
        .iter()
        .map(|r| DefaultGrant {
            role: r.get(0),
            on: r.get(1),
            grantee: r.get(2),
            privileges: r.get(3),
        })
        .collect();
    Ok((grants, defaults))
}

/// A rule and its reason, as a difference carries them.
type Why = (String, String);

fn why_of(e: &Explanation) -> Why {
    (e.rule.clone(), e.reason.clone())
}

/// The role verify logs in as on the target: the one a remapped role became.
pub async fn login(client: &Client) -> Result<String> {
    let row = client
        .query_one("SELECT current_user::text", &[])
        .await
        .map_err(|e| catalog_err(Side::Target, "reading the login role", e))?;
    Ok(row.get(0))
}

/// What the target is expected to lack of the source's grants, and what
/// explains a difference.
pub struct Expected<'a> {
    rules: &'a SchemaRules,
    /// The target login role: what a remapped role becomes.
    login: &'a str,
    /// Change list entries; only one that names a grant's own label
    /// explains it.
    changes: &'a [Explanation],
}

impl<'a> Expected<'a> {
    pub fn new(rules: &'a SchemaRules, login: &'a str, changes: &'a [Explanation]) -> Self {
        Expected {
            rules,
            login,
            changes,
        }
    }

    /// The role rule for `role`, if its action is one of `actions`.
    fn rule_for(&self, role: &str, actions: &[RoleAction]) -> Option<Why> {
        let rule = self.rules.role_rule(role)?;
        actions
            .contains(&rule.action)
            .then(|| (rule.id.clone(), rule.reason.clone()))
    }

    /// The rule under which grants to this source role are not on the
    /// target: it is dropped, or remapped to the login role that owns every
    /// object the schema stage created, and an owner's own privileges are
    /// implicit.
    fn gone(&self, role: &str) -> Option<Why> {
        self.rule_for(role, &[RoleAction::Drop, RoleAction::Remap])
    }

    /// The rule that drops this source role: default privileges of it, or
    /// for it, are not on the target. (A remapped role's defaults are: they
    /// become the login role's.)
    fn dropped(&self, role: &str) -> Option<Why> {
        self.rule_for(role, &[RoleAction::Drop])
    }

    /// The name a source role has on the target.
    fn on_target<'r>(&'r self, role: &'r str) -> &'r str {
        match self.rules.role_rule(role) {
            Some(r) if r.action == RoleAction::Remap => self.login,
            _ => role,
        }
    }

    /// The rule under which a grant only the target has is expected: one
    /// to the login role stands in for one to a remapped role, and one to a
    /// role the mappings keep as the target's own (`rds_*`, `rdsadmin`,
    /// `pg_*`) is the platform's, as on the `public` schema that a new
    /// Aurora database comes with.
    fn target_only(&self, role: &str) -> Option<Why> {
        if role != self.login {
            return self.rule_for(role, &[RoleAction::Keep]);
        }
        let rule = self
            .rules
            .roles
            .iter()
            .rev()
            .find(|r| r.action == RoleAction::Remap)?;
        Some((rule.id.clone(), rule.reason.clone()))
    }

    fn named(&self, label: &str) -> Option<Why> {
        self.changes.iter().find(|r| r.covers(label)).map(why_of)
    }

    /// Grants that differ on objects both sides have (an object missing on
    /// one side is already an inventory difference). A rule that changed an
    /// object (its owner, its body) does not explain its grants: only a role
    /// rule for the grantee does, or a change list entry that names the
    /// grant itself (`privilege table public.t to anon`).
    pub fn grants(&self, source: &Grants, target: &Grants) -> Vec<Difference> {
        let mut out = Vec::new();
        for (object, src) in source {
            let Some(tgt) = target.get(object) else {
                continue;
            };
            let mut seen = Vec::new();
            for (grantee, privileges) in src {
                let mapped = self.on_target(grantee);
                seen.push(mapped);
                let found = tgt.get(mapped);
                if found == Some(privileges) {
                    continue;
                }
                let label = format!("privilege {object} to {grantee}");
                let why = self.gone(grantee).or_else(|| self.named(&label));
                out.push(difference(label, kind(found.is_some()), why));
            }
            for grantee in tgt.keys().filter(|g| !seen.contains(&g.as_str())) {
                let label = format!("privilege {object} to {grantee}");
                let why = self.target_only(grantee).or_else(|| self.named(&label));
                out.push(difference(label, "extra", why));
            }
        }
        out
    }

    /// Default privileges that differ, with the source's roles mapped to
    /// their target names first (`FOR ROLE postgres` becomes the login
    /// role's). Reported under each side's own role names.
    pub fn defaults(&self, source: &[DefaultGrant], target: &[DefaultGrant]) -> Vec<Difference> {
        let label = |role: &str, on: &str, grantee: &str| {
            format!("default privileges for {role} on {on} to {grantee}")
        };
        let mut unmatched: BTreeMap<String, &DefaultGrant> = target
            .iter()
            .map(|d| (label(&d.role, &d.on, &d.grantee), d))
            .collect();
        let mut out = Vec::new();
        for d in source {
            let mapped = label(self.on_target(&d.role), &d.on, self.on_target(&d.grantee));
            let found = unmatched.remove(&mapped);
            if found.is_some_and(|t| t.privileges == d.privileges) {
                continue;
            }
            let shown = label(&d.role, &d.on, &d.grantee);
            let why = self
                .dropped(&d.role)
                .or_else(|| self.dropped(&d.grantee))
                .or_else(|| self.named(&shown));
            out.push(difference(shown, kind(found.is_some()), why));
        }
        for (shown, d) in unmatched {
            let why = self.target_only(&d.grantee).or_else(|| self.named(&shown));
            out.push(difference(shown, "extra", why));
        }
        out
    }
}

fn kind(on_target: bool) -> &'static str {
    if on_target {
        "changed"
    } else {
        "missing"
    }
}

fn difference(object: String, difference: &'static str, why: Option<Why>) -> Difference {
    Difference {
        object,
        difference,
        explained: why.is_some(),
        rule: why.as_ref().map(|w| w.0.clone()),
        reason: why.map(|w| w.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(items: &[(&str, &[(&str, &str)])]) -> Grants {
        items
            .iter()
            .map(|(object, entries)| {
                (
                    object.to_string(),
                    entries
                        .iter()
                        .map(|(g, p)| (g.to_string(), p.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    fn summary(d: &[Difference]) -> Vec<(&str, &str, Option<&str>)> {
        d.iter()
            .map(|d| (d.object.as_str(), d.difference, d.rule.as_deref()))
            .collect()
    }

    #[test]
    fn grants_of_dropped_and_remapped_roles_are_explained_by_their_rule() {
        let rules = SchemaRules::defaults().unwrap();
        let src = grants(&[
            (
                "table auth.users",
                &[
                    ("dashboard_user", "SELECT"),
                    ("postgres", "SELECT, UPDATE"),
                    ("anon", "SELECT"),
                    ("authenticated", "SELECT"),
                ],
            ),
            // A grant to postgres where the target login role does not own
            // the object: it must then be the login role's.
            ("table public.t", &[("postgres", "SELECT")]),
            ("table public.only_source", &[("anon", "SELECT")]),
        ]);
        let tgt = grants(&[
            (
                "table auth.users",
                &[
                    ("anon", "SELECT"),
                    ("service_role", "SELECT"),
                    ("rdsadmin", "SELECT"),
                ],
            ),
            ("table public.t", &[("matbakh_admin", "SELECT")]),
        ]);
        let d = Expected::new(&rules, "matbakh_admin", &[]).grants(&src, &tgt);
        assert_eq!(
            summary(&d),
            vec![
                (
                    "privilege table auth.users to authenticated",
                    "missing",
                    None
                ),
                (
                    "privilege table auth.users to dashboard_user",
                    "missing",
                    Some("supabase.platform-roles")
                ),
                (
                    "privilege table auth.users to postgres",
                    "missing",
                    Some("supabase.project-admin")
                ),
                (
                    "privilege table auth.users to rdsadmin",
                    "extra",
                    Some("supabase.builtin-roles")
                ),
                ("privilege table auth.users to service_role", "extra", None),
            ]
        );
    }

    #[test]
    fn no_object_name_makes_a_grant_difference_look_explained() {
        let rules = SchemaRules::defaults().unwrap();
        let object = r#"table public."x to supabase_admin""#;
        let src = grants(&[(object, &[("anon", "SELECT")])]);
        let tgt = grants(&[(object, &[("anon", "SELECT, DELETE")])]);
        let d = Expected::new(&rules, "matbakh_admin", &[]).grants(&src, &tgt);
        assert_eq!(
            summary(&d),
            vec![(
                r#"privilege table public."x to supabase_admin" to anon"#,
                "changed",
                None
            )]
        );
        // A change list can still explain a grant by naming it.
        let named = vec![Explanation {
            object: r#"privilege table public."x to supabase_admin" to anon"#.into(),
            rule: "wider-anon".into(),
            reason: String::new(),
        }];
        assert_eq!(
            Expected::new(&rules, "matbakh_admin", &named).grants(&src, &tgt)[0]
                .rule
                .as_deref(),
            Some("wider-anon")
        );
    }

    fn default(role: &str, on: &str, grantee: &str, privileges: &str) -> DefaultGrant {
        DefaultGrant {
            role: role.into(),
            on: on.into(),
            grantee: grantee.into(),
            privileges: privileges.into(),
        }
    }

    #[test]
    fn default_privileges_follow_the_remapped_role() {
        let rules = SchemaRules::defaults().unwrap();
        let on = "tables in schema public";
        let src = vec![
            default("postgres", on, "anon", "SELECT"),
            default("postgres", on, "authenticated", "SELECT"),
            default("supabase_admin", on, "anon", "SELECT"),
        ];
        let tgt = vec![
            default("matbakh_admin", on, "anon", "SELECT"),
            default("matbakh_admin", on, "service_role", "SELECT"),
        ];
        let d = Expected::new(&rules, "matbakh_admin", &[]).defaults(&src, &tgt);
        assert_eq!(
            summary(&d),
            vec![
                (
                    "default privileges for postgres on tables in schema public to authenticated",
                    "missing",
                    None
                ),
                (
                    "default privileges for supabase_admin on tables in schema public to anon",
                    "missing",
                    Some("supabase.platform-roles")
                ),
                (
                    "default privileges for matbakh_admin on tables in schema public to service_role",
                    "extra",
                    None
                ),
            ]
        );
    }
}
