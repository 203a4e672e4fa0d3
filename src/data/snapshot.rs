//! One consistent view of the source for the whole copy.
//!
//! Touches: source, read only.
//!
//! The coordinator opens a `REPEATABLE READ` transaction and exports its
//! snapshot; it must stay open until the last chunk has been read, because an
//! exported snapshot dies with the transaction that exported it. Every chunk
//! then runs in a fresh transaction that imports that snapshot first — also on
//! a pooled connection that imported it before, since a snapshot belongs to a
//! transaction, not to a connection.

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::pg::{self, quote_literal, Endpoint, Side};

/// Session settings that make text output of every source session the same,
/// whatever the role's or database's defaults: split points and text COPY
/// depend on them, and Supabase sets short statement timeouts on its roles.
pub const SOURCE_SESSION: &str = "SET statement_timeout = 0; SET lock_timeout = 0; \
     SET idle_in_transaction_session_timeout = 0; SET DateStyle = 'ISO, YMD'; \
     SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET TimeZone = 'UTC'; \
     SET bytea_output = 'hex'";

pub struct Coordinator {
    client: Client,
    id: String,
}

impl Coordinator {
    pub async fn open(source: &Endpoint) -> Result<Coordinator> {
        let client = pg::connect(Side::Source, source).await?;
        client
            .batch_execute(&format!(
                "{SOURCE_SESSION}; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            ))
            .await
            .map_err(|e| err("opening the snapshot transaction", e))?;
        let id: String = client
            .query_one("SELECT pg_export_snapshot()", &[])
            .await
            .map_err(|e| {
                err("exporting the snapshot", e).with_fix(
                    "connect to the database directly or through a session-mode pooler (port 5432), not a transaction-mode pooler",
                )
            })?
            .get(0);
        Ok(Coordinator { client, id })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The coordinator's own connection, inside the snapshot: planning reads
    /// the catalog and split points through it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn close(self) -> Result<()> {
        self.client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| err("closing the snapshot transaction", e))
    }
}

/// Starts a fresh read-only transaction on `client` that sees exactly the
/// exported snapshot.
pub async fn import(client: &Client, id: &str) -> std::result::Result<(), tokio_postgres::Error> {
    client
        .batch_execute(&format!(
            "{SOURCE_SESSION}; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
             SET TRANSACTION SNAPSHOT {}",
            quote_literal(id)
        ))
        .await
}

fn err(doing: &str, e: tokio_postgres::Error) -> Error {
    Error::db(format!("source: {doing}"), e)
}
