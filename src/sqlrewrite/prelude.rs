//! SQL the rewrite adds of its own: the roles the target needs, and the
//! schemas, shims and platform objects the dump uses but does not create.

use std::collections::BTreeSet;

use super::roles::TargetRole;
use crate::mapping::rules::{RoleAction, SchemaRules};
use crate::pg::{quote_ident, quote_literal};

/// One role to create, with the rule that asks for it.
#[derive(Debug, Clone)]
pub struct RoleToCreate {
    pub name: String,
    pub bypassrls: bool,
    pub rule: String,
    pub reason: String,
}

/// The roles to create: every role a `create` rule names outright, and
/// every role matched by a pattern that a kept statement uses.
pub fn roles_to_create(rules: &SchemaRules, used: &BTreeSet<String>) -> Vec<RoleToCreate> {
    let mut names: BTreeSet<String> = used.clone();
    for r in &rules.roles {
        if r.action == RoleAction::Create {
            names.extend(r.names.iter().filter(|n| !n.contains('*')).cloned());
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let rule = rules.role_rule(&name)?;
            (rule.action == RoleAction::Create).then(|| RoleToCreate {
                bypassrls: rule.bypassrls,
                rule: rule.id.clone(),
                reason: rule.reason.clone(),
                name,
            })
        })
        .collect()
}

/// Creates the role when missing (roles are cluster-wide: it may exist, or
/// another session may create it at the same moment), and lets the target
/// login role switch to it, as Supabase's postgres can.
pub fn role_sql(role: &RoleToCreate, owner: &TargetRole) -> String {
    let ident = quote_ident(&role.name);
    let lit = quote_literal(&role.name);
    let raced = "WHEN duplicate_object OR unique_violation THEN NULL;";
    let fallback = if role.bypassrls {
        format!(
            "
      WHEN insufficient_privilege THEN
        BEGIN
          CREATE ROLE {ident} NOLOGIN;
        EXCEPTION {raced}
        END;
        RAISE WARNING 'supamigrate: role % created without BYPASSRLS, which only a superuser may grant here', {lit};"
        )
    } else {
        String::new()
    };
    let attrs = if role.bypassrls { " BYPASSRLS" } else { "" };
    format!(
        "DO $supamigrate$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {lit}) THEN
    BEGIN
      CREATE ROLE {ident} NOLOGIN{attrs};
    EXCEPTION
      {raced}{fallback}
    END;
  END IF;
  BEGIN
    GRANT {ident} TO {owner};
  EXCEPTION {raced}
  END;
END
$supamigrate$;
",
        owner = owner.sql()
    )
}

/// `CREATE SCHEMA IF NOT EXISTS` for a schema the dump uses without
/// creating it, plus the schema's own platform snippet (grants) if any.
pub fn schema_sql(rules: &SchemaRules, schema: &str) -> String {
    let mut sql = format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote_ident(schema));
    if let Some(p) = rules
        .platform
        .iter()
        .find(|p| p.schema == schema && p.name.is_empty())
    {
        sql.push_str(&terminated(&p.sql));
    }
    sql
}

/// Snippet SQL ends without `;` in the mapping files; output needs one.
pub fn terminated(sql: &str) -> String {
    let t = sql.trim();
    if t.ends_with(';') {
        format!("{t}\n")
    } else {
        format!("{t};\n")
    }
}
