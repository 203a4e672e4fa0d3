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
    check_paths(req)?;
    let dump = parse_dump(&req.input.display().to_string(), &text)?;
    check_complete(&req.input, &text, &dump)?;
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

/// pg_dump's first and last comment lines in a plain-format dump.
const DUMP_HEADER: &str = "-- PostgreSQL database dump";
const DUMP_FOOTER: &str = "-- PostgreSQL database dump complete";

/// Everything about where the files go that can be wrong is found before
/// the first byte is written: an output that would overwrite the input, and
/// a directory that is not there.
fn check_paths(req: &RewriteRequest) -> Result<()> {
    let input = std::fs::canonicalize(&req.input).ok();
    let outputs = [
        ("--output", Some(&req.output)),
        ("--changes", req.changes.as_ref()),
    ];
    for (flag, path) in outputs.into_iter().filter_map(|(f, p)| Some((f, p?))) {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Error::config(format!(
                "{flag} {}: directory {} does not exist",
                path.display(),
                dir.display()
            ))
            .with_fix("create the directory first, or choose a path in an existing one"));
        }
        let same = std::fs::canonicalize(&dir)
            .ok()
            .zip(path.file_name())
            .map(|(d, name)| d.join(name));
        if same.is_some() && same == input {
            return Err(
                Error::config(format!("{flag} {} is the input file", path.display()))
                    .with_fix("write the rewritten SQL to another file; the input stays as it was"),
            );
        }
    }
    if req.changes.is_some() && req.changes.as_ref() == Some(&req.output) {
        return Err(Error::config(format!(
            "--changes {} is the same file as --output",
            req.output.display()
        ))
        .with_fix("give the change list its own file"));
    }
    Ok(())
}

/// A dump with no statement, or one pg_dump began and did not finish (its
/// closing comment is missing), would be rewritten into a schema that
/// silently lacks whatever was cut off.
fn check_complete(path: &Path, text: &str, dump: &super::parse::Dump) -> Result<()> {
    let statements = dump
        .items
        .iter()
        .filter(|i| matches!(i.body, super::parse::Body::Sql(_)))
        .count();
    if statements == 0 {
        return Err(Error::config(format!(
            "input {}: no SQL statement in it (empty, or only comments and psql commands)",
            path.display()
        ))
        .with_fix("pass the file pg_dump or `supabase db dump` wrote"));
    }
    let mut lines = text.lines().map(str::trim_end);
    if lines.any(|l| l == DUMP_HEADER) && !text.lines().any(|l| l.trim_end() == DUMP_FOOTER) {
        let last = text.lines().count();
        return Err(Error::config(format!(
            "input {}: stops at line {last} without pg_dump's closing `{DUMP_FOOTER}`, so the dump is truncated",
            path.display()
        ))
        .with_fix("dump again and check that pg_dump exited 0 and the disk was not full"));
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
