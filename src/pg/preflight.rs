//! What must hold of the target before anything is written to it: that it
//! is not the source itself, that it takes writes, that our role may create
//! the ledger, and that it can hold every character the source has. `plan`
//! lists each as a blocker; every stage refuses on the first (exit 2).
//!
//! Touches: nothing; reads both sides' catalogs.

use tokio_postgres::Client;

use super::{Endpoint, Side};
use crate::error::{Error, Result};

/// Who a server and database are, independently of how they were reached:
/// two URLs (a pooler and a direct host, an IP and a name) can lead to one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    /// The cluster's system identifier where the role may read it, else its
    /// start time (Aurora does not expose a system identifier).
    server: String,
    database_oid: i64,
    database: String,
    encoding: String,
}

async fn identity(client: &Client) -> Result<Identity, tokio_postgres::Error> {
    let server = match client
        .query_one(
            "SELECT system_identifier::text FROM pg_catalog.pg_control_system()",
            &[],
        )
        .await
    {
        Ok(r) => r.get(0),
        Err(_) => client
            .query_one("SELECT pg_catalog.pg_postmaster_start_time()::text", &[])
            .await?
            .get(0),
    };
    let r = client
        .query_one(
            "SELECT d.oid::int8, d.datname::text, pg_catalog.pg_encoding_to_char(d.encoding)::text
               FROM pg_catalog.pg_database d WHERE d.datname = current_database()",
            &[],
        )
        .await?;
    Ok(Identity {
        server,
        database_oid: r.get(0),
        database: r.get(1),
        encoding: r.get(2),
    })
}

/// Every reason the target cannot be written as a migration target, each
/// an error naming the thing and its fix; empty when it can.
pub async fn target_problems(
    source: &Client,
    source_ep: &Endpoint,
    target: &Client,
    target_ep: &Endpoint,
    ledger: bool,
) -> Result<Vec<Error>> {
    let catalog = |side: Side, ep: &Endpoint| {
        let what = format!("{side} {ep}: reading the catalog");
        move |e: tokio_postgres::Error| Error::db(&what, e)
    };
    let src = identity(source)
        .await
        .map_err(catalog(Side::Source, source_ep))?;
    let tgt = identity(target)
        .await
        .map_err(catalog(Side::Target, target_ep))?;
    let r = target
        .query_one(
            "SELECT pg_catalog.pg_is_in_recovery(),
                    pg_catalog.current_setting('transaction_read_only') = 'on',
                    pg_catalog.has_database_privilege(current_database(), 'CREATE'),
                    current_user::text",
            &[],
        )
        .await
        .map_err(catalog(Side::Target, target_ep))?;
    let (standby, read_only, can_create, role): (bool, bool, bool, String) =
        (r.get(0), r.get(1), r.get(2), r.get(3));
    let db = &tgt.database;
    let mut problems = Vec::new();
    if src == tgt {
        problems.push(
            Error::config(format!(
                "target {target_ep}: is the source database itself (same server and database {db} as source {source_ep})"
            ))
            .with_fix("point target.url at the new Aurora database, not at the Supabase one"),
        );
        return Ok(problems);
    }
    if standby {
        problems.push(
            Error::config(format!(
                "target {target_ep}: the server is a read-only standby (in recovery)"
            ))
            .with_fix("point target.url at the cluster's writer endpoint, not a reader"),
        );
    } else if read_only {
        problems.push(
            Error::config(format!(
                "target {target_ep}: sessions are read-only (default_transaction_read_only is on)"
            ))
            .with_fix(format!(
                "ALTER DATABASE {db} SET default_transaction_read_only = off, or use the writer endpoint"
            )),
        );
    }
    if !can_create && !ledger {
        problems.push(
            Error::config(format!(
                "target {target_ep}: role {role} has no CREATE on database {db}, so the ledger schema cannot be created"
            ))
            .with_fix(format!("GRANT CREATE ON DATABASE {db} TO {role}")),
        );
    }
    if src.encoding != tgt.encoding && tgt.encoding != "UTF8" {
        problems.push(
            Error::config(format!(
                "target {target_ep}: database {db} is encoded {}, the source is {}; rows with characters {} cannot hold would fail mid-copy",
                tgt.encoding, src.encoding, tgt.encoding
            ))
            .with_fix("create the target database with ENCODING 'UTF8' (CREATE DATABASE ... TEMPLATE template0 ENCODING 'UTF8')"),
        );
    }
    Ok(problems)
}
