//! The one answer to "is this schema, relation or sequence ours": derived
//! from the merged schema rules, so that plan, schema, data, finalize and
//! verify agree on every table. Reads nothing; renders the SQL predicate that
//! catalog queries on either side embed.
//!
//! A schema is in scope unless it is a system schema (PostgreSQL's own,
//! `information_schema`, our ledger) or the last schema rule matching it
//! drops it; a user's mapping can therefore keep a platform schema
//! (`supabase_migrations`) or drop one of the application's. Relations and
//! sequences are in scope when their schema is and no extension owns them
//! (the extension's script recreates those on the target).

use super::rules::{SchemaAction, SchemaRules};
use crate::pg::quote_escaped_literal;

/// Schemas that hold the server's own catalogs and our ledger; no rule can
/// bring them into scope. The ledger's name is `ledger::SCHEMA`.
const SYSTEM_EXACT: [&str; 2] = ["information_schema", "supamigrate"];
/// `pg_catalog`, `pg_toast`, `pg_temp_N`, `pg_toast_temp_N`, and any future
/// `pg_` schema: PostgreSQL reserves the prefix.
const SYSTEM_PREFIX: &str = "pg_";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    /// Glob patterns (`*` = any run of characters).
    patterns: Vec<String>,
    keep: bool,
    rule: String,
    reason: String,
}

/// A schema with tables that the rules leave out: named in plan and in
/// verify's certificate, so nothing is absent without a word.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeftOut {
    pub schema: String,
    pub tables: i64,
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Schema rules in merge order; the last match wins.
    decisions: Vec<Decision>,
}

/// Why a schema is out of scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Excluded {
    System,
    Rule { rule: String, reason: String },
}

impl Scope {
    pub fn new(rules: &SchemaRules) -> Scope {
        Scope {
            decisions: rules
                .schemas
                .iter()
                .map(|r| Decision {
                    patterns: r.names.clone(),
                    keep: r.action == SchemaAction::Keep,
                    rule: r.id.clone(),
                    reason: r.reason.clone(),
                })
                .collect(),
        }
    }

    /// `None` when the schema is ours, else why not.
    /// A system schema: the server's own catalogs or our ledger, on every
    /// server whatever the rules say.
    pub fn is_system(schema: &str) -> bool {
        schema.starts_with(SYSTEM_PREFIX) || SYSTEM_EXACT.contains(&schema)
    }

    pub fn excludes(&self, schema: &str) -> Option<Excluded> {
        if Scope::is_system(schema) {
            return Some(Excluded::System);
        }
        let d = self
            .decisions
            .iter()
            .rev()
            .find(|d| d.patterns.iter().any(|p| super::rules::glob(p, schema)))?;
        (!d.keep).then(|| Excluded::Rule {
            rule: d.rule.clone(),
            reason: d.reason.clone(),
        })
    }

    pub fn keeps_schema(&self, schema: &str) -> bool {
        self.excludes(schema).is_none()
    }

    /// The schemas of `tables_by_schema` (name, table count) that a rule
    /// leaves out, with the rule.
    pub fn left_out(&self, tables_by_schema: &[(String, i64)]) -> Vec<LeftOut> {
        tables_by_schema
            .iter()
            .filter_map(|(schema, tables)| match self.excludes(schema)? {
                Excluded::Rule { rule, reason } => Some(LeftOut {
                    schema: schema.clone(),
                    tables: *tables,
                    rule,
                    reason,
                }),
                Excluded::System => None,
            })
            .collect()
    }

    /// SQL that is true when the schema named by `nspname` (an expression
    /// of type `name` or `text`) is in scope: the same decision as
    /// [`Scope::excludes`], rules tried last to first.
    pub fn schema_sql(&self, nspname: &str) -> String {
        let mut sql = format!("(CASE WHEN {} THEN false", Scope::system_sql(nspname));
        for d in self.decisions.iter().rev() {
            if d.patterns.is_empty() {
                continue;
            }
            let likes: Vec<String> = d
                .patterns
                .iter()
                .map(|p| quote_escaped_literal(&glob_to_like(p)))
                .collect();
            sql.push_str(&format!(
                " WHEN {nspname} LIKE ANY (ARRAY[{}]::text[]) THEN {}",
                likes.join(", "),
                d.keep
            ));
        }
        sql.push_str(" ELSE true END)");
        sql
    }

    /// SQL that is true when `nspname` names a system schema, which no rule
    /// brings into scope: for reads of everything else on a side, whatever
    /// the rules say (is the target empty, what did a statement create).
    pub fn system_sql(nspname: &str) -> String {
        format!(
            "({nspname} LIKE {} OR {nspname} IN ({}))",
            quote_escaped_literal(&format!("{}%", like_escape(SYSTEM_PREFIX))),
            SYSTEM_EXACT
                .iter()
                .map(|s| quote_escaped_literal(s))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// SQL that is true when relation `c` (a `pg_class` row) in namespace
    /// `n` (its `pg_namespace` row) is ours: its schema is in scope and no
    /// extension owns it.
    pub fn relation_sql(&self, c: &str, n: &str) -> String {
        format!(
            "{} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend scope_d
                 WHERE scope_d.classid = 'pg_catalog.pg_class'::regclass
                   AND scope_d.objid = {c}.oid AND scope_d.deptype = 'e')",
            self.schema_sql(&format!("{n}.nspname"))
        )
    }
}

/// `LIKE`'s escape character is `\` by default (standard_conforming_strings
/// on, which every supported server has).
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A rule glob as a `LIKE` pattern: `*` is `%`, everything else itself.
fn glob_to_like(glob: &str) -> String {
    glob.split('*')
        .map(like_escape)
        .collect::<Vec<_>>()
        .join("%")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(extra: &str) -> Scope {
        let mut rules = SchemaRules::defaults().unwrap();
        rules
            .merge_str(std::path::Path::new("user.toml"), extra)
            .unwrap();
        Scope::new(&rules)
    }

    #[test]
    fn platform_schemas_are_out_and_user_rules_win() {
        let s = scope("");
        assert!(s.keeps_schema("public"));
        assert!(s.keeps_schema("auth"));
        assert!(s.keeps_schema("app_data"));
        assert!(!s.keeps_schema("supabase_migrations"));
        assert!(!s.keeps_schema("_timescaledb_internal"));
        assert_eq!(s.excludes("pg_catalog"), Some(Excluded::System));
        assert_eq!(s.excludes("pg_temp_3"), Some(Excluded::System));
        assert_eq!(s.excludes("supamigrate"), Some(Excluded::System));

        let s = scope(
            r#"
[[schemas]]
id = "user.keep-history"
reason = "we keep the migration history"
action = "keep"
names = ["supabase_migrations", "pg_catalog", "supamigrate"]

[[schemas]]
id = "user.drop-scratch"
reason = "scratch tables"
action = "drop"
names = ["scratch*"]
"#,
        );
        assert!(s.keeps_schema("supabase_migrations"));
        assert!(
            !s.keeps_schema("pg_catalog"),
            "no rule keeps a system schema"
        );
        assert!(!s.keeps_schema("supamigrate"));
        assert_eq!(
            s.excludes("scratch_2"),
            Some(Excluded::Rule {
                rule: "user.drop-scratch".into(),
                reason: "scratch tables".into()
            })
        );
        assert!(!s.keeps_schema("realtime"));
    }

    #[test]
    fn globs_become_like_patterns_with_wildcards_escaped() {
        assert_eq!(glob_to_like("timescaledb_*"), "timescaledb\\_%");
        assert_eq!(glob_to_like("a%b*c"), "a\\%b%c");
        assert_eq!(glob_to_like("x\\y"), "x\\\\y");
    }

    #[test]
    fn the_sql_tries_rules_last_to_first_after_the_system_schemas() {
        let s = scope(
            "[[schemas]]\nid = \"u\"\nreason = \"r\"\naction = \"keep\"\nnames = [\"supabase_migrations\"]\n",
        );
        let sql = s.schema_sql("n.nspname");
        let clauses: Vec<&str> = sql.split(" WHEN ").collect();
        assert!(clauses[1].contains("'information_schema'"), "{sql}");
        assert!(
            clauses[2].contains(r"E'supabase\\_migrations'") && clauses[2].ends_with("THEN true"),
            "{sql}"
        );
        assert!(
            clauses[3..]
                .iter()
                .any(|c| c.contains(r"E'\\_realtime'") && c.contains(" THEN false")),
            "{sql}"
        );
        assert!(sql.ends_with("ELSE true END)"), "{sql}");
    }
}
