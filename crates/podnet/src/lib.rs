//! podnet: podman's libpod network layer as a library, and the `podnet` CLI on top of it.
//!
//! It composes the leaf crates into libpod's container network flows:
//!
//! - [`NetworkStore`]: network definitions in podman's own JSON files (a network made by
//!   `podman network create` works unchanged, and podman can use ours);
//! - [`StateStore`]: one SQLite database with a record per container and the IP leases of
//!   every network (podman's IPAM: podnet picks the addresses, netavark gets them as static
//!   IPs); every flow's writes are transactions, and an intent committed before the
//!   backend runs lets [`Runtime::reconcile`] repair a `kill -9` at any point;
//! - [`Backend`] and [`Netavark`]: the real netavark binary and its JSON protocol;
//! - [`Runtime`]: `create`, `setup`, `teardown`, `remove`, `connect`, `disconnect`, `reload`,
//!   `inspect` and `reconcile`, each validating first, applying, and undoing what it applied
//!   when a later step fails; hosts and resolv.conf follow every change (through `etchosts`,
//!   in place, locked);
//! - [`validate`]: the rule table every value passes before anything is stored (names,
//!   DNS aliases, hostnames, interface names, MACs, subnets, gateways, MTU, `--add-host`),
//!   each refusal one [`InvalidInput`] naming the value and the rule;
//! - [`mode`]: podman's network modes ([`NetworkMode`]: bridge, none, host, `ns:`,
//!   `container:` pods, per-container pasta and slirp4netns) and its `--network` parsing
//!   ([`parse_network_flags`]);
//! - [`RootlessNetNs`] and [`reexec_in_user_namespace`]: rootless networking (the user's
//!   namespaces held by a pause process, a shared network namespace with pasta or
//!   slirp4netns for outbound traffic and port forwarding).
//!
//! Requires: Linux; root for the rootful flows (namespaces, bridges, firewall rules), or an
//! unprivileged user with subuid/subgid ranges, `newuidmap` and pasta or slirp4netns for the
//! rootless ones; netavark and aardvark-dns (Debian packages `netavark`, `aardvark-dns`).
//!
//! ```no_run
//! use podnet::{ContainerSpec, Netavark, NetworkRequest, Runtime, RuntimeConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // podman's files and directories; `RuntimeConfig::under(dir)` keeps everything in `dir`
//! let rt = Runtime::new(RuntimeConfig::system()?, Netavark::new("/run/containers/networks")?)?;
//! let mut web = ContainerSpec::new("web");
//! web.networks = vec![NetworkRequest::new("podman")];
//! web.ports = vec![podnet::portmap::parse_publish("127.0.0.1:8080:80")?];
//! rt.create(&web)?;
//! let web = rt.setup("web")?; // podman start: netns, addresses, veth, DNAT, hosts, resolv.conf
//! println!("{:?}", web.netns_path);
//! println!("{:?}", rt.inspect("web")?.networks.keys()); // podman inspect: NetworkSettings
//! rt.teardown("web")?; // podman stop
//! rt.remove("web", false)?;
//! # Ok(())
//! # }
//! ```

mod backend;
mod error;
pub mod mode;
mod network;
pub(crate) mod rootless;
mod runtime;
mod state;
// public so callers can check a value before building a request: the rule table is the
// contract (`podnet::validate::alias("db")`)
pub mod validate;

#[cfg(any(test, feature = "testing"))]
pub use backend::testing;
pub use backend::{
    find_helper_binary, find_helper_binary_in, firewall_driver, netavark_path, network_info,
    Backend, BackendConfig, BackendError, DnsInfo, Feature, FirewallDriverSource, InfoError,
    Netavark, NetavarkFeatureError, NetavarkVersion, NetworkBackendInfo, NetworkInfo,
    NetworkOptions, PerNetworkOptions, Release, SelectedBackend, StatusBlock, UnsupportedFeature,
    VersionError, DEFAULT_BACKEND_TIMEOUT, HELPER_BINARY_DIRS, HELPER_BINARY_DIR_ENV,
    ROOTFUL_CONFIG_DIR, UNKNOWN_PACKAGE,
};
/// containers.conf (its types appear in [`network_info`] and [`firewall_driver`]).
pub use containers_conf;
pub use error::{error_chain, Error};
/// hosts and resolv.conf edits (its errors are [`Error::EtcFiles`]).
pub use etchosts;
pub use mode::{
    parse_network_flags, ModeError, NetworkFlags, NetworkMode, PastaOptions, PortHandler,
    SlirpOptions,
};
/// Persistent network namespaces ([`Netavark::host_netns`], the rootless types).
pub use netns;
/// `podman inspect`'s `NetworkSettings` ([`Runtime::inspect`], [`StatusBlock`]'s parts).
pub use netstatus;
pub use network::{
    is_valid_name, LeaseRange, Network, NetworkError, NetworkFilter, NetworkStore, Route, Subnet,
    SubnetPool, BRIDGE_DRIVER, DEFAULT_NETWORK_ID, DEFAULT_NETWORK_NAME, DHCP_IPAM,
    HOST_LOCAL_IPAM, IPAM_DRIVER_KEY, IPVLAN_DRIVER, MACVLAN_DRIVER, NONE_IPAM,
};
/// Port mappings ([`ContainerSpec::ports`], [`NetworkOptions::port_mappings`]).
pub use portmap;
pub use rootless::is_port_forwarder;
pub use rootless::{
    in_user_namespace, reexec_in_user_namespace, run_port_forwarder, ForwardProtocol, PortForward,
    Reexec, RootlessBackend, RootlessError, RootlessNetHelper, RootlessNetNs, RootlessNetNsConfig,
    RootlessNetNsLock, RootlessNetNsStatus, UserNamespace, UDP_IDLE,
};
pub use runtime::{
    ContainerSpec, ExecSession, NetworkContainer, NetworkInspect, NetworkRequest, ReconcileReport,
    RemoveNetworkOptions, Runtime, RuntimeConfig, RuntimeError, SingleNetworkOptions, Step,
    StepError, UpdateNetworkOptions,
};
/// The rusqlite podnet's state database is built with (0.32): a crate that also uses SQLite must
/// use this version, as two `libsqlite3-sys` versions cannot be linked into one program. The
/// default `bundled-sqlite` feature compiles SQLite in; without it the system's libsqlite3 is
/// linked.
pub use rusqlite;
pub use state::{
    check_static_ip, ContainerFilter, ContainerRecord, Lease, StateError, StateStore,
    DEFAULT_BUSY_TIMEOUT,
};
pub use validate::{InvalidInput, Rule};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

// podman 4's CNI backend and its networks
pub use backend::{
    cni_network_info, podman_conflist, CniBackend, CniBackendError, CniBackendInfo, CniNetworkInfo,
    ConflistError, CNI_CONFIG_DIR, PODMAN_CNI_VERSION, PODMAN_DNS_DOMAIN,
};
/// The CNI runtime [`CniBackend`] drives (its `Runtime` is what [`CniBackend::new`] takes).
pub use cni;
