//! Waiting for the signals that ask a long-running command to stop: Ctrl-C (SIGINT) and, on
//! Unix, SIGTERM (what container runtimes, CI runners and process supervisors send). What to do
//! when one arrives is the caller's business (`apply` stops issuing copies; the sandbox shuts
//! down).

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
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
