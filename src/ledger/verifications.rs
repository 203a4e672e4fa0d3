//! Verify's certificates in the ledger (`supamigrate.verifications`): one
//! row per finished verify, its whole JSON report included, so `cutover`
//! can gate on the latest verdict.
//!
//! Touches: target `supamigrate.verifications`.

use chrono::{DateTime, Utc};

use super::{db_err, Ledger};
use crate::error::Result;

pub struct Verification<'a> {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub ok: bool,
    pub report_dir: &'a str,
    pub report: &'a serde_json::Value,
}

/// Records a finished verify; returns its id.
pub async fn record(ledger: &Ledger, v: &Verification<'_>) -> Result<i64> {
    let row = ledger
        .client()
        .query_one(
            "INSERT INTO supamigrate.verifications
                 (run_id, started_at, finished_at, ok, report_dir, report)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &ledger.run_id(),
                &v.started_at,
                &v.finished_at,
                &v.ok,
                &v.report_dir,
                v.report,
            ],
        )
        .await
        .map_err(|e| db_err("recording the verification", e))?;
    Ok(row.get(0))
}
