//! The schema sections of mapping files: platform schemas, roles, statement
//! rules, extensions, shims, platform objects and the target profile. Every
//! entry has an `id` and a `reason`; files merge in order, an entry whose id
//! was seen before replaces that entry in place, new ids are appended, and
//! where several entries match one name or statement the last one wins.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The shipped defaults, built into the binary and always merged first.
pub const DEFAULT_FILES: [(&str, &str); 2] = [
    (
        "mappings/supabase.toml",
        include_str!("../../mappings/supabase.toml"),
    ),
    (
        "mappings/aurora-postgresql-15.toml",
        include_str!("../../mappings/aurora-postgresql-15.toml"),
    ),
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchemaRules {
    #[serde(default)]
    schemas: Vec<SchemaRule>,
    #[serde(default)]
    roles: Vec<RoleRule>,
    #[serde(default)]
    rules: Vec<StatementRule>,
    #[serde(default)]
    extensions: Vec<ExtensionRule>,
    #[serde(default)]
    shims: Vec<Snippet>,
    #[serde(default)]
    platform: Vec<Snippet>,
    target: Option<RawTarget>,
    /// Owned by `mapping::storage`; accepted here so that unknown top-level
    /// keys are still rejected with their line.
    #[serde(default, rename = "storage")]
    _storage: Option<toml::Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SchemaAction {
    /// Every object in the schema is left out, and references to it from
    /// kept objects are blockers.
    Drop,
    Keep,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRule {
    pub id: String,
    pub reason: String,
    pub names: Vec<String>,
    pub action: SchemaAction,
    #[serde(skip)]
    pub file: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoleAction {
    /// Every mention becomes the target login role.
    Remap,
    /// Ownership goes to the target login role; grants, default privileges
    /// and policy roles naming it are removed.
    Drop,
    /// Created as a NOLOGIN role on the target when missing.
    Create,
    /// Exists on the target already (built-in roles); left as written.
    Keep,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRule {
    pub id: String,
    pub reason: String,
    pub names: Vec<String>,
    pub action: RoleAction,
    /// For `create`: ask for BYPASSRLS, falling back with a warning where
    /// the target does not allow it.
    #[serde(default)]
    pub bypassrls: bool,
    #[serde(skip)]
    pub file: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StatementAction {
    Drop,
    /// Keep as written, overriding an earlier drop.
    Keep,
    /// Keep as written although a blocker was found in it.
    Accept,
}

/// Matches statements; every key given must match (patterns within one key
/// are alternatives; `*` matches any run of characters).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRule {
    pub id: String,
    pub reason: String,
    pub action: StatementAction,
    #[serde(default)]
    pub kind: Vec<String>,
    #[serde(default)]
    pub object_type: Vec<String>,
    #[serde(default)]
    pub schema: Vec<String>,
    #[serde(default)]
    pub name: Vec<String>,
    #[serde(default)]
    pub setting: Vec<String>,
    #[serde(default)]
    pub meta: Vec<String>,
    #[serde(default)]
    pub provider: Vec<String>,
    /// Qualified names (`schema.name`) the statement calls or references.
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(skip)]
    pub file: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionAction {
    Keep,
    Drop,
    /// Stops `schema` until a rule decides (with `fix` telling how).
    Blocker,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRule {
    pub id: String,
    pub reason: String,
    pub names: Vec<String>,
    pub action: ExtensionAction,
    pub fix: Option<String>,
    /// Schemas the extension creates; dropped with it.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Member objects (functions, views): grants on them go with the
    /// extension, and kept statements that call them are blockers.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(skip)]
    pub file: String,
}

/// SQL the rewrite supplies: a shim replaces the dump's definition of
/// `schema.name` (or is added when the dump lacks it); a platform object is
/// added when the dump references `schema.name` without creating it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snippet {
    pub id: String,
    pub reason: String,
    pub schema: String,
    pub name: String,
    pub sql: String,
    #[serde(skip)]
    pub file: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Option<String>,
    server_version: Option<String>,
    extensions: Option<Vec<String>>,
    newer_functions: Option<Vec<String>>,
}

/// What the target offers. `extensions` is replaced at run time by the
/// target's own `pg_available_extensions` when it can be asked.
#[derive(Debug, Clone, Default)]
pub struct TargetProfile {
    pub name: String,
    pub server_version: String,
    pub extensions: Vec<String>,
    /// Functions that exist only in servers newer than the target.
    pub newer_functions: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SchemaRules {
    pub schemas: Vec<SchemaRule>,
    pub roles: Vec<RoleRule>,
    pub rules: Vec<StatementRule>,
    pub extensions: Vec<ExtensionRule>,
    pub shims: Vec<Snippet>,
    pub platform: Vec<Snippet>,
    pub target: TargetProfile,
}

trait Identified {
    fn id(&self) -> &str;
    fn set_file(&mut self, file: &str);
}

macro_rules! identified {
    ($($t:ty),*) => {$(
        impl Identified for $t {
            fn id(&self) -> &str { &self.id }
            fn set_file(&mut self, file: &str) { self.file = file.to_string(); }
        }
    )*};
}
identified!(SchemaRule, RoleRule, StatementRule, ExtensionRule, Snippet);

fn merge_list<T: Identified>(into: &mut Vec<T>, new: Vec<T>, file: &str) -> Result<()> {
    for mut entry in new {
        if entry.id().trim().is_empty() {
            return Err(Error::config(format!(
                "mapping file {file}: an entry has an empty id"
            )));
        }
        entry.set_file(file);
        match into.iter_mut().find(|e| e.id() == entry.id()) {
            Some(slot) => *slot = entry,
            None => into.push(entry),
        }
    }
    Ok(())
}

impl SchemaRules {
    /// Only the shipped defaults.
    pub fn defaults() -> Result<SchemaRules> {
        let mut rules = SchemaRules::default();
        for (name, text) in DEFAULT_FILES {
            rules.merge_str(Path::new(name), text)?;
        }
        Ok(rules)
    }

    /// Merges the schema sections of one mapping file's text; unknown keys
    /// are errors naming the file, the line and the key.
    pub fn merge_str(&mut self, path: &Path, text: &str) -> Result<()> {
        let raw: RawSchemaRules =
            toml::from_str(text).map_err(|e: toml::de::Error| toml_error(path, text, &e))?;
        self.merge(path, raw)
    }

    fn merge(&mut self, path: &Path, raw: RawSchemaRules) -> Result<()> {
        let file = path.display().to_string();
        merge_list(&mut self.schemas, raw.schemas, &file)?;
        merge_list(&mut self.roles, raw.roles, &file)?;
        merge_list(&mut self.rules, raw.rules, &file)?;
        merge_list(&mut self.extensions, raw.extensions, &file)?;
        merge_list(&mut self.shims, raw.shims, &file)?;
        merge_list(&mut self.platform, raw.platform, &file)?;
        if let Some(t) = raw.target {
            if let Some(v) = t.name {
                self.target.name = v;
            }
            if let Some(v) = t.server_version {
                self.target.server_version = v;
            }
            if let Some(v) = t.extensions {
                self.target.extensions = v;
            }
            if let Some(v) = t.newer_functions {
                self.target.newer_functions = v;
            }
        }
        Ok(())
    }

    pub fn schema_rule(&self, schema: &str) -> Option<&SchemaRule> {
        self.schemas
            .iter()
            .rev()
            .find(|r| r.names.iter().any(|p| glob(p, schema)))
    }

    pub fn schema_dropped(&self, schema: &str) -> Option<&SchemaRule> {
        self.schema_rule(schema)
            .filter(|r| r.action == SchemaAction::Drop)
    }

    pub fn role_rule(&self, role: &str) -> Option<&RoleRule> {
        self.roles
            .iter()
            .rev()
            .find(|r| r.names.iter().any(|p| glob(p, role)))
    }

    pub fn extension_rule(&self, ext: &str) -> Option<&ExtensionRule> {
        self.extensions
            .iter()
            .rev()
            .find(|r| r.names.iter().any(|p| glob(p, ext)))
    }
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let line = e
        .span()
        .map(|s| crate::sqlrewrite::parse::line_of(text, s.start));
    let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
    Error::config(format!(
        "mapping file {}:{at} {}",
        path.display(),
        e.message().trim()
    ))
    .with_fix("see the README's mapping reference for the known sections and keys")
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == value;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !value.starts_with(first) || value.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &value[first.len()..value.len() - last.len()];
    if !value.ends_with(last) {
        return false;
    }
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("supabase_*", "supabase_admin"));
        assert!(glob("*", "x"));
        assert!(glob("pg_*", "pg_catalog"));
        assert!(!glob("pg_*", "public"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("net", "net"));
    }

    #[test]
    fn defaults_load_and_later_ids_replace_earlier() {
        let mut rules = SchemaRules::defaults().unwrap();
        assert_eq!(rules.target.server_version, "15.5");
        let before = rules.rules.len();
        rules
            .merge_str(
                Path::new("mine.toml"),
                r#"
[[rules]]
id = "supabase.realtime-publication"
reason = "we replicate to our own consumer"
action = "keep"
kind = ["publication"]
name = ["supabase_realtime"]
"#,
            )
            .unwrap();
        assert_eq!(rules.rules.len(), before);
        let r = rules
            .rules
            .iter()
            .find(|r| r.id == "supabase.realtime-publication")
            .unwrap();
        assert_eq!(r.action, StatementAction::Keep);
        assert_eq!(r.file, "mine.toml");
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let mut rules = SchemaRules::default();
        let err = rules
            .merge_str(
                Path::new("mine.toml"),
                "[[rules]]\nid = \"x\"\nreason = \"y\"\naction = \"drop\"\nshema = [\"a\"]\n",
            )
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("mapping file mine.toml: line "), "{err}");
        assert!(err.contains("unknown field `shema`"), "{err}");
    }
}
