//! The crate's error type: one variant per failing operation, each naming its input.

use std::fmt;
use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

/// A process that still has a namespace pin mounted (found by scanning `/proc/*/mountinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Process id (one per mount namespace that holds the pin).
    pub pid: i32,
    /// The process name from `/proc/PID/comm`.
    pub comm: String,
    /// Where that process sees the mount.
    pub mount_point: PathBuf,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} ({}) at {}",
            self.pid,
            self.comm,
            self.mount_point.display()
        )
    }
}

/// A list of holders, printed comma-separated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holders(pub Vec<Holder>);

impl fmt::Display for Holders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no process found in /proc/*/mountinfo");
        }
        for (i, h) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{h}")?;
        }
        Ok(())
    }
}

/// Everything that can fail in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A namespace name failed validation.
    #[error("invalid network namespace name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The rootless runtime directory could not be determined.
    #[error("cannot determine the rootless run directory for network namespaces: {source}")]
    RunDir {
        /// The cause.
        #[source]
        source: rootless_detect::Error,
    },
    /// The pin directory could not be created or opened.
    #[error("cannot create or open the pin directory {}: {source}", dir.display())]
    PinDir {
        /// The pin directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The exclusive lock on the pin directory could not be taken.
    #[error("cannot lock the pin directory {}: {source}", dir.display())]
    Lock {
        /// The pin directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `/proc/.../mountinfo` could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Mountinfo {
        /// The mountinfo file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Making the pin directory a shared mount failed.
    #[error("cannot make the pin directory {} a shared mount: {source}", dir.display())]
    MakeShared {
        /// The pin directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// The caller lacks the privilege to create namespaces or mounts here.
    #[error(
        "cannot {op} for {}: {source}: this needs CAP_SYS_ADMIN over the current user and \
         mount namespace; run as root, or as an unprivileged user inside your own user and \
         mount namespace (for example `unshare -Urm` or `podman unshare`)",
        path.display()
    )]
    NotPermitted {
        /// What was attempted.
        op: &'static str,
        /// The pin directory or pin path.
        path: PathBuf,
        /// The cause (EPERM or EACCES).
        #[source]
        source: Errno,
    },
    /// The pin file could not be created.
    #[error("cannot create the pin file {}: {source}", path.display())]
    CreatePin {
        /// The pin path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// No free random name was found.
    #[error("no free random name in {} after {attempts} attempts", dir.display())]
    NoFreeName {
        /// The pin directory.
        dir: PathBuf,
        /// How many names were tried.
        attempts: u32,
    },
    /// A helper thread could not be started.
    #[error("cannot start a thread for network namespace {}: {source}", path.display())]
    Thread {
        /// The namespace path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `unshare(CLONE_NEWNET)` failed.
    #[error("cannot create a network namespace for {}: {source}", path.display())]
    Unshare {
        /// The pin path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// Bind-mounting a namespace onto its pin failed.
    #[error("cannot bind-mount the namespace onto {}: {source}", path.display())]
    BindMount {
        /// The pin path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// Opening a namespace file failed.
    #[error("cannot open namespace {}: {source}", path.display())]
    Open {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The path is not a network namespace.
    #[error("{} is not a network namespace", path.display())]
    NotANetns {
        /// The path.
        path: PathBuf,
    },
    /// The path is not a namespace pin and is left alone.
    #[error("{} is not a namespace pin ({what}); refusing to remove it", path.display())]
    NotAPin {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// Inspecting a path failed.
    #[error("cannot inspect {}: {source}", path.display())]
    Stat {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// Unmounting a pin failed.
    #[error("cannot unmount {}: {source}", path.display())]
    Unmount {
        /// The pin path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// Unlinking a pin failed.
    #[error("cannot remove the pin file {}: {source}", path.display())]
    Unlink {
        /// The pin path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// The pin stayed busy through the bounded retry.
    #[error("{} is still busy after {attempts} attempts; held by: {holders}", path.display())]
    Busy {
        /// The pin path.
        path: PathBuf,
        /// How many unlink attempts were made.
        attempts: u32,
        /// Who still has it mounted.
        holders: Holders,
    },
    /// Reading the pin directory failed (sweep).
    #[error("cannot list the pin directory {}: {source}", dir.display())]
    ReadDir {
        /// The pin directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Joining the namespace failed.
    #[error("cannot enter network namespace {}: {source}", path.display())]
    Setns {
        /// The namespace path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// The closure given to `run_in` panicked.
    #[error("the closure run in network namespace {} panicked: {message}", path.display())]
    Panicked {
        /// The namespace path.
        path: PathBuf,
        /// The panic message.
        message: String,
    },
    /// Duplicating the namespace fd failed.
    #[error("cannot duplicate the descriptor of {}: {source}", path.display())]
    Dup {
        /// The namespace path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `ioctl(NS_GET_USERNS)` failed.
    #[error("cannot get the owning user namespace of {}: {source}", path.display())]
    OwnerUserns {
        /// The namespace path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// A step of the user-namespace child failed.
    #[error("cannot create the user namespace for {}: {step}: {source}", path.display())]
    UsernsChild {
        /// The pin path.
        path: PathBuf,
        /// The step that failed.
        step: &'static str,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// Writing an id map of the user-namespace child failed.
    #[error("cannot write the {which} of the user namespace for {}: {detail}", path.display())]
    IdMap {
        /// The pin path.
        path: PathBuf,
        /// `uid_map` or `gid_map`.
        which: &'static str,
        /// What went wrong (a tool's stderr, or the I/O error).
        detail: String,
    },
    /// A `NETLINK_ROUTE` socket could not be created inside a namespace.
    #[error("cannot open a NETLINK_ROUTE socket in network namespace {}: {source}", path.display())]
    RouteSocket {
        /// The namespace path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Errno,
    },
    /// A netlink request on a namespace's route socket failed.
    #[error("netlink {op} in network namespace {} failed: {source}", path.display())]
    Netlink {
        /// The namespace path.
        path: PathBuf,
        /// What was attempted (`send RTM_GETLINK`, `receive`, ...).
        op: &'static str,
        /// The cause (from the socket call or the kernel's error message).
        #[source]
        source: Errno,
    },
    /// The kernel's netlink reply could not be parsed.
    #[error("malformed netlink reply in network namespace {}: {reason}", path.display())]
    NetlinkReply {
        /// The namespace path.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
}
