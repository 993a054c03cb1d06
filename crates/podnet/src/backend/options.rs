//! netavark's stdin JSON: what to set up for one container on its networks.

use std::collections::BTreeMap;
use std::net::IpAddr;

use portmap::PortMapping;
use serde::{Deserialize, Serialize};

use super::BackendError;
use crate::Network;

/// The options of one `setup` or `teardown` call, serialized exactly as
/// netavark reads them on stdin (podman's `netavarkOptions`).
///
/// `networks` and `network_info` must have the same keys: the options of the
/// container on each network, and the network's definition ([`Network`], which
/// serializes to podman's network file format, the form netavark takes, and keeps the
/// fields of a newer podman it does not know). [`NetworkOptions::add_network`] adds both.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkOptions {
    /// The container's full ID.
    pub container_id: String,
    /// The container's name.
    pub container_name: String,
    /// Published ports (netavark sets up DNAT for them on every network).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_mappings: Vec<PortMapping>,
    /// The container's options on each network, by network name.
    pub networks: BTreeMap<String, PerNetworkOptions>,
    /// The definition of each network, by network name.
    pub network_info: BTreeMap<String, Network>,
    /// DNS servers aardvark-dns forwards the container's queries to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_servers: Option<Vec<IpAddr>>,
}

/// The options of one container on one network (netavark's `PerNetworkOptions`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PerNetworkOptions {
    /// Addresses to give the interface (podman's IPAM picks them; netavark does none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub static_ips: Vec<IpAddr>,
    /// Names aardvark-dns resolves to this container on this network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The interface name inside the container (`eth0`, `eth1`, ...).
    pub interface_name: String,
    /// A fixed MAC address (`aa:bb:cc:dd:ee:ff`); a random one when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_mac: Option<String>,
}

impl PerNetworkOptions {
    /// Options for the interface named `interface_name` (`eth0`), every other field unset.
    pub fn new(interface_name: impl Into<String>) -> Self {
        PerNetworkOptions {
            interface_name: interface_name.into(),
            ..PerNetworkOptions::default()
        }
    }
}

impl NetworkOptions {
    /// Options for a container with no networks yet.
    pub fn new(container_id: impl Into<String>, container_name: impl Into<String>) -> Self {
        Self {
            container_id: container_id.into(),
            container_name: container_name.into(),
            ..Self::default()
        }
    }

    /// Adds `network` (by its name) and the container's options on it.
    pub fn add_network(&mut self, network: &Network, options: PerNetworkOptions) -> &mut Self {
        self.network_info
            .insert(network.name.clone(), network.clone());
        self.networks.insert(network.name.clone(), options);
        self
    }

    /// Whether any network of the call has `dns_enabled` set.
    pub fn dns_enabled(&self) -> bool {
        self.network_info.values().any(|n| n.dns_enabled)
    }

    /// Checks that `networks` and `network_info` name the same networks and that
    /// every interface name is set and used once.
    pub fn validate(&self) -> Result<(), BackendError> {
        let invalid = |reason: String| BackendError::InvalidOptions {
            container_id: self.container_id.clone(),
            reason,
        };
        if self.container_id.is_empty() {
            return Err(invalid("empty container id".to_string()));
        }
        if self.networks.is_empty() {
            return Err(invalid("no networks".to_string()));
        }
        if !self.networks.keys().eq(self.network_info.keys()) {
            return Err(invalid(format!(
                "networks {:?} and network definitions {:?} differ",
                self.networks.keys().collect::<Vec<_>>(),
                self.network_info.keys().collect::<Vec<_>>()
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (name, opts) in &self.networks {
            if opts.interface_name.is_empty() {
                return Err(invalid(format!("network {name}: empty interface name")));
            }
            if !seen.insert(opts.interface_name.as_str()) {
                return Err(invalid(format!(
                    "network {name}: interface name {} used twice",
                    opts.interface_name
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> NetworkOptions {
        let mut opts = NetworkOptions::new("abc123", "web");
        opts.add_network(
            &network("net1"),
            PerNetworkOptions {
                static_ips: vec!["10.89.0.2".parse().unwrap()],
                aliases: vec!["abc123".into()],
                interface_name: "eth0".into(),
                static_mac: None,
            },
        );
        opts
    }

    /// A network as podman writes it (the JSON literal below is podman's field order).
    fn network(name: &str) -> Network {
        serde_json::from_value(json!({
            "name": name,
            "id": "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
            "driver": "bridge",
            "network_interface": "podman9",
            "created": "2026-11-29T04:00:00.000000000Z",
            "subnets": [{"subnet": "10.89.0.0/24", "gateway": "10.89.0.1"}],
            "ipv6_enabled": false,
            "internal": false,
            "dns_enabled": false,
            "ipam_options": {"driver": "host-local"}
        }))
        .unwrap()
    }

    #[test]
    fn serializes_with_netavark_field_names() {
        let mut opts = sample();
        opts.port_mappings
            .push(PortMapping::new(80).with_host_port(8080));
        let v = serde_json::to_value(&opts).unwrap();
        assert_eq!(
            v,
            json!({
                "container_id": "abc123",
                "container_name": "web",
                "port_mappings": [{"host_ip": "", "container_port": 80, "host_port": 8080, "range": 1, "protocol": "tcp"}],
                "networks": {"net1": {"static_ips": ["10.89.0.2"], "aliases": ["abc123"], "interface_name": "eth0"}},
                "network_info": {"net1": {
                    "name": "net1",
                    "id": "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
                    "driver": "bridge",
                    "network_interface": "podman9",
                    "created": "2026-11-29T04:00:00.000000000Z",
                    "subnets": [{"subnet": "10.89.0.0/24", "gateway": "10.89.0.1"}],
                    "ipv6_enabled": false,
                    "internal": false,
                    "dns_enabled": false,
                    "ipam_options": {"driver": "host-local"},
                }},
            })
        );
    }

    #[test]
    fn reads_podman_output_with_nulls_missing() {
        let text = r#"{"container_id":"c","container_name":"n","networks":{"a":{"interface_name":"eth0","static_mac":"02:00:00:00:00:01"}},"network_info":{"a":{"dns_enabled":true}},"dns_servers":["1.1.1.1"]}"#;
        let opts: NetworkOptions = serde_json::from_str(text).unwrap();
        assert_eq!(
            opts.networks["a"].static_mac.as_deref(),
            Some("02:00:00:00:00:01")
        );
        assert!(opts.dns_enabled());
        assert_eq!(opts.dns_servers, Some(vec!["1.1.1.1".parse().unwrap()]));
        assert!(opts.port_mappings.is_empty());
    }

    #[test]
    fn validate_catches_mismatch_and_duplicate_interface() {
        assert!(sample().validate().is_ok());
        assert!(!sample().dns_enabled());

        let mut missing = sample();
        missing.network_info.clear();
        let err = missing.validate().unwrap_err().to_string();
        assert!(err.contains("differ"), "{err}");

        let mut dup = sample();
        dup.add_network(
            &network("net2"),
            PerNetworkOptions {
                interface_name: "eth0".into(),
                ..Default::default()
            },
        );
        let err = dup.validate().unwrap_err().to_string();
        assert!(err.contains("eth0 used twice"), "{err}");

        let empty = NetworkOptions::new("c", "n");
        assert!(empty
            .validate()
            .unwrap_err()
            .to_string()
            .contains("no networks"));
    }
}
