//! A command's output, asserted successful.

use std::process::Output;

/// The trimmed stdout of a command that must have succeeded; otherwise panics naming
/// `what` with the command's stdout and stderr.
pub fn stdout_of(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
