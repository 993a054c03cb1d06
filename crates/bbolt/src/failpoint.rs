//! Crash points for this crate's own tests: with the `failpoints` feature, the process
//! SIGKILLs itself at the point named by the `BBOLT_FAILPOINT` env var. Without the
//! feature every function here is an empty inline no-op.

#[cfg(feature = "failpoints")]
fn selected(name: &str) -> bool {
    std::env::var_os("BBOLT_FAILPOINT").is_some_and(|v| v == name)
}

#[cfg(feature = "failpoints")]
fn die() -> ! {
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    std::process::abort()
}

/// Dies here when `BBOLT_FAILPOINT` is `name`.
#[cfg(feature = "failpoints")]
pub(crate) fn hit(name: &str) {
    if selected(name) {
        die();
    }
}

/// With `BBOLT_FAILPOINT=torn-meta`, writes the first 40 bytes of the meta page and
/// dies: a meta page torn by a crash in the middle of its write.
#[cfg(feature = "failpoints")]
pub(crate) fn torn_meta(file: &std::fs::File, page: &[u8], offset: u64) {
    use std::os::unix::fs::FileExt;
    if selected("torn-meta") {
        let _ = file.write_all_at(&page[..40], offset);
        let _ = file.sync_data();
        die();
    }
}

/// No-op without the `failpoints` feature.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn hit(_name: &str) {}

/// No-op without the `failpoints` feature.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn torn_meta(_file: &std::fs::File, _page: &[u8], _offset: u64) {}
