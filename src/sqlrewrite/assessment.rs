//! What the rewrite would keep, change and drop, every rule that fires with
//! its count, and every blocker with its fix: the schema part of `plan`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{Blocker, Rewritten};
use crate::error::Problem;

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

impl Assessment {
    pub fn of(r: &Rewritten) -> Assessment {
        let count = |a: &str| r.changes.iter().filter(|c| c.action == a).count();
        Assessment {
            statements: r.counts.clone(),
            rules_fired: r.rules_fired.clone(),
            dropped: count("dropped"),
            changed: count("changed"),
            added: count("added"),
            roles_created: r.roles_created.clone(),
            blockers: r.blockers.clone(),
        }
    }

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
