//! Crash points for this crate's own tests: with the `failpoints` feature, the process
//! SIGKILLs itself at the point named by the `ETCHOSTS_FAILPOINT` env var. Without the
//! feature every function here is an empty inline no-op.

#[cfg(feature = "failpoints")]
fn selected(name: &str) -> bool {
    std::env::var_os("ETCHOSTS_FAILPOINT").is_some_and(|v| v == name)
}

#[cfg(feature = "failpoints")]
fn die() -> ! {
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    std::process::abort()
}

/// Dies here when `ETCHOSTS_FAILPOINT` is `name`.
#[cfg(feature = "failpoints")]
pub(crate) fn hit(name: &str) {
    if selected(name) {
        die();
    }
}

/// With `ETCHOSTS_FAILPOINT=mid-write`, writes the first half of `content` over the
/// file and dies: a torn file, as a kill in the middle of the real write leaves it.
#[cfg(feature = "failpoints")]
pub(crate) fn partial_write(file: &std::fs::File, content: &[u8]) {
    use std::os::unix::fs::FileExt;
    if selected("mid-write") {
        let _ = file.write_all_at(&content[..content.len() / 2], 0);
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
pub(crate) fn partial_write(_file: &std::fs::File, _content: &[u8]) {}
