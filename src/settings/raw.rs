//! The configuration as the user wrote it: TOML file, then `SUPAMIGRATE_*`
//! environment variables, then flags. Parsing here does no I/O beyond reading
//! the file; checking and completing the values is `resolve`'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub source: RawSource,
    #[serde(default)]
    pub target: RawTarget,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub mapping: RawMapping,
    #[serde(default)]
    pub copy: RawCopy,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub url: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub url: Option<String>,
    pub password: Option<String>,
    pub secret_id: Option<String>,
    pub secret_region: Option<String>,
    pub secret_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub source: Option<RawS3>,
    pub target: Option<RawS3>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawS3 {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub force_path_style: Option<bool>,
    /// `when_supported` (the SDK's default) or `when_required`, for
    /// S3-compatible servers that reject the SDK's newer checksum headers.
    pub request_checksum: Option<String>,
    /// Self-hosted Supabase file backend root, instead of an S3 endpoint.
    pub dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    pub files: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCopy {
    pub jobs: Option<usize>,
    pub chunk_bytes: Option<u64>,
}

/// Keys that an environment variable may set, with whether the value is a
/// number. The variable name is `SUPAMIGRATE_` + the path in upper case with
/// dots as underscores, e.g. `SUPAMIGRATE_STORAGE_TARGET_ENDPOINT`.
const ENV_KEYS: &[(&str, bool)] = &[
    ("source.url", false),
    ("source.password", false),
    ("target.url", false),
    ("target.password", false),
    ("target.secret_id", false),
    ("target.secret_region", false),
    ("target.secret_endpoint", false),
    ("storage.source.endpoint", false),
    ("storage.source.region", false),
    ("storage.source.access_key_id", false),
    ("storage.source.secret_access_key", false),
    ("storage.source.request_checksum", false),
    ("storage.source.dir", false),
    ("storage.target.endpoint", false),
    ("storage.target.region", false),
    ("storage.target.access_key_id", false),
    ("storage.target.secret_access_key", false),
    ("storage.target.request_checksum", false),
    ("copy.jobs", true),
    ("copy.chunk_bytes", true),
];

/// Environment variables with our prefix that are not configuration keys.
const ENV_NOT_KEYS: &[&str] = &["SUPAMIGRATE_LOG"];

pub fn env_name(path: &str) -> String {
    format!("SUPAMIGRATE_{}", path.replace('.', "_").to_uppercase())
}

/// Flags that override file and environment.
#[derive(Debug, Default, Clone)]
pub struct FlagOverrides {
    pub source_url: Option<String>,
    pub target_url: Option<String>,
    pub jobs: Option<usize>,
}

/// Reads the file (if any), layers the environment and the flags on top.
/// `explicit` says whether the user named the file: only then is a missing
/// file an error, so that a config made only of variables works too.
pub fn load(
    path: &Path,
    explicit: bool,
    env: &BTreeMap<String, String>,
    flags: &FlagOverrides,
) -> Result<(RawConfig, Option<PathBuf>)> {
    let (mut table, found) = match std::fs::read_to_string(path) {
        Ok(text) => {
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                let at = e.span().map_or_else(String::new, |span| {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {column}: ")
                });
                Error::config(format!(
                    "config file {}: {at}{}",
                    path.display(),
                    e.message()
                ))
                .with_fix(
                    "correct the TOML there (the README's Configuration section shows every key)",
                )
            })?;
            check_numbers(&table, &format!("config {}", path.display()))?;
            (table, Some(path.to_path_buf()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            (toml::Table::new(), None)
        }
        Err(e) => {
            return Err(
                Error::config(format!("config file {}: {e}", path.display()))
                    .with_source(e)
                    .with_fix("pass an existing file with --config"),
            )
        }
    };
    let file_label = found
        .as_ref()
        .map_or_else(|| "environment".to_string(), |p| p.display().to_string());

    for (name, value) in env {
        if !name.starts_with("SUPAMIGRATE_") || ENV_NOT_KEYS.contains(&name.as_str()) {
            continue;
        }
        let Some((key, numeric)) = ENV_KEYS.iter().find(|(k, _)| env_name(k) == *name) else {
            return Err(Error::config(format!(
                "environment variable {name} is not a supamigrate setting"
            ))
            .with_fix("unset it or correct its name (see the README's configuration reference)"));
        };
        let value = if *numeric {
            let value = value
                .parse()
                .map_or_else(|_| toml::Value::String(value.clone()), toml::Value::Integer);
            check_number(&format!("environment variable {name}"), key, &value)?;
            value
        } else {
            toml::Value::String(value.clone())
        };
        set_path(&mut table, key, value);
    }

    let mut raw: RawConfig =
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                let fix = if e.message().starts_with("unknown field") {
                    "remove or rename the key; the README lists every key"
                } else {
                    "give the key a value of the type the README's Configuration section shows"
                };
                Error::config(format!("config {file_label}: {}", e.message())).with_fix(fix)
            })?;
    if let Some(url) = &flags.source_url {
        raw.source.url = Some(url.clone());
    }
    if let Some(url) = &flags.target_url {
        raw.target.url = Some(url.clone());
    }
    if let Some(jobs) = flags.jobs {
        let n = i64::try_from(jobs).unwrap_or(i64::MAX);
        check_number("flag --jobs", "copy.jobs", &toml::Value::Integer(n))?;
        raw.copy.jobs = Some(jobs);
    }
    Ok((raw, found))
}

/// Numeric keys: the least value each takes, and what it means, for the
/// fix of a message about it.
const NUMBERS: &[(&str, i64, &str)] = &[
    (
        "copy.jobs",
        1,
        "the number of chunks copied at once, e.g. 4",
    ),
    (
        "copy.chunk_bytes",
        1024 * 1024,
        "the bytes in one chunk, at least 1048576 (1 MiB), e.g. 67108864",
    ),
];

fn check_numbers(table: &toml::Table, origin: &str) -> Result<()> {
    for (key, _, _) in NUMBERS {
        let mut parts = key.split('.');
        let first = parts.next().and_then(|p| table.get(p));
        let value = parts.try_fold(first, |v, p| Some(v?.get(p)));
        if let Some(Some(value)) = value {
            check_number(origin, key, value)?;
        }
    }
    Ok(())
}

/// `origin` says where the value came from: a file, a variable or a flag.
fn check_number(origin: &str, key: &str, value: &toml::Value) -> Result<()> {
    let Some((_, least, meaning)) = NUMBERS.iter().find(|(k, _, _)| *k == key) else {
        return Ok(());
    };
    let wrong = match value {
        toml::Value::Integer(n) if n >= least => return Ok(()),
        toml::Value::Integer(n) => format!("{n} is less than {least}"),
        toml::Value::String(s) => format!("`{s}` is not a whole number"),
        other => format!("{other} is not a whole number"),
    };
    Err(
        Error::config(format!("{origin} {key}: {wrong}")).with_fix(format!(
            "set {key} to a whole number of at least {least}: {meaning}"
        )),
    )
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().expect("paths are never empty");
    let mut cur = table;
    for part in parts {
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        cur = entry.as_table_mut().expect("made a table above");
    }
    cur.insert(last.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn env_beats_file_and_flags_beat_env() {
        let f = write("[source]\nurl = \"postgres://a@file/db\"\n[copy]\njobs = 2\n");
        let env = BTreeMap::from([
            (
                "SUPAMIGRATE_SOURCE_URL".to_string(),
                "postgres://a@env/db".to_string(),
            ),
            ("SUPAMIGRATE_COPY_JOBS".to_string(), "7".to_string()),
        ]);
        let (raw, _) = load(f.path(), true, &env, &FlagOverrides::default()).unwrap();
        assert_eq!(raw.source.url.as_deref(), Some("postgres://a@env/db"));
        assert_eq!(raw.copy.jobs, Some(7));
        let flags = FlagOverrides {
            jobs: Some(3),
            ..Default::default()
        };
        let (raw, _) = load(f.path(), true, &env, &flags).unwrap();
        assert_eq!(raw.copy.jobs, Some(3));
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let f = write("[target]\nurll = \"x\"\n");
        let err = load(f.path(), true, &BTreeMap::new(), &FlagOverrides::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("urll"), "{msg}");
        assert!(msg.contains(&f.path().display().to_string()), "{msg}");
        assert_eq!(err.kind(), crate::error::Kind::Config);
    }

    #[test]
    fn unknown_env_variable_is_an_error() {
        let env = BTreeMap::from([("SUPAMIGRATE_TARGET_URLL".to_string(), "x".to_string())]);
        let err = load(
            Path::new("nope.toml"),
            false,
            &env,
            &FlagOverrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("SUPAMIGRATE_TARGET_URLL"));
    }

    #[test]
    fn missing_default_file_is_fine_but_missing_named_file_is_not() {
        let p = Path::new("/nonexistent/supamigrate.toml");
        assert!(load(p, false, &BTreeMap::new(), &FlagOverrides::default()).is_ok());
        assert!(load(p, true, &BTreeMap::new(), &FlagOverrides::default()).is_err());
    }
}
