//! `RootlessError`: everything that can fail while entering the user's namespaces or
//! managing the rootless network namespace.

use std::path::PathBuf;

/// A failure of the rootless layer: the user namespace holder or the rootless netns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootlessError {
    /// No usable runtime directory (`$XDG_RUNTIME_DIR`, `/run/user/UID`).
    #[error("no usable runtime directory for uid {uid}: {reason}")]
    RuntimeDir {
        /// The user.
        uid: u32,
        /// Why none could be used.
        reason: String,
    },
    /// The user's name could not be looked up.
    #[error("cannot look up the name of uid {uid}")]
    LookupUser {
        /// The user.
        uid: u32,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The user has no subordinate id range, so a user namespace cannot map more than one id.
    #[error(
        "no subordinate {kind} range for user {user} in {}: add one, e.g. \
         `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`",
        path.display()
    )]
    NoSubIds {
        /// `uid` or `gid`.
        kind: &'static str,
        /// The user (name).
        user: String,
        /// The file that was searched.
        path: PathBuf,
    },
    /// The subordinate id files could not be read or parsed.
    #[error("cannot read the subordinate ids of {user}")]
    ReadSubIds {
        /// The user.
        user: String,
        /// The cause.
        #[source]
        source: rootless_detect::Error,
    },
    /// `newuidmap` or `newgidmap` is not installed.
    #[error(
        "{tool} not found: install it (`apt-get install uidmap` on Debian and Ubuntu, \
         `dnf install shadow-utils` on Fedora)"
    )]
    IdMapToolMissing {
        /// `newuidmap` or `newgidmap`.
        tool: &'static str,
    },
    /// `newuidmap` or `newgidmap` ran and failed.
    #[error("{tool} {args} failed ({status}): {stderr}")]
    IdMapTool {
        /// `newuidmap` or `newgidmap`.
        tool: &'static str,
        /// Its arguments.
        args: String,
        /// How it exited.
        status: std::process::ExitStatus,
        /// What it printed.
        stderr: String,
    },
    /// A directory or file of the rootless layer could not be created, read or written.
    #[error("cannot {action} {}", path.display())]
    File {
        /// What was attempted (`create directory`, `write`, ...).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A lock file could not be opened or locked.
    #[error("cannot lock {}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A program could not be started (missing binary, or a namespace step before exec failed).
    #[error("cannot run {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A namespace of a process could not be opened.
    #[error("cannot open namespace {}", path.display())]
    OpenNamespace {
        /// `/proc/PID/ns/...`.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The namespace holder exited right after it was created.
    #[error("the user namespace holder (pid {pid}) died during setup")]
    HolderDied {
        /// Its pid.
        pid: u32,
    },
    /// A re-executed process is still not inside the user namespace.
    #[error("re-executed with {marker} set but still not inside the user namespace (euid {euid})")]
    ReexecLoop {
        /// The environment marker.
        marker: &'static str,
        /// The effective uid seen.
        euid: u32,
    },
    /// A rootless netns operation was attempted outside the user's user namespace.
    #[error(
        "the rootless network namespace can only be used inside the user namespace \
         (call reexec_in_user_namespace first)"
    )]
    NotInUserNamespace,
    /// A container id given to the membership set is not acceptable.
    #[error("invalid container id {id:?}: {reason}")]
    InvalidContainerId {
        /// The id as given.
        id: String,
        /// Why.
        reason: &'static str,
    },
    /// The network namespace could not be created or pinned.
    #[error("cannot create network namespace {}", path.display())]
    CreateNetNs {
        /// The pin path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: netns::Error,
    },
    /// The network namespace could not be removed.
    #[error("cannot remove network namespace {}", path.display())]
    RemoveNetNs {
        /// The pin path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: netns::Error,
    },
    /// The user-mode network helper (pasta, slirp4netns) is not installed.
    #[error("{program} not found: install it (`apt-get install {package}`)")]
    HelperMissing {
        /// `pasta` or `slirp4netns`.
        program: &'static str,
        /// The Debian package that ships it.
        package: &'static str,
    },
    /// The user-mode network helper failed to start or configure the namespace.
    #[error("{program} failed to set up {}: {detail}", netns.display())]
    Helper {
        /// `pasta` or `slirp4netns`.
        program: &'static str,
        /// The network namespace it was attached to.
        netns: PathBuf,
        /// Exit status and log.
        detail: String,
    },
    /// A process could not be signalled or watched.
    #[error("cannot {action} process {pid}")]
    Process {
        /// What was attempted.
        action: &'static str,
        /// The pid.
        pid: u32,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A port forwarder process could not set itself up.
    #[error("port forwarder cannot {action}")]
    Forwarder {
        /// What it was doing.
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A container's port forwarder did not start.
    #[error("port forwarder for container {container_id} did not start: {detail}")]
    ForwarderStart {
        /// The container.
        container_id: String,
        /// Exit status and log.
        detail: String,
    },
    /// A thread could not enter the rootless netns and its private mount namespace.
    #[error("cannot enter the rootless netns of {}", dir.display())]
    EnterNetNs {
        /// The rootless netns state directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `/dev/net/tun` cannot be opened, so pasta and slirp4netns cannot create their tap.
    #[error(
        "cannot open /dev/net/tun for {program}: without udev it is created with mode 0600; \
         make it 0666 as distributions do (`cargo xtask setup` as root, or `chmod 0666 /dev/net/tun`)"
    )]
    Tun {
        /// `pasta` or `slirp4netns`.
        program: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
