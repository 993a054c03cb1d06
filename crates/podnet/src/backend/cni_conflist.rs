//! A podman network definition as the CNI configuration list podman 4.3 writes for it
//! (containers/common `libnetwork/cni`, `createCNIConfigListFromNetwork`): cniVersion 0.4.0,
//! bridge with host-local IPAM, portmap, firewall, tuning, and dnsname when it is installed
//! and DNS is on. Field order, omissions and the three-space indent follow Go's
//! `json.MarshalIndent` of podman's structs, so the bytes equal podman's file.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::network::{Network, BRIDGE_DRIVER, HOST_LOCAL_IPAM, IPAM_DRIVER_KEY, NONE_IPAM};

/// The CNI version podman 4.3 writes.
pub const PODMAN_CNI_VERSION: &str = "0.4.0";
/// The domain podman 4.3 gives the dnsname plugin.
pub const PODMAN_DNS_DOMAIN: &str = "dns.podman";

/// Go sorts a map's keys: `args`, `cniVersion`, `name`, `plugins`.
#[derive(Serialize)]
struct ConfList<'a> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    args: BTreeMap<&'static str, &'a BTreeMap<String, String>>,
    #[serde(rename = "cniVersion")]
    cni_version: &'static str,
    name: &'a str,
    plugins: Vec<Plugin>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Plugin {
    Bridge(Bridge),
    Portmap {
        #[serde(rename = "type")]
        plugin_type: &'static str,
        capabilities: BTreeMap<&'static str, bool>,
    },
    Firewall {
        #[serde(rename = "type")]
        plugin_type: &'static str,
        backend: &'static str,
        #[serde(rename = "ingressPolicy", skip_serializing_if = "str::is_empty")]
        ingress_policy: &'static str,
    },
    Tuning {
        #[serde(rename = "type")]
        plugin_type: &'static str,
    },
    DnsName {
        #[serde(rename = "type")]
        plugin_type: &'static str,
        #[serde(rename = "domainName")]
        domain_name: &'static str,
        capabilities: BTreeMap<&'static str, bool>,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bridge {
    #[serde(rename = "type")]
    plugin_type: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    bridge: String,
    is_gateway: bool,
    #[serde(skip_serializing_if = "is_false")]
    ip_masq: bool,
    #[serde(skip_serializing_if = "is_zero")]
    mtu: u32,
    #[serde(skip_serializing_if = "is_false")]
    hairpin_mode: bool,
    #[serde(skip_serializing_if = "is_zero")]
    vlan: u32,
    ipam: Ipam,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    capabilities: BTreeMap<&'static str, bool>,
}

#[derive(Serialize, Default)]
struct Ipam {
    #[serde(rename = "type")]
    plugin_type: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<IpamRoute>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ranges: Vec<[IpamRange; 1]>,
}

#[derive(Serialize)]
struct IpamRoute {
    dst: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IpamRange {
    subnet: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    range_start: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    range_end: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    gateway: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Why a network has no podman 4.3 CNI configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConflistError {
    /// Only bridge networks are written (macvlan and ipvlan need a parent podnet does not
    /// translate yet).
    #[error("network {network}: driver {driver:?} has no CNI configuration here (only bridge)")]
    Driver {
        /// The network.
        network: String,
        /// Its driver.
        driver: String,
    },
    /// The IPAM driver has no CNI counterpart podman writes.
    #[error("network {network}: unsupported ipam driver {driver:?} for CNI")]
    Ipam {
        /// The network.
        network: String,
        /// Its IPAM driver.
        driver: String,
    },
    /// An option podman turns into a number is not one.
    #[error("network {network}: option {option}={value:?} is not a number")]
    Option {
        /// The network.
        network: String,
        /// The option (`mtu`, `vlan`).
        option: &'static str,
        /// Its value.
        value: String,
    },
}

/// The conflist podman 4.3 writes for `net` (`dnsname`: whether the dnsname plugin is
/// installed), byte for byte.
pub fn podman_conflist(net: &Network, dnsname: bool) -> Result<Vec<u8>, ConflistError> {
    if net.driver != BRIDGE_DRIVER {
        return Err(ConflistError::Driver {
            network: net.name.clone(),
            driver: net.driver.clone(),
        });
    }
    let ipam = match net
        .ipam_options
        .get(IPAM_DRIVER_KEY)
        .map(String::as_str)
        .unwrap_or(HOST_LOCAL_IPAM)
    {
        HOST_LOCAL_IPAM => host_local(net),
        NONE_IPAM => Ipam::default(),
        "dhcp" => Ipam {
            plugin_type: "dhcp",
            ..Ipam::default()
        },
        other => {
            return Err(ConflistError::Ipam {
                network: net.name.clone(),
                driver: other.to_string(),
            })
        }
    };
    let number = |option: &'static str| -> Result<u32, ConflistError> {
        match net.options.get(option) {
            None => Ok(0),
            Some(v) => v.parse().map_err(|_| ConflistError::Option {
                network: net.name.clone(),
                option,
                value: v.clone(),
            }),
        }
    };
    let caps = |name: &'static str| BTreeMap::from([(name, true)]);
    let bridge = Bridge {
        plugin_type: "bridge",
        bridge: net.network_interface.clone(),
        is_gateway: !net.internal,
        ip_masq: !net.internal,
        mtu: number("mtu")?,
        hairpin_mode: true,
        vlan: number("vlan")?,
        capabilities: if ipam.plugin_type == HOST_LOCAL_IPAM {
            caps("ips")
        } else {
            BTreeMap::new()
        },
        ipam,
    };
    let isolate = net.options.get("isolate").is_some_and(|v| v == "true");
    let mut plugins = vec![
        Plugin::Bridge(bridge),
        Plugin::Portmap {
            plugin_type: "portmap",
            capabilities: caps("portMappings"),
        },
        Plugin::Firewall {
            plugin_type: "firewall",
            backend: "",
            ingress_policy: if isolate { "same-bridge" } else { "" },
        },
        Plugin::Tuning {
            plugin_type: "tuning",
        },
    ];
    if dnsname && net.dns_enabled {
        plugins.push(Plugin::DnsName {
            plugin_type: "dnsname",
            domain_name: PODMAN_DNS_DOMAIN,
            capabilities: caps("aliases"),
        });
    }
    let mut args = BTreeMap::new();
    if !net.labels.is_empty() {
        args.insert("podman_labels", &net.labels);
    }
    if !net.options.is_empty() {
        args.insert("podman_options", &net.options);
    }
    let list = ConfList {
        args,
        cni_version: PODMAN_CNI_VERSION,
        name: &net.name,
        plugins,
    };
    let mut out = Vec::with_capacity(1024);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    // plain structs of strings, numbers and maps with string keys always serialize
    if let Err(e) = list.serialize(&mut ser) {
        tracing::error!(network = %net.name, error = %e, "encoding a conflist");
    }
    Ok(out)
}

/// host-local with one range set per subnet and, unless internal, one default route per
/// address family (podman's order: the first subnet of each family adds it).
fn host_local(net: &Network) -> Ipam {
    let mut routes = Vec::new();
    let (mut v4, mut v6) = (false, false);
    let mut ranges = Vec::new();
    for s in &net.subnets {
        let lease = s.lease_range.as_ref();
        let text = |ip: Option<std::net::IpAddr>| ip.map(|ip| ip.to_string()).unwrap_or_default();
        ranges.push([IpamRange {
            subnet: s.subnet.to_string(),
            range_start: text(lease.and_then(|l| l.start_ip)),
            range_end: text(lease.and_then(|l| l.end_ip)),
            gateway: text(s.gateway),
        }]);
        if net.internal {
            continue;
        }
        let ipv6 = matches!(s.subnet, ipnet::IpNet::V6(_));
        let seen = if ipv6 { &mut v6 } else { &mut v4 };
        if !*seen {
            *seen = true;
            routes.push(IpamRoute {
                dst: if ipv6 { "::/0" } else { "0.0.0.0/0" },
            });
        }
    }
    Ipam {
        plugin_type: HOST_LOCAL_IPAM,
        routes,
        ranges,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::network::{LeaseRange, Subnet};

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../cni/tests/fixtures/podman43/{name}.conflist",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    fn bridge(name: &str, iface: &str, subnets: &[(&str, Option<&str>)]) -> Network {
        let mut net = Network {
            name: name.into(),
            driver: BRIDGE_DRIVER.into(),
            network_interface: iface.into(),
            subnets: subnets
                .iter()
                .map(|(s, gw)| Subnet {
                    subnet: s.parse().unwrap(),
                    gateway: gw.map(|g| g.parse().unwrap()),
                    lease_range: None,
                })
                .collect(),
            ..Network::default()
        };
        net.ipam_options
            .insert(IPAM_DRIVER_KEY.into(), HOST_LOCAL_IPAM.into());
        net
    }

    // `podman --network-backend cni network create --subnet 10.77.3.0/24 --opt mtu=1400
    //  --label app=x shapenet` (podman 4.3.1, Debian 12)
    #[test]
    fn equals_podman_43_for_labels_and_mtu() {
        let mut net = bridge(
            "shapenet",
            "cni-podman1",
            &[("10.77.3.0/24", Some("10.77.3.1"))],
        );
        net.labels.insert("app".into(), "x".into());
        net.options.insert("mtu".into(), "1400".into());
        net.dns_enabled = true;
        let ours = podman_conflist(&net, false).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(fixture("shapenet")).unwrap()
        );
    }

    // `podman --network-backend cni network create --internal --ipv6 --subnet fd00:77::/64
    //  --subnet 10.77.4.0/24 dualnet`
    #[test]
    fn equals_podman_43_for_internal_dual_stack() {
        let mut net = bridge(
            "dualnet",
            "cni-podman2",
            &[("fd00:77::/64", None), ("10.77.4.0/24", None)],
        );
        net.internal = true;
        let ours = podman_conflist(&net, true).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(fixture("dualnet")).unwrap()
        );
    }

    #[test]
    fn dnsname_isolation_and_lease_range() {
        let mut net = bridge("d", "cni-podman3", &[("10.77.5.0/24", Some("10.77.5.1"))]);
        net.subnets[0].lease_range = Some(LeaseRange {
            start_ip: Some("10.77.5.10".parse().unwrap()),
            end_ip: None,
        });
        net.dns_enabled = true;
        net.options.insert("isolate".into(), "true".into());
        let v: serde_json::Value =
            serde_json::from_slice(&podman_conflist(&net, true).unwrap()).unwrap();
        assert_eq!(v["plugins"][4]["type"], "dnsname");
        assert_eq!(v["plugins"][4]["domainName"], "dns.podman");
        assert_eq!(v["plugins"][2]["ingressPolicy"], "same-bridge");
        assert_eq!(
            v["plugins"][0]["ipam"]["ranges"][0][0]["rangeStart"],
            "10.77.5.10"
        );
        assert!(podman_conflist(&net, false).is_ok());
        net.options.insert("mtu".into(), "big".into());
        assert_eq!(
            podman_conflist(&net, false).unwrap_err().to_string(),
            "network d: option mtu=\"big\" is not a number"
        );
        net.driver = "macvlan".into();
        assert!(podman_conflist(&net, false).is_err());
    }
}
