//! What `podnet create` records: a container's network configuration, validated.

use std::collections::BTreeMap;
use std::net::IpAddr;

use portmap::PortMapping;

use crate::backend::PerNetworkOptions;
use crate::mode::NetworkMode;

/// A network a container asks for, with its options on it (`--network NAME:ip=...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkRequest {
    /// Network name, full ID or unique ID prefix.
    pub network: String,
    /// Addresses to give the container (validated against the network's subnets).
    pub static_ips: Vec<IpAddr>,
    /// Extra DNS names on this network.
    pub aliases: Vec<String>,
    /// Interface name; the lowest free `ethN` when `None`.
    pub interface_name: Option<String>,
    /// A fixed MAC address.
    pub static_mac: Option<String>,
}

impl NetworkRequest {
    /// A request for `network` with default options.
    pub fn new(network: impl Into<String>) -> Self {
        Self {
            network: network.into(),
            ..Self::default()
        }
    }
}

/// Parses podman's `--network` syntax, `NAME[:ip=IP,alias=A,mac=MAC,interface_name=IF]`.
/// The values are checked by [`Runtime::create`](crate::Runtime::create) and
/// [`Runtime::connect`](crate::Runtime::connect) (or [`crate::validate::network_request`]).
impl std::str::FromStr for NetworkRequest {
    type Err = crate::InvalidInput;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        crate::validate::parse_network_option(spec)
    }
}

/// Everything about a container's network side that `podnet create` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    /// Unique container name.
    pub name: String,
    /// Hostname; the 12-character short ID when `None`, as podman does.
    pub hostname: Option<String>,
    /// The network mode (`--network none`, `host`, `ns:PATH`, `container:ID`...); `None`
    /// for the runtime's default (bridge). See [`crate::mode`].
    pub network_mode: Option<NetworkMode>,
    /// Networks (bridge mode only); the default network when empty.
    pub networks: Vec<NetworkRequest>,
    /// Published ports (`-p`).
    pub ports: Vec<PortMapping>,
    /// Extra hosts entries (`--add-host name:ip`).
    pub add_hosts: Vec<String>,
    /// DNS servers replacing the networks' and the host's (`--dns`).
    pub dns_servers: Vec<IpAddr>,
    /// DNS search domains (`--dns-search`).
    pub dns_search: Vec<String>,
}

/// A new random container ID: 64 hex characters, as podman's.
pub(crate) fn new_container_id() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::thread_rng().gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The short ID podman adds as a DNS alias and uses as the default hostname.
pub(crate) fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// podman's `getFreeInterfaceName`: the lowest `ethN` no network of the container uses.
pub(crate) fn free_interface_name(
    networks: &BTreeMap<String, PerNetworkOptions>,
) -> Option<String> {
    (0..100_000u32)
        .map(|i| format!("eth{i}"))
        .find(|name| !networks.values().any(|o| &o.interface_name == name))
}

/// podman's extra aliases: the short ID, and the hostname when it was set explicitly.
pub(crate) fn extra_aliases(id: &str, explicit_hostname: Option<&str>) -> Vec<String> {
    let mut aliases = vec![short_id(id).to_string()];
    if let Some(h) = explicit_hostname {
        aliases.push(h.to_string());
    }
    aliases
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_distinct() {
        let a = new_container_id();
        let b = new_container_id();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(short_id(&a).len(), 12);
    }

    #[test]
    fn lowest_free_interface_name_fills_gaps() {
        let mut nets = BTreeMap::new();
        let opts = |name: &str| PerNetworkOptions {
            interface_name: name.into(),
            ..Default::default()
        };
        assert_eq!(free_interface_name(&nets).unwrap(), "eth0");
        nets.insert("a".to_string(), opts("eth0"));
        nets.insert("b".to_string(), opts("eth2"));
        assert_eq!(free_interface_name(&nets).unwrap(), "eth1");
    }

    #[test]
    fn extra_aliases_are_short_id_then_explicit_hostname() {
        let id = "0123456789abcdef0123";
        assert_eq!(extra_aliases(id, None), vec!["0123456789ab"]);
        assert_eq!(extra_aliases(id, Some("web")), vec!["0123456789ab", "web"]);
    }
}
