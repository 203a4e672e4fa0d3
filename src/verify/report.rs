//! `report.json` (SPEC §6) and the files it is written to. Mismatches carry
//! key values only, never other column values; a table without a key gets
//! counts of differing rows and no samples at all.

use std::path::Path;

use serde::Serialize;

use super::rows::sequences::SequenceReport;
use super::schema::inventory::Difference;
use super::storage::ObjectsReport;
use crate::error::{Error, Result};
use crate::mapping::scope::LeftOut;

#[derive(Debug, Serialize)]
pub struct Report {
    pub ok: bool,
    pub run: String,
    pub started_at: String,
    pub finished_at: String,
    pub source: String,
    pub target: String,
    pub deep: bool,
    pub summary: Summary,
    pub tables: Vec<TableReport>,
    pub sequences: Vec<SequenceReport>,
    pub objects: ObjectsReport,
    pub schema: SchemaReport,
    /// Source schemas with tables that the mappings leave out, so neither
    /// carried nor compared: named with their rule, never silently absent.
    pub left_out: Vec<LeftOut>,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub tables: usize,
    pub tables_differing: usize,
    pub rows_source: u64,
    pub rows_target: u64,
    pub sequences_differing: usize,
    pub schema_unexplained: usize,
    pub objects_differing: usize,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct TableReport {
    pub schema: String,
    pub name: String,
    /// The columns that identify a row; empty when the table has no key and
    /// was compared as a multiset.
    pub key: Vec<String>,
    pub source_rows: u64,
    pub target_rows: u64,
    pub source_checksum: String,
    pub target_checksum: String,
    #[serde(rename = "match")]
    pub matches: bool,
    pub bytes: i64,
    /// Units the first pass read the table in (see `split`).
    pub ranges: usize,
    /// `keys`: key ranges, the same on both sides, compared one by one.
    /// `blocks`: each side's heap in block ranges, every page read once,
    /// compared as a table; only a table that differs is then read again by
    /// key ranges to find the keys.
    pub split: &'static str,
    /// The form rows were hashed in: `binary` COPY when every column's
    /// binary form is server-independent, else `text`. Checksums of the
    /// two forms differ; both sides of a table always use the same one.
    pub format: &'static str,
    /// Ranges were read in key order and each hashed as one stream (rows in
    /// key order on disk make that free for the servers); otherwise each
    /// row was hashed alone and the hashes summed.
    pub ordered: bool,
    /// Time spent reading both sides, summed over ranges.
    pub seconds: f64,
    pub missing: u64,
    pub extra: u64,
    pub different: u64,
    /// At most `--sample` of them; `missing + extra + different` is the total.
    pub mismatches: Vec<Mismatch>,
}

#[derive(Debug, Serialize)]
pub struct Mismatch {
    pub key: serde_json::Map<String, serde_json::Value>,
    pub kind: &'static str,
}

#[derive(Debug, Default, Serialize)]
pub struct SchemaReport {
    /// Every difference, explained by a rule or not.
    pub differences: Vec<Difference>,
}

impl Report {
    pub fn summarise(&mut self, seconds: f64) {
        self.summary = Summary {
            tables: self.tables.len(),
            tables_differing: self.tables.iter().filter(|t| !t.matches).count(),
            rows_source: self.tables.iter().map(|t| t.source_rows).sum(),
            rows_target: self.tables.iter().map(|t| t.target_rows).sum(),
            sequences_differing: self.sequences.iter().filter(|s| !s.matches).count(),
            schema_unexplained: self
                .schema
                .differences
                .iter()
                .filter(|d| !d.explained)
                .count(),
            objects_differing: self.objects.mismatches.len(),
            seconds,
        };
        self.ok = self.summary.tables_differing == 0
            && self.summary.sequences_differing == 0
            && self.summary.schema_unexplained == 0
            && self.summary.objects_differing == 0;
    }

    /// One line per failing area, for the terminal.
    pub fn problem_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in self.tables.iter().filter(|t| !t.matches) {
            out.push(format!(
                "table {}.{}: {} missing, {} extra, {} different rows (source {} rows, target {})",
                t.schema, t.name, t.missing, t.extra, t.different, t.source_rows, t.target_rows
            ));
        }
        for s in self.sequences.iter().filter(|s| !s.matches) {
            out.push(format!(
                "sequence {}: next value {} on the source, {} on the target",
                s.name, s.source, s.target
            ));
        }
        for d in self.schema.differences.iter().filter(|d| !d.explained) {
            out.push(format!(
                "schema: {} is {} and no rule explains it",
                d.object,
                match d.difference {
                    "missing" => "missing on the target",
                    "extra" => "only on the target",
                    _ => "changed",
                }
            ));
        }
        for m in &self.objects.mismatches {
            out.push(format!("storage: {}/{}: {}", m.bucket, m.key, m.problem));
        }
        out
    }
}

/// Writes `report.json` and `report.html` into `dir`, each through a
/// temporary file and a rename, so a report on disk is always complete.
pub fn write(dir: &Path, report: &Report, html: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::failure(format!("report directory {}: {e}", dir.display()))
            .with_source(e)
            .with_fix("choose a writable --report-dir")
    })?;
    let json = serde_json::to_string_pretty(report)
        .map_err(|e| Error::failure(format!("rendering report.json: {e}")).with_source(e))?;
    for (name, body) in [("report.json", json.as_str()), ("report.html", html)] {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, body)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                Error::failure(format!("writing {}: {e}", path.display())).with_source(e)
            })?;
    }
    Ok(())
}
