//! `podman inspect`'s `NetworkSettings` types, field for field.
//!
//! JSON names and omission rules follow podman's
//! `libpod/define/container_inspect.go`: fields tagged `omitempty` there are
//! left out when empty here; Go's nil maps and slices without `omitempty`
//! are written as `null`. Reading accepts `null` wherever a value may be
//! absent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::nulls::default_if_null;

/// An address with its prefix length (podman's `define.Address`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The address, in Go's textual form.
    #[serde(rename = "Addr", default, deserialize_with = "default_if_null")]
    pub addr: String,
    /// Prefix length of its subnet.
    #[serde(rename = "PrefixLength", default, deserialize_with = "default_if_null")]
    pub prefix_length: u8,
}

/// Addresses, gateways and MACs common to the container-wide settings and
/// each network (podman's `InspectBasicNetworkConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectBasicNetworkConfig {
    /// Unused, kept for Docker compatibility; always empty.
    #[serde(rename = "EndpointID", default, deserialize_with = "default_if_null")]
    pub endpoint_id: String,
    /// Gateway of the primary IPv4 address; empty without one.
    #[serde(rename = "Gateway", default, deserialize_with = "default_if_null")]
    pub gateway: String,
    /// Primary IPv4 address.
    #[serde(rename = "IPAddress", default, deserialize_with = "default_if_null")]
    pub ip_address: String,
    /// Prefix length of the primary IPv4 address.
    #[serde(rename = "IPPrefixLen", default, deserialize_with = "default_if_null")]
    pub ip_prefix_len: u8,
    /// Further IPv4 addresses (omitted when empty).
    #[serde(
        rename = "SecondaryIPAddresses",
        default,
        deserialize_with = "default_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secondary_ip_addresses: Vec<Address>,
    /// Gateway of the primary global IPv6 address; empty without one.
    #[serde(rename = "IPv6Gateway", default, deserialize_with = "default_if_null")]
    pub ipv6_gateway: String,
    /// Primary global IPv6 address.
    #[serde(
        rename = "GlobalIPv6Address",
        default,
        deserialize_with = "default_if_null"
    )]
    pub global_ipv6_address: String,
    /// Prefix length of the primary global IPv6 address.
    #[serde(
        rename = "GlobalIPv6PrefixLen",
        default,
        deserialize_with = "default_if_null"
    )]
    pub global_ipv6_prefix_len: u8,
    /// Further global IPv6 addresses (omitted when empty).
    #[serde(
        rename = "SecondaryIPv6Addresses",
        default,
        deserialize_with = "default_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub secondary_ipv6_addresses: Vec<Address>,
    /// MAC address of the first interface.
    #[serde(rename = "MacAddress", default, deserialize_with = "default_if_null")]
    pub mac_address: String,
    /// MAC addresses of further interfaces (omitted when empty).
    #[serde(
        rename = "AdditionalMACAddresses",
        default,
        deserialize_with = "default_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_mac_addresses: Vec<String>,
}

/// One network the container is attached to (podman's `InspectAdditionalNetwork`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectAdditionalNetwork {
    /// Addresses in this network.
    #[serde(flatten)]
    pub basic: InspectBasicNetworkConfig,
    /// The network's ID (its name when the ID is unknown); omitted when empty.
    #[serde(
        rename = "NetworkID",
        default,
        deserialize_with = "default_if_null",
        skip_serializing_if = "String::is_empty"
    )]
    pub network_id: String,
    /// Unused, kept for Docker compatibility (`null` in podman's output).
    #[serde(rename = "DriverOpts", default)]
    pub driver_opts: Option<BTreeMap<String, String>>,
    /// Unused, kept for Docker compatibility (`null` in podman's output).
    #[serde(rename = "IPAMConfig", default)]
    pub ipam_config: Option<BTreeMap<String, String>>,
    /// Unused, kept for Docker compatibility (`null` in podman's output).
    #[serde(rename = "Links", default)]
    pub links: Option<Vec<String>>,
    /// The container's aliases in this network (omitted when empty).
    #[serde(
        rename = "Aliases",
        default,
        deserialize_with = "default_if_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
}

/// Where a container port is published on the host (podman's `InspectHostPort`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectHostPort {
    /// Host address; `0.0.0.0` when bound to every address.
    #[serde(rename = "HostIp", default, deserialize_with = "default_if_null")]
    pub host_ip: String,
    /// Host port as a decimal string.
    #[serde(rename = "HostPort", default, deserialize_with = "default_if_null")]
    pub host_port: String,
}

/// Published ports keyed `PORT/PROTO` (sorted as Go sorts map keys); `None`
/// (JSON `null`) for a port that is exposed but not published.
pub type PortBindings = BTreeMap<String, Option<Vec<InspectHostPort>>>;

/// A container's `NetworkSettings` in `podman inspect` (podman's `InspectNetworkSettings`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectNetworkSettings {
    /// Container-wide addresses: filled only when the container is on the
    /// default network alone or not on named networks.
    #[serde(flatten)]
    pub basic: InspectBasicNetworkConfig,
    /// Unused, kept for Docker compatibility; always empty.
    #[serde(rename = "Bridge", default, deserialize_with = "default_if_null")]
    pub bridge: String,
    /// Unused, kept for Docker compatibility; always empty.
    #[serde(rename = "SandboxID", default, deserialize_with = "default_if_null")]
    pub sandbox_id: String,
    /// Unused, kept for Docker compatibility; always false.
    #[serde(rename = "HairpinMode", default, deserialize_with = "default_if_null")]
    pub hairpin_mode: bool,
    /// The first link-local (`fe80::/10`) IPv6 address, when any.
    #[serde(
        rename = "LinkLocalIPv6Address",
        default,
        deserialize_with = "default_if_null"
    )]
    pub link_local_ipv6_address: String,
    /// Prefix length of the link-local IPv6 address.
    #[serde(
        rename = "LinkLocalIPv6PrefixLen",
        default,
        deserialize_with = "default_if_null"
    )]
    pub link_local_ipv6_prefix_len: u8,
    /// Published and exposed ports.
    #[serde(rename = "Ports", default, deserialize_with = "default_if_null")]
    pub ports: PortBindings,
    /// Path of the container's network namespace; empty when it has none.
    #[serde(rename = "SandboxKey", default, deserialize_with = "default_if_null")]
    pub sandbox_key: String,
    /// Networks by name (omitted when empty).
    #[serde(
        rename = "Networks",
        default,
        deserialize_with = "default_if_null",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub networks: BTreeMap<String, InspectAdditionalNetwork>,
}
