//! Network backends: the [`Backend`] seam between the flows and the program
//! that builds interfaces and firewall rules, and [`Netavark`], which runs the
//! netavark binary as podman does.
//!
//! netavark 1.4 and aardvark-dns 1.4 behaviours seen on Debian 12, and what
//! is done about them:
//! - setup with DNS fails unless the `--config` directory exists, and leaves
//!   the veth behind: [`Netavark`] creates the directory first;
//! - a killed but unreaped (zombie) aardvark-dns is taken for a live one and
//!   DNS silently stops: [`Netavark`] removes the stale pid file before a DNS
//!   setup, under netavark's own lock, so a new server starts;
//! - teardown fails with `IO error: aardvark pid not found` when aardvark-dns
//!   is gone although everything else was removed: treated as success (with a
//!   warning) when the pid file was already known stale;
//! - netavark 1.4 leaves a new bridge's address to the kernel, which gives a bridge
//!   the lowest address of its ports: a container whose veth has a lower address
//!   changes it, and containers that cached the old one lose their gateway (DNS,
//!   outbound, published ports) for seconds. [`Netavark`] pins the address of each
//!   bridge its setup creates, as netavark 2.x does itself (bridges made by podman's
//!   netavark 1.4 are not pinned);
//! - a setup that fails part-way is rolled back for the networks set up before
//!   the failing one, not for the failing one: a /31 network fails on "add default
//!   route" with the container's veth and the bridge made. [`Backend::undo_setup`]
//!   runs the teardown, then removes the container interfaces and the bridges
//!   the flow's intent says this setup brought up (the ownership rule is in
//!   `leftovers.rs`);
//! - a netavark run can hang (on aardvark-dns, a full disk, a lock): every call
//!   has a time limit that kills netavark's process group, and netavark dies with
//!   podnet (`PR_SET_PDEATHSIG`); aardvark-dns leaves netavark's process group
//!   (`setsid`) and never inherits the death signal, so it outlives both, as the
//!   containers of podman that share it need;
//! - a dead aardvark-dns is restarted only by the next DNS setup:
//!   [`Backend::repair_dns`] (run by `reconcile`) starts one when entries exist.

mod aardvark;
mod bounded;
mod env;
mod error;
mod find;
mod info;
mod leftovers;
mod links;
mod netavark;
mod options;
mod select;
mod selected;
mod status;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod version;

use std::collections::BTreeMap;
use std::path::Path;

use crate::Network;

pub use bounded::DEFAULT_BACKEND_TIMEOUT;
pub use env::netavark_path;
pub use error::BackendError;
pub use find::{
    find_helper_binary, find_helper_binary_in, HELPER_BINARY_DIRS, HELPER_BINARY_DIR_ENV,
};
pub use info::{
    firewall_driver, network_info, DnsInfo, FirewallDriverSource, InfoError, NetworkBackendInfo,
    NetworkInfo, UNKNOWN_PACKAGE,
};
pub(crate) use leftovers::bridge_names;
pub use netavark::{Netavark, ROOTFUL_CONFIG_DIR};
pub use options::{NetworkOptions, PerNetworkOptions};
pub use select::BackendConfig;
pub use selected::SelectedBackend;
pub(crate) use status::parse_setup_output;
pub use status::StatusBlock;
pub use version::{
    Feature, NetavarkFeatureError, NetavarkVersion, Release, UnsupportedFeature, VersionError,
};

/// Sets up and tears down a container's interfaces in its network namespace.
///
/// `setup` returns one [`StatusBlock`] per network of the options, by network
/// name. `teardown` takes the same options as the setup it undoes (netavark
/// needs the networks and port mappings to find the rules to remove).
pub trait Backend {
    /// Creates the container's interfaces, routes, firewall and DNS entries.
    fn setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError>;

    /// Removes what `setup` created for these options.
    fn teardown(&self, netns: &Path, options: &NetworkOptions) -> Result<(), BackendError>;

    /// The bridges of these options' networks that do not exist yet: asked before a setup
    /// and kept in the flow's intent, so that an undo removes a bridge only when this
    /// setup brought it up. None by default.
    fn missing_bridges(&self, _options: &NetworkOptions) -> Result<Vec<String>, BackendError> {
        Ok(Vec::new())
    }

    /// Undoes a setup that failed part-way or was interrupted: a teardown with the same
    /// options, then whatever that left of the options' interfaces in `netns`, and each of
    /// `new_bridges` that nothing is attached to any more. `Ok` means none of the options'
    /// interfaces is left in `netns`: only then may the caller release their addresses.
    /// By default a teardown whose errors are ignored (a backend that creates nothing
    /// outside `netns` and leaves nothing on failure).
    fn undo_setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
        _new_bridges: &[String],
    ) -> Result<(), BackendError> {
        if let Err(e) = self.teardown(netns, options) {
            tracing::debug!(container_id = %options.container_id, error = %e, "undo: teardown");
        }
        Ok(())
    }

    /// Checks the DNS server the backend shares between containers (aardvark-dns): when
    /// DNS entries exist but no live server serves them, starts one. Returns what was
    /// repaired, if anything. Nothing by default.
    fn repair_dns(&self) -> Result<Option<String>, BackendError> {
        Ok(None)
    }

    /// Publishes the container's ports to its current addresses (`status`: every network
    /// it is on now; empty once it has none). A backend whose `setup` already forwards
    /// ports (netavark's DNAT rules, rootful) has nothing to do: the default.
    fn publish(
        &self,
        _container_id: &str,
        _ports: &[portmap::PortMapping],
        _status: &BTreeMap<String, StatusBlock>,
    ) -> Result<(), BackendError> {
        Ok(())
    }

    /// The container has no network left (its teardown finished): let go of anything it
    /// shared (the rootless network namespace). Idempotent; nothing by default.
    fn release(&self, _container_id: &str) -> Result<(), BackendError> {
        Ok(())
    }

    /// Whether the backend picks the addresses itself (CNI: the conflist's IPAM plugin), so
    /// the flows must not lease any: they pass only the static IPs a user asked for.
    fn assigns_addresses(&self) -> bool {
        false
    }

    /// Whether the backend can run a network of this definition (driver, IPAM driver),
    /// asked before the network is created: the error names what is missing (netavark:
    /// the version that added it). Any by default.
    fn check_network(&self, _network: &Network) -> Result<(), BackendError> {
        Ok(())
    }

    /// `network`'s upstream DNS servers changed (`podman network update --dns-add`): the
    /// DNS server the backend runs for it (aardvark-dns) forwards to
    /// `network.network_dns_servers` from now on, without restarting a container. Nothing
    /// by default (a backend with no DNS server of its own).
    fn update_dns_servers(&self, _network: &Network) -> Result<(), BackendError> {
        Ok(())
    }
}

impl<T: Backend + ?Sized> Backend for Box<T> {
    fn setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError> {
        (**self).setup(netns, options)
    }

    fn teardown(&self, netns: &Path, options: &NetworkOptions) -> Result<(), BackendError> {
        (**self).teardown(netns, options)
    }

    fn missing_bridges(&self, options: &NetworkOptions) -> Result<Vec<String>, BackendError> {
        (**self).missing_bridges(options)
    }

    fn undo_setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
        new_bridges: &[String],
    ) -> Result<(), BackendError> {
        (**self).undo_setup(netns, options, new_bridges)
    }

    fn repair_dns(&self) -> Result<Option<String>, BackendError> {
        (**self).repair_dns()
    }

    fn publish(
        &self,
        container_id: &str,
        ports: &[portmap::PortMapping],
        status: &BTreeMap<String, StatusBlock>,
    ) -> Result<(), BackendError> {
        (**self).publish(container_id, ports, status)
    }

    fn release(&self, container_id: &str) -> Result<(), BackendError> {
        (**self).release(container_id)
    }

    fn assigns_addresses(&self) -> bool {
        (**self).assigns_addresses()
    }

    fn update_dns_servers(&self, network: &Network) -> Result<(), BackendError> {
        (**self).update_dns_servers(network)
    }

    fn check_network(&self, network: &Network) -> Result<(), BackendError> {
        (**self).check_network(network)
    }
}

// podman 4's CNI backend (kept apart from the netavark modules above)
pub(crate) mod cni;
mod cni_conflist;
mod cni_info;
mod loopback;
pub use cni::{CniBackend, CniBackendError, CNI_CONFIG_DIR};
pub use cni_conflist::{podman_conflist, ConflistError, PODMAN_CNI_VERSION, PODMAN_DNS_DOMAIN};
pub use cni_info::{cni_network_info, CniBackendInfo, CniNetworkInfo};
pub(crate) use loopback::set_up as set_loopback_up;
