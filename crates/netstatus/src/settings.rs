//! `network_settings`: the pure form of podman's `getContainerNetworkInfo`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use portmap::{PortMapping, Protocols};

use crate::basic::link_local_ipv6;
use crate::{
    basic_config, port_bindings, Error, InspectAdditionalNetwork, InspectNetworkSettings,
    StatusBlock,
};

/// The state of a container's network namespace, as podman sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NetnsState<'a> {
    /// The container has its own network namespace pinned at this path
    /// (podman's `state.NetNS`); an empty path counts as [`NetnsState::Down`].
    Own(&'a Path),
    /// No namespace of its own and none joined: the container is not running
    /// (networks are listed without addresses).
    #[default]
    Down,
    /// The container joined an existing namespace (`--network ns:PATH`);
    /// `status` is what was read from it, `None` if it could not be read.
    Joined {
        /// Addresses found in the joined namespace.
        status: Option<&'a StatusBlock>,
    },
    /// `--network none` and similar modes without networks; `pid` is the
    /// container's process when running (its namespace is shown as
    /// `/proc/PID/ns/net`).
    NoNetwork {
        /// The container's pid, if running.
        pid: Option<u32>,
    },
}

/// A network the container is attached to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attachment {
    /// Network name.
    pub name: String,
    /// Network ID; `None` when the network cannot be inspected (podman then
    /// shows the name).
    pub id: Option<String>,
    /// The container's aliases in this network.
    pub aliases: Vec<String>,
}

impl Attachment {
    /// The container on network `name` (ID `id` when known) with `aliases`.
    pub fn new(name: impl Into<String>, id: Option<String>, aliases: Vec<String>) -> Self {
        Attachment {
            name: name.into(),
            id,
            aliases,
        }
    }
}

/// A container's network mode as podman names it (`c.NetworkMode()`): the key of the
/// single `Networks` entry of a container on no named network.
///
/// ```
/// use std::path::Path;
/// use netstatus::ModeName;
///
/// assert_eq!(ModeName::Slirp4netns.to_string(), "slirp4netns");
/// assert_eq!(ModeName::Container("3f1c").to_string(), "container:3f1c");
/// assert_eq!(ModeName::Ns(Path::new("/run/netns/x")).to_string(), "ns:/run/netns/x");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModeName<'a> {
    /// netavark networks (`bridge`).
    #[default]
    Bridge,
    /// A namespace with only the loopback (`none`).
    None,
    /// The host's namespace (`host`).
    Host,
    /// A namespace of its own connected by slirp4netns (`slirp4netns`).
    Slirp4netns,
    /// A namespace of its own connected by pasta (`pasta`).
    Pasta,
    /// Another container's namespace, by that container's ID (`container:ID`).
    Container(&'a str),
    /// An existing namespace joined by path (`ns:PATH`).
    Ns(&'a Path),
}

/// As podman prints it: `bridge`, `container:ID`, `ns:PATH`...
impl fmt::Display for ModeName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModeName::Bridge => f.write_str("bridge"),
            ModeName::None => f.write_str("none"),
            ModeName::Host => f.write_str("host"),
            ModeName::Slirp4netns => f.write_str("slirp4netns"),
            ModeName::Pasta => f.write_str("pasta"),
            ModeName::Container(id) => write!(f, "container:{id}"),
            ModeName::Ns(path) => write!(f, "ns:{}", path.display()),
        }
    }
}

/// Backend results of no network, for [`SettingsInput::default`].
static NO_STATUS: BTreeMap<String, StatusBlock> = BTreeMap::new();
/// No exposed port, for [`SettingsInput::default`].
static NOTHING_EXPOSED: BTreeMap<u16, Protocols> = BTreeMap::new();

/// Everything [`network_settings`] needs about a container.
///
/// Built from [`SettingsInput::new`] (or `default()`: a stopped container on the
/// default network `podman` with nothing published) and the `with_` methods, so a
/// caller sets only what it has:
///
/// ```
/// use std::path::Path;
/// use netstatus::{network_settings, NetnsState, SettingsInput};
///
/// let ports = ["8080:80".parse()?];
/// let input = SettingsInput::new(NetnsState::Own(Path::new("/run/netns/web")))
///     .with_port_mappings(&ports);
/// let settings = network_settings(&input)?;
/// assert_eq!(settings.sandbox_key, "/run/netns/web");
/// assert_eq!(settings.ports["80/tcp"].as_ref().unwrap()[0].host_port, "8080");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SettingsInput<'a> {
    /// The network namespace.
    pub netns: NetnsState<'a>,
    /// The container's network mode: the key of the single `Networks` entry when it
    /// has no named networks.
    pub network_mode: ModeName<'a>,
    /// ID to show for that entry (podman looks the mode up as a network); `None`
    /// shows the mode's name.
    pub network_mode_id: Option<&'a str>,
    /// Named networks the container is attached to.
    pub networks: &'a [Attachment],
    /// Backend results by network name (empty with pasta/slirp4netns).
    pub status: &'a BTreeMap<String, StatusBlock>,
    /// The runtime's default network name (`podman`).
    pub default_network: &'a str,
    /// Published ports.
    pub port_mappings: &'a [PortMapping],
    /// Exposed ports: container port -> protocols.
    pub exposed: &'a BTreeMap<u16, Protocols>,
}

impl Default for SettingsInput<'_> {
    fn default() -> Self {
        Self {
            netns: NetnsState::Down,
            network_mode: ModeName::Bridge,
            network_mode_id: None,
            networks: &[],
            status: &NO_STATUS,
            default_network: "podman",
            port_mappings: &[],
            exposed: &NOTHING_EXPOSED,
        }
    }
}

impl<'a> SettingsInput<'a> {
    /// A container in bridge mode with namespace `netns`, on no named network, with
    /// no backend result and nothing published; the default network is `podman`.
    pub fn new(netns: NetnsState<'a>) -> Self {
        Self {
            netns,
            ..Self::default()
        }
    }

    /// With namespace `netns`.
    pub fn with_netns(self, netns: NetnsState<'a>) -> Self {
        Self { netns, ..self }
    }

    /// With network mode `mode`, shown with ID `id` (`None`: its name).
    pub fn with_network_mode(self, mode: ModeName<'a>, id: Option<&'a str>) -> Self {
        Self {
            network_mode: mode,
            network_mode_id: id,
            ..self
        }
    }

    /// Attached to `networks`, whose backend results are `status` (by network name).
    pub fn with_networks(
        self,
        networks: &'a [Attachment],
        status: &'a BTreeMap<String, StatusBlock>,
    ) -> Self {
        Self {
            networks,
            status,
            ..self
        }
    }

    /// With `name` as the runtime's default network.
    pub fn with_default_network(self, name: &'a str) -> Self {
        Self {
            default_network: name,
            ..self
        }
    }

    /// Publishing `mappings`.
    pub fn with_port_mappings(self, mappings: &'a [PortMapping]) -> Self {
        Self {
            port_mappings: mappings,
            ..self
        }
    }

    /// Exposing `exposed` (container port -> protocols).
    pub fn with_exposed(self, exposed: &'a BTreeMap<u16, Protocols>) -> Self {
        Self { exposed, ..self }
    }
}

/// The `NetworkSettings` of `podman inspect` for a container.
///
/// Follows podman's `getContainerNetworkInfo` step by step: `Ports` always;
/// without a namespace only the network names (and IDs, aliases); with one,
/// `SandboxKey`, each network's addresses from its status, and the
/// container-wide addresses only when the container is on the default
/// network alone or on no named network with exactly one status. The first
/// link-local IPv6 address of the status that fills the container-wide
/// addresses goes to `LinkLocalIPv6Address`/`LinkLocalIPv6PrefixLen`
/// (there is no per-network field for it).
///
/// A container sharing another container's namespace (`--network
/// container:ID`) shows that container's settings: call this with its input.
pub fn network_settings(input: &SettingsInput<'_>) -> Result<InspectNetworkSettings, Error> {
    let mut settings = InspectNetworkSettings {
        ports: port_bindings(input.port_mappings, input.exposed),
        ..Default::default()
    };
    let default_networks = || {
        let name = input.network_mode.to_string();
        let entry = InspectAdditionalNetwork {
            network_id: input
                .network_mode_id
                .map_or_else(|| name.clone(), str::to_owned),
            ..Default::default()
        };
        BTreeMap::from([(name, entry)])
    };
    let attachment_entry = |a: &Attachment| InspectAdditionalNetwork {
        network_id: a.id.clone().unwrap_or_else(|| a.name.clone()),
        aliases: a.aliases.clone(),
        ..Default::default()
    };

    let path = match input.netns {
        NetnsState::Own(path) if !path.as_os_str().is_empty() => path,
        NetnsState::Joined { status } => {
            if let Some(status) = status {
                fill_container_wide(&mut settings, status);
            }
            return Ok(settings);
        }
        NetnsState::Own(_) | NetnsState::Down | NetnsState::NoNetwork { .. } => {
            if let NetnsState::NoNetwork { pid: Some(pid) } = input.netns {
                if pid > 0 {
                    settings.sandbox_key = format!("/proc/{pid}/ns/net");
                }
            }
            settings.networks = if input.networks.is_empty() {
                default_networks()
            } else {
                input
                    .networks
                    .iter()
                    .map(|a| (a.name.clone(), attachment_entry(a)))
                    .collect()
            };
            return Ok(settings);
        }
    };

    settings.sandbox_key = path.display().to_string();
    if input.status.is_empty() {
        return Ok(settings);
    }
    if input.networks.is_empty() {
        settings.networks = default_networks();
    } else {
        if input.networks.len() != input.status.len() {
            return Err(Error::NetworkMismatch {
                networks: input.networks.iter().map(|a| a.name.clone()).collect(),
                statuses: input.status.len(),
            });
        }
        let empty = StatusBlock::default();
        for a in input.networks {
            let status = input.status.get(&a.name).unwrap_or(&empty);
            let mut entry = attachment_entry(a);
            entry.basic = basic_config(status);
            settings.networks.insert(a.name.clone(), entry);
        }
        let only_default =
            input.networks.len() == 1 && input.networks[0].name == input.default_network;
        if !only_default {
            return Ok(settings);
        }
    }
    if input.status.len() > 1 {
        return Err(Error::TooManyStatuses {
            count: input.status.len(),
            names: input.status.keys().cloned().collect(),
        });
    }
    if let Some(status) = input.status.values().next() {
        // On the default network alone its entry already holds the same config.
        match input
            .networks
            .first()
            .and_then(|a| settings.networks.get(&a.name))
        {
            Some(entry) => {
                settings.basic = entry.basic.clone();
                fill_link_local(&mut settings, status);
            }
            None => fill_container_wide(&mut settings, status),
        }
    }
    Ok(settings)
}

fn fill_container_wide(settings: &mut InspectNetworkSettings, status: &StatusBlock) {
    settings.basic = basic_config(status);
    fill_link_local(settings, status);
}

fn fill_link_local(settings: &mut InspectNetworkSettings, status: &StatusBlock) {
    if let Some(ll) = link_local_ipv6(status) {
        settings.link_local_ipv6_address = ll.addr;
        settings.link_local_ipv6_prefix_len = ll.prefix_length;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "settings_tests.rs"]
mod tests;
