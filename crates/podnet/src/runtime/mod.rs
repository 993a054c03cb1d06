//! The container network flows: libpod's `setup`, `teardown`, `connect`, `disconnect`,
//! `reload` and `inspect`, composed from the network store, the state database, the
//! backend, `netns` and `etchosts`.
//!
//! Every mutating flow holds the runtime lock, validates everything first, then applies,
//! and rolls back what it applied when a later step fails (STYLE #4); teardown-like flows
//! are best effort and aggregate their errors (STYLE #5). Before the backend is asked to
//! create anything, an *intent* (the exact backend options, the netns) is committed to the
//! database together with the leases it uses; the flow's final transaction replaces it by
//! the new state. A crash in between leaves the intent, and [`Runtime::reconcile`] undoes
//! it: the backend never holds an interface, rule or lease the database does not know.
//!
//! A backend failure part-way is undone in this order: the backend (its teardown, then the
//! interfaces it left in the container's netns and the bridges the intent names as brought
//! up by this setup, see [`Backend::undo_setup`]), then the netns (setup), and only then
//! the leases and the intent, so an address is never handed out while an interface still
//! carries it. When the undo leaves something, intent and leases stay and `reconcile` (or
//! the container's next setup or connect) retries. The flow lock is held across backend
//! calls, each bounded by the backend's time limit ([`Netavark::timeout`](crate::Netavark::timeout)).

mod config;
mod connect;
#[cfg(test)]
mod create_options_tests;
#[cfg(test)]
mod dhcp_tests;
mod dns_ready;
mod error;
mod exec_sessions;
pub(crate) mod failpoint;
mod files;
mod host_conflicts;
mod inspect;
mod joined;
mod lifecycle;
mod lock;
mod modes;
mod namespaces;
mod network_lifecycle;
#[cfg(test)]
mod network_lifecycle_tests;
mod networks;
mod port_holders;
mod ports;
mod reconcile;
mod reload;
mod spec;
mod step_error;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use config::RuntimeConfig;
pub use error::RuntimeError;
pub use exec_sessions::ExecSession;
pub use network_lifecycle::{NetworkContainer, NetworkInspect, UpdateNetworkOptions};
pub use networks::RemoveNetworkOptions;
pub use reconcile::ReconcileReport;
pub use spec::{ContainerSpec, NetworkRequest, SingleNetworkOptions};
pub use step_error::{Step, StepError};

use crate::backend::{Backend, NetworkOptions, PerNetworkOptions};
use crate::{ContainerRecord, Error, Network, NetworkStore, StateStore};
use lock::FlowLock;
use namespaces::Namespaces;

/// A podnet runtime: the networks, the state database and a backend.
///
/// Not `Sync` (the database connection is per thread): one per thread or process; several
/// processes share the files safely.
#[derive(Debug)]
pub struct Runtime<B: Backend> {
    config: RuntimeConfig,
    networks: NetworkStore,
    state: StateStore,
    backend: B,
    namespaces: Namespaces,
}

impl<B: Backend> Runtime<B> {
    /// Opens the network store ([`RuntimeConfig::network_store`]) and state database named
    /// by `config`, with `backend` (normally [`RuntimeConfig::select_backend`]'s).
    pub fn new(config: RuntimeConfig, backend: B) -> Result<Self, Error> {
        let networks = config.network_store();
        let state =
            StateStore::open(&config.state_db)?.with_shared_ipam(config.shared_ipam.clone());
        Ok(Self {
            config,
            networks,
            state,
            backend,
            namespaces: Namespaces::Kernel,
        })
    }

    /// Plain files in place of namespace pins, for the flows' unit tests.
    #[cfg(test)]
    pub(crate) fn with_plain_file_namespaces(mut self) -> Self {
        self.namespaces = Namespaces::PlainFiles;
        self
    }

    /// Replaces the network store (e.g. one with test subnet pools or route sources).
    pub fn with_network_store(mut self, networks: NetworkStore) -> Self {
        self.networks = networks;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The network definitions.
    pub fn networks(&self) -> &NetworkStore {
        &self.networks
    }

    /// The state database, for the flows' unit tests (library users read it through
    /// [`Runtime::containers`] and [`Runtime::leases`]; only the flows change it).
    #[cfg(test)]
    pub(crate) fn state(&self) -> &StateStore {
        &self.state
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The container with this name, full ID or unique ID prefix.
    pub fn container(&self, name_or_id: &str) -> Result<ContainerRecord, Error> {
        self.state
            .get_container(name_or_id)?
            .ok_or_else(|| RuntimeError::NoSuchContainer(name_or_id.to_string()).into())
    }

    /// Every container record.
    pub fn containers(&self) -> Result<Vec<ContainerRecord>, Error> {
        Ok(self.state.list_containers()?)
    }

    /// Records a new container (`podman create`): checks every value against the rules of
    /// [`crate::validate`] first, then, under the runtime lock, its networks (by name, ID or
    /// prefix; the default network when none; so a concurrent
    /// [`Runtime::remove_network`] either sees the record or makes this fail), static IPs and
    /// published ports. No kernel object is made until [`Runtime::setup`].
    pub fn create(&self, spec: &ContainerSpec) -> Result<ContainerRecord, Error> {
        crate::validate::container_spec(spec)?;
        let requests = spec.network_requests(self.networks.default_network_name())?;
        for request in &requests {
            crate::validate::network_request(request)?;
        }
        let _lock = FlowLock::acquire(&self.config)?;
        // by exact name: a name that is also a prefix of two IDs is still free
        if self.state.container_named(&spec.name)?.is_some() {
            return Err(RuntimeError::InvalidName {
                name: spec.name.clone(),
                why: "a container with that name exists",
            }
            .into());
        }
        let port_mappings = portmap::canonicalize(&spec.ports_to_publish()).map_err(|source| {
            RuntimeError::Ports {
                container: spec.name.clone(),
                source,
            }
        })?;
        let port_mappings = ports::assign_free_host_ports(&port_mappings).map_err(|mapping| {
            RuntimeError::NoFreeHostPort {
                container: spec.name.clone(),
                mapping,
            }
        })?;
        let network_mode = self.resolve_mode(spec)?;
        let id = spec::new_container_id();
        let hostname = spec
            .hostname
            .clone()
            .unwrap_or_else(|| modes::default_hostname(&network_mode, &id));
        let mut networks = BTreeMap::new();
        let mut resolved = Vec::new();
        for request in &requests {
            let net = self.networks.inspect(&request.network)?;
            let options =
                self.network_options(&id, spec.hostname.as_deref(), request, &networks)?;
            networks.insert(net.name.clone(), options);
            resolved.push(net);
        }
        let record = ContainerRecord {
            id,
            name: spec.name.clone(),
            hostname,
            network_mode,
            port_mappings,
            networks: networks.clone(),
            dns_servers: spec.dns_servers.clone(),
            dns_search: spec.dns_search.clone(),
            add_hosts: spec.add_hosts.clone(),
            dns_options: spec.dns_options.clone(),
            no_hosts: spec.no_hosts,
            ..ContainerRecord::default()
        };
        let tx = self.state.begin()?;
        // Static IPs are checked by a trial allocation undone in the same transaction:
        // the same rules as at setup (inside a subnet, not the gateway, not taken).
        let leases = !self.backend.assigns_addresses();
        for net in resolved.iter().filter(|n| leases && n.requires_ipam()) {
            if let Some(per) = networks.get(&net.name).filter(|p| !p.static_ips.is_empty()) {
                tx.check_static_ips(net, &record.id, &per.interface_name, &per.static_ips)?;
            }
        }
        tx.put_container(&record)?;
        tx.commit()?;
        tracing::debug!(container = %record.name, id = %record.id, "container recorded");
        Ok(record)
    }

    /// The container's options on one network: interface name (lowest free `ethN` unless
    /// given), aliases plus podman's extra ones.
    fn network_options(
        &self,
        id: &str,
        explicit_hostname: Option<&str>,
        request: &NetworkRequest,
        existing: &BTreeMap<String, PerNetworkOptions>,
    ) -> Result<PerNetworkOptions, Error> {
        let interface_name = match &request.interface_name {
            Some(name) => name.clone(),
            None => spec::free_interface_name(existing)
                .ok_or_else(|| RuntimeError::NoFreeInterface(id.to_string()))?,
        };
        let mut aliases = request.aliases.clone();
        aliases.extend(spec::extra_aliases(id, explicit_hostname));
        Ok(PerNetworkOptions {
            static_ips: request.static_ips.clone(),
            aliases,
            interface_name,
            static_mac: request.static_mac.clone(),
        })
    }

    /// The backend options for `record` on the given networks (each with its options).
    fn backend_options<'a>(
        &self,
        record: &ContainerRecord,
        networks: impl IntoIterator<Item = (&'a Network, PerNetworkOptions)>,
    ) -> NetworkOptions {
        let mut options = NetworkOptions::new(&record.id, &record.name);
        options.port_mappings = record.port_mappings.clone();
        for (net, per) in networks {
            options.add_network(net, per);
        }
        options
    }

    /// The options describing what the backend holds for `record` on `nets`: its options
    /// with the interface name, MAC and addresses the last setup reported (netavark needs
    /// the addresses to find the port forwarding rules it must remove).
    fn applied_options(&self, record: &ContainerRecord, nets: &[Network]) -> NetworkOptions {
        let per_net = nets.iter().map(|net| {
            let mut per = record.networks.get(&net.name).cloned().unwrap_or_default();
            if let Some((name, iface)) = record
                .network_status
                .get(&net.name)
                .and_then(|s| s.interfaces.iter().next())
            {
                per.interface_name = name.clone();
                if !iface.mac_address.is_empty() {
                    per.static_mac = Some(iface.mac_address.clone());
                }
                per.static_ips = iface.subnets.iter().map(|a| a.ipnet.addr()).collect();
            }
            (net, per)
        });
        self.backend_options(record, per_net)
    }

    /// Looks up every network of the record (a network removed since is an error naming it).
    fn record_networks(&self, record: &ContainerRecord) -> Result<Vec<Network>, Error> {
        self.lookup_networks(record)?
            .into_iter()
            .map(|found| found.map_err(Error::from))
            .collect()
    }

    /// Each network of the record, or why it could not be found, from one read of the
    /// network directory (`inspect` would read it once per network).
    fn lookup_networks(
        &self,
        record: &ContainerRecord,
    ) -> Result<Vec<Result<Network, crate::NetworkError>>, Error> {
        let mut all: BTreeMap<String, Network> = self
            .networks
            .list()?
            .into_iter()
            .map(|n| (n.name.clone(), n))
            .collect();
        Ok(record
            .networks
            .keys()
            .map(|name| {
                if let Some(net) = all.remove(name) {
                    return Ok(net);
                }
                match record.applied_networks.get(name) {
                    // removed by another tool while the container uses it
                    Some(recorded) => {
                        tracing::warn!(container = %record.name, network = %name, "the network's file is gone: using the definition recorded at setup");
                        Ok(recorded.clone())
                    }
                    None => Err(crate::NetworkError::NotFound {
                        name_or_id: name.clone(),
                    }),
                }
            })
            .collect())
    }
}
