//! Rules for a whole network definition: what `network create` refuses, and what a
//! loaded network file is warned about.

use ipnet::IpNet;

use super::addrs::{gateway, subnet};
use super::names::{bridge_name, interface_name, network_name};
use super::{InvalidInput, Rule};
use crate::network::{Network, BRIDGE_DRIVER};

/// Kernel limits: `ETH_MIN_MTU`, `IPV6_MIN_MTU`, and the bridge's `ETH_MAX_MTU`.
const MIN_MTU: u32 = 68;
const MIN_MTU_IPV6: u32 = 1280;
const MAX_MTU: u32 = 65535;

/// An `mtu` option: empty or 0 (the default), else within the kernel's range (from 1280
/// when the network has IPv6, which the kernel turns off on a link below that).
pub fn mtu(value: &str, ipv6: bool) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Ok(());
    }
    let min = if ipv6 { MIN_MTU_IPV6 } else { MIN_MTU };
    match value.parse::<u32>() {
        Ok(0) => Ok(()),
        Ok(v) if (min..=MAX_MTU).contains(&v) => Ok(()),
        _ => Err(InvalidInput::new("mtu", value, Rule::Mtu { min })),
    }
}

/// Every rule `net` breaks (names, bridge, subnets, gateways, MTU); empty when podnet's own
/// create would accept it. Fields left empty for create to fill are not checked.
pub fn network_findings(net: &Network) -> Vec<InvalidInput> {
    let mut found = Vec::new();
    let mut check = |r: Result<(), InvalidInput>| {
        if let Err(e) = r {
            found.push(e);
        }
    };
    if !net.name.is_empty() {
        check(network_name(&net.name));
    }
    if !net.network_interface.is_empty() {
        if net.driver.is_empty() || net.driver == BRIDGE_DRIVER {
            check(bridge_name(&net.network_interface));
        } else {
            check(interface_name(&net.network_interface));
        }
    }
    let ipv6 = net.ipv6_enabled || net.subnets.iter().any(|s| matches!(s.subnet, IpNet::V6(_)));
    for s in &net.subnets {
        check(subnet(&s.subnet));
        if let Some(gw) = s.gateway {
            check(gateway(gw, &s.subnet));
        }
    }
    if let Some(value) = net.options.get("mtu") {
        check(mtu(value, ipv6));
    }
    found
}

/// The first rule a network given to `network create` breaks.
pub fn new_network(net: &Network) -> Result<(), InvalidInput> {
    match network_findings(net).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::network::Subnet;

    #[test]
    fn mtu_within_the_kernel_range() {
        for ok in ["", "0", "68", "1500", "9000", "65535"] {
            assert!(mtu(ok, false).is_ok(), "{ok}");
        }
        for bad in ["67", "65536", "99999999", "-1", "x", "1e3"] {
            assert_eq!(
                mtu(bad, false).unwrap_err().rule,
                Rule::Mtu { min: 68 },
                "{bad}"
            );
        }
        assert_eq!(mtu("1279", true).unwrap_err().rule, Rule::Mtu { min: 1280 });
        assert!(mtu("1280", true).is_ok());
    }

    #[test]
    fn findings_list_every_broken_rule() {
        let mut net = Network {
            name: "ok".into(),
            driver: "bridge".into(),
            subnets: vec![Subnet::new("0.0.0.0/0".parse().unwrap())],
            ..Network::default()
        };
        net.options.insert("mtu".into(), "99999999".into());
        let found = network_findings(&net);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].what, "subnet");
        assert_eq!(found[1].what, "mtu");
        net.subnets = vec![Subnet::new("10.89.0.0/24".parse().unwrap())];
        net.subnets[0].gateway = Some("10.89.0.255".parse().unwrap());
        net.options.clear();
        assert_eq!(
            new_network(&net).unwrap_err().rule,
            Rule::GatewayBroadcast("10.89.0.0/24".into())
        );
        net.subnets[0].gateway = Some("10.89.0.1".parse().unwrap());
        assert!(new_network(&net).is_ok());
        net.network_interface = "twenty-characters-xx".into();
        assert_eq!(new_network(&net).unwrap_err().what, "bridge name");
    }
}
