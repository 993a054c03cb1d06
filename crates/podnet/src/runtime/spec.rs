//! What `podnet create` records: a container's network configuration, validated.

use std::collections::BTreeMap;
use std::net::IpAddr;

use portmap::{PortMapping, Protocol, Protocols};

use crate::backend::PerNetworkOptions;
use crate::mode::NetworkMode;

/// A network a container asks for, with its options on it (`--network NAME:ip=...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// resolv.conf options (`--dns-option`), replacing the host's.
    pub dns_options: Vec<String>,
    /// No hosts file (`--no-hosts`): the container keeps its image's.
    pub no_hosts: bool,
    /// Exposed container ports (`--expose`, host port 0): published only with
    /// `publish_all`.
    pub expose: Vec<PortMapping>,
    /// `-P`: every exposed port not published by `ports` is published on a free host port,
    /// through the same host port checks as `-p`.
    pub publish_all: bool,
    /// `--ip`/`--ip6`, `--mac-address` (the container's only network, the default one when
    /// `networks` is empty), `--network-alias` (each network).
    pub single_network: SingleNetworkOptions,
}

/// podman's per-container network options: `--ip`/`--ip6` and `--mac-address` for the
/// container's one network (refused with several, as podman 4.3 refuses them);
/// `--network-alias` on each of its networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SingleNetworkOptions {
    /// `--ip`, `--ip6`.
    pub static_ips: Vec<IpAddr>,
    /// `--mac-address`.
    pub static_mac: Option<String>,
    /// `--network-alias` (every network).
    pub aliases: Vec<String>,
}

impl ContainerSpec {
    /// A container named `name` with every other field at its default (podman's: the
    /// default network, bridge mode; set the fields that differ).
    pub fn new(name: impl Into<String>) -> Self {
        ContainerSpec {
            name: name.into(),
            ..ContainerSpec::default()
        }
    }

    /// The networks the container joins, `single_network` applied: the requested ones, or
    /// `default` when none; static IPs and MAC with several networks are refused.
    pub(crate) fn network_requests(
        &self,
        default: &str,
    ) -> Result<Vec<NetworkRequest>, crate::InvalidInput> {
        // only bridge mode (the default) joins the default network when none is named
        let bridge = self.network_mode.as_ref().is_none_or(|m| m.is_bridge());
        let mut requests = if self.networks.is_empty() && bridge {
            vec![NetworkRequest::new(default)]
        } else {
            self.networks.clone()
        };
        for request in &mut requests {
            // `--network bridge:OPTIONS` names the default network by this key
            if request.network == crate::mode::DEFAULT_NETWORK_KEY {
                request.network = default.to_string();
            }
        }
        let opts = &self.single_network;
        for request in &mut requests {
            request.aliases.extend(opts.aliases.iter().cloned());
        }
        let flag = if !opts.static_ips.is_empty() {
            "--ip"
        } else if opts.static_mac.is_some() {
            "--mac-address"
        } else {
            return Ok(requests);
        };
        match requests.as_mut_slice() {
            [only] => {
                only.static_ips.extend(opts.static_ips.iter().copied());
                if opts.static_mac.is_some() {
                    only.static_mac.clone_from(&opts.static_mac);
                }
            }
            several => {
                let names: Vec<&str> = several.iter().map(|r| r.network.as_str()).collect();
                return Err(crate::InvalidInput::new(
                    flag,
                    names.join(","),
                    crate::Rule::SingleNetworkOnly(several.len()),
                ));
            }
        }
        Ok(requests)
    }

    /// The ports to publish: `ports`, then with `publish_all` each exposed port (one
    /// mapping per port, as podman expands them) that no `ports` mapping of its protocol
    /// publishes, on host port 0 (a free one, picked at create).
    pub(crate) fn ports_to_publish(&self) -> Vec<PortMapping> {
        let mut out = self.ports.clone();
        if !self.publish_all {
            return out;
        }
        let published = |port: u16, proto: Protocol| {
            self.ports.iter().any(|p| {
                let end = u32::from(p.container_port) + u32::from(p.range.max(1));
                p.protocol.contains(proto)
                    && (u32::from(p.container_port)..end).contains(&u32::from(port))
            })
        };
        for e in &self.expose {
            for port in (u32::from(e.container_port)
                ..u32::from(e.container_port) + u32::from(e.range.max(1)))
                .filter_map(|p| u16::try_from(p).ok())
            {
                for proto in e.protocol.iter() {
                    let one = Protocols::one(proto);
                    let taken = out
                        .iter()
                        .skip(self.ports.len())
                        .any(|m| m.container_port == port && m.protocol == one);
                    if !published(port, proto) && !taken {
                        out.push(PortMapping::new(port).with_protocols(one));
                    }
                }
            }
        }
        out
    }
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
