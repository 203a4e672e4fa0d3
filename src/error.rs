//! One error type for the library, and the one place that decides exit codes.
//!
//! Every message is a single line that names the thing that failed and, where
//! there is one, the fix. Messages never carry passwords or secret values:
//! endpoints are shown as `user@host:port/db` (see `pg::Endpoint`).
//!
//! An error keeps the driver or I/O error it came from as its source, so
//! that whether another attempt may succeed is decided once, here, from the
//! cause ([`Error::is_transient`]), not by each caller from a string. The
//! message already quotes what the operator needs of the cause, so the CLI
//! prints an `Error` and not its sources ([`one_line`]). A source is kept
//! only when its own text holds no secret either.

use std::error::Error as StdError;
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

/// A source is anything the error came from, boxed so that one type can
/// hold driver, pool, I/O and SDK errors alike.
type Source = Box<dyn StdError + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: Kind,
    message: String,
    fix: Option<String>,
    #[source]
    source: Option<Source>,
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
            source: None,
        }
    }

    /// A failed database call: `"{context}: {server message}"`, keeping the
    /// driver error (its text never holds the password) as the source.
    /// The fix comes from the error policy's table where the state is one
    /// it knows ([`crate::pg::retry::fix_for`]); a call site's `with_fix`
    /// replaces it.
    pub fn db(context: impl fmt::Display, e: tokio_postgres::Error) -> Self {
        let err = Self::failure(format!("{context}: {}", crate::pg::db_message(&e)));
        let err = match crate::pg::retry::fix_for(&e) {
            Some(fix) => err.with_fix(fix),
            None => err,
        };
        err.with_source(e)
    }

    /// A connection that could not be taken from a pool:
    /// `"{context}: {pool error}"`, keeping the pool error as the source.
    pub fn pool(context: impl fmt::Display, e: deadpool_postgres::PoolError) -> Self {
        Self::failure(format!("{context}: {e}")).with_source(e)
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

    /// Keeps `e` as the cause. Its text must hold no secret: the message
    /// is what the operator reads, the source is what code inspects.
    pub fn with_source(mut self, e: impl Into<Source>) -> Self {
        self.source = Some(e.into());
        self
    }

    /// Whether another attempt may succeed, decided by the first database
    /// or pool error in the source chain; an error without one is permanent.
    pub fn is_transient(&self) -> bool {
        let mut cause = self.source();
        while let Some(c) = cause {
            if let Some(e) = c.downcast_ref::<tokio_postgres::Error>() {
                return crate::pg::retry::is_transient(e);
            }
            if let Some(e) = c.downcast_ref::<deadpool_postgres::PoolError>() {
                use deadpool_postgres::PoolError;
                match e {
                    PoolError::Backend(b) => return crate::pg::retry::is_transient(b),
                    PoolError::Timeout(_) | PoolError::Closed => return true,
                    PoolError::NoRuntimeSpecified => return false,
                    // A hook's own error: its source, if any, decides.
                    PoolError::PostCreateHook(_) => {}
                }
            }
            cause = c.source();
        }
        false
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

/// The one line the CLI prints for an error: each `anyhow` context, then
/// the first [`Error`] and not its sources, whose text its message already
/// quotes. An error that holds no [`Error`] is printed with all its causes.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in err.chain() {
        parts.push(cause.to_string());
        if cause.is::<Error>() {
            break;
        }
    }
    parts.join(": ")
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

    #[test]
    fn the_printed_line_quotes_the_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::config(format!("input x.sql: {io}"))
            .with_fix("pass an existing file")
            .with_source(io);
        let err = anyhow::Error::new(e).context("running rewrite");
        assert_eq!(
            one_line(&err),
            "running rewrite: input x.sql: no such file; fix: pass an existing file"
        );
        let plain = anyhow::Error::new(std::io::Error::other("disk full")).context("writing");
        assert_eq!(one_line(&plain), "writing: disk full");
    }

    #[test]
    fn transience_comes_from_the_pool_error_in_the_chain() {
        use deadpool_postgres::{PoolError, TimeoutType};
        let closed = || Error::pool("target: connecting", PoolError::Closed);
        assert!(closed().is_transient());
        assert_eq!(
            closed().to_string(),
            "target: connecting: Pool has been closed"
        );
        assert!(
            Error::pool("source: connecting", PoolError::Timeout(TimeoutType::Wait)).is_transient()
        );
        // A retry decided further up sees through the wrapping.
        let wrapped =
            Error::failure("copying public.t chunk 1: target: connecting: Pool has been closed")
                .with_source(closed());
        assert!(wrapped.is_transient());
        assert!(!Error::pool("target: connecting", PoolError::NoRuntimeSpecified).is_transient());
        // The same text without a source is permanent: no string decides.
        assert!(!Error::failure("target: connecting: Pool has been closed").is_transient());
        let io = Error::failure("reading").with_source(std::io::Error::other("reset"));
        assert!(!io.is_transient());
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
