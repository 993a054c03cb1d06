//! The refusals of the network modes' rules, each naming the containers involved; the
//! dependency ones word it as libpod does, so scripts written for podman match them.

use std::path::PathBuf;

/// A network mode's rule refused an operation.
#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    /// Bridge mode reached the other modes' setup (a bug: the backend flow sets it up).
    #[error("container {0}: bridge mode is set up by the backend flow, not as a network mode")]
    BridgeIsNotAMode(String),
    /// libpod's `removeContainer`: an owner with dependents is not removed (`--force`
    /// neither); its dependents go first.
    #[error("container {id} has dependent containers which must be removed before it: {}: container already exists", .dependents.join(", "))]
    HasDependents {
        /// The owner's ID.
        id: String,
        /// The dependents' IDs.
        dependents: Vec<String>,
    },
    /// libpod's `checkDependenciesAndHandleError`: a `container:` dependent starts only
    /// while its owner runs.
    #[error(
        "some dependencies of container {id} are not started: {owner}: container state improper"
    )]
    OwnerNotRunning {
        /// The dependent's ID.
        id: String,
        /// The owner's ID.
        owner: String,
    },
    /// `container:` naming the container itself.
    #[error("container {0} cannot join its own network namespace")]
    OwnNamespace(String),
    /// Named networks with a mode that has none.
    #[error("container {container}: network mode {mode} takes no networks (only bridge mode has networks), got {networks:?}")]
    NetworksWithMode {
        /// The container name.
        container: String,
        /// The mode's name.
        mode: &'static str,
        /// The networks asked for.
        networks: Vec<String>,
    },
    /// `-p` with a mode that has no port forwarding (podman discards them with a warning).
    #[error("container {container}: network mode {mode} publishes no ports (only bridge, pasta and slirp4netns do); drop -p")]
    PortsWithMode {
        /// The container name.
        container: String,
        /// The mode's name.
        mode: &'static str,
    },
    /// connect/disconnect on a container that is not in bridge mode.
    #[error("container {container} is in network mode {mode}: only a bridge-mode container connects to and disconnects from networks")]
    NotBridge {
        /// The container name.
        container: String,
        /// The mode's name.
        mode: &'static str,
    },
    /// A mode that exists only rootless, asked for by root.
    #[error("container {container}: {mode} networking is only supported for rootless mode (podman's rule: pasta and slirp4netns are per-user stacks)")]
    RootlessOnly {
        /// The container name.
        container: String,
        /// The mode's name.
        mode: &'static str,
    },
    /// `ns:PATH` that is not a network namespace at start.
    #[error("container {container}: ns:{} is not a network namespace", .path.display())]
    NotANamespace {
        /// The container name.
        container: String,
        /// The path given.
        path: PathBuf,
    },
    /// `lo` could not be brought up in a `none` container's namespace.
    #[error("container {container}: setting lo up failed: {why}")]
    Loopback {
        /// The container name.
        container: String,
        /// The cause.
        why: String,
    },
}
