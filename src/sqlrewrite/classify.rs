//! What each dump statement is: its kind, the object it creates or acts on
//! (schema and name), the setting it sets, the extension it names, and which
//! part of the restore it belongs to (pre-data or post-data).

use pg_query::protobuf::{self, node::Node as N, AlterTableType, ConstrType, Node, ObjectType};
use serde::Serialize;

use super::names::{defelem, first_string, object_ref, object_type, qualified, range_ref, strings};

/// The object a statement creates or acts on. `family` groups object types
/// that share a namespace (tables, views and sequences are all relations).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjRef {
    pub family: &'static str,
    pub schema: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{} {s}.{}", self.family, self.name),
            None => write!(f, "{} {}", self.family, self.name),
        }
    }
}

/// Where a statement goes when schema and data are loaded separately: the
/// vocabulary of post-data steps, shared by the schema stage (which stores
/// the kind of each step in the ledger) and finalize (which runs them in
/// phases by kind and adds the last three kinds itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PostKind {
    Index,
    Constraint,
    ForeignKey,
    Trigger,
    Policy,
    Other,
    Sequence,
    Refresh,
    Analyze,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Index => "index",
            PostKind::Constraint => "constraint",
            PostKind::ForeignKey => "foreign_key",
            PostKind::Trigger => "trigger",
            PostKind::Policy => "policy",
            PostKind::Other => "other",
            PostKind::Sequence => "sequence",
            PostKind::Refresh => "refresh",
            PostKind::Analyze => "analyze",
        }
    }

    /// Reads back what `as_str` wrote; anything else is `Other`.
    pub fn parse(s: &str) -> PostKind {
        [
            PostKind::Index,
            PostKind::Constraint,
            PostKind::ForeignKey,
            PostKind::Trigger,
            PostKind::Policy,
            PostKind::Sequence,
            PostKind::Refresh,
            PostKind::Analyze,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .unwrap_or(PostKind::Other)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Class {
    pub kind: &'static str,
    /// Lower-case object type (`table`, `function`, `extension`, ...).
    pub object_type: &'static str,
    pub target: Option<ObjRef>,
    /// True when the statement creates `target`.
    pub defines: bool,
    pub setting: Option<String>,
    pub provider: Option<String>,
    /// `Some` for statements pg_dump puts in its post-data section.
    pub post: Option<PostKind>,
}

/// The (schema, name) of the index a `CREATE INDEX` statement builds; an
/// index lives in its table's schema. `None` for any other statement, or an
/// index whose table is not schema-qualified.
pub fn created_index(sql: &str) -> Option<(String, String)> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let stmt = parsed.protobuf.stmts.first()?.stmt.as_ref()?;
    let c = classify(stmt);
    let target = c
        .target
        .filter(|t| c.kind == "create_index" && !t.name.is_empty())?;
    Some((target.schema?, target.name))
}

pub fn classify(node: &Node) -> Class {
    let Some(n) = &node.node else {
        return Class {
            kind: "other",
            ..Class::default()
        };
    };
    let mut c = Class {
        kind: "other",
        ..Class::default()
    };
    let obj = |family, schema: Option<String>, name: String| {
        Some(ObjRef {
            family,
            schema,
            name,
        })
    };
    match n {
        N::VariableSetStmt(s) => {
            c.kind = "set";
            c.setting = Some(s.name.clone());
        }
        N::SelectStmt(s) => {
            c.kind = "select";
            c.setting = set_config_name(s);
            if c.setting.is_some() {
                c.kind = "set_config";
            }
        }
        N::CreateSchemaStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_schema", "schema", true);
            c.target = obj("schema", None, s.schemaname.clone());
        }
        N::CreateExtensionStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_extension", "extension", true);
            c.target = obj("extension", None, s.extname.clone());
        }
        N::AlterExtensionStmt(s) => {
            (c.kind, c.object_type) = ("alter_extension", "extension");
            c.target = obj("extension", None, s.extname.clone());
        }
        N::CreateStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_table", "table", true);
            c.target = range_ref(s.relation.as_ref());
        }
        N::CreateForeignTableStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_foreign_data", "foreign_table", true);
            c.target = range_ref(s.base_stmt.as_ref().and_then(|b| b.relation.as_ref()));
        }
        N::CreateForeignServerStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_foreign_data", "server", true);
            c.target = obj("server", None, s.servername.clone());
        }
        N::CreateFdwStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_foreign_data", "fdw", true);
            c.target = obj("fdw", None, s.fdwname.clone());
        }
        N::CreateUserMappingStmt(s) => {
            (c.kind, c.object_type) = ("create_foreign_data", "user_mapping");
            c.target = obj("server", None, s.servername.clone());
        }
        N::ViewStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_view", "view", true);
            c.target = range_ref(s.view.as_ref());
        }
        N::CreateTableAsStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_materialized_view", "matview", true);
            c.target = range_ref(s.into.as_ref().and_then(|i| i.rel.as_ref()));
        }
        N::CreateSeqStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_sequence", "sequence", true);
            c.target = range_ref(s.sequence.as_ref());
        }
        N::AlterSeqStmt(s) => {
            (c.kind, c.object_type) = ("alter_sequence", "sequence");
            c.target = range_ref(s.sequence.as_ref());
        }
        N::CreateFunctionStmt(s) => {
            c.kind = "create_function";
            c.object_type = if s.is_procedure {
                "procedure"
            } else {
                "function"
            };
            c.defines = true;
            c.target = qualified("function", &s.funcname);
        }
        N::AlterFunctionStmt(s) => {
            (c.kind, c.object_type) = ("alter_function", "function");
            c.target = s
                .func
                .as_ref()
                .and_then(|f| qualified("function", &f.objname));
        }
        N::CompositeTypeStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_type", "type", true);
            c.target = range_ref(s.typevar.as_ref()).map(|r| ObjRef {
                family: "type",
                ..r
            });
        }
        N::CreateEnumStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_type", "type", true);
            c.target = qualified("type", &s.type_name);
        }
        N::CreateRangeStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_type", "type", true);
            c.target = qualified("type", &s.type_name);
        }
        N::AlterEnumStmt(s) => {
            (c.kind, c.object_type) = ("alter_type", "type");
            c.target = qualified("type", &s.type_name);
        }
        N::CreateDomainStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_domain", "domain", true);
            c.target = qualified("type", &s.domainname);
        }
        N::AlterDomainStmt(s) => {
            (c.kind, c.object_type) = ("alter_domain", "domain");
            c.target = qualified("type", &s.type_name);
        }
        N::DefineStmt(s) => {
            c.kind = "define";
            let t = object_type(s.kind);
            c.object_type = t.1;
            c.defines = true;
            c.target = qualified(t.0, &s.defnames);
        }
        N::IndexStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_index", "index", true);
            let table = range_ref(s.relation.as_ref());
            c.target = obj("relation", table.and_then(|t| t.schema), s.idxname.clone());
            c.post = Some(PostKind::Index);
        }
        N::CreateTrigStmt(s) => {
            (c.kind, c.object_type) = ("create_trigger", "trigger");
            c.target = range_ref(s.relation.as_ref());
            c.post = Some(PostKind::Trigger);
        }
        N::CreatePolicyStmt(s) => {
            (c.kind, c.object_type) = ("create_policy", "policy");
            c.target = range_ref(s.table.as_ref());
            c.post = Some(PostKind::Policy);
        }
        N::AlterPolicyStmt(s) => {
            (c.kind, c.object_type) = ("alter_policy", "policy");
            c.target = range_ref(s.table.as_ref());
            c.post = Some(PostKind::Policy);
        }
        N::RuleStmt(s) => {
            (c.kind, c.object_type) = ("create_rule", "rule");
            c.target = range_ref(s.relation.as_ref());
            c.post = Some(PostKind::Other);
        }
        N::CreateEventTrigStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_event_trigger", "event_trigger", true);
            c.target = obj("event_trigger", None, s.trigname.clone());
        }
        N::AlterEventTrigStmt(s) => {
            (c.kind, c.object_type) = ("alter_event_trigger", "event_trigger");
            c.target = obj("event_trigger", None, s.trigname.clone());
        }
        N::CreatePublicationStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_publication", "publication", true);
            c.target = obj("publication", None, s.pubname.clone());
            c.post = Some(PostKind::Other);
        }
        N::AlterPublicationStmt(s) => {
            (c.kind, c.object_type) = ("alter_publication", "publication");
            c.target = obj("publication", None, s.pubname.clone());
            c.post = Some(PostKind::Other);
        }
        N::CreateSubscriptionStmt(s) => {
            (c.kind, c.object_type, c.defines) = ("create_subscription", "subscription", true);
            c.target = obj("subscription", None, s.subname.clone());
        }
        N::AlterTableStmt(s) => alter_table(&mut c, s),
        N::AlterOwnerStmt(s) => {
            c.kind = "alter_owner";
            let t = object_type(s.object_type);
            c.object_type = t.1;
            c.target = match &s.relation {
                Some(r) => range_ref(Some(r)),
                None => s.object.as_deref().and_then(|o| object_ref(t.0, o)),
            };
        }
        N::AlterObjectSchemaStmt(s) => {
            c.kind = "alter_schema_of";
            let t = object_type(s.object_type);
            c.object_type = t.1;
            c.target = match &s.relation {
                Some(r) => range_ref(Some(r)),
                None => s.object.as_deref().and_then(|o| object_ref(t.0, o)),
            };
        }
        N::CommentStmt(s) => {
            c.kind = "comment";
            comment_like(&mut c, s.objtype, s.object.as_deref());
        }
        N::SecLabelStmt(s) => {
            c.kind = "security_label";
            c.provider = Some(s.provider.clone());
            comment_like(&mut c, s.objtype, s.object.as_deref());
        }
        N::GrantStmt(s) => {
            c.kind = if s.is_grant { "grant" } else { "revoke" };
            let t = object_type(s.objtype);
            c.object_type = t.1;
            c.target = s.objects.first().and_then(|o| object_ref(t.0, o));
        }
        N::GrantRoleStmt(_) => c.kind = "grant_role",
        N::AlterDefaultPrivilegesStmt(s) => {
            c.kind = "alter_default_privileges";
            c.target = s
                .options
                .iter()
                .filter_map(defelem)
                .filter(|d| d.defname == "schemas")
                .find_map(|d| d.arg.as_deref().and_then(first_string))
                .map(|schema| ObjRef {
                    family: "schema",
                    schema: None,
                    name: schema,
                });
        }
        N::CreateRoleStmt(_) => c.kind = "create_role",
        N::AlterRoleStmt(_) | N::AlterRoleSetStmt(_) => c.kind = "alter_role",
        N::CopyStmt(s) => {
            c.kind = "copy";
            c.target = range_ref(s.relation.as_ref());
        }
        N::DoStmt(_) => c.kind = "do",
        N::CreateCastStmt(_) => c.kind = "create_cast",
        N::CreateOpClassStmt(_) | N::CreateOpFamilyStmt(_) => c.kind = "define",
        N::CreateStatsStmt(_) => {
            c.kind = "create_statistics";
            c.post = Some(PostKind::Other);
        }
        N::ClusterStmt(_) => {
            c.kind = "cluster";
            c.post = Some(PostKind::Other);
        }
        _ => {}
    }
    if c.kind == "comment" || c.kind == "security_label" {
        // Comments on objects that only exist after post-data go with them.
        if matches!(
            c.object_type,
            "index" | "trigger" | "policy" | "rule" | "tabconstraint"
        ) {
            c.post = Some(PostKind::Other);
        }
    }
    c
}

fn alter_table(c: &mut Class, s: &protobuf::AlterTableStmt) {
    c.kind = "alter_table";
    let t = object_type(s.objtype);
    c.object_type = t.1;
    c.target = range_ref(s.relation.as_ref());
    let cmds: Vec<&protobuf::AlterTableCmd> = s
        .cmds
        .iter()
        .filter_map(|n| match &n.node {
            Some(N::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
            _ => None,
        })
        .collect();
    for cmd in cmds {
        let sub = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
        let post = match sub {
            AlterTableType::AtAddConstraint => {
                let fk = matches!(
                    cmd.def.as_deref().and_then(|d| d.node.as_ref()),
                    Some(N::Constraint(k)) if k.contype == ConstrType::ConstrForeign as i32
                );
                Some(if fk {
                    PostKind::ForeignKey
                } else {
                    PostKind::Constraint
                })
            }
            AlterTableType::AtEnableRowSecurity
            | AlterTableType::AtDisableRowSecurity
            | AlterTableType::AtForceRowSecurity
            | AlterTableType::AtNoForceRowSecurity => Some(PostKind::Policy),
            AlterTableType::AtClusterOn | AlterTableType::AtReplicaIdentity => {
                Some(PostKind::Other)
            }
            AlterTableType::AtEnableTrig
            | AlterTableType::AtDisableTrig
            | AlterTableType::AtEnableAlwaysTrig
            | AlterTableType::AtEnableReplicaTrig => Some(PostKind::Trigger),
            AlterTableType::AtAttachPartition if t_is_index(s) => Some(PostKind::Index),
            _ => None,
        };
        if post.is_some() {
            c.post = post;
        }
    }
}

fn t_is_index(s: &protobuf::AlterTableStmt) -> bool {
    s.objtype == ObjectType::ObjectIndex as i32
}

fn comment_like(c: &mut Class, objtype: i32, object: Option<&Node>) {
    let t = object_type(objtype);
    c.object_type = t.1;
    c.target = object.and_then(|o| object_ref(t.0, o));
}

fn set_config_name(s: &protobuf::SelectStmt) -> Option<String> {
    let target = s.target_list.first()?;
    let Some(N::ResTarget(rt)) = &target.node else {
        return None;
    };
    let Some(N::FuncCall(f)) = rt.val.as_deref().and_then(|v| v.node.as_ref()) else {
        return None;
    };
    let name = strings(&f.funcname);
    if name.last().map(String::as_str) != Some("set_config") {
        return None;
    }
    match f.args.first().and_then(|a| a.node.as_ref()) {
        Some(N::AConst(k)) => match &k.val {
            Some(protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(sql: &str) -> Class {
        let p = pg_query::parse(sql, 0).unwrap();
        classify(p.protobuf.stmts[0].stmt.as_ref().unwrap())
    }

    #[test]
    fn the_index_a_statement_builds_is_in_its_table_s_schema() {
        assert_eq!(
            created_index("CREATE UNIQUE INDEX \"Odd\" ON app.t USING btree (lower(x))"),
            Some(("app".to_string(), "Odd".to_string()))
        );
        assert_eq!(created_index("CREATE INDEX ON app.t (x)"), None);
        assert_eq!(
            created_index("ALTER TABLE app.t ADD PRIMARY KEY (id)"),
            None
        );
        assert_eq!(created_index("not sql"), None);
    }

    #[test]
    fn classifies_common_dump_statements() {
        let c = class("ALTER TABLE ONLY public.a ADD CONSTRAINT a_b_fkey FOREIGN KEY (b) REFERENCES auth.users(id)");
        assert_eq!(
            (c.kind, c.post),
            ("alter_table", Some(PostKind::ForeignKey))
        );
        let c = class("COMMENT ON EXTENSION pg_graphql IS 'x'");
        assert_eq!((c.kind, c.object_type), ("comment", "extension"));
        assert_eq!(c.target.unwrap().name, "pg_graphql");
        let c = class("GRANT SELECT(email) ON TABLE public.profiles TO anon");
        assert_eq!(c.target.unwrap().to_string(), "relation public.profiles");
        let c = class("SELECT pg_catalog.set_config('search_path', '', false)");
        assert_eq!(
            (c.kind, c.setting.as_deref()),
            ("set_config", Some("search_path"))
        );
        let c = class("ALTER FUNCTION extensions.grant_pg_net_access() OWNER TO supabase_admin");
        assert_eq!(
            c.target.unwrap().to_string(),
            "function extensions.grant_pg_net_access"
        );
        let c = class("ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO anon");
        assert_eq!(c.target.unwrap().name, "public");
    }
}
