//! The values stored in the state database: a container's network record and
//! an IP lease.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use portmap::PortMapping;

use crate::backend::{PerNetworkOptions, StatusBlock};
use crate::mode::NetworkMode;
use crate::Network;

/// Everything podnet keeps about one container's network side: its
/// configuration (what `podnet create` recorded) and its state (what the last
/// setup produced).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ContainerRecord {
    /// Full container ID (64 hex characters by convention).
    pub id: String,
    /// Unique container name.
    pub name: String,
    /// Hostname inside the container.
    pub hostname: String,
    /// Network mode: bridge (the networks below), none, host, `ns:`, `container:` (the
    /// owner's ID: the dependency the state records), pasta, slirp4netns.
    pub network_mode: NetworkMode,
    /// Published ports.
    pub port_mappings: Vec<PortMapping>,
    /// The container's networks by name, with its options on each
    /// (interface name, static IPs, aliases, static MAC).
    pub networks: BTreeMap<String, PerNetworkOptions>,
    /// Extra DNS servers for resolv.conf (`--dns`).
    pub dns_servers: Vec<IpAddr>,
    /// Extra DNS search domains (`--dns-search`).
    pub dns_search: Vec<String>,
    /// Extra hosts entries (`--add-host`, `name:ip`).
    pub add_hosts: Vec<String>,
    /// True while the container's network is set up.
    pub running: bool,
    /// Pin path of the container's network namespace, while it has one.
    pub netns_path: Option<PathBuf>,
    /// The backend's result per network name, from the last setup or connect.
    pub network_status: BTreeMap<String, StatusBlock>,
    /// The network definitions the backend was given by the last setup or connect, by
    /// name. Teardown, disconnect and reconcile fall back on them when a network's file
    /// has gone (`podman network rm` does not know podnet's containers), so they still
    /// remove the bridge, rules, DNS entries and leases the backend made from it.
    pub applied_networks: BTreeMap<String, Network>,
    /// The container's hosts file.
    pub hosts_path: Option<PathBuf>,
    /// The container's resolv.conf.
    pub resolv_conf_path: Option<PathBuf>,
    /// resolv.conf `options` (`--dns-option`), replacing the host's.
    pub dns_options: Vec<String>,
    /// No hosts file for the container (`--no-hosts`): its image's own is used.
    pub no_hosts: bool,
}

/// One leased address: `ip` of `subnet` on a network, held by a container's
/// interface.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// ID of the network.
    pub network_id: String,
    /// Name of the network when the lease was taken.
    pub network_name: String,
    /// The subnet the address belongs to.
    pub subnet: IpNet,
    /// The address.
    pub ip: IpAddr,
    /// The holder.
    pub container_id: String,
    /// The holder's interface (`eth0`, ...).
    pub interface: String,
}
