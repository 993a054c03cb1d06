//! The rest of a network's life besides create and remove: `exists`, `inspect` (with the
//! containers attached, as podman 5 shows them), `ls --filter`, `prune` and `update` (upstream DNS servers of a live network), each under the runtime
//! lock where it changes anything, so no container flow races it. Removal itself, for
//! prune too, goes through the one path, [`Runtime::remove_network`].

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::networks::NetworkUsage;
use super::{FlowLock, RemoveNetworkOptions, Runtime, RuntimeError};
use crate::backend::Backend;
use crate::netstatus::NetInterface;
use crate::{Error, Lease, Network, NetworkError, NetworkFilter};

/// A network and the containers attached to it now: podman 5's `network inspect`
/// (`NetworkInspectReport`: the network's own fields, then `containers`; podman 4.3 prints
/// the network alone).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NetworkInspect {
    /// The definition, as its file holds it.
    #[serde(flatten)]
    pub network: Network,
    /// By container ID, each running container with an interface on the network.
    pub containers: BTreeMap<String, NetworkContainer>,
}

/// A container on a network, in [`NetworkInspect::containers`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct NetworkContainer {
    /// The container's name.
    pub name: String,
    /// Its interfaces on the network, by name, with their addresses and MAC.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub interfaces: BTreeMap<String, NetInterface>,
}

/// What [`Runtime::update_network`] changes: podman 5's `network update --dns-add` and
/// `--dns-drop`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateNetworkOptions {
    /// Upstream DNS servers to add (after the kept ones, in order).
    pub add_dns_servers: Vec<IpAddr>,
    /// Upstream DNS servers to remove.
    pub drop_dns_servers: Vec<IpAddr>,
}

impl UpdateNetworkOptions {
    /// `--dns-add`.
    pub fn add_dns_servers(mut self, servers: impl IntoIterator<Item = IpAddr>) -> Self {
        self.add_dns_servers.extend(servers);
        self
    }

    /// `--dns-drop`.
    pub fn drop_dns_servers(mut self, servers: impl IntoIterator<Item = IpAddr>) -> Self {
        self.drop_dns_servers.extend(servers);
        self
    }

    /// podman's rule: the kept servers in order, then the added ones, each once.
    fn apply(&self, servers: &[IpAddr]) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = Vec::new();
        let kept = servers
            .iter()
            .filter(|s| !self.drop_dns_servers.contains(s));
        for server in kept.chain(&self.add_dns_servers) {
            if !out.contains(server) {
                out.push(*server);
            }
        }
        out
    }
}

impl<B: Backend> Runtime<B> {
    /// Creates a network from a partly filled definition as `podman network create` does
    /// ([`NetworkStore::create`](crate::NetworkStore::create)), after asking the backend
    /// whether it can run it (ipvlan, DHCP: the netavark version needed).
    pub fn create_network(&self, mut net: Network) -> Result<Network, Error> {
        // before the backend is asked: a macvlan network without subnets is DHCP's
        net.apply_ipam_default();
        crate::validate::new_network(&net)?;
        self.backend.check_network(&net)?;
        Ok(self.networks.create(net)?)
    }

    /// Whether a network with this name, full ID or unique ID prefix exists
    /// (`podman network exists`). An unreadable network file or directory is an error,
    /// not `false`.
    pub fn network_exists(&self, name_or_id: &str) -> Result<bool, Error> {
        match self.networks.inspect(name_or_id) {
            Ok(_) => Ok(true),
            Err(NetworkError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The network with this name, full ID or unique ID prefix, with the running containers
    /// attached to it (podman 5's `network inspect`).
    pub fn inspect_network(&self, name_or_id: &str) -> Result<NetworkInspect, Error> {
        let network = self.networks.inspect(name_or_id)?;
        let containers = self
            .state
            .list_containers()?
            .into_iter()
            .filter(|c| c.running)
            .filter_map(|c| {
                let status = c.network_status.get(&network.name)?;
                Some((
                    c.id,
                    NetworkContainer {
                        name: c.name,
                        interfaces: status.interfaces.clone(),
                    },
                ))
            })
            .collect();
        Ok(NetworkInspect {
            network,
            containers,
        })
    }

    /// The networks `filter` passes, sorted by name (`podman network ls --filter`), its
    /// `dangling` value included.
    pub fn list_networks(&self, filter: &NetworkFilter) -> Result<Vec<Network>, Error> {
        let mut nets = self.networks.list()?;
        nets.retain(|n| filter.matches(n));
        if let Some(want_dangling) = filter.dangling() {
            let usage = self.network_usage()?;
            let mut kept = Vec::with_capacity(nets.len());
            for net in nets {
                if self.is_dangling(&net, &usage)? == want_dangling {
                    kept.push(net);
                }
            }
            nets = kept;
        }
        Ok(nets)
    }

    /// Whether no container uses `net`, as podman's `dangling` filter asks: no record, lease
    /// or unfinished flow of podnet's names it, and no other tool's container holds an
    /// address on it in podman's shared `ipam.db`. The default network is never dangling
    /// (it cannot be removed).
    fn is_dangling(&self, net: &Network, usage: &NetworkUsage) -> Result<bool, Error> {
        Ok(net.name != self.networks.default_network_name()
            && usage.users(net).is_empty()
            && self.other_tools_holders(net, usage)?.is_empty())
    }

    /// Removes every network `filter` passes that no container uses, the default network
    /// excepted (`podman network prune`), each through [`Runtime::remove_network`], and
    /// returns their names. A network that comes into use meanwhile is kept; any other
    /// failure ends the prune with that error (the networks already removed stay removed).
    pub fn prune_networks(&self, filter: &NetworkFilter) -> Result<Vec<String>, Error> {
        let default = self.networks.default_network_name().to_owned();
        let candidates = self
            .list_networks(filter)?
            .into_iter()
            .filter(|n| n.name != default);
        let mut removed = Vec::new();
        for net in candidates {
            match self.remove_network(&net.id, &RemoveNetworkOptions::default()) {
                Ok(gone) => removed.push(gone.name),
                Err(Error::Runtime(
                    RuntimeError::NetworkInUse { .. } | RuntimeError::NetworkHeldByOtherTool { .. },
                )) => {
                    tracing::debug!(network = %net.name, "prune: in use, kept");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// Changes a network's upstream DNS servers (podman 5's `network update`; podman 4.3
    /// has none): the network file is rewritten (fields podnet does not know are kept) and
    /// the backend's DNS server for the network, if one runs (aardvark-dns), forwards to
    /// the new list from now on, without restarting a container. Returns the new
    /// definition; no change writes nothing. When the backend fails the file is put back.
    pub fn update_network(
        &self,
        name_or_id: &str,
        options: &UpdateNetworkOptions,
    ) -> Result<Network, Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let (before, after) = self.networks.modify(name_or_id, |net| {
            net.network_dns_servers = options.apply(&net.network_dns_servers);
        })?;
        if before == after {
            return Ok(after);
        }
        if let Err(e) = self.backend.update_dns_servers(&after) {
            let restored = self.networks.modify(&after.id, |net| {
                net.network_dns_servers = before.network_dns_servers.clone();
            });
            if let Err(undo) = restored {
                tracing::warn!(network = %after.name, error = %undo, "update: putting the network file back failed");
            }
            return Err(e.into());
        }
        tracing::debug!(network = %after.name, servers = ?after.network_dns_servers, "network updated");
        Ok(after)
    }

    /// Every address lease podnet holds, for inspection (the state database itself is
    /// not handed out: it is changed only by the flows, under their lock).
    pub fn leases(&self) -> Result<Vec<Lease>, Error> {
        Ok(self.state.list_leases()?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dns_servers_change_as_podman_5_changes_them() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let opts = UpdateNetworkOptions::default()
            .add_dns_servers([ip("9.9.9.9"), ip("1.1.1.1"), ip("9.9.9.9")])
            .drop_dns_servers([ip("8.8.8.8")]);
        assert_eq!(
            opts.apply(&[ip("8.8.8.8"), ip("1.1.1.1")]),
            [ip("1.1.1.1"), ip("9.9.9.9")]
        );
        assert!(UpdateNetworkOptions::default()
            .drop_dns_servers([ip("1.1.1.1")])
            .apply(&[ip("1.1.1.1")])
            .is_empty());
    }
}
