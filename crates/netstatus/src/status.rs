//! What a network backend reports after `setup`: netavark's `StatusBlock`.
//!
//! netavark prints, per network name (see `tests/data/setup-*.json`):
//!
//! ```text
//! {"NET":{"dns_search_domains":[],"dns_server_ips":[],
//!         "interfaces":{"eth0":{"mac_address":"9e:9c:..","subnets":[
//!             {"gateway":"10.89.250.1","ipnet":"10.89.250.2/24"},
//!             {"gateway":null,"ipnet":"10.89.252.7/24"}]}}}}
//! ```
//!
//! Reading treats `null` and an absent field alike (Go's podman omits empty
//! fields, netavark writes `[]` or `null`); writing follows netavark.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::nulls::default_if_null;
use crate::Error;

/// The result of attaching a container to one network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusBlock {
    /// Search domains for the container's resolv.conf.
    #[serde(default, deserialize_with = "default_if_null")]
    pub dns_search_domains: Vec<String>,
    /// Name servers for the container's resolv.conf.
    #[serde(default, deserialize_with = "default_if_null")]
    pub dns_server_ips: Vec<IpAddr>,
    /// Interfaces created in the container, by name (sorted).
    #[serde(default, deserialize_with = "default_if_null")]
    pub interfaces: BTreeMap<String, NetInterface>,
}

/// One interface in the container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetInterface {
    /// MAC address as the backend printed it (`aa:bb:cc:dd:ee:ff`), or empty.
    #[serde(default, deserialize_with = "default_if_null")]
    pub mac_address: String,
    /// Addresses with their subnet prefix and gateway, in backend order.
    #[serde(default, deserialize_with = "default_if_null")]
    pub subnets: Vec<NetAddress>,
}

/// One address of an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetAddress {
    /// Gateway of the subnet; `None` when the subnet has none (written as `null`).
    #[serde(default)]
    pub gateway: Option<IpAddr>,
    /// The interface's address with the subnet's prefix length (`10.89.0.2/24`).
    pub ipnet: IpNet,
}

/// Parses what `netavark setup` prints: a map of network name to
/// [`StatusBlock`]. `origin` names the source in the error.
pub fn parse_setup_output(
    origin: &str,
    json: &str,
) -> Result<BTreeMap<String, StatusBlock>, Error> {
    serde_json::from_str(json).map_err(|source| Error::ParseStatus {
        origin: origin.to_string(),
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn null_and_absent_fields_read_alike() {
        let absent: StatusBlock = serde_json::from_str(r#"{"interfaces":{"eth0":{}}}"#).unwrap();
        let null: StatusBlock = serde_json::from_str(
            r#"{"dns_search_domains":null,"dns_server_ips":null,
                "interfaces":{"eth0":{"mac_address":null,"subnets":null}}}"#,
        )
        .unwrap();
        assert_eq!(absent, null);
        assert_eq!(absent.interfaces["eth0"], NetInterface::default());
        let empty: StatusBlock = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, StatusBlock::default());
        let null_ifaces: StatusBlock = serde_json::from_str(r#"{"interfaces":null}"#).unwrap();
        assert!(null_ifaces.interfaces.is_empty());
    }

    #[test]
    fn gateway_null_or_absent_is_none() {
        let a: NetAddress = serde_json::from_str(r#"{"ipnet":"10.0.0.2/24"}"#).unwrap();
        let b: NetAddress =
            serde_json::from_str(r#"{"gateway":null,"ipnet":"10.0.0.2/24"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.gateway, None);
        assert_eq!(a.ipnet.addr().to_string(), "10.0.0.2");
        assert_eq!(a.ipnet.prefix_len(), 24);
    }

    #[test]
    fn writes_netavark_shape() {
        let block: StatusBlock = serde_json::from_str(
            r#"{"interfaces":{"eth0":{"mac_address":"aa:bb:cc:dd:ee:ff","subnets":[{"ipnet":"fd00::2/64"}]}}}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&block).unwrap(),
            r#"{"dns_search_domains":[],"dns_server_ips":[],"interfaces":{"eth0":{"mac_address":"aa:bb:cc:dd:ee:ff","subnets":[{"gateway":null,"ipnet":"fd00::2/64"}]}}}"#
        );
    }

    #[test]
    fn bad_json_error_names_origin_and_position() {
        let err = parse_setup_output(
            "netavark setup",
            r#"{"n":{"interfaces":{"eth0":{"subnets":[{"ipnet":"10.0.0.300/24"}]}}}}"#,
        )
        .unwrap_err();
        // the reason is in the message itself, not only in source()
        assert_eq!(
            err.to_string(),
            "invalid network status JSON from netavark setup: invalid IP address syntax at \
             line 1 column 63"
        );
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("line 1 column"), "{source}");
    }
}
