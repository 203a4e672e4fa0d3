//! `rewrite`: the offline form of the schema stage. Reads a dump file the
//! user already has, writes the rewritten SQL and, on request, the change
//! list. Nothing is written when a blocker is open.
//!
//! Touches: the output and changes files only.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::parse::parse_dump;
use super::rewrite::{rewrite, Options, Rewritten};
use super::roles::TargetRole;
use super::Blocker;
use crate::error::{Error, Result};
use crate::mapping::Mappings;

#[derive(Debug, Clone)]
pub struct RewriteRequest {
    pub input: PathBuf,
    pub output: PathBuf,
    pub changes: Option<PathBuf>,
    pub target_role: Option<String>,
}

/// What `rewrite` reports, on stdout with `--json` and in the changes file.
#[derive(Debug, Serialize)]
pub struct RewriteReport<'a> {
    pub ok: bool,
    pub input: String,
    pub output: Option<String>,
    pub mapping_files: Vec<String>,
    #[serde(flatten)]
    pub result: &'a Rewritten,
}

pub fn run(req: &RewriteRequest, mappings: &Mappings) -> Result<Rewritten> {
    let text = std::fs::read_to_string(&req.input).map_err(|e| {
        Error::config(format!("input {}: {e}", req.input.display()))
            .with_source(e)
            .with_fix("pass an existing pg_dump or `supabase db dump` file with --input")
    })?;
    let dump = parse_dump(&req.input.display().to_string(), &text)?;
    let opts = Options {
        target_role: req
            .target_role
            .clone()
            .map_or(TargetRole::CurrentUser, TargetRole::Named),
        available_extensions: None,
    };
    rewrite(&[&dump], &mappings.schema, &opts)
}

/// Writes the output (and change list) only when no blocker is open.
pub fn write(req: &RewriteRequest, mappings: &Mappings, result: &Rewritten) -> Result<()> {
    let open: Vec<&Blocker> = result.open_blockers().collect();
    let report = RewriteReport {
        ok: open.is_empty(),
        input: req.input.display().to_string(),
        output: open.is_empty().then(|| req.output.display().to_string()),
        mapping_files: mappings
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect(),
        result,
    };
    if !open.is_empty() {
        return Err(Error::config(format!(
            "{} blocker(s) in {}; nothing written: {}",
            open.len(),
            req.input.display(),
            open.iter()
                .map(|b| format!("line {}: {}", b.line, b.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .with_fix(open[0].fix.clone()));
    }
    write_atomically(&req.output, result.script().as_bytes())?;
    if let Some(path) = &req.changes {
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| Error::failure(format!("changes file: {e}")).with_source(e))?;
        write_atomically(path, &json)?;
    }
    Ok(())
}

/// A crash or a full disk never leaves half a file under the final name.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("supamigrate-tmp");
    let fail = |e: std::io::Error| {
        Error::failure(format!("writing {}: {e}", path.display()))
            .with_source(e)
            .with_fix("check that the directory exists and is writable")
    };
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}
