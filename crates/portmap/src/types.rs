//! The two port mapping shapes: podman's legacy one-port form and netavark's ranged form.

use serde::{Deserialize, Serialize};

/// One published port in the legacy one-port-per-entry form (podman's
/// `types.OCICNIPortMapping`, the CNI `portMappings` capability).
///
/// Serialized with podman's JSON names: `hostPort`, `containerPort`,
/// `protocol`, `hostIP`. Podman stores the ports as `int32`; here they are
/// `u16`, so a value outside `0..=65535` is rejected when deserializing
/// instead of being truncated later.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct OciCniPortMapping {
    /// Port number on the host (0: not chosen yet).
    #[serde(rename = "hostPort")]
    pub host_port: u16,
    /// Port number inside the container.
    #[serde(rename = "containerPort")]
    pub container_port: u16,
    /// Protocol: `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// Host address to bind; empty means every address.
    #[serde(rename = "hostIP")]
    pub host_ip: String,
}

/// A published port range in netavark's form (podman's `types.PortMapping`).
///
/// Maps `host_port..host_port+range` to `container_port..container_port+range`.
/// Serialized with netavark's JSON names: `host_ip`, `container_port`,
/// `host_port`, `range`, `protocol`. The field order (host ip, container
/// port, host port, range, protocol) is also the derived `Ord`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct PortMapping {
    /// Host address to bind; empty means every address.
    #[serde(default)]
    pub host_ip: String,
    /// First port inside the container.
    pub container_port: u16,
    /// First port on the host (0: pick a free one later).
    #[serde(default)]
    pub host_port: u16,
    /// Number of ports; netavark and podman treat 0 as 1.
    #[serde(default)]
    pub range: u16,
    /// Protocol: `tcp`, `udp` or `sctp` (netavark also takes a comma list).
    #[serde(default)]
    pub protocol: String,
}
