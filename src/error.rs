//! One error type for the library, and the one place that decides exit codes.
//!
//! Every message is a single line that names the thing that failed and, where
//! there is one, the fix. Messages never carry passwords or secret values:
//! endpoints are shown as `user@host:port/db` (see `pg::Endpoint`).

use std::fmt;

/// What kind of failure this is, which decides the process exit code (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something failed while working: exit 1.
    Failure,
    /// Bad usage or configuration, nothing written: exit 2.
    Config,
    /// Verification found differences: exit 3.
    Differences,
    /// Refused by a safety gate: exit 4.
    Refused,
}

impl Kind {
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Failure => 1,
            Kind::Config => 2,
            Kind::Differences => 3,
            Kind::Refused => 4,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: Kind,
    message: String,
    fix: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "; fix: {fix}")?;
        }
        Ok(())
    }
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: single_line(message.into()),
            fix: None,
        }
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(Kind::Refused, message)
    }

    pub fn differences(message: impl Into<String>) -> Self {
        Self::new(Kind::Differences, message)
    }

    /// Adds the one-line instruction the operator should follow.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(single_line(fix.into()));
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn fix(&self) -> Option<&str> {
        self.fix.as_deref()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Server messages and TOML errors can span lines; the contract is one line.
fn single_line(s: String) -> String {
    if !s.contains('\n') {
        return s;
    }
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Picks the exit code for any error that reaches the CLI edge: the first
/// `Error` in the chain decides, anything else is a plain failure.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Error>())
        .map_or(1, |e| e.kind().exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_messages_become_one_line() {
        let e = Error::config("unknown field `x`\n  at line 3\n").with_fix("remove it");
        assert_eq!(e.to_string(), "unknown field `x` at line 3; fix: remove it");
    }

    #[test]
    fn exit_code_comes_from_the_first_library_error_in_the_chain() {
        let err = anyhow::Error::new(Error::refused("busy")).context("running data");
        assert_eq!(exit_code_for(&err), 4);
        assert_eq!(exit_code_for(&anyhow::anyhow!("plain")), 1);
    }
}

/// A problem reported, not raised: `plan` lists every one it finds.
#[derive(Debug, serde::Serialize)]
pub struct Problem {
    pub message: String,
    pub fix: Option<String>,
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        Problem {
            message: e.message().to_string(),
            fix: e.fix().map(str::to_string),
        }
    }
}
