//! Removing a network: the one path every caller (the CLI's `network rm`, library users)
//! goes through, under the runtime lock, so no `create`, `connect` or `start` can race it.

use std::collections::BTreeSet;

use super::{FlowLock, Runtime, RuntimeError};
use crate::backend::Backend;
use crate::state::Intent;
use crate::{ContainerRecord, Error, Lease, Network};

/// How [`Runtime::remove_network`] removes a network: by default a network in use is
/// refused; [`RemoveNetworkOptions::force`] first stops and removes the containers that
/// use it (`podman network rm -f`). A network on which another tool's containers hold
/// addresses is refused whatever the options say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoveNetworkOptions {
    /// Stop and remove the containers using the network first.
    pub force: bool,
}

impl RemoveNetworkOptions {
    /// Podman's `-f`: the containers using the network are stopped and removed with it.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }
}

impl<B: Backend> Runtime<B> {
    /// Removes the network with this name, full ID or unique ID prefix (an ambiguous prefix
    /// is an error naming the candidates) and returns its definition: its file goes, and so
    /// do podnet's leases and allocation cursors of it. Refused while any container record
    /// names it (unless `options.force`: those containers are stopped and removed first),
    /// any lease of it is held, or an unfinished flow's intent names it (run `reconcile`
    /// first), and while another tool's containers hold addresses on it in podman's shared
    /// `ipam.db` (checked before `force` removes anything); the default network cannot be
    /// removed.
    pub fn remove_network(
        &self,
        name_or_id: &str,
        options: &RemoveNetworkOptions,
    ) -> Result<Network, Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let net = self.networks.inspect(name_or_id)?;
        let others = self.other_tools_holders(&net, &self.network_usage()?)?;
        if !others.is_empty() {
            return Err(RuntimeError::NetworkHeldByOtherTool {
                network: net.name,
                holders: others,
            }
            .into());
        }
        if options.force {
            self.remove_network_users(&net)?;
        }
        // read again: `force` removed containers
        let users = self.network_usage()?.users(&net);
        if !users.is_empty() {
            return Err(RuntimeError::NetworkInUse {
                network: net.name,
                users,
            }
            .into());
        }
        // by full ID: the same network just checked, whatever `name_or_id` said
        let removed = self.networks.remove(&net.id)?;
        let tx = self.state.begin()?;
        tx.forget_network(&removed.id)?;
        tx.commit()?;
        tracing::debug!(network = %removed.name, id = %removed.id, "network removed");
        Ok(removed)
    }

    /// Containers of other tools (podman's) holding addresses on `net` in the shared
    /// `ipam.db`, as `SHORT-ID (addresses)`: removing the network under them would strand
    /// their bridge, rules and DNS entries, and no override is offered.
    pub(super) fn other_tools_holders(
        &self,
        net: &Network,
        usage: &NetworkUsage,
    ) -> Result<Vec<String>, Error> {
        let ours: BTreeSet<&str> = usage.containers.iter().map(|c| c.id.as_str()).collect();
        Ok(self
            .state
            .shared_holders(&net.name)?
            .into_iter()
            .filter(|(id, _)| !ours.contains(id.as_str()))
            .map(|(id, ips)| {
                let ips: Vec<String> = ips.iter().map(ToString::to_string).collect();
                let short: String = id.chars().take(12).collect();
                format!("{short} ({})", ips.join(", "))
            })
            .collect())
    }

    /// What of podnet's uses networks, read once for any number of networks.
    pub(super) fn network_usage(&self) -> Result<NetworkUsage, Error> {
        Ok(NetworkUsage {
            containers: self.state.list_containers()?,
            leases: self.state.list_leases()?,
            intents: self.state.list_intents()?,
        })
    }

    /// `-f`: stops and removes every container whose record names `net` (a lease or an
    /// unfinished intent without a record still refuses the removal). The default network
    /// is refused first, so a bad request removes nothing.
    fn remove_network_users(&self, net: &Network) -> Result<(), Error> {
        if net.name == self.networks.default_network_name() {
            return Err(crate::NetworkError::RemoveDefault {
                name: net.name.clone(),
            }
            .into());
        }
        let using = self.state.list_containers()?.into_iter().filter(|c| {
            c.networks.contains_key(&net.name) || c.network_status.contains_key(&net.name)
        });
        for record in using {
            tracing::debug!(network = %net.name, container = %record.name, "network rm -f: removing its container");
            self.remove_unlocked(record)?;
        }
        Ok(())
    }
}

/// podnet's container records, leases and unfinished flows, as `Runtime::network_usage`
/// read them.
pub(super) struct NetworkUsage {
    containers: Vec<ContainerRecord>,
    leases: Vec<Lease>,
    intents: Vec<Intent>,
}

impl NetworkUsage {
    /// Names of the containers that use `net`: by record (network name), by lease (network
    /// ID) and by unfinished intent.
    pub(super) fn users(&self, net: &Network) -> Vec<String> {
        let name_of = |id: &str| {
            self.containers
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let mut users: Vec<String> = self
            .containers
            .iter()
            .filter(|c| {
                c.networks.contains_key(&net.name) || c.network_status.contains_key(&net.name)
            })
            .map(|c| c.name.clone())
            .collect();
        users.extend(
            self.leases
                .iter()
                .filter(|l| l.network_id == net.id)
                .map(|l| name_of(&l.container_id)),
        );
        users.extend(
            self.intents
                .iter()
                .filter(|i| i.options.networks.contains_key(&net.name))
                .map(|i| {
                    format!(
                        "{} (unfinished flow: run reconcile)",
                        name_of(&i.container_id)
                    )
                }),
        );
        users.sort();
        users.dedup();
        users
    }
}
