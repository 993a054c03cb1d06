//! `Host`: every outside input this crate reads, injectable for tests.

use std::ffi::OsString;
use std::path::PathBuf;

/// Where user names and uids are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserDb {
    /// The system's user database through NSS (`getpwnam_r`/`getpwuid_r`).
    System,
    /// A passwd-format file (`name:x:uid:gid:...`), e.g. a test fixture.
    File(PathBuf),
}

/// The sources this crate reads: process ids, `/proc` files, `/etc/subuid`,
/// `/etc/subgid`, the user database and environment variables.
///
/// [`Host::system`] (also [`Default`]) snapshots the real process; tests
/// build one with fixture paths and made-up ids. The free functions of this
/// crate are thin wrappers over the methods of `Host::system()`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Host {
    /// Effective uid of the process (`geteuid`).
    pub euid: u32,
    /// Effective gid of the process (`getegid`).
    pub egid: u32,
    /// The process's uid map, normally `/proc/self/uid_map`.
    pub uid_map: PathBuf,
    /// The process's user namespace link, normally `/proc/self/ns/user`.
    pub userns: PathBuf,
    /// Subordinate uid file, normally `/etc/subuid`.
    pub subuid: PathBuf,
    /// Subordinate gid file, normally `/etc/subgid`.
    pub subgid: PathBuf,
    /// The user database.
    pub users: UserDb,
    /// Value of `$XDG_RUNTIME_DIR`, if set and non-empty.
    pub xdg_runtime_dir: Option<OsString>,
    /// Value of `$TMPDIR`, if set and non-empty (`/tmp` is used otherwise).
    pub tmpdir: Option<OsString>,
    /// Value of `$_CONTAINERS_ROOTLESS_UID` (set by podman when it re-executes
    /// itself inside its user namespace), if set and non-empty.
    pub containers_rootless_uid: Option<String>,
    /// Parent of the per-user runtime directories, normally `/run/user`.
    pub run_user_base: PathBuf,
    /// Runtime directory when not rootless, normally `/run`.
    pub rootful_runtime_dir: PathBuf,
}

impl Host {
    /// A snapshot of the running process and the real system paths.
    pub fn system() -> Self {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Host {
            euid: nix::unistd::geteuid().as_raw(),
            egid: nix::unistd::getegid().as_raw(),
            uid_map: PathBuf::from("/proc/self/uid_map"),
            userns: PathBuf::from("/proc/self/ns/user"),
            subuid: PathBuf::from("/etc/subuid"),
            subgid: PathBuf::from("/etc/subgid"),
            users: UserDb::System,
            xdg_runtime_dir: env("XDG_RUNTIME_DIR"),
            tmpdir: env("TMPDIR"),
            containers_rootless_uid: env("_CONTAINERS_ROOTLESS_UID")
                .map(|v| v.to_string_lossy().into_owned()),
            run_user_base: PathBuf::from("/run/user"),
            rootful_runtime_dir: PathBuf::from("/run"),
        }
    }
}

impl Default for Host {
    fn default() -> Self {
        Host::system()
    }
}
