//! Crash points for the crash-consistency tests: when `PODNET_FAILPOINT` names a point, the
//! process kills itself there with SIGKILL, exactly as `kill -9` would stop it (no
//! destructor, no cleanup, no core file).

/// Kills the process if the environment names this point.
pub(crate) fn hit(point: &str) {
    if std::env::var_os("PODNET_FAILPOINT").is_some_and(|p| p == point) {
        tracing::warn!(point, "failpoint hit: SIGKILL");
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
