//! The crate's shape, read from its sources: stages meet only in shared
//! modules, the ledger's tables are touched (and named) only by
//! `src/ledger/`, and the
//! list of platform schemas is written once, in `src/mapping/scope.rs`.
//! These hold in review too, but a test keeps them held.

use std::path::{Path, PathBuf};

/// Every stage, by the path that holds it (a directory or one file).
const STAGES: &[&str] = &["plan", "schema", "data", "storage", "finalize", "verify"];

/// The command line wires stages together; it alone may name them all.
const WIRING: &[&str] = &["src/cli.rs", "src/main.rs", "src/lib.rs"];

fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out.sort();
    assert!(out.len() > 20, "found only {} sources", out.len());
    out
}

/// Path relative to the crate, with `/` separators.
fn rel(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// The stage a source belongs to, if any.
fn stage_of(rel: &str) -> Option<&'static str> {
    STAGES
        .iter()
        .copied()
        .find(|s| rel == format!("src/{s}.rs") || rel.starts_with(&format!("src/{s}/")))
}

/// Lines that are code: comments (whole-line `//`, `//!`, `///`) left out.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

/// Stage names a line refers to through `crate::`, including grouped
/// imports (`use crate::{data, verify::x}`) and `super::super::`.
fn stages_named(line: &str) -> Vec<&'static str> {
    let mut named = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let group = if let Some(inner) = rest.strip_prefix('{') {
            inner.split('}').next().unwrap_or("")
        } else {
            rest
        };
        for part in group.split(',') {
            let head: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(s) = STAGES.iter().find(|s| **s == head) {
                named.push(*s);
            }
        }
    }
    if line.contains("super::super::") {
        named.push("(a sibling through super::super)");
    }
    named
}

#[test]
fn no_stage_uses_another_stage() {
    let mut found = Vec::new();
    for path in sources() {
        let rel = rel(&path);
        if WIRING.contains(&rel.as_str()) {
            continue;
        }
        let own = stage_of(&rel);
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in code_lines(&text) {
            for named in stages_named(line) {
                if Some(named) != own {
                    found.push(format!("{rel}:{n}: uses {named}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "a stage or shared module uses a stage; move what they share into a shared module:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_ledger_touches_its_tables() {
    let mut found = Vec::new();
    for path in sources() {
        let rel = rel(&path);
        if rel.starts_with("src/ledger/") {
            continue;
        }
        // Comments too: a module that names a ledger table in its docs
        // says it touches the table, which only the ledger may.
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            let touches = line.match_indices("supamigrate.").any(|(i, _)| {
                let after = &line[i + "supamigrate.".len()..];
                after.starts_with(|c: char| c.is_ascii_lowercase()) && !after.starts_with("toml")
            });
            if touches {
                found.push(format!("{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the ledger's tables named outside src/ledger/; add a typed function there and name it:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_platform_schemas_are_listed_once() {
    let mut found = Vec::new();
    for path in sources() {
        let rel = rel(&path);
        if rel == "src/mapping/scope.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in code_lines(&text) {
            if [
                "'information_schema'",
                "'pg_toast'",
                "\"information_schema\"",
            ]
            .iter()
            .any(|s| line.contains(s))
            {
                found.push(format!("{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a hand-written platform schema list; use mapping::scope::Scope:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_stage_file_says_what_it_reads_and_writes() {
    let missing: Vec<String> = sources()
        .iter()
        .map(|p| rel(p))
        .filter(|r| stage_of(r).is_some())
        .filter(|r| {
            let text =
                std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(r)).unwrap();
            !text.starts_with("//!")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "stage files without a leading //! line:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scanner_sees_what_it_looks_for() {
    // The checks above pass on an empty tree too; these show they would not.
    assert_eq!(stages_named("use crate::data::chunk::Splitter;"), ["data"]);
    assert_eq!(
        stages_named("use crate::{error::Result, verify::x, schema};"),
        ["verify", "schema"]
    );
    assert!(stages_named("use crate::ranges::Range;").is_empty());
    assert!(stages_named("use crate::database::x;").is_empty());
    assert_eq!(stage_of("src/verify/table.rs"), Some("verify"));
    assert_eq!(stage_of("src/plan.rs"), Some("plan"));
    assert_eq!(stage_of("src/ranges.rs"), None);
    assert_eq!(code_lines("// crate::data\nx").count(), 1);
}
