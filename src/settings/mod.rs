//! Settings: the raw layers (file < environment < flags) in `raw`, checked and
//! completed here into `Settings`. Resolving needs no network; credentials from
//! Secrets Manager are fetched later, when a command connects (`aws::secrets`).

mod raw;
mod secret;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use raw::{env_name, FlagOverrides, RawConfig};
pub use secret::Secret;

use crate::error::{Error, Result};
use crate::pg::{ConnInfo, Endpoint};

#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file that was read, if there was one.
    pub config_file: Option<PathBuf>,
    pub source: Option<Endpoint>,
    pub target: Option<TargetSettings>,
    pub storage_source: Option<S3Settings>,
    pub storage_target: Option<S3Settings>,
    /// Mapping files in merge order; empty means the shipped defaults only.
    pub mapping_files: Vec<PathBuf>,
    pub copy: CopySettings,
}

#[derive(Debug, Clone)]
pub struct TargetSettings {
    /// As written; completed once the secret (if any) has been read.
    pub conninfo: ConnInfo,
    pub password: Option<Secret>,
    pub secret: Option<SecretRef>,
}

/// Where the target's credentials live in Secrets Manager.
#[derive(Debug, Clone)]
pub struct SecretRef {
    pub id: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestChecksum {
    WhenSupported,
    WhenRequired,
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub force_path_style: bool,
    pub request_checksum: RequestChecksum,
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct CopySettings {
    pub jobs: usize,
    pub chunk_bytes: u64,
}

pub const DEFAULT_CONFIG: &str = "supamigrate.toml";

/// Loads and resolves everything. `config` is the `--config` value, if given.
pub fn load(
    config: Option<&Path>,
    env: &BTreeMap<String, String>,
    flags: &FlagOverrides,
) -> Result<Settings> {
    let path = config.unwrap_or(Path::new(DEFAULT_CONFIG));
    let (raw, found) = raw::load(path, config.is_some(), env, flags)?;
    resolve(raw, found, env)
}

fn resolve(
    raw: RawConfig,
    config_file: Option<PathBuf>,
    env: &BTreeMap<String, String>,
) -> Result<Settings> {
    let source = match raw.source.url {
        Some(url) => Some(ConnInfo::parse("source.url", &url)?.complete(
            "source.url",
            env,
            raw.source.password.map(Secret::new),
        )?),
        None => None,
    };

    let secret = raw.target.secret_id.map(|id| SecretRef {
        id,
        region: raw.target.secret_region,
        endpoint: raw.target.secret_endpoint,
    });
    let target = match (raw.target.url, secret) {
        (None, None) => None,
        (url, secret) => Some(TargetSettings {
            conninfo: match url {
                Some(url) => ConnInfo::parse("target.url", &url)?,
                None => ConnInfo::default(),
            },
            password: raw.target.password.map(Secret::new),
            secret,
        }),
    };

    let base = config_file
        .as_ref()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mapping_files = raw
        .mapping
        .files
        .unwrap_or_default()
        .into_iter()
        .map(|f| base.join(f))
        .collect();

    let jobs = raw.copy.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .max(2)
    });
    // Both are checked where they are read (raw::load), file, variable or flag.
    let chunk_bytes = raw.copy.chunk_bytes.unwrap_or(64 * 1024 * 1024);

    Ok(Settings {
        config_file,
        source,
        target,
        storage_source: raw
            .storage
            .source
            .map(|s| s3("storage.source", s, true))
            .transpose()?,
        storage_target: raw
            .storage
            .target
            .map(|s| s3("storage.target", s, false))
            .transpose()?,
        mapping_files,
        copy: CopySettings { jobs, chunk_bytes },
    })
}

fn s3(what: &str, raw: raw::RawS3, is_source: bool) -> Result<S3Settings> {
    let request_checksum = match raw.request_checksum.as_deref() {
        None | Some("when_supported") => RequestChecksum::WhenSupported,
        Some("when_required") => RequestChecksum::WhenRequired,
        Some(other) => {
            return Err(
                Error::config(format!("{what}.request_checksum: unknown value `{other}`"))
                    .with_fix("use when_supported or when_required"),
            )
        }
    };
    if raw.access_key_id.is_some() != raw.secret_access_key.is_some() {
        return Err(Error::config(format!(
            "{what}: access_key_id and secret_access_key must be given together"
        )));
    }
    Ok(S3Settings {
        // Supabase Storage's S3 endpoint only speaks path-style; custom
        // endpoints (MinIO, moto) usually need it too.
        force_path_style: raw
            .force_path_style
            .unwrap_or(is_source || raw.endpoint.is_some()),
        endpoint: raw.endpoint,
        region: raw.region,
        access_key_id: raw.access_key_id,
        secret_access_key: raw.secret_access_key.map(Secret::new),
        request_checksum,
        dir: raw.dir.map(PathBuf::from),
    })
}

impl Settings {
    pub fn source(&self) -> Result<&Endpoint> {
        self.source.as_ref().ok_or_else(|| {
            Error::config("no source database configured").with_fix(format!(
                "set [source] url in {DEFAULT_CONFIG} or {}",
                env_name("source.url")
            ))
        })
    }

    pub fn target(&self) -> Result<&TargetSettings> {
        self.target.as_ref().ok_or_else(|| {
            Error::config("no target database configured").with_fix(format!(
                "set [target] url in {DEFAULT_CONFIG} or {}",
                env_name("target.url")
            ))
        })
    }
}
