//! Statements that outlive the process that sent them. A server notices a
//! vanished client only when it next talks to it, and an index build or an
//! `ANALYZE` does not talk until it is done: it would go on, and commit,
//! after the stage said it stopped. So a stage stopped by a signal sends each
//! running statement a cancel request ([`Running`]), and a stage that starts
//! after one was killed ends what the dead process left running
//! ([`end_leftovers`]) before it reads the ledger.
//!
//! Touches: nothing of the data; signals server backends of our own role.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio_postgres::{CancelToken, Client};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::conninfo::Endpoint;
use super::{tls, Side};
use crate::error::{Error, Result};

/// The statements in flight on one endpoint, by the connection running each.
#[derive(Clone)]
pub struct Running {
    tokens: Arc<Mutex<HashMap<u64, CancelToken>>>,
    next: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
    tls: MakeRustlsConnect,
}

/// Keeps a connection's cancel token registered while its statement runs.
pub struct Tracked {
    tokens: Arc<Mutex<HashMap<u64, CancelToken>>>,
    id: u64,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

impl Running {
    pub fn new(side: Side, ep: &Endpoint) -> Result<Running> {
        let what = format!("{side} {ep}");
        Ok(Running {
            tokens: Arc::default(),
            next: Arc::default(),
            stopped: Arc::default(),
            tls: MakeRustlsConnect::new(tls::client_config(&what, ep)?),
        })
    }

    /// Registers `client`'s statement until the returned guard drops.
    pub fn track(&self, client: &Client) -> Tracked {
        Tracked {
            tokens: Arc::clone(&self.tokens),
            id: self.insert(client),
        }
    }

    /// Registers `client` for as long as this registry lives: for
    /// connections that run statements until they close. A cancel request
    /// for a backend that has ended already is ignored by the server.
    pub fn register(&self, client: &Client) {
        self.insert(client);
    }

    fn insert(&self, client: &Client) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, client.cancel_token());
        id
    }

    /// True once [`Running::cancel_all`] was called: start nothing new.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Sends every running statement a cancel request; returns how many.
    /// A request that reaches a connection between two statements does
    /// nothing, so a caller that waits for its statements to end calls this
    /// again while it waits; tracked statements leave the registry as they
    /// end. Best effort: a request that cannot be sent is logged, and the
    /// next stage's [`end_leftovers`] ends what it missed.
    pub async fn cancel_all(&self) -> usize {
        self.stopped.store(true, Ordering::SeqCst);
        let tokens: Vec<CancelToken> = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        let sent =
            futures::future::join_all(tokens.iter().map(|t| t.cancel_query(self.tls.clone())))
                .await;
        for e in sent.iter().filter_map(|r| r.as_ref().err()) {
            tracing::warn!(error = %e, "could not send a cancel request");
        }
        tokens.len()
    }
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.tokens.lock().map_or(0, |t| t.len());
        write!(f, "Running({n} statements)")
    }
}

/// How long a leftover statement may take to end once told to.
const LEFTOVER_WAIT_MS: i64 = 60_000;

/// Ends the backends of our role and application in this database that
/// started before `since` (the target's clock when this process first
/// reached it), waiting for each to go: a killed run's statements. Only
/// called with the run lock held, so no live run owns them.
pub async fn end_leftovers(client: &Client, since: DateTime<Utc>) -> Result<usize> {
    let failed = |e| Error::db("target: ending statements a stopped run left running", e);
    let pids: Vec<i32> = client
        .query_one(
            "SELECT coalesce(array_agg(pid), '{}')
               FROM (SELECT pid, pg_catalog.pg_terminate_backend(pid, $2)
                       FROM pg_catalog.pg_stat_activity
                      WHERE usename = current_user AND application_name = 'supamigrate'
                        AND datname = current_database() AND pid <> pg_catalog.pg_backend_pid()
                        AND backend_start < $1) AS ended",
            &[&since, &LEFTOVER_WAIT_MS],
        )
        .await
        .map_err(failed)?
        .get(0);
    if pids.is_empty() {
        return Ok(0);
    }
    // A backend that was already going when told counts as ended; one still
    // listed after the wait does not.
    let stuck: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = ANY($1)",
            &[&pids],
        )
        .await
        .map_err(failed)?
        .get(0);
    if stuck > 0 {
        return Err(Error::failure(format!(
            "target: {stuck} statement(s) a stopped run left running did not end within {} s",
            LEFTOVER_WAIT_MS / 1000
        ))
        .with_fix("wait for them (pg_stat_activity, application_name 'supamigrate') and run the stage again"));
    }
    Ok(pids.len())
}
