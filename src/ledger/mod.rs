//! The ledger on the target: schema `supamigrate`, created and upgraded from
//! `migrations/*.sql`, holding runs, stage states, chunks, objects, the undo
//! journal and verifications.
//!
//! Touches: target schema `supamigrate` only.
//!
//! A `Ledger` owns one dedicated target connection that holds a session-level
//! advisory lock for as long as the command runs, so two runs on one target
//! are refused instead of interleaving chunks. The lock dies with the
//! connection, so a killed process never leaves the target locked; but its
//! server process lets go only once it has noticed and wound down (after a
//! stage that touched thousands of tables, that took long enough for the
//! next stage, started right after, to be refused), so a new run waits up
//! to [`LOCK_WAIT`] for the lock before it calls the target busy.

pub mod changes;
pub mod chunks;
pub mod finalize_steps;
pub mod objects;
pub mod post_data;
pub mod sequences;
mod status;
pub mod undo;
pub mod verifications;

pub use status::{read_status, Status};

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::pg::{self, Endpoint, Side};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The advisory lock key: two int4s spelling "SUPA" "MIGR", so it is unlikely
/// to collide with an application's own advisory locks.
const LOCK_KEY: (i32, i32) = (0x5355_5041, 0x4D49_4752);

/// How long a new run waits for the lock of one that is ending.
const LOCK_WAIT: &str = "5s";

pub const SCHEMA: &str = "supamigrate";
const HISTORY_TABLE: &str = "supamigrate.schema_history";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Plan,
    Schema,
    Data,
    Storage,
    Finalize,
    Verify,
    Cutover,
    Rollback,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Plan => "plan",
            Stage::Schema => "schema",
            Stage::Data => "data",
            Stage::Storage => "storage",
            Stage::Finalize => "finalize",
            Stage::Verify => "verify",
            Stage::Cutover => "cutover",
            Stage::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageState {
    Running,
    Done,
    Failed,
    Interrupted,
}

impl StageState {
    pub fn parse(s: &str) -> Option<StageState> {
        [
            StageState::Running,
            StageState::Done,
            StageState::Failed,
            StageState::Interrupted,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Running => "running",
            StageState::Done => "done",
            StageState::Failed => "failed",
            StageState::Interrupted => "interrupted",
        }
    }
}

pub struct Ledger {
    client: Client,
    run_id: String,
}

impl Ledger {
    /// Connects, takes the run lock, creates or upgrades the schema, and
    /// attaches to the active run (starting one if there is none).
    pub async fn open(target: &Endpoint, source_label: &str) -> Result<Ledger> {
        let mut client = pg::connect(Side::Target, target).await?;
        client
            .batch_execute(&format!("SET lock_timeout = '{LOCK_WAIT}'"))
            .await
            .map_err(|e| db_err("taking the run lock", e))?;
        let taken = client
            .execute(
                "SELECT pg_advisory_lock($1, $2)",
                &[&LOCK_KEY.0, &LOCK_KEY.1],
            )
            .await;
        match taken {
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                return Err(Error::refused(format!(
                    "another supamigrate run is working on target {target}"
                ))
                .with_fix("wait for it to finish (see `supamigrate status`), or stop it; a killed run releases the lock within seconds"));
            }
            Err(e) => return Err(db_err("taking the run lock", e)),
        }
        client
            .batch_execute("RESET lock_timeout")
            .await
            .map_err(|e| db_err("taking the run lock", e))?;
        migrate(&mut client, target).await?;
        let run_id = active_run(&client, source_label).await?;
        Ok(Ledger { client, run_id })
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The ledger's own connection, for stage code that records progress.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Records that Ctrl-C or SIGTERM stopped `stage`.
    pub async fn interrupted(&mut self, stage: Stage) -> Result<()> {
        let detail = serde_json::json!({"reason": "interrupted"});
        self.set_stage(stage, StageState::Interrupted, detail).await
    }

    /// Records that `stage` failed with `err` (its one-line message, which
    /// never carries a secret).
    pub async fn failed(&mut self, stage: Stage, err: &Error) -> Result<()> {
        let detail = serde_json::json!({"error": err.to_string()});
        self.set_stage(stage, StageState::Failed, detail).await
    }

    /// Records a stage's new state as history: the previous current row is
    /// kept, pointed to by `prev`.
    pub async fn set_stage(
        &mut self,
        stage: Stage,
        state: StageState,
        detail: serde_json::Value,
    ) -> Result<()> {
        let tx = self
            .client
            .transaction()
            .await
            .map_err(|e| db_err("recording stage state", e))?;
        let prev: Option<i64> = tx
            .query_opt(
                "UPDATE supamigrate.stage_states SET is_current = false
                 WHERE run_id = $1 AND stage = $2 AND is_current RETURNING id",
                &[&self.run_id, &stage.as_str()],
            )
            .await
            .map_err(|e| db_err("recording stage state", e))?
            .map(|r| r.get(0));
        tx.execute(
            "INSERT INTO supamigrate.stage_states (run_id, stage, state, detail, prev)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &self.run_id,
                &stage.as_str(),
                &state.as_str(),
                &detail,
                &prev,
            ],
        )
        .await
        .map_err(|e| db_err("recording stage state", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("recording stage state", e))
    }

    pub async fn stage_state(&self, stage: Stage) -> Result<Option<StageState>> {
        Ok(self
            .client
            .query_opt(
                "SELECT state FROM supamigrate.stage_states
                 WHERE run_id = $1 AND stage = $2 AND is_current",
                &[&self.run_id, &stage.as_str()],
            )
            .await
            .map_err(|e| db_err("reading stage state", e))?
            .and_then(|r| StageState::parse(r.get(0))))
    }
}

async fn migrate(client: &mut Client, target: &Endpoint) -> Result<()> {
    // The history table lives inside our schema, so the schema must exist
    // before refinery looks for it.
    client
        .batch_execute("CREATE SCHEMA IF NOT EXISTS supamigrate")
        .await
        .map_err(|e| {
            Error::db(
                format!("target {target}: cannot create schema supamigrate"),
                e,
            )
            .with_fix(
                "the target user needs CREATE on the database (GRANT CREATE ON DATABASE ... TO it)",
            )
        })?;
    embedded::migrations::runner()
        .set_migration_table_name(HISTORY_TABLE)
        .run_async(client)
        .await
        .map_err(|e| {
            Error::failure(format!("target {target}: upgrading the ledger: {e}")).with_source(e)
        })?;
    Ok(())
}

async fn active_run(client: &Client, source_label: &str) -> Result<String> {
    if let Some(row) = client
        .query_opt(
            "SELECT id FROM supamigrate.runs WHERE state = 'active'",
            &[],
        )
        .await
        .map_err(|e| db_err("reading runs", e))?
    {
        return Ok(row.get(0));
    }
    let id = chrono::Utc::now().format("run-%Y%m%dT%H%M%SZ").to_string();
    let id = format!("{id}-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    client
        .execute(
            "INSERT INTO supamigrate.runs (id, source, tool_version) VALUES ($1, $2, $3)",
            &[&id, &source_label, &env!("CARGO_PKG_VERSION")],
        )
        .await
        .map_err(|e| db_err("starting a run", e))?;
    tracing::info!(run = %id, "started a new run");
    Ok(id)
}

/// The current state of `stage` in the target's active run, read without
/// creating anything: `None` when there is no ledger, no active run, or the
/// stage never ran in it.
pub async fn active_stage_state(client: &Client, stage: Stage) -> Result<Option<StageState>> {
    let q = |e: tokio_postgres::Error| db_err("reading stage states", e);
    if !exists(client).await.map_err(q)? {
        return Ok(None);
    }
    Ok(client
        .query_opt(
            "SELECT s.state FROM supamigrate.stage_states s
               JOIN supamigrate.runs r ON r.id = s.run_id
              WHERE r.state = 'active' AND s.stage = $1 AND s.is_current",
            &[&stage.as_str()],
        )
        .await
        .map_err(q)?
        .and_then(|r| StageState::parse(r.get(0))))
}

/// Whether the target holds a ledger at all (read without creating one).
pub async fn exists(client: &Client) -> Result<bool, tokio_postgres::Error> {
    client
        .query_one("SELECT to_regclass('supamigrate.runs') IS NOT NULL", &[])
        .await
        .map(|r| r.get(0))
}

fn db_err(doing: &str, e: tokio_postgres::Error) -> Error {
    Error::db(format!("ledger: {doing}"), e)
}

/// The active run whose schema is on the target.
pub struct AppliedRun {
    pub run: String,
    /// False when the schema transaction committed (its undo rows are
    /// there) but the stage was never marked done: the process stopped in
    /// between.
    pub marked_done: bool,
}

/// The active run whose schema stage is done or whose schema transaction
/// committed, if there is one.
pub async fn applied_schema_run(client: &Client) -> Result<Option<AppliedRun>> {
    let q = |e: tokio_postgres::Error| Error::db("ledger", e);
    let has_ledger: bool = client
        .query_one(
            "SELECT to_regclass('supamigrate.stage_states') IS NOT NULL",
            &[],
        )
        .await
        .map_err(q)?
        .get(0);
    if !has_ledger {
        return Ok(None);
    }
    let row = client
        .query_opt(
            "SELECT r.id, d.done
               FROM supamigrate.runs r,
                    LATERAL (SELECT EXISTS (SELECT 1 FROM supamigrate.stage_states s
                                             WHERE s.run_id = r.id AND s.stage = 'schema'
                                               AND s.is_current AND s.state = 'done') AS done) d
              WHERE r.state = 'active'
                AND (d.done OR EXISTS (SELECT 1 FROM supamigrate.undo_journal u
                                        WHERE u.run_id = r.id AND u.stage = 'schema'
                                          AND u.undone_at IS NULL))",
            &[],
        )
        .await
        .map_err(q)?;
    Ok(row.map(|r| AppliedRun {
        run: r.get(0),
        marked_done: r.get(1),
    }))
}
