//! The environment netavark runs in: the PATH podman gives it, and a clear error when
//! the firewall tool it needs is not on that PATH.
//!
//! podman adds `/usr/sbin` to its own PATH when it is missing (podman#9959, for the
//! network plugins that run iptables) and netavark inherits it; a login shell of an
//! unprivileged user on Debian (`su - USER`) has no sbin directory, and netavark then
//! fails with a bare "No such file or directory (os error 2)". podnet does the same, and
//! adds `/sbin` too for systems whose `/sbin` is not `/usr/sbin`.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use super::BackendError;

/// The PATH of a process started with none (Go's and glibc's default for root).
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The sbin directories netavark's firewall tools live in, appended when missing.
const SBIN_DIRS: [&str; 2] = ["/usr/sbin", "/sbin"];

/// The firewall tool netavark 1.4 runs when firewalld is not running.
const FIREWALL_TOOL: &str = "iptables";

/// The PATH podman gives netavark: `current` (the caller's PATH) with `/usr/sbin` and
/// `/sbin` appended when missing, or the default PATH when unset or empty. For programs
/// that run netavark themselves, as podnet's backend does.
///
/// ```
/// let path = podnet::netavark_path(Some("/usr/local/bin:/usr/bin:/bin".as_ref()));
/// assert_eq!(path, "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
/// ```
pub fn netavark_path(current: Option<&OsStr>) -> OsString {
    let Some(current) = current.filter(|p| !p.is_empty()) else {
        return DEFAULT_PATH.into();
    };
    let dirs: Vec<PathBuf> = std::env::split_paths(current).collect();
    let mut out = current.to_os_string();
    for sbin in SBIN_DIRS {
        if !dirs.iter().any(|d| d.as_os_str() == sbin) {
            out.push(":");
            out.push(sbin);
        }
    }
    out
}

/// The first executable `name` in `path`.
fn which(name: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).map(|d| d.join(name)).find(|f| {
        f.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Gives `cmd` the PATH podman gives netavark; refuses, naming the tool and the PATH,
/// when netavark's firewall tool is not on it (netavark would fail with a bare "No such
/// file or directory").
pub(crate) fn prepare(cmd: &mut Command) -> Result<(), BackendError> {
    let path = netavark_path(std::env::var_os("PATH").as_deref());
    if which(FIREWALL_TOOL, &path).is_none() {
        return Err(BackendError::FirewallToolMissing {
            tool: FIREWALL_TOOL,
            path: path.to_string_lossy().into_owned(),
        });
    }
    cmd.env("PATH", path);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_login_path_without_sbin_gets_it_appended_once() {
        let got = netavark_path(Some(OsStr::new("/usr/local/bin:/usr/bin:/bin")));
        assert_eq!(got, "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        assert_eq!(netavark_path(Some(&got)), got);
        assert_eq!(netavark_path(Some(OsStr::new(""))), DEFAULT_PATH);
        assert_eq!(netavark_path(None), DEFAULT_PATH);
    }

    #[test]
    fn only_executable_files_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("iptables");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let path = dir.path().as_os_str();
        assert_eq!(which("iptables", path), None);
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(which("iptables", path), Some(tool));
        assert_eq!(which("nft", path), None);
    }
}
