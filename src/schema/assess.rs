//! The schema part of `plan`: what the rewrite would keep, change and drop,
//! every rule that fires with its count, and every blocker with its fix.
//!
//! Touches: nothing (reads source and target catalogs, runs pg_dump).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::stage::{self, SchemaArgs};
use super::Blocker;
use crate::error::Result;
use crate::mapping::rules::SchemaRules;
use crate::pg::{self, Endpoint, Side};
use crate::plan::Problem;
use crate::settings::Settings;

#[derive(Debug, Serialize)]
pub struct Assessment {
    /// Statements the target gets, per kind (`create_table`, `grant`, ...).
    pub statements: BTreeMap<String, usize>,
    /// How often each rule fires.
    pub rules_fired: BTreeMap<String, usize>,
    pub dropped: usize,
    pub changed: usize,
    pub added: usize,
    pub roles_created: Vec<String>,
    pub blockers: Vec<Blocker>,
}

pub async fn assessment(
    settings: &Settings,
    source: &Endpoint,
    rules: &SchemaRules,
) -> Result<Assessment> {
    let target = crate::aws::secrets::target_endpoint(settings).await?;
    let tgt = pg::connect(Side::Target, &target).await?;
    let r = stage::assess(source, &tgt, &target, rules, &SchemaArgs::default()).await?;
    let count = |a: &str| r.changes.iter().filter(|c| c.action == a).count();
    Ok(Assessment {
        statements: r.counts.clone(),
        rules_fired: r.rules_fired.clone(),
        dropped: count("dropped"),
        changed: count("changed"),
        added: count("added"),
        roles_created: r.roles_created.clone(),
        blockers: r.blockers.clone(),
    })
}

impl Assessment {
    /// Open blockers as plan problems.
    pub fn open_problems(&self) -> Vec<Problem> {
        self.blockers
            .iter()
            .filter(|b| !b.resolved)
            .map(|b| Problem {
                message: format!("schema: {}", b.message),
                fix: Some(b.fix.clone()),
            })
            .collect()
    }
}

impl fmt::Display for Assessment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "schema    {} statements kept, {} dropped, {} changed, {} added",
            self.statements.values().sum::<usize>(),
            self.dropped,
            self.changed,
            self.added
        )?;
        for (kind, n) in &self.statements {
            writeln!(f, "  {kind:<28} {n}")?;
        }
        writeln!(f, "  rules that fire:")?;
        for (rule, n) in &self.rules_fired {
            writeln!(f, "    {rule:<38} {n}")?;
        }
        Ok(())
    }
}
