//! The rewrite: applies the mapping rules to a parsed dump and returns the
//! statements to run on the target, every change with its rule and reason,
//! and every blocker with its fix. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use pg_query::protobuf::node::Node as N;
use serde::Serialize;

use super::checks::{self, Blocker};
use super::classify::{classify, Class, ObjRef, PostKind};
use super::parse::{self, Body, Dump, Item};
use super::prelude;
use super::roles::{self, TargetRole};
use super::scan;
use crate::error::Result;
use crate::mapping::rules::{SchemaRules, StatementAction};

#[derive(Debug, Clone)]
pub struct Options {
    pub target_role: TargetRole,
    /// The target's own `pg_available_extensions`, when it was asked.
    pub available_extensions: Option<Vec<String>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target_role: TargetRole::CurrentUser,
            available_extensions: None,
        }
    }
}

/// One dropped, changed or added statement.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub rule: String,
    pub reason: String,
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// One piece of output SQL, in order.
#[derive(Debug, Clone)]
pub struct OutStmt {
    pub sql: String,
    /// `Some` for post-data statements (indexes, constraints, ...).
    pub post: Option<PostKind>,
    /// The statement kind (`classify`), empty for text the rewrite adds.
    pub kind: &'static str,
    /// What it creates or acts on, for the ledger and reports.
    pub object: Option<ObjRef>,
    pub defines: bool,
    pub object_type: &'static str,
    /// Index of the dump it came from (0 for the prelude and the first).
    pub dump: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct Rewritten {
    #[serde(skip)]
    pub statements: Vec<OutStmt>,
    /// Kept statements per kind.
    pub counts: BTreeMap<String, usize>,
    /// How often each rule fired.
    pub rules_fired: BTreeMap<String, usize>,
    pub changes: Vec<Change>,
    pub blockers: Vec<Blocker>,
    pub roles_created: Vec<String>,
}

impl Rewritten {
    /// All statements as one script, in dump order.
    pub fn script(&self) -> String {
        self.statements.iter().map(|s| s.sql.as_str()).collect()
    }

    /// Blockers no rule resolved.
    pub fn open_blockers(&self) -> impl Iterator<Item = &Blocker> {
        self.blockers.iter().filter(|b| !b.resolved)
    }
}

/// Rewrites one or more dumps (pre-data then post-data) as one unit.
pub fn rewrite(dumps: &[&Dump], rules: &SchemaRules, opts: &Options) -> Result<Rewritten> {
    let facts = Facts::gather(dumps, rules, opts);
    let mut out = Rewritten::default();
    let mut dropped: BTreeMap<ObjRef, String> = BTreeMap::new();
    let mut used_roles = BTreeSet::new();
    let mut refs: BTreeSet<(String, String)> = BTreeSet::new();
    let mut body: Vec<(Option<String>, OutStmt)> = Vec::new();
    let mut copy_kept = true;

    for (dump_index, dump) in dumps.iter().enumerate() {
        let first = body.len();
        for item in &dump.items {
            let decided = decide(item, dump.version, rules, &facts, &dropped, opts, &mut out)?;
            let Decided {
                class,
                sql,
                drop,
                scan_refs,
                needed,
                created_schema,
            } = decided;
            if let Body::CopyData = item.body {
                if copy_kept {
                    body.push((
                        None,
                        plain(format!("{}{}{}", item.lead, item.text, item.end), None),
                    ));
                }
                continue;
            }
            if let Body::Sql(_) = item.body {
                copy_kept = drop.is_none();
            }
            if let Some((rule, reason)) = drop {
                if let (true, Some(t)) = (class.defines, &class.target) {
                    dropped.insert(t.clone(), rule.clone());
                }
                *out.rules_fired.entry(rule.clone()).or_default() += 1;
                out.changes.push(Change {
                    rule: rule.clone(),
                    reason,
                    action: "dropped",
                    line: Some(item.line),
                    object: class.target.as_ref().map(ToString::to_string),
                    original: Some(item.text.clone()),
                    new: None,
                });
                body.push((
                    None,
                    plain(
                        format!("{}-- supamigrate: dropped by rule {rule}\n", item.lead),
                        None,
                    ),
                ));
                continue;
            }
            used_roles.extend(needed);
            refs.extend(scan_refs);
            *out.counts.entry(class.kind.to_string()).or_default() += 1;
            body.push((
                created_schema,
                OutStmt {
                    sql: format!("{}{}{}", item.lead, sql, item.end),
                    post: class.post,
                    object: class.target.clone(),
                    defines: class.defines,
                    object_type: class.object_type,
                    kind: class.kind,
                    dump: dump_index,
                },
            ));
        }
        body.push((None, plain(dump.tail.clone(), None)));
        for (_, stmt) in &mut body[first..] {
            stmt.dump = dump_index;
        }
    }

    assemble(rules, opts, &facts, &refs, &used_roles, body, &mut out);
    Ok(out)
}

fn plain(sql: String, post: Option<PostKind>) -> OutStmt {
    OutStmt {
        sql,
        post,
        object: None,
        defines: false,
        object_type: "",
        kind: "",
        dump: 0,
    }
}

/// What the whole dump holds, known before any statement is decided.
pub struct Facts {
    pub defined: BTreeSet<(String, String)>,
    pub created_schemas: BTreeSet<String>,
    /// Extension name → (schema it is installed in, decision).
    pub extensions: BTreeMap<String, (Option<String>, checks::ExtDecision)>,
}

impl Facts {
    fn gather(dumps: &[&Dump], rules: &SchemaRules, opts: &Options) -> Facts {
        let mut f = Facts {
            defined: BTreeSet::new(),
            created_schemas: BTreeSet::new(),
            extensions: BTreeMap::new(),
        };
        for item in dumps.iter().flat_map(|d| &d.items) {
            let Body::Sql(node) = &item.body else {
                continue;
            };
            let c = classify(node);
            if let (true, Some(t)) = (c.defines, &c.target) {
                f.defined
                    .insert((t.schema.clone().unwrap_or_default(), t.name.clone()));
                if c.kind == "create_schema" {
                    f.created_schemas.insert(t.name.clone());
                }
            }
            if let Some(N::CreateExtensionStmt(e)) = &node.node {
                let schema = checks::extension_schema(e);
                let decision = checks::extension_decision(&e.extname, rules, opts);
                f.extensions.insert(e.extname.clone(), (schema, decision));
            }
        }
        f
    }

    /// Why a schema is left out, if it is: a schema rule or a dropped
    /// extension that creates it.
    pub fn schema_dropped(&self, rules: &SchemaRules, schema: &str) -> Option<(String, String)> {
        if let Some(r) = rules.schema_rule(schema) {
            return (r.action == crate::mapping::rules::SchemaAction::Drop)
                .then(|| (r.id.clone(), r.reason.clone()));
        }
        self.extensions.values().find_map(|(_, d)| match d {
            checks::ExtDecision::Drop {
                rule,
                reason,
                schemas,
                ..
            } if schemas.iter().any(|s| s == schema) => Some((rule.clone(), reason.clone())),
            _ => None,
        })
    }
}

struct Decided {
    class: Class,
    sql: String,
    drop: Option<(String, String)>,
    scan_refs: Vec<(String, String)>,
    needed: BTreeSet<String>,
    created_schema: Option<String>,
}

fn decide(
    item: &Item,
    version: i32,
    rules: &SchemaRules,
    facts: &Facts,
    dropped: &BTreeMap<ObjRef, String>,
    opts: &Options,
    out: &mut Rewritten,
) -> Result<Decided> {
    let mut d = Decided {
        class: Class {
            kind: "other",
            ..Class::default()
        },
        sql: item.text.clone(),
        drop: None,
        scan_refs: Vec::new(),
        needed: BTreeSet::new(),
        created_schema: None,
    };
    let node = match &item.body {
        Body::Meta(name) => {
            d.class.kind = "meta_command";
            let rule = checks::matching_rule(rules, &d.class, Some(name), &[]);
            d.drop = match rule {
                Some(r) if r.action == StatementAction::Drop => {
                    Some((r.id.clone(), r.reason.clone()))
                }
                _ => None,
            };
            return Ok(d);
        }
        Body::CopyData => return Ok(d),
        Body::Sql(node) => node,
    };
    d.class = classify(node);
    let mut texts = vec![item.text.clone()];
    texts.extend(checks::bodies(node));
    let scanned: Vec<scan::Scan> = texts
        .iter()
        .map(|t| scan::scan(t, &rules.target.newer_functions))
        .collect();
    let qrefs: Vec<&scan::QualifiedRef> = scanned.iter().flat_map(|s| &s.refs).collect();
    let rule = checks::matching_rule(rules, &d.class, None, &qrefs);
    let accepted = checks::accepted(rules, &d.class, &qrefs);

    d.drop = match rule {
        Some(r) if r.action == StatementAction::Drop => Some((r.id.clone(), r.reason.clone())),
        Some(_) => None,
        None => checks::implicit_drop(&d.class, node, rules, facts, dropped),
    };
    // Some blockers stand even when the statement goes (its data does not).
    out.blockers
        .extend(checks::content_blockers(item, &d.class, node, accepted));
    if d.drop.is_some() {
        return Ok(d);
    }

    let mut node = (**node).clone();
    let mut changed: Vec<(String, String)> = Vec::new();
    let roles = roles::rewrite_roles(&mut node, rules, &opts.target_role);
    if roles.drop {
        let e = roles.edits.last().cloned();
        d.drop = Some(e.map_or_else(
            || {
                (
                    "engine.no-roles-left".into(),
                    "no role it names exists on the target".into(),
                )
            },
            |e| (e.rule, e.reason),
        ));
        return Ok(d);
    }
    d.needed = roles.needed;
    changed.extend(roles.edits.into_iter().map(|e| (e.rule, e.reason)));
    match roles::strip_maintain(&mut node) {
        Some(false) => {
            d.drop = Some((
                checks::MAINTAIN_RULE.0.into(),
                checks::MAINTAIN_RULE.1.into(),
            ));
            return Ok(d);
        }
        Some(true) => changed.push((
            checks::MAINTAIN_RULE.0.into(),
            checks::MAINTAIN_RULE.1.into(),
        )),
        None => {}
    }
    if let Some(N::CreateSchemaStmt(s)) = node.node.as_mut() {
        if s.schemaname == "public" && !s.if_not_exists {
            s.if_not_exists = true;
            changed.push((
                "engine.public-schema".into(),
                "schema public exists on every target database".into(),
            ));
        }
        d.created_schema = Some(s.schemaname.clone());
    }

    if let Some(shim) = checks::shim_for(rules, &d.class) {
        d.sql = shim.sql.trim().trim_end_matches(';').to_string();
        record_change(out, item, &d, &shim.id, &shim.reason);
    } else if !changed.is_empty() {
        d.sql = parse::deparse(version, &node)?;
        for (rule, reason) in &changed {
            record_change(out, item, &d, rule, reason);
        }
    }

    if !accepted {
        out.blockers.extend(checks::reference_blockers(
            item, &d.class, &qrefs, rules, facts,
        ));
        for s in &scanned {
            for hit in &s.newer_syntax {
                out.blockers
                    .push(checks::newer_syntax_blocker(item, &d.class, hit, rules));
            }
        }
    }
    d.scan_refs = qrefs
        .iter()
        .map(|r| (r.schema.clone(), r.name.clone()))
        .collect();
    Ok(d)
}

fn record_change(out: &mut Rewritten, item: &Item, d: &Decided, rule: &str, reason: &str) {
    *out.rules_fired.entry(rule.to_string()).or_default() += 1;
    out.changes.push(Change {
        rule: rule.to_string(),
        reason: reason.to_string(),
        action: "changed",
        line: Some(item.line),
        object: d.class.target.as_ref().map(ToString::to_string),
        original: Some(item.text.clone()),
        new: Some(d.sql.clone()),
    });
}

/// Puts the prelude (roles, missing schemas and their platform objects) and
/// injected shims around the kept statements.
fn assemble(
    rules: &SchemaRules,
    opts: &Options,
    facts: &Facts,
    refs: &BTreeSet<(String, String)>,
    used_roles: &BTreeSet<String>,
    body: Vec<(Option<String>, OutStmt)>,
    out: &mut Rewritten,
) {
    let added = |out: &mut Rewritten, rule: &str, reason: &str, object: String, sql: &str| {
        *out.rules_fired.entry(rule.to_string()).or_default() += 1;
        out.changes.push(Change {
            rule: rule.into(),
            reason: reason.into(),
            action: "added",
            line: None,
            object: Some(object),
            original: None,
            new: Some(sql.trim().to_string()),
        });
    };
    let mut prelude_sql =
        String::from("-- supamigrate: roles and platform objects the schema needs\n");
    for role in prelude::roles_to_create(rules, used_roles) {
        let sql = prelude::role_sql(&role, &opts.target_role);
        added(
            out,
            &role.rule,
            &role.reason,
            format!("role {}", role.name),
            &sql,
        );
        out.roles_created.push(role.name.clone());
        prelude_sql.push_str(&sql);
    }
    // Snippets the dump needs: shims it calls or defines, platform objects
    // it references but does not create.
    let mut inject: BTreeMap<String, String> = BTreeMap::new();
    for s in rules.shims.iter().chain(&rules.platform) {
        if s.name.is_empty() {
            continue;
        }
        let key = (s.schema.clone(), s.name.clone());
        let needed = refs.contains(&key) && !facts.defined.contains(&key);
        if !needed || facts.schema_dropped(rules, &s.schema).is_some() {
            continue;
        }
        added(
            out,
            &s.id,
            &s.reason,
            format!("{}.{}", s.schema, s.name),
            &s.sql,
        );
        inject
            .entry(s.schema.clone())
            .or_default()
            .push_str(&prelude::terminated(&s.sql));
    }
    let mut missing: BTreeSet<String> = facts
        .extensions
        .values()
        .filter(|(_, d)| matches!(d, checks::ExtDecision::Keep))
        .filter_map(|(s, _)| s.clone())
        .collect();
    missing.extend(inject.keys().cloned());
    for schema in missing {
        if facts.created_schemas.contains(&schema) || checks::builtin_schema(&schema) {
            continue;
        }
        let sql = prelude::schema_sql(rules, &schema);
        added(
            out,
            "engine.missing-schema",
            "the dump uses this schema without creating it (CLI dumps leave platform schemas out)",
            format!("schema {schema}"),
            &sql,
        );
        prelude_sql.push_str(&sql);
        if let Some(snippets) = inject.remove(&schema) {
            prelude_sql.push_str(&snippets);
        }
    }
    prelude_sql.push('\n');
    out.statements.push(plain(prelude_sql, None));
    for (created, stmt) in body {
        out.statements.push(stmt);
        if let Some(snippets) = created.and_then(|s| inject.remove(&s)) {
            out.statements.push(plain(format!("\n{snippets}"), None));
        }
    }
}
