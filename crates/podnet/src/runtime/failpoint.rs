//! Crash points for the crash-consistency tests: when `PODNET_FAILPOINT` names a point, the
//! process aborts there, as a `kill -9` would stop it (no destructor, no cleanup).

/// Aborts the process if the environment names this point.
pub(crate) fn hit(point: &str) {
    if std::env::var_os("PODNET_FAILPOINT").is_some_and(|p| p == point) {
        tracing::warn!(point, "failpoint hit: aborting");
        std::process::abort();
    }
}
