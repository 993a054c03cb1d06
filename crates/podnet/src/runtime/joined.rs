//! What `podman inspect` shows of a namespace a container joined (`--network ns:PATH`):
//! libpod's `inspectJoinedNetworkNS` reads its interfaces, MAC addresses and addresses
//! (loopback left out) into one status block.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use netstatus::{NetAddress, NetInterface, StatusBlock};

/// The interfaces of the namespace at `path`; `None` when it cannot be entered or read.
pub(crate) fn status_of(path: &Path) -> Option<StatusBlock> {
    let ns = netns::NetNs::open(path).ok()?;
    let interfaces = ns.run_in(read_interfaces).ok()??;
    Some(StatusBlock {
        interfaces,
        ..StatusBlock::default()
    })
}

/// Runs inside the namespace (a thread of its own, see `netns`).
fn read_interfaces() -> Option<BTreeMap<String, NetInterface>> {
    let mut found: BTreeMap<String, NetInterface> = BTreeMap::new();
    for ifa in nix::ifaddrs::getifaddrs().ok()? {
        if ifa.interface_name == "lo" {
            continue;
        }
        let entry = found.entry(ifa.interface_name.clone()).or_default();
        let Some(addr) = ifa.address else { continue };
        if let Some(mac) = addr.as_link_addr().and_then(|l| l.addr()) {
            entry.mac_address = mac
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":");
            continue;
        }
        let ip = match (addr.as_sockaddr_in(), addr.as_sockaddr_in6()) {
            (Some(v4), _) => IpAddr::V4(v4.ip()),
            (_, Some(v6)) => IpAddr::V6(v6.ip()),
            _ => continue,
        };
        let prefix = ifa.netmask.and_then(|m| {
            m.as_sockaddr_in()
                .map(|v4| u32::from(v4.ip()).count_ones())
                .or_else(|| {
                    m.as_sockaddr_in6()
                        .map(|v6| u128::from(v6.ip()).count_ones())
                })
        });
        let prefix = u8::try_from(prefix.unwrap_or(if ip.is_ipv4() { 32 } else { 128 })).ok()?;
        if let Ok(ipnet) = IpNet::new(ip, prefix) {
            entry.subnets.push(NetAddress {
                gateway: None,
                ipnet,
            });
        }
    }
    Some(found)
}
