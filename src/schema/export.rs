//! Exporting the source schema with `pg_dump --schema-only`, pre-data and
//! post-data separately, optionally inside a snapshot the data stage
//! exported. pg_dump must be at least as new as the source server: older
//! ones refuse to dump it, and we say which version is needed first.
//!
//! Touches: nothing (reads the source).

use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::error::{Error, Result};
use crate::pg::{Endpoint, SslMode};

/// Finds pg_dump (the given path, else on PATH) and checks that its major
/// version is not older than the source server's.
pub async fn find_pg_dump(given: Option<&Path>, server_major: u32) -> Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => on_path("pg_dump").ok_or_else(|| {
            Error::config("pg_dump is not on PATH")
                .with_fix(format!("install the PostgreSQL {server_major} client tools (postgresql-client-{server_major}) or pass --pg-dump PATH"))
        })?,
    };
    let out = Command::new(&path)
        .arg("--version")
        .output()
        .await
        .map_err(|e| {
            Error::config(format!("cannot run {}: {e}", path.display()))
                .with_source(e)
                .with_fix("pass the path of a pg_dump binary with --pg-dump")
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major = dump_major(&text).ok_or_else(|| {
        Error::config(format!(
            "{} --version said `{}`, not a pg_dump version",
            path.display(),
            text.trim()
        ))
    })?;
    require_at_least(&path, major, server_major)?;
    Ok(path)
}

/// pg_dump refuses servers newer than itself; say so before it does.
pub fn require_at_least(path: &Path, major: u32, server_major: u32) -> Result<()> {
    if major >= server_major {
        return Ok(());
    }
    Err(Error::config(format!(
        "{} is pg_dump {major}, older than the source server (PostgreSQL {server_major}); it cannot dump it",
        path.display()
    ))
    .with_fix(format!(
        "install pg_dump {server_major} or newer (postgresql-client-{server_major}) and pass it with --pg-dump PATH"
    )))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// `pg_dump (PostgreSQL) 17.6 (Debian ...)` → 17.
pub fn dump_major(version_line: &str) -> Option<u32> {
    let v = version_line
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    v.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Runs pg_dump for one section. Credentials go through the environment,
/// never the command line, so they do not show in process lists.
pub async fn dump_section(
    pg_dump: &Path,
    source: &Endpoint,
    section: &str,
    snapshot: Option<&str>,
) -> Result<String> {
    let mut cmd = Command::new(pg_dump);
    cmd.args(["--schema-only", "--no-password", "--quote-all-identifiers"])
        .arg(format!("--section={section}"))
        .env("PGHOST", &source.host)
        .env("PGPORT", source.port.to_string())
        .env("PGUSER", &source.user)
        .env("PGDATABASE", &source.dbname)
        .env("PGSSLMODE", sslmode(source.sslmode))
        .env("PGAPPNAME", "supamigrate")
        .env(
            "PGCONNECT_TIMEOUT",
            source.connect_timeout.as_secs().max(1).to_string(),
        )
        .env_remove("PGSERVICE");
    if let Some(pw) = &source.password {
        cmd.env("PGPASSWORD", pw.expose());
    }
    if let Some(root) = &source.sslrootcert {
        cmd.env("PGSSLROOTCERT", root);
    }
    if let Some(s) = snapshot {
        cmd.arg(format!("--snapshot={s}"));
    }
    let out = cmd.output().await.map_err(|e| {
        Error::failure(format!("cannot run {}: {e}", pg_dump.display())).with_source(e)
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(Error::failure(format!(
            "pg_dump of source {source} ({section}) failed: {first}"
        ))
        .with_fix(
            "the source user needs to read every schema it dumps (Supabase's postgres can)",
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| {
        Error::failure(format!(
            "pg_dump of source {source} returned text that is not UTF-8"
        ))
    })
}

fn sslmode(m: SslMode) -> &'static str {
    match m {
        SslMode::Disable => "disable",
        SslMode::Allow => "allow",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pg_dump_versions() {
        assert_eq!(
            dump_major("pg_dump (PostgreSQL) 17.6 (Debian 17.6-1)"),
            Some(17)
        );
        assert_eq!(dump_major("pg_dump (PostgreSQL) 15.20"), Some(15));
        assert_eq!(dump_major("pg_dump (PostgreSQL) 18beta1"), Some(18));
        assert_eq!(dump_major("nonsense"), None);
    }

    #[test]
    fn refuses_a_pg_dump_older_than_the_server() {
        let p = Path::new("/usr/bin/pg_dump");
        let err = require_at_least(p, 15, 17).unwrap_err();
        assert_eq!(err.kind(), crate::error::Kind::Config);
        assert!(err
            .to_string()
            .contains("pg_dump 15, older than the source server (PostgreSQL 17)"));
        assert!(err.to_string().contains("install pg_dump 17 or newer"));
        assert!(require_at_least(p, 17, 17).is_ok());
        assert!(require_at_least(p, 18, 15).is_ok());
    }
}
