//! The error policy for server errors, in one table: which are worth another
//! attempt (and how many, how far apart), and the fix for those where every
//! call site would say the same. A call site's own fix wins over the table's.
//!
//! Touches: nothing.

use std::time::Duration;

use tokio_postgres::error::SqlState;

/// Attempts per unit of work, the first included.
pub const MAX_ATTEMPTS: u32 = 5;

/// 0.5 s, 1 s, 2 s, ... capped at 10 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.min(6).saturating_sub(1)))
        .min(Duration::from_secs(10))
}

/// Errors worth another attempt: lost connections, shutdowns and restarts,
/// serialization failures and deadlocks, too many connections.
pub fn is_transient(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => is_transient_state(code),
        // No SQLSTATE: an I/O error on the socket, or the server went away.
        None => true,
    }
}

fn is_transient_state(code: &SqlState) -> bool {
    code.code().starts_with("08")
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::IDLE_SESSION_TIMEOUT,
        ]
        .contains(code)
}

/// The fix for a server error whose cause does not depend on where it
/// happened; `None` for the others, whose call site knows better.
pub fn fix_for(e: &tokio_postgres::Error) -> Option<&'static str> {
    let code = e.code()?;
    let fixes: &[(&SqlState, &str)] = &[
        (&SqlState::TOO_MANY_CONNECTIONS, "lower copy.jobs or free connections on the server"),
        (
            &SqlState::READ_ONLY_SQL_TRANSACTION,
            "point target.url at the cluster's writer endpoint, not a reader or standby",
        ),
        (
            &SqlState::DISK_FULL,
            "free or add storage on the server, then run the stage again (it resumes)",
        ),
        (
            &SqlState::OUT_OF_MEMORY,
            "lower copy.jobs, then run the stage again (it resumes)",
        ),
        (
            &SqlState::QUERY_CANCELED,
            "a statement_timeout or an operator cancelled it: raise the role's statement_timeout, then run the stage again",
        ),
        (
            &SqlState::LOCK_NOT_AVAILABLE,
            "another session holds a lock the stage needs (pg_locks says which): end it, then run the stage again",
        ),
    ];
    fixes.iter().find(|(c, _)| *c == code).map(|(_, fix)| *fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_states_are_connection_shutdown_and_serialization() {
        assert!(is_transient_state(&SqlState::ADMIN_SHUTDOWN));
        assert!(is_transient_state(&SqlState::CONNECTION_FAILURE));
        assert!(is_transient_state(&SqlState::T_R_SERIALIZATION_FAILURE));
        assert!(!is_transient_state(&SqlState::UNDEFINED_TABLE));
        assert!(!is_transient_state(&SqlState::INVALID_PARAMETER_VALUE));
        assert!(!is_transient_state(&SqlState::UNIQUE_VIOLATION));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(20), Duration::from_secs(10));
    }
}
