//! Connecting to either side. Every failure becomes one line naming the
//! endpoint (`user@host:port/db`, never the password) and the fix.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conninfo::{Endpoint, SslMode};
use super::tls;
use crate::error::{Error, Result};

/// Which database a connection belongs to, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Target => "target",
        })
    }
}

fn driver_config(ep: &Endpoint) -> tokio_postgres::Config {
    let mut c = tokio_postgres::Config::new();
    if ep.host.starts_with('/') {
        c.host_path(&ep.host);
    } else {
        c.host(&ep.host);
    }
    c.port(ep.port)
        .user(&ep.user)
        .dbname(&ep.dbname)
        .application_name("supamigrate")
        .connect_timeout(ep.connect_timeout)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .ssl_mode(match ep.sslmode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Allow | SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
    if let Some(pw) = &ep.password {
        c.password(pw.expose());
    }
    if let Some(opts) = &ep.options {
        c.options(opts);
    }
    c
}

/// Opens one connection and drives it on the runtime.
pub async fn connect(side: Side, ep: &Endpoint) -> Result<Client> {
    let what = format!("{side} {ep}");
    let tls = MakeRustlsConnect::new(tls::client_config(&what, ep)?);
    let (client, conn) = driver_config(ep)
        .connect(tls)
        .await
        .map_err(|e| classify(side, ep, &e).with_source(e))?;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(error = %err, "connection closed");
        }
    });
    Ok(client)
}

/// A pool of up to `size` connections; each is checked out per unit of work.
pub fn pool(side: Side, ep: &Endpoint, size: usize) -> Result<Pool> {
    let what = format!("{side} {ep}");
    let tls = MakeRustlsConnect::new(tls::client_config(&what, ep)?);
    let manager = Manager::from_config(
        driver_config(ep),
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager).max_size(size).build().map_err(|e| {
        Error::failure(format!("{what}: building the connection pool: {e}")).with_source(e)
    })
}

/// Supavisor's transaction mode hands each statement to any backend, so an
/// exported snapshot (and with it a consistent copy) cannot work through it.
pub fn refuse_transaction_pooler(ep: &Endpoint) -> Result<()> {
    if ep.port == 6543 {
        return Err(Error::config(format!(
            "source {ep}: port 6543 is Supabase's transaction pooler, which cannot hold a consistent snapshot"
        ))
        .with_fix("use the session pooler on port 5432 or the direct connection (db.<ref>.supabase.co:5432)"));
    }
    Ok(())
}

/// Turns a driver error from connecting into one line with the fix.
pub fn classify(side: Side, ep: &Endpoint, err: &tokio_postgres::Error) -> Error {
    let at = format!("{side} {ep}");
    let env_pw = match side {
        Side::Source => "SUPAMIGRATE_SOURCE_PASSWORD",
        Side::Target => "SUPAMIGRATE_TARGET_PASSWORD",
    };
    if let Some(db) = err.as_db_error() {
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD {
            Error::config(format!("{at}: password authentication failed")).with_fix(format!(
                "check the password in {side}.url, {env_pw} or PGPASSWORD"
            ))
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            Error::config(format!(
                "{at}: the server refused the login: {}",
                db.message()
            ))
            .with_fix("check the user name and the server's pg_hba.conf / security group")
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            Error::config(format!("{at}: database does not exist"))
                .with_fix(format!("check the database name in {side}.url"))
        } else if *code == SqlState::TOO_MANY_CONNECTIONS {
            Error::failure(format!("{at}: too many connections: {}", db.message()))
                .with_fix("lower copy.jobs or free connections on the server")
        } else {
            Error::config(format!("{at}: {}", db.message()))
        };
    }
    let mut cause: Option<&(dyn StdError + 'static)> = err.source();
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return Error::config(format!("{at}: TLS verification failed: {tls}")).with_fix(
                "check sslrootcert (for Aurora use the RDS global-bundle.pem) and that the host name matches the certificate",
            );
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return Error::config(format!("{at}: TLS verification failed: {tls}"))
                        .with_fix("check sslrootcert (for Aurora use the RDS global-bundle.pem) and that the host name matches the certificate");
                }
            }
            let text = io.to_string();
            if text.contains("failed to lookup address")
                || text.contains("Name or service not known")
            {
                return Error::config(format!("{at}: unknown host `{}`", ep.host))
                    .with_fix(format!("check the host name in {side}.url"));
            }
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Error::config(format!(
                    "{at}: connection refused"
                ))
                .with_fix("check the host and port, and that the server is running and reachable"),
                std::io::ErrorKind::TimedOut => {
                    Error::config(format!("{at}: connection timed out"))
                        .with_fix("check network access (security group, VPN) to the host and port")
                }
                _ => Error::config(format!("{at}: {text}")),
            };
        }
        cause = c.source();
    }
    let text = err.to_string();
    if text.contains("server does not support TLS") || text.contains("TLS") {
        return Error::config(format!("{at}: {text}")).with_fix(
            "the server has TLS off: enable it, or use sslmode=disable only on a trusted network",
        );
    }
    if text.contains("timeout") || text.contains("timed out") {
        return Error::config(format!("{at}: connection timed out"))
            .with_fix("check network access (security group, VPN) to the host and port");
    }
    Error::config(format!("{at}: {text}"))
}
