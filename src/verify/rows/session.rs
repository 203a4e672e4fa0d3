//! Verify's connections: each has the canonical session settings and reads
//! inside one snapshot per side, exported by a coordinator connection and
//! imported by every worker, so all ranges of one side see the same instant.

use tokio_postgres::Client;

use super::canonical::SESSION_SETUP;
use crate::error::{Error, Result};
use crate::pg::running::Running;
use crate::pg::{self, quote_literal, Endpoint, Side};

const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// The connection that exports one side's snapshot; it keeps its
/// transaction open for the whole verify and reads the catalog in it.
pub struct Coordinator {
    pub client: Client,
    pub snapshot: String,
}

pub async fn coordinator(side: Side, ep: &Endpoint) -> Result<Coordinator> {
    let client = pg::connect(side, ep).await?;
    client
        .batch_execute(&format!("{SESSION_SETUP}\n{BEGIN}"))
        .await
        .map_err(|e| session_err(side, ep, "starting the verify transaction", e))?;
    let snapshot: String = client
        .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
        .await
        .map_err(|e| session_err(side, ep, "exporting a snapshot", e))?
        .get(0);
    Ok(Coordinator { client, snapshot })
}

/// A worker connection reading in the coordinator's snapshot.
async fn worker(
    side: Side,
    ep: &Endpoint,
    snapshot: &str,
) -> std::result::Result<Client, OpenFailure> {
    // Verify reached this server moments before, so a connection it now
    // cannot open (refused, timed out, no slots left) may well open later.
    let client = pg::connect(side, ep).await.map_err(|error| OpenFailure {
        error,
        transient: true,
    })?;
    client
        .batch_execute(&format!(
            "{SESSION_SETUP}\n{BEGIN};\nSET TRANSACTION SNAPSHOT {}",
            quote_literal(snapshot)
        ))
        .await
        .map_err(|e| {
            let error = session_err(side, ep, "importing the verify snapshot", e).with_fix(
                "the snapshot ends with verify's first connection to this server: run `supamigrate verify` again",
            );
            OpenFailure {
                transient: error.is_transient(),
                error,
            }
        })?;
    Ok(client)
}

/// A pair of connections that could not be opened, and whether another try
/// may succeed: not once the snapshot to import is gone.
pub struct OpenFailure {
    pub error: Error,
    pub transient: bool,
}

/// Where one worker's pair of connections comes from: both endpoints and
/// the snapshots their coordinators exported. A pair that lost a connection
/// is opened again from it, in the same snapshots, for as long as the
/// coordinators hold them.
#[derive(Debug, Clone)]
pub struct Pairs {
    pub source: Endpoint,
    pub target: Endpoint,
    pub source_snapshot: String,
    pub target_snapshot: String,
    /// Every pair's connections, for the cancel requests of an interrupt.
    pub running: (Running, Running),
}

impl Pairs {
    pub async fn open(&self) -> std::result::Result<(Client, Client), OpenFailure> {
        let (source, target) = tokio::try_join!(
            worker(Side::Source, &self.source, &self.source_snapshot),
            worker(Side::Target, &self.target, &self.target_snapshot)
        )?;
        self.running.0.register(&source);
        self.running.1.register(&target);
        Ok((source, target))
    }
}

fn session_err(side: Side, ep: &Endpoint, doing: &str, e: tokio_postgres::Error) -> Error {
    Error::db(format!("{side} {ep}: {doing}"), e)
}
