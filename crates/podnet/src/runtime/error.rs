//! Errors of the container network flows.

use std::path::PathBuf;

/// A flow failed; each variant names the container or network it is about.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No container record has this name, ID or ID prefix.
    #[error("no container with name or ID {0:?}")]
    NoSuchContainer(String),
    /// A container name is taken or not valid.
    #[error("invalid container name {name:?}: {why}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The published ports of a container are invalid or conflict.
    #[error("invalid port mappings for container {container}")]
    Ports {
        /// The container name.
        container: String,
        /// What portmap found.
        #[source]
        source: portmap::Error,
    },
    /// No free host port (or run of ports) was found for a `-p` without a host port.
    #[error("failed to find an open port to expose container port {mapping} on the host (container {container})")]
    NoFreeHostPort {
        /// The container name.
        container: String,
        /// The mapping (displayed in `-p` syntax).
        mapping: portmap::PortMapping,
    },
    /// The container is already connected to the network and running.
    #[error("container {container} is already connected to network {network}")]
    AlreadyConnected {
        /// The container name.
        container: String,
        /// The network name.
        network: String,
    },
    /// The interface name asked for is one the container has already.
    #[error("invalid interface name {interface:?} for container {container}: the container has an interface of that name")]
    InterfaceInUse {
        /// The container name.
        container: String,
        /// The interface name.
        interface: String,
    },
    /// The container is not connected to the network.
    #[error("container {container} is not connected to network {network}")]
    NotConnected {
        /// The container name.
        container: String,
        /// The network name.
        network: String,
    },
    /// A network cannot be removed while containers use it.
    #[error(
        "network {network} is in use by {users:?}: remove them or disconnect them from it first"
    )]
    NetworkInUse {
        /// The network name.
        network: String,
        /// The containers using it.
        users: Vec<String>,
    },
    /// Another tool's containers hold addresses on the network in podman's `ipam.db`.
    #[error(
        "network {network} is in use by containers of another tool (podman) holding addresses in ipam.db: {}; remove them with that tool first",
        holders.join(", ")
    )]
    NetworkHeldByOtherTool {
        /// The network name.
        network: String,
        /// Each holder as `SHORT-ID (addresses)`.
        holders: Vec<String>,
    },
    /// The operation needs a running container.
    #[error("container {0} is not running")]
    NotRunning(String),
    /// The operation needs a stopped container.
    #[error("container {0} is running: stop it first or use force")]
    Running(String),
    /// No free `ethN` name is left.
    #[error("container {0} has no free interface name")]
    NoFreeInterface(String),
    /// A netns operation failed.
    #[error("network namespace of container {container}")]
    Netns {
        /// The container name.
        container: String,
        /// The cause.
        #[source]
        source: netns::Error,
    },
    /// The directory where network namespaces are pinned could not be found.
    #[error("cannot find the network namespace pin directory: {source}")]
    NetnsDir {
        /// The cause.
        #[source]
        source: netns::Error,
    },
    /// Writing the container's hosts or resolv.conf failed.
    #[error("{file} of container {container}")]
    EtcFile {
        /// The container name.
        container: String,
        /// `hosts` or `resolv.conf`.
        file: &'static str,
        /// The cause.
        #[source]
        source: etchosts::Error,
    },
    /// Building the inspect output failed.
    #[error("inspect of container {container}")]
    Inspect {
        /// The container name.
        container: String,
        /// The cause.
        #[source]
        source: netstatus::Error,
    },
    /// A file or directory of the runtime could not be used.
    #[error("{path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Rootless, and neither `XDG_DATA_HOME` nor `HOME` says where the state database goes.
    #[error("neither XDG_DATA_HOME nor HOME is set: cannot place the state database")]
    NoDataDir,
    /// aardvark-dns already answers the container's name for another tool's container.
    #[error("container name {name} is already answered by aardvark-dns on network {network} for container {holder} (not podnet's; entry in {file})")]
    NameAnswered {
        /// The container name.
        name: String,
        /// The network.
        network: String,
        /// The container ID holding the name.
        holder: String,
        /// The aardvark-dns file naming it.
        file: PathBuf,
    },
    /// A published host port is owned by another container or program.
    #[error("cannot publish {mapping} of container {container}: host port {port} is already used by {holder}")]
    PortOwned {
        /// The container name.
        container: String,
        /// The publish (displayed in `-p` syntax).
        mapping: portmap::PortMapping,
        /// The first port in conflict.
        port: u16,
        /// Who holds it.
        holder: String,
    },
    /// A best-effort flow (teardown, disconnect, reload) finished with errors.
    #[error("{flow} of container {container} finished with {} error(s): {}", .errors.len(), super::step_error::join(.errors))]
    Incomplete {
        /// The flow.
        flow: &'static str,
        /// The container name.
        container: String,
        /// Every failed step, in order.
        errors: Vec<super::StepError>,
    },
}
