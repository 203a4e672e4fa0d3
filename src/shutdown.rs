//! The signals that stop a long stage cleanly: Ctrl-C (SIGINT) and SIGTERM.
//!
//! Touches: nothing; it only waits.

/// Resolves at the first Ctrl-C or SIGTERM.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `work` unless a signal comes first; `None` when it did, and `work`
/// is dropped where it stood.
pub async fn unless_interrupted<F: std::future::Future>(work: F) -> Option<F::Output> {
    tokio::select! {
        done = work => Some(done),
        () = signal() => None,
    }
}
