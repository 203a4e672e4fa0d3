//! The storage stage's objects in the ledger (`supamigrate.objects`): one
//! row per source object, with the checksum of the bytes it wrote.
//!
//! Touches: target `supamigrate.objects`.

use std::collections::HashMap;

use tokio_postgres::Client;

use super::db_err;
use crate::error::Result;

/// The checksum recorded for every object copied, by (bucket, key) on the
/// target, over all runs.
pub async fn checksums(client: &Client) -> Result<HashMap<(String, String), String>> {
    let rows = client
        .query(
            "SELECT target_bucket, target_key, checksum FROM supamigrate.objects
             WHERE state = 'done' AND checksum IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| db_err("reading the ledger's objects", e))?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect())
}
