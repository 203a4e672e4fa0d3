//! libpq connection strings (URL and `key=value` forms) parsed into plain
//! values. tokio-postgres parses these too, but it rejects `verify-ca` and
//! `verify-full`, which Aurora users need, so we parse them ourselves and build
//! the driver's `Config` from the result.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};
use crate::settings::Secret;

/// `sslmode` with libpq's meaning for each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Allow,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// A connection string as written: any part may be missing until the
/// environment, the config file or Secrets Manager fills it in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnInfo {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub dbname: Option<String>,
    pub sslmode: Option<SslMode>,
    pub sslrootcert: Option<PathBuf>,
    pub connect_timeout: Option<Duration>,
    pub options: Option<String>,
}

/// Everything needed to connect. `Display` shows `user@host:port/db` and
/// never the password.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<Secret>,
    pub dbname: String,
    pub sslmode: SslMode,
    pub sslrootcert: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub options: Option<String>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{}:{}/{}",
            self.user, self.host, self.port, self.dbname
        )
    }
}

const KNOWN_PARAMS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "dbname",
    "sslmode",
    "sslrootcert",
    "connect_timeout",
    "options",
    "application_name",
];

impl ConnInfo {
    /// Parses a `postgres://` / `postgresql://` URL or a `key=value` string.
    /// `what` names the setting in errors ("source.url").
    pub fn parse(what: &str, s: &str) -> Result<Self> {
        let s = s.trim();
        let params = if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            parse_url(what, s)?
        } else if s.contains('=') {
            parse_key_values(what, s)?
        } else {
            return Err(
                Error::config(format!("{what}: not a PostgreSQL connection string"))
                    .with_fix("use postgres://user@host:5432/dbname?sslmode=require"),
            );
        };
        let mut info = ConnInfo::default();
        for (key, value) in params {
            match key.as_str() {
                "host" | "hostaddr" => info.host = Some(value),
                "port" => {
                    info.port = Some(value.parse().map_err(|_| {
                        Error::config(format!("{what}: port `{value}` is not a number"))
                    })?)
                }
                "user" => info.user = Some(value),
                "password" => info.password = Some(Secret::new(value)),
                "dbname" => info.dbname = Some(value),
                "sslmode" => {
                    info.sslmode = Some(SslMode::parse(&value).ok_or_else(|| {
                        Error::config(format!("{what}: unknown sslmode `{value}`"))
                            .with_fix("use disable, prefer, require, verify-ca or verify-full")
                    })?)
                }
                "sslrootcert" => info.sslrootcert = Some(PathBuf::from(value)),
                "connect_timeout" => {
                    let secs: u64 = value.parse().map_err(|_| {
                        Error::config(format!("{what}: connect_timeout `{value}` is not seconds"))
                    })?;
                    info.connect_timeout = Some(Duration::from_secs(secs.max(2)));
                }
                "options" => info.options = Some(value),
                // We always identify as supamigrate, so that a DBA can see us.
                "application_name" => {}
                other => {
                    return Err(Error::config(format!(
                        "{what}: unknown connection parameter `{other}`"
                    ))
                    .with_fix(format!("remove it; known: {}", KNOWN_PARAMS.join(", "))))
                }
            }
        }
        Ok(info)
    }

    /// Fills what is missing from libpq's environment variables and defaults,
    /// then checks the result is complete.
    pub fn complete(
        mut self,
        what: &str,
        env: &BTreeMap<String, String>,
        password: Option<Secret>,
    ) -> Result<Endpoint> {
        let from_env = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        if self.password.is_none() {
            self.password = password.or_else(|| from_env("PGPASSWORD").map(Secret::new));
        }
        let host = self
            .host
            .or_else(|| from_env("PGHOST"))
            .unwrap_or_else(|| "localhost".to_string());
        let port = match self.port {
            Some(p) => p,
            None => match from_env("PGPORT") {
                Some(p) => p
                    .parse()
                    .map_err(|_| Error::config(format!("PGPORT `{p}` is not a number")))?,
                None => 5432,
            },
        };
        let user = self.user.or_else(|| from_env("PGUSER")).ok_or_else(|| {
            Error::config(format!("{what}: no user name"))
                .with_fix("put the user in the URL (postgres://USER@host/db) or set PGUSER")
        })?;
        let dbname = self
            .dbname
            .or_else(|| from_env("PGDATABASE"))
            .unwrap_or_else(|| user.clone());
        let sslmode = match self.sslmode {
            Some(m) => m,
            None => match from_env("PGSSLMODE") {
                Some(m) => SslMode::parse(&m)
                    .ok_or_else(|| Error::config(format!("PGSSLMODE: unknown sslmode `{m}`")))?,
                None => SslMode::Prefer,
            },
        };
        let sslrootcert = self
            .sslrootcert
            .or_else(|| from_env("PGSSLROOTCERT").map(PathBuf::from));
        let connect_timeout = match self.connect_timeout {
            Some(t) => t,
            None => from_env("PGCONNECT_TIMEOUT")
                .and_then(|t| t.parse().ok())
                .map_or(Duration::from_secs(10), |s: u64| {
                    Duration::from_secs(s.max(2))
                }),
        };
        Ok(Endpoint {
            host,
            port,
            user,
            password: self.password,
            dbname,
            sslmode,
            sslrootcert,
            connect_timeout,
            options: self.options,
        })
    }
}

/// A URL that does not parse. A `/`, `?` or `#` in the password ends the
/// host part early, which the parser reports as a bad port or host: then the
/// fix is to percent-encode the password; a port that is simply not a
/// number gets its own fix.
fn url_error(what: &str, s: &str, e: url::ParseError) -> Error {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let password_cut = !rest[..end].contains('@') && rest[end..].contains('@');
    let err = Error::config(format!("{what}: invalid URL: {e}"));
    let err = if password_cut || e != url::ParseError::InvalidPort {
        err.with_fix(
            "percent-encode special characters in the user and password (@ is %40, / is %2F, ? is %3F, # is %23, : is %3A)",
        )
    } else {
        err.with_fix("write the port as a number from 1 to 65535 after the host, e.g. host:5432")
    };
    err.with_source(e)
}

fn parse_url(what: &str, s: &str) -> Result<Vec<(String, String)>> {
    let url = url::Url::parse(s).map_err(|e| url_error(what, s, e))?;
    let decode = |v: &str| percent_decode_str(v).decode_utf8_lossy().into_owned();
    let mut out = Vec::new();
    if let Some(host) = url.host_str().filter(|h| !h.is_empty()) {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        out.push(("host".to_string(), decode(host)));
    }
    if let Some(port) = url.port() {
        out.push(("port".to_string(), port.to_string()));
    }
    if !url.username().is_empty() {
        out.push(("user".to_string(), decode(url.username())));
    }
    if let Some(pw) = url.password() {
        out.push(("password".to_string(), decode(pw)));
    }
    let db = url.path().trim_start_matches('/');
    if !db.is_empty() {
        out.push(("dbname".to_string(), decode(db)));
    }
    for (k, v) in url.query_pairs() {
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn parse_key_values(what: &str, s: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        // Only a plain keyword may be echoed: anything else may be a
        // mistyped URL carrying a password.
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(
                Error::config(format!("{what}: not a PostgreSQL connection string")).with_fix(
                    "use postgres://user@host:5432/dbname?sslmode=require or key=value pairs",
                ),
            );
        }
        if chars.next() != Some('=') {
            return Err(Error::config(format!(
                "{what}: expected `=` after `{key}` in the connection string"
            )));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(Error::config(format!(
                            "{what}: unterminated quote in the value of `{key}`"
                        )))
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '\\' {
                    chars.next();
                    value.extend(chars.next());
                    continue;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_encoded_password_and_tls_params() {
        let c = ConnInfo::parse(
            "target.url",
            "postgres://matbakh_admin:p%40ss@db.example:5433/matbakh_main?sslmode=verify-full&sslrootcert=global-bundle.pem",
        )
        .unwrap();
        assert_eq!(c.host.as_deref(), Some("db.example"));
        assert_eq!(c.port, Some(5433));
        assert_eq!(c.password.as_ref().unwrap().expose(), "p@ss");
        assert_eq!(c.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(c.sslrootcert, Some(PathBuf::from("global-bundle.pem")));
        let e = c.complete("target.url", &BTreeMap::new(), None).unwrap();
        assert_eq!(e.to_string(), "matbakh_admin@db.example:5433/matbakh_main");
    }

    #[test]
    fn key_value_form_with_quotes() {
        let c = ConnInfo::parse(
            "source.url",
            "host=h port=1 user=u password='a b\\'c' dbname=d",
        )
        .unwrap();
        assert_eq!(c.password.unwrap().expose(), "a b'c");
        assert_eq!(c.dbname.as_deref(), Some("d"));
    }

    #[test]
    fn password_falls_back_to_pgpassword() {
        let env = BTreeMap::from([("PGPASSWORD".to_string(), "envpw".to_string())]);
        let e = ConnInfo::parse("s", "postgres://u@h/d")
            .unwrap()
            .complete("s", &env, None)
            .unwrap();
        assert_eq!(e.password.unwrap().expose(), "envpw");
        assert_eq!(e.sslmode, SslMode::Prefer);
        assert_eq!(e.port, 5432);
    }

    #[test]
    fn mistyped_scheme_never_echoes_the_password() {
        for s in [
            "postgress://u:hunter2@h/d?sslmode=disable",
            "host=h password=hunter2 port=x",
            "user:hunter2@h/d a=b",
        ] {
            let msg = match ConnInfo::parse("source.url", s) {
                Err(e) => e.to_string(),
                Ok(_) => continue,
            };
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }

    #[test]
    fn unknown_parameter_and_sslmode_are_config_errors() {
        assert!(ConnInfo::parse("s", "postgres://u@h/d?sslmod=require").is_err());
        let err = ConnInfo::parse("s", "postgres://u@h/d?sslmode=yes").unwrap_err();
        assert!(err.to_string().contains("sslmode"));
    }
}
