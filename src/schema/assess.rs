//! The schema part of `plan`: dumps the source schema and rewrites it for
//! the target, as the stage would, and summarises the result.
//!
//! Touches: nothing (reads source and target catalogs, runs pg_dump).

use super::stage::{self, SchemaArgs};
use crate::error::Result;
use crate::mapping::rules::SchemaRules;
use crate::pg::{self, Endpoint, Side};
use crate::settings::Settings;
use crate::sqlrewrite::Assessment;

pub async fn assessment(
    settings: &Settings,
    source: &Endpoint,
    rules: &SchemaRules,
) -> Result<Assessment> {
    let target = crate::aws::secrets::target_endpoint(settings).await?;
    let tgt = pg::connect(Side::Target, &target).await?;
    let r = stage::assess(source, &tgt, &target, rules, &SchemaArgs::default()).await?;
    Ok(Assessment::of(&r))
}
