//! Reading the ledger for `status`. Takes no lock: status must work while a
//! run is in progress.

use serde::Serialize;
use tokio_postgres::Client;

use super::db_err;
use crate::error::Result;

#[derive(Debug, Serialize)]
pub struct Status {
    /// False when the target has no ledger yet (nothing has run).
    pub ledger: bool,
    pub run: Option<RunStatus>,
}

#[derive(Debug, Serialize)]
pub struct RunStatus {
    pub id: String,
    pub state: String,
    pub source: String,
    pub started_at: String,
    pub stages: Vec<StageStatus>,
    pub chunks: Counts,
    pub objects: Counts,
    pub last_verify: Option<VerifyStatus>,
}

#[derive(Debug, Serialize)]
pub struct StageStatus {
    pub stage: String,
    pub state: String,
    pub at: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub total: i64,
    pub done: i64,
    pub rows: i64,
    pub bytes: i64,
}

#[derive(Debug, Serialize)]
pub struct VerifyStatus {
    pub ok: bool,
    pub finished_at: String,
    pub report_dir: Option<String>,
}

const TS: &str = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"";

pub async fn read_status(client: &Client) -> Result<Status> {
    let exists: bool = client
        .query_one("SELECT to_regclass('supamigrate.runs') IS NOT NULL", &[])
        .await
        .map_err(|e| db_err("reading status", e))?
        .get(0);
    if !exists {
        return Ok(Status {
            ledger: false,
            run: None,
        });
    }
    let q = |sql: String| sql.replace("{TS}", TS);
    let Some(run) = client
        .query_opt(
            &q(
                "SELECT id, state, source, to_char(started_at AT TIME ZONE 'UTC', '{TS}')
                FROM supamigrate.runs ORDER BY (state = 'active') DESC, started_at DESC LIMIT 1"
                    .into(),
            ),
            &[],
        )
        .await
        .map_err(|e| db_err("reading runs", e))?
    else {
        return Ok(Status {
            ledger: true,
            run: None,
        });
    };
    let id: String = run.get(0);
    let stages = client
        .query(
            &q("SELECT stage, state, to_char(at AT TIME ZONE 'UTC', '{TS}')
                FROM supamigrate.stage_states WHERE run_id = $1 AND is_current
                ORDER BY array_position(ARRAY['plan','schema','data','storage','finalize','verify','cutover','rollback'], stage)".into()),
            &[&id],
        )
        .await
        .map_err(|e| db_err("reading stages", e))?
        .into_iter()
        .map(|r| StageStatus {
            stage: r.get(0),
            state: r.get(1),
            at: r.get(2),
        })
        .collect();
    let counts = |table: &str, rows_col: &str, bytes_col: &str| {
        format!(
            "SELECT count(*), count(*) FILTER (WHERE state = 'done'),
                    coalesce(sum({rows_col}) FILTER (WHERE state = 'done'), 0)::int8,
                    coalesce(sum({bytes_col}) FILTER (WHERE state = 'done'), 0)::int8
             FROM supamigrate.{table} WHERE run_id = $1"
        )
    };
    let read_counts = |row: tokio_postgres::Row| Counts {
        total: row.get(0),
        done: row.get(1),
        rows: row.get(2),
        bytes: row.get(3),
    };
    let chunks = read_counts(
        client
            .query_one(&counts("chunks", "rows", "bytes"), &[&id])
            .await
            .map_err(|e| db_err("reading chunks", e))?,
    );
    let objects = read_counts(
        client
            .query_one(&counts("objects", "1", "size"), &[&id])
            .await
            .map_err(|e| db_err("reading objects", e))?,
    );
    let last_verify = client
        .query_opt(
            &q(
                "SELECT ok, to_char(finished_at AT TIME ZONE 'UTC', '{TS}'), report_dir
                FROM supamigrate.verifications WHERE run_id = $1 ORDER BY id DESC LIMIT 1"
                    .into(),
            ),
            &[&id],
        )
        .await
        .map_err(|e| db_err("reading verifications", e))?
        .map(|r| VerifyStatus {
            ok: r.get(0),
            finished_at: r.get(1),
            report_dir: r.get(2),
        });
    Ok(Status {
        ledger: true,
        run: Some(RunStatus {
            id,
            state: run.get(1),
            source: run.get(2),
            started_at: run.get(3),
            stages,
            chunks,
            objects,
            last_verify,
        }),
    })
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(run) = &self.run else {
            return if self.ledger {
                writeln!(f, "no run recorded yet")
            } else {
                writeln!(f, "no ledger on the target yet: nothing has run")
            };
        };
        writeln!(f, "run       {} ({})", run.id, run.state)?;
        writeln!(f, "source    {}", run.source)?;
        writeln!(f, "started   {}", run.started_at)?;
        writeln!(f)?;
        writeln!(f, "{:<10} {:<12} SINCE", "STAGE", "STATE")?;
        for s in &run.stages {
            writeln!(f, "{:<10} {:<12} {}", s.stage, s.state, s.at)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "chunks    {}/{} done, {} rows, {} bytes",
            run.chunks.done, run.chunks.total, run.chunks.rows, run.chunks.bytes
        )?;
        writeln!(
            f,
            "objects   {}/{} done, {} bytes",
            run.objects.done, run.objects.total, run.objects.bytes
        )?;
        match &run.last_verify {
            Some(v) => writeln!(
                f,
                "verify    {} at {}{}",
                if v.ok { "passed" } else { "FAILED" },
                v.finished_at,
                v.report_dir
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            None => writeln!(f, "verify    not run"),
        }
    }
}
