//! What a schema change accounts for in verify's inventory: the inventory
//! names (and `*` patterns) of the objects a rule's change dropped, changed
//! or added, judged from the label and the dump statement it changed. The
//! schema stage records this with each change; verify reads it back and
//! uses it for `--changes` files too.

use pg_query::protobuf::{node::Node as N, AlterTableType, Node};

use super::classify::classify;

/// The inventory names a change with `action` to `object` accounts for;
/// empty for changes that alter nothing the inventory shows.
pub fn affects(action: &str, object: Option<&str>, original: Option<&str>) -> Vec<String> {
    match object {
        Some(object) => patterns(action, object, effect(original)),
        None => Vec::new(),
    }
}

/// What a change did to what the inventory shows, judged from the dump
/// statement it changed or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Owners, grants, default privileges, comments, roles: nothing the
    /// inventory shows. Such a change must not explain the object's other
    /// differences: every app table's `OWNER TO postgres` is changed, and
    /// every dropped grant on schema public to a platform role would have
    /// explained everything in public. Grants are judged by their grantee's
    /// role rule instead (`privileges`).
    Invisible,
    /// The statement creates a schema: dropping it drops all in it.
    CreatesSchema,
    /// Anything else, or no statement (text a rule added).
    Other,
}

/// The effect of `original`, parsed with PostgreSQL's grammar.
pub fn effect(original: Option<&str>) -> Effect {
    let Some(parsed) = original.and_then(|sql| pg_query::parse(sql, 0).ok()) else {
        return Effect::Other;
    };
    let stmts: Vec<&Node> = parsed
        .protobuf
        .stmts
        .iter()
        .filter_map(|s| s.stmt.as_deref())
        .collect();
    if stmts.is_empty() {
        Effect::Other
    } else if stmts.iter().all(|n| invisible(n)) {
        Effect::Invisible
    } else if matches!(stmts[..], [n] if classify(n).kind == "create_schema") {
        Effect::CreatesSchema
    } else {
        Effect::Other
    }
}

/// Statement kinds (`classify`) that change nothing the
/// inventory shows.
const INVISIBLE: &[&str] = &[
    "alter_owner",
    "grant",
    "revoke",
    "grant_role",
    "alter_default_privileges",
    "comment",
    "security_label",
    "create_role",
    "alter_role",
];

fn invisible(node: &Node) -> bool {
    // classify calls every ALTER TABLE `alter_table`; one that only changes
    // the owner changes nothing the inventory shows either.
    if let Some(N::AlterTableStmt(s)) = &node.node {
        return s.cmds.iter().all(|c| {
            matches!(&c.node, Some(N::AlterTableCmd(cmd))
                if cmd.subtype == AlterTableType::AtChangeOwner as i32)
        });
    }
    INVISIBLE.contains(&classify(node).kind)
}

/// Inventory names a change to `object` (the schema stage's label, such as
/// `function auth.uid` or `relation public.v`) accounts for.
pub fn patterns(action: &str, object: &str, effect: Effect) -> Vec<String> {
    if effect == Effect::Invisible {
        return Vec::new();
    }
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
        "type" => ["enum", "domain", "type", "range"]
            .iter()
            .map(|k| format!("{k} {name}"))
            .collect(),
        // A dropped schema takes everything in it along.
        "schema" if action == "dropped" && effect == Effect::CreatesSchema => {
            vec![format!("* {name}.*")]
        }
        "schema" => Vec::new(),
        _ => vec![object.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::{effect, patterns, Effect};

    #[test]
    fn labels_become_inventory_patterns() {
        let other = Effect::Other;
        assert_eq!(
            patterns("changed", "function auth.uid", other),
            vec!["function auth.uid(*"]
        );
        let schema = effect(Some("CREATE SCHEMA graphql"));
        assert_eq!(schema, Effect::CreatesSchema);
        assert_eq!(
            patterns("dropped", "schema graphql", schema),
            vec!["* graphql.*"]
        );
        assert!(patterns("changed", "schema auth", other).is_empty());
        assert_eq!(
            patterns("changed", "type public.app_role", other),
            vec![
                "enum public.app_role",
                "domain public.app_role",
                "type public.app_role",
                "range public.app_role"
            ]
        );
        assert_eq!(
            patterns("dropped", "policy public.t.p", other),
            vec!["policy public.t.p"]
        );
    }

    #[test]
    fn owner_grant_and_comment_changes_explain_nothing() {
        for sql in [
            "ALTER TABLE public.profiles OWNER TO postgres",
            "ALTER TYPE public.user_role OWNER TO postgres",
            "ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin",
            "GRANT ALL ON SCHEMA public TO supabase_admin",
            "REVOKE ALL ON TABLE public.t FROM dashboard_user",
            "ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public GRANT ALL ON TABLES TO anon",
            "COMMENT ON TABLE public.t IS 'x'",
            "GRANT anon TO authenticator",
        ] {
            assert_eq!(effect(Some(sql)), Effect::Invisible, "{sql}");
        }
        // A dropped grant on a schema is not a dropped schema.
        let grant = effect(Some("GRANT USAGE ON SCHEMA public TO supabase_admin"));
        assert!(patterns("dropped", "schema public", grant).is_empty());
        assert!(patterns("changed", "relation public.profiles", grant).is_empty());
        // What a statement does beyond its owner still counts.
        for sql in [
            "ALTER TABLE public.t OWNER TO postgres, ALTER COLUMN a SET DEFAULT 1",
            "CREATE TABLE public.t (a int)",
        ] {
            assert_eq!(effect(Some(sql)), Effect::Other, "{sql}");
        }
        assert_eq!(effect(None), Effect::Other);
    }
}
