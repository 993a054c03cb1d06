//! The network definition types, serde-compatible with podman's on-disk JSON
//! (containers/common `libnetwork/types` `Network`, `Subnet`, `LeaseRange`)
//! and with the `network_info` netavark reads.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

/// The bridge driver (`bridge`), podman's default.
pub const BRIDGE_DRIVER: &str = "bridge";
/// The macvlan driver (`macvlan`).
pub const MACVLAN_DRIVER: &str = "macvlan";
/// The ipvlan driver (`ipvlan`; netavark 1.5 and later).
pub const IPVLAN_DRIVER: &str = "ipvlan";
/// Key of the IPAM driver in [`Network::ipam_options`].
pub const IPAM_DRIVER_KEY: &str = "driver";
/// IPAM driver `host-local`: addresses are allocated by podman (here: the
/// [`StateStore`](crate::StateStore)) and handed to the backend as static IPs.
pub const HOST_LOCAL_IPAM: &str = "host-local";
/// IPAM driver `none`: no addresses at all.
pub const NONE_IPAM: &str = "none";
/// IPAM driver `dhcp` (macvlan only): no lease here, netavark asks a DHCP server on the
/// parent's link through its DHCP proxy and reports the address it got.
pub const DHCP_IPAM: &str = "dhcp";
/// Name of the default network (podman's `types.DefaultNetworkName`).
pub const DEFAULT_NETWORK_NAME: &str = "podman";
/// Bridge of the default network.
pub const DEFAULT_BRIDGE: &str = "podman0";
/// ID of the default network: podman's fixed value (`createDefaultNetwork` in
/// containers/common `libnetwork/netavark/network.go`), never changed.
pub const DEFAULT_NETWORK_ID: &str =
    "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9";

/// A network definition, as podman stores it in `NAME.json` and as netavark
/// receives it in `network_info`.
///
/// Field order and omission rules follow Go's `encoding/json` on podman's
/// struct, so [`Network::to_podman_json`] of a file written by podman gives the
/// same bytes back. Maps are sorted (Go sorts map keys too).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Network {
    /// Name, also the file name (`NAME.json`).
    #[serde(default)]
    pub name: String,
    /// 64 hex characters.
    #[serde(default)]
    pub id: String,
    /// `bridge` or `macvlan`.
    #[serde(default)]
    pub driver: String,
    /// Host interface: the bridge name (`podmanN`), or a macvlan's parent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub network_interface: String,
    /// Creation time, RFC 3339 with nanoseconds, as Go prints `time.Time`.
    #[serde(default)]
    pub created: String,
    /// Subnets with their gateway and optional lease range.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subnets: Vec<Subnet>,
    /// Extra routes (newer podman; kept so such files round-trip).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub routes: Vec<Route>,
    /// True when at least one subnet is IPv6.
    #[serde(default)]
    pub ipv6_enabled: bool,
    /// No external routes (no masquerade, no default route).
    #[serde(default)]
    pub internal: bool,
    /// aardvark-dns serves names on this network.
    #[serde(default)]
    pub dns_enabled: bool,
    /// Upstream DNS servers for this network (newer podman; kept so such
    /// files round-trip).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub network_dns_servers: Vec<IpAddr>,
    /// User labels.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Driver options (`mtu`, `vlan`, `isolate`, `mode`).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub options: BTreeMap<String, String>,
    /// IPAM options; key `driver`: `host-local`, `none` or `dhcp`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub ipam_options: BTreeMap<String, String>,
    /// Fields podnet does not know (a file written by a newer podman), kept as read so a
    /// rewrite ([`Runtime::update_network`](crate::Runtime::update_network)) does not drop
    /// them; written after the known fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One subnet of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    /// The subnet in CIDR form (normalized to its network address on load).
    pub subnet: IpNet,
    /// Gateway address (inside `subnet`); absent on internal networks without DNS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// Restricts automatic allocation to a range of the subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_range: Option<LeaseRange>,
}

impl Subnet {
    /// A subnet without gateway or lease range (filled in by create).
    pub fn new(subnet: IpNet) -> Self {
        Subnet {
            subnet,
            gateway: None,
            lease_range: None,
        }
    }
}

/// The range automatic allocation uses inside a subnet (`--ip-range`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LeaseRange {
    /// First address to hand out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ip: Option<IpAddr>,
    /// Last address to hand out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ip: Option<IpAddr>,
}

impl LeaseRange {
    /// The range podman 4.3's `--ip-range CIDR` gives: from the address after the CIDR's
    /// network address to its last (broadcast) address.
    pub fn from_cidr(range: IpNet) -> LeaseRange {
        let first = match range.network() {
            IpAddr::V4(a) => IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a).saturating_add(1))),
            IpAddr::V6(a) => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a).saturating_add(1))),
        };
        LeaseRange {
            start_ip: Some(first),
            end_ip: Some(range.broadcast()),
        }
    }
}

/// An extra route of a network (newer podman's `types.Route`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Route {
    /// Destination subnet.
    pub destination: IpNet,
    /// Next hop.
    pub gateway: IpAddr,
    /// Route metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
}

impl Network {
    /// podman 5's IPAM default for a new macvlan network (containers/common's
    /// `createIpvlanOrMacvlan`): no IPAM driver and no subnet means `dhcp`. ipvlan gets no
    /// such default (it cannot do DHCP: its interfaces share the parent's MAC), so it
    /// still needs a subnet.
    pub(crate) fn apply_ipam_default(&mut self) {
        let unset = self
            .ipam_options
            .get(IPAM_DRIVER_KEY)
            .is_none_or(|d| d.is_empty());
        if self.driver == MACVLAN_DRIVER && self.subnets.is_empty() && unset {
            self.ipam_options
                .insert(IPAM_DRIVER_KEY.to_owned(), DHCP_IPAM.to_owned());
        }
    }

    /// The IPAM driver: `host-local` when unset.
    pub fn ipam_driver(&self) -> &str {
        match self.ipam_options.get(IPAM_DRIVER_KEY) {
            Some(d) if !d.is_empty() => d,
            _ => HOST_LOCAL_IPAM,
        }
    }

    /// True when podnet allocates this network's addresses itself (podman's
    /// `requiresIPAMAlloc`: host-local IPAM and at least one subnet).
    pub fn requires_ipam(&self) -> bool {
        self.ipam_driver() == HOST_LOCAL_IPAM && !self.subnets.is_empty()
    }

    /// The JSON podman writes for this network: five-space indent and a
    /// trailing newline, exactly as `podman network create` does.
    pub fn to_podman_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(512);
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"     ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser)?;
        out.push(b'\n');
        Ok(out)
    }
}

/// Go decodes `null` into an empty slice or map; serde would fail.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
