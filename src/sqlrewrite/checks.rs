//! Decisions and blockers for single statements: which rule matches, what
//! is left out because its schema or extension is, and what cannot run on
//! the target (unavailable extensions, calls into dropped schemas,
//! PostgreSQL 16/17 syntax, pgsodium-encrypted columns).

use std::collections::BTreeMap;

use pg_query::protobuf::{node::Node as N, CreateExtensionStmt, Node, ObjectType};
use serde::Serialize;

use super::classify::{Class, ObjRef};
use super::names::{defelem, strings};
use super::parse::Item;
use super::rewrite::{Facts, Options};
use super::scan::QualifiedRef;
use crate::mapping::rules::{
    glob, ExtensionAction, SchemaRules, Snippet, StatementAction, StatementRule,
};

pub const MAINTAIN_RULE: (&str, &str) = (
    "engine.maintain-privilege",
    "the MAINTAIN privilege is PostgreSQL 17's; PostgreSQL 15 does not know it",
);

#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub rule: String,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub message: String,
    pub fix: String,
    pub resolved: bool,
}

#[derive(Debug, Clone)]
pub enum ExtDecision {
    Keep,
    Drop {
        rule: String,
        reason: String,
        schemas: Vec<String>,
        members: Vec<String>,
        fix: Option<String>,
    },
    Blocker {
        rule: String,
        reason: String,
        fix: String,
    },
}

pub fn extension_schema(e: &CreateExtensionStmt) -> Option<String> {
    e.options
        .iter()
        .filter_map(defelem)
        .find(|d| d.defname == "schema")
        .and_then(|d| match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
}

pub fn extension_decision(name: &str, rules: &SchemaRules, opts: &Options) -> ExtDecision {
    let available = opts
        .available_extensions
        .as_ref()
        .unwrap_or(&rules.target.extensions)
        .iter()
        .any(|e| e == name);
    let target = if opts.available_extensions.is_some() {
        "the target".to_string()
    } else {
        rules.target.name.clone()
    };
    match rules.extension_rule(name) {
        Some(r) if r.action == ExtensionAction::Drop => ExtDecision::Drop {
            rule: r.id.clone(),
            reason: r.reason.clone(),
            schemas: r.schemas.clone(),
            members: r.members.clone(),
            fix: r.fix.clone(),
        },
        Some(r) if r.action == ExtensionAction::Blocker => ExtDecision::Blocker {
            rule: r.id.clone(),
            reason: r.reason.clone(),
            fix: r.fix.clone().unwrap_or_else(|| add_rule_fix(name)),
        },
        _ if available => ExtDecision::Keep,
        rule => ExtDecision::Blocker {
            rule: rule.map_or("engine.extension-unavailable".into(), |r| r.id.clone()),
            reason: format!("not available on {target}"),
            fix: add_rule_fix(name),
        },
    }
}

fn add_rule_fix(name: &str) -> String {
    format!(
        "replace what uses it, then add to your mapping file [[extensions]] id = \"my.{name}\", reason = \"...\", names = [\"{name}\"], action = \"drop\""
    )
}

/// The last statement rule (drop or keep) that matches; `accept` rules only
/// silence blockers and are found by `accepted`.
pub fn matching_rule<'a>(
    rules: &'a SchemaRules,
    class: &Class,
    meta: Option<&str>,
    refs: &[&QualifiedRef],
) -> Option<&'a StatementRule> {
    rules
        .rules
        .iter()
        .rev()
        .filter(|r| r.action != StatementAction::Accept)
        .find(|r| rule_matches(r, class, meta, refs))
}

pub fn accepted(rules: &SchemaRules, class: &Class, refs: &[&QualifiedRef]) -> bool {
    rules
        .rules
        .iter()
        .any(|r| r.action == StatementAction::Accept && rule_matches(r, class, None, refs))
}

fn rule_matches(
    r: &StatementRule,
    class: &Class,
    meta: Option<&str>,
    refs: &[&QualifiedRef],
) -> bool {
    let any = |pats: &[String], v: Option<&str>| {
        pats.is_empty() || v.is_some_and(|v| pats.iter().any(|p| glob(p, v)))
    };
    let schema = class.target.as_ref().and_then(|t| match t.family {
        "schema" => Some(t.name.as_str()),
        _ => t.schema.as_deref(),
    });
    let name = class.target.as_ref().map(|t| t.name.as_str());
    any(&r.kind, Some(class.kind))
        && any(&r.object_type, Some(class.object_type))
        && any(&r.schema, schema)
        && any(&r.name, name)
        && any(&r.setting, class.setting.as_deref())
        && any(&r.meta, meta)
        && any(&r.provider, class.provider.as_deref())
        && (r.calls.is_empty()
            || refs.iter().any(|q| {
                let full = format!("{}.{}", q.schema, q.name);
                r.calls.iter().any(|p| glob(p, &full))
            }))
}

/// Drops that follow from other decisions: the object's schema or
/// extension is left out, or the object it acts on was dropped before.
pub fn implicit_drop(
    class: &Class,
    node: &Node,
    rules: &SchemaRules,
    facts: &Facts,
    dropped: &BTreeMap<ObjRef, String>,
) -> Option<(String, String)> {
    let target = class.target.as_ref()?;
    let schema = if target.family == "schema" {
        Some(&target.name)
    } else {
        target.schema.as_ref()
    };
    if let Some(s) = schema {
        if let Some(why) = facts.schema_dropped(rules, s) {
            return Some(why);
        }
    }
    if let Some(N::CreateExtensionStmt(e)) = &node.node {
        if let Some((_, ExtDecision::Drop { rule, reason, .. })) = facts.extensions.get(&e.extname)
        {
            return Some((rule.clone(), reason.clone()));
        }
    }
    if !class.defines {
        if let Some(why) = dropped_extension_member(target, facts) {
            return Some(why);
        }
        if let Some(rule) = dropped.get(target) {
            return Some((
                "engine.depends-on-dropped".into(),
                format!("acts on {target}, which rule {rule} left out"),
            ));
        }
    }
    None
}

/// Grants, comments and owners of objects a dropped extension brings.
fn dropped_extension_member(target: &ObjRef, facts: &Facts) -> Option<(String, String)> {
    facts.extensions.values().find_map(|(schema, d)| match d {
        ExtDecision::Drop {
            rule,
            reason,
            members,
            ..
        } if schema.is_some() && *schema == target.schema && members.contains(&target.name) => {
            Some((
                rule.clone(),
                format!("{} belongs to a dropped extension: {reason}", target),
            ))
        }
        _ => None,
    })
}

/// Blockers in the statement's own content, raised even if it is dropped.
pub fn content_blockers(item: &Item, class: &Class, node: &Node, accepted: bool) -> Vec<Blocker> {
    let mut out = Vec::new();
    if let Some(N::SecLabelStmt(s)) = &node.node {
        let column = s.objtype == ObjectType::ObjectColumn as i32;
        if s.provider == "pgsodium" && column && s.label.to_uppercase().contains("ENCRYPT") {
            let col = match s.object.as_deref().and_then(|o| o.node.as_ref()) {
                Some(N::List(l)) => strings(&l.items).join("."),
                _ => "a column".into(),
            };
            out.push(Blocker {
                rule: "engine.pgsodium-encrypted-column".into(),
                line: item.line,
                object: class.target.as_ref().map(ToString::to_string),
                message: format!("column {col} is encrypted by pgsodium: its stored values are ciphertext only pgsodium can read"),
                fix: "copy the plaintext from the decrypted view into a plain column before migrating (and encrypt with pgcrypto or KMS on the target if needed), then add a rule with action = \"accept\" matching this SECURITY LABEL".into(),
                resolved: accepted,
            });
        }
    }
    out
}

/// Calls and references into what the target will not have.
pub fn reference_blockers(
    item: &Item,
    class: &Class,
    refs: &[&QualifiedRef],
    rules: &SchemaRules,
    facts: &Facts,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    let object = class.target.as_ref().map(ToString::to_string);
    let what = object
        .clone()
        .unwrap_or_else(|| format!("the statement at line {}", item.line));
    let mut seen = Vec::new();
    for r in refs {
        let full = format!("{}.{}", r.schema, r.name);
        if seen.contains(&full) {
            continue;
        }
        seen.push(full.clone());
        if let Some((rule, _)) = facts.schema_dropped(rules, &r.schema) {
            out.push(Blocker {
                rule: "engine.depends-on-dropped-schema".into(),
                line: item.line,
                object: object.clone(),
                message: format!("{what} uses {full}, but schema {} is not migrated (rule {rule})", r.schema),
                fix: format!("rewrite or drop {what} (e.g. replace {full} with aws_lambda or an outbox table), or add a [[rules]] entry with action = \"drop\" or \"accept\" matching it"),
                resolved: false,
            });
            continue;
        }
        for (ext, (schema, d)) in &facts.extensions {
            if let ExtDecision::Drop {
                rule, members, fix, ..
            } = d
            {
                if schema.as_deref() == Some(r.schema.as_str()) && members.contains(&r.name) {
                    out.push(Blocker {
                        rule: rule.clone(),
                        line: item.line,
                        object: object.clone(),
                        message: format!("{what} calls {full} from extension {ext}, which the target does not have"),
                        fix: fix.clone().unwrap_or_else(|| add_rule_fix(ext)),
                        resolved: false,
                    });
                }
            }
        }
    }
    if class.kind == "create_extension" {
        let name = class
            .target
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default();
        if let Some((_, ExtDecision::Blocker { rule, reason, fix })) = facts.extensions.get(&name) {
            out.push(Blocker {
                rule: rule.clone(),
                line: item.line,
                object,
                message: format!("extension {name}: {reason}"),
                fix: fix.clone(),
                resolved: false,
            });
        }
    }
    out
}

pub fn newer_syntax_blocker(item: &Item, class: &Class, hit: &str, rules: &SchemaRules) -> Blocker {
    let object = class.target.as_ref().map(ToString::to_string);
    Blocker {
        rule: "engine.newer-syntax".into(),
        line: item.line,
        message: format!(
            "{} uses `{hit}`, which PostgreSQL {} does not understand",
            object.clone().unwrap_or_else(|| format!("the statement at line {}", item.line)),
            rules.target.server_version
        ),
        object,
        fix: "rewrite it with PostgreSQL 15 constructs (jsonb functions instead of SQL/JSON), or add a [[rules]] entry with action = \"drop\" or \"accept\" matching it".into(),
        resolved: false,
    }
}

pub fn shim_for<'a>(rules: &'a SchemaRules, class: &Class) -> Option<&'a Snippet> {
    if class.kind != "create_function" {
        return None;
    }
    let t = class.target.as_ref()?;
    rules
        .shims
        .iter()
        .rev()
        .find(|s| Some(&s.schema) == t.schema.as_ref() && s.name == t.name)
}

/// Function and DO bodies, which the lexer sees as one string constant.
pub fn bodies(node: &Node) -> Vec<String> {
    let options = match &node.node {
        Some(N::CreateFunctionStmt(f)) => &f.options,
        Some(N::DoStmt(d)) => &d.args,
        _ => return Vec::new(),
    };
    options
        .iter()
        .filter_map(defelem)
        .filter(|d| d.defname == "as")
        .filter_map(|d| match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
            Some(N::List(l)) => strings(&l.items).into_iter().next(),
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// A schema every target has before we create anything.
pub fn builtin_schema(s: &str) -> bool {
    s == "public" || crate::mapping::scope::Scope::is_system(s)
}
