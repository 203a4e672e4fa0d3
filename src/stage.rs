//! What every stage starts from and how each run of one is recorded: the
//! [`Context`] (both endpoints, the mappings and the scope derived from
//! them, resolved once and before anything is written) and the
//! [`StageRun`] lifecycle (the ledger opened and locked, the stage
//! Running, then Done, Failed or Interrupted).
//!
//! Touches: the target's stage states (through `ledger`); reads Secrets
//! Manager when the target's password lives there.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::ledger::{Ledger, Stage, StageState};
use crate::mapping::scope::Scope;
use crate::mapping::Mappings;
use crate::pg::{Endpoint, Side};
use crate::settings::Settings;

/// Everything a stage reads before it writes anything.
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub source: Endpoint,
    /// With its password, from the URL or from Secrets Manager.
    pub target: Endpoint,
    pub mappings: Mappings,
    pub scope: Scope,
    /// The target's clock when this process first reached it: backends of
    /// ours that started earlier belong to a stopped run.
    pub target_clock: DateTime<Utc>,
}

impl<'a> Context<'a> {
    /// Resolves both endpoints and the mappings, and checks the target
    /// before any stage writes to it (see [`crate::pg::preflight`]). A
    /// source behind Supabase's transaction pooler is refused here, for
    /// every stage: none of them can hold a snapshot or a session through
    /// it.
    pub async fn resolve(settings: &'a Settings) -> Result<Context<'a>> {
        let source = settings.source()?.clone();
        crate::pg::refuse_transaction_pooler(&source)?;
        let mappings = crate::mapping::load(&settings.mapping_files)?;
        let scope = Scope::new(&mappings.schema);
        let target = crate::aws::secrets::target_endpoint(settings).await?;
        let (src, tgt) = tokio::try_join!(
            crate::pg::connect(Side::Source, &source),
            crate::pg::connect(Side::Target, &target)
        )?;
        let target_clock: DateTime<Utc> = tgt
            .query_one("SELECT pg_catalog.clock_timestamp()", &[])
            .await
            .map_err(|e| Error::db(format!("target {target}: reading the clock"), e))?
            .get(0);
        let ledger = crate::ledger::exists(&tgt)
            .await
            .map_err(|e| Error::db(format!("target {target}: reading the catalog"), e))?;
        let problems =
            crate::pg::preflight::target_problems(&src, &source, &tgt, &target, ledger).await?;
        if let Some(first) = problems.into_iter().next() {
            return Err(first);
        }
        Ok(Context {
            settings,
            source,
            target,
            mappings,
            scope,
            target_clock,
        })
    }
}

/// The stage that must be done before `stage` may start. `verify` needs
/// none: it is the independent check of any two databases, whoever copied
/// them.
pub fn prerequisite(stage: Stage) -> Option<Stage> {
    match stage {
        Stage::Data => Some(Stage::Schema),
        Stage::Finalize => Some(Stage::Data),
        _ => None,
    }
}

fn not_ready(stage: Stage, first: Stage, state: Option<StageState>, target: &Endpoint) -> Error {
    let (what, fix) = match state {
        None => (
            "has not run".to_string(),
            format!("run `supamigrate {}` first", first.as_str()),
        ),
        Some(s) => (
            format!("is {}, not done", s.as_str()),
            format!(
                "finish it first: `supamigrate {}` resumes it",
                first.as_str()
            ),
        ),
    };
    let fix = if first == Stage::Schema && state.is_none() {
        format!("{fix} (or `supamigrate schema --adopt` when your own migrations created the schema on the target)")
    } else {
        fix
    };
    Error::refused(format!(
        "{}: the {} stage {what} on target {target}",
        stage.as_str(),
        first.as_str()
    ))
    .with_fix(fix)
}

/// One stage's run, recorded in the ledger from its start to its end. The
/// ledger's connection holds the run lock for as long as this lives.
pub struct StageRun {
    ledger: Ledger,
    stage: Stage,
    started: Instant,
}

impl StageRun {
    /// Refuses the stage unless the one it builds on is done in the active
    /// run (before anything is written: no ledger, no run row), then opens
    /// the ledger (taking the run lock) and records the stage as running.
    pub async fn begin(ctx: &Context<'_>, stage: Stage) -> Result<StageRun> {
        if let Some(first) = prerequisite(stage) {
            let client = crate::pg::connect(crate::pg::Side::Target, &ctx.target).await?;
            let state = crate::ledger::active_stage_state(&client, first).await?;
            if state != Some(StageState::Done) {
                return Err(not_ready(stage, first, state, &ctx.target));
            }
        }
        let mut ledger = Ledger::open(&ctx.target, &ctx.source.to_string()).await?;
        // With the lock held no live run works here: whatever of ours still
        // runs was left by a killed one, and would race this stage.
        let ended = crate::pg::running::end_leftovers(ledger.client(), ctx.target_clock).await?;
        if ended > 0 {
            tracing::warn!(
                ended,
                "ended statements a stopped run had left running on the target"
            );
        }
        ledger
            .set_stage(stage, StageState::Running, serde_json::json!({}))
            .await?;
        Ok(StageRun {
            ledger,
            stage,
            started: Instant::now(),
        })
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn run_id(&self) -> &str {
        self.ledger.run_id()
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Records how the stage ended and hands its result on: `Ok(Some)` is
    /// done, with `detail` of it in the ledger; `Ok(None)` was interrupted
    /// by Ctrl-C or SIGTERM and becomes `interrupted`; an error is recorded
    /// as failed. When the ledger cannot record a failure or an
    /// interruption, the stage's own error is the one reported.
    pub async fn end<T>(
        mut self,
        outcome: Result<Option<T>>,
        detail: impl FnOnce(&T) -> serde_json::Value,
        interrupted: Error,
    ) -> Result<T> {
        match outcome {
            Ok(Some(done)) => {
                self.ledger
                    .set_stage(self.stage, StageState::Done, detail(&done))
                    .await?;
                Ok(done)
            }
            Ok(None) => {
                if let Err(e) = self.ledger.interrupted(self.stage).await {
                    tracing::warn!(error = %e, stage = self.stage.as_str(), "could not record the interruption");
                }
                Err(interrupted)
            }
            Err(err) => {
                if let Err(e) = self.ledger.failed(self.stage, &err).await {
                    tracing::warn!(error = %e, stage = self.stage.as_str(), "could not record the failure");
                }
                Err(err)
            }
        }
    }
}
