//! `StatusBlock` -> `InspectBasicNetworkConfig`: podman's
//! `resultToBasicNetworkConfig`, with its IPv6 defects fixed.

use std::net::{IpAddr, Ipv6Addr};

use crate::{Address, InspectBasicNetworkConfig, StatusBlock};

/// True for `fe80::/10`.
fn is_link_local_v6(addr: &Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

/// Formats a MAC as Go's `net.HardwareAddr` does: lowercase hex pairs joined
/// by `:`. Accepts `:` or `-` separated input; anything else is kept as is.
fn normalize_mac(mac: &str) -> String {
    // Fast path: netavark already prints the canonical form.
    let canonical = mac.len() >= 17
        && mac.bytes().enumerate().all(|(i, b)| {
            if i % 3 == 2 {
                b == b':'
            } else {
                b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
            }
        })
        && mac.len() % 3 == 2;
    if canonical {
        return mac.to_string();
    }
    let parts: Vec<&str> = mac.split([':', '-']).collect();
    let hex_pairs = parts.len() >= 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    if hex_pairs {
        parts.join(":").to_ascii_lowercase()
    } else {
        if !mac.is_empty() {
            tracing::warn!(mac, "unrecognised MAC address format, kept as is");
        }
        mac.to_string()
    }
}

/// The container's addresses in one network, as `podman inspect` shows them.
///
/// Interfaces are visited in sorted name order. The first IPv4 address is
/// primary (`IPAddress`, `IPPrefixLen`, `Gateway`), later ones secondary;
/// likewise the first global IPv6 address. A missing gateway gives `""`.
/// The first interface's MAC is `MacAddress`, the others
/// `AdditionalMACAddresses`.
///
/// Differences from podman, on purpose: link-local IPv6 addresses are left
/// out (see [`link_local_ipv6`]; podman reports them as the global address),
/// and an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stays IPv6 (podman
/// files it under IPv4).
pub fn basic_config(status: &StatusBlock) -> InspectBasicNetworkConfig {
    let mut config = InspectBasicNetworkConfig::default();
    for iface in status.interfaces.values() {
        for net in &iface.subnets {
            let prefix = net.ipnet.prefix_len();
            let gateway = net.gateway.map(|g| g.to_string()).unwrap_or_default();
            match net.ipnet.addr() {
                IpAddr::V4(addr) => {
                    if config.ip_address.is_empty() {
                        config.ip_address = addr.to_string();
                        config.ip_prefix_len = prefix;
                        config.gateway = gateway;
                    } else {
                        config.secondary_ip_addresses.push(Address {
                            addr: addr.to_string(),
                            prefix_length: prefix,
                        });
                    }
                }
                IpAddr::V6(addr) if is_link_local_v6(&addr) => {}
                IpAddr::V6(addr) => {
                    if config.global_ipv6_address.is_empty() {
                        config.global_ipv6_address = addr.to_string();
                        config.global_ipv6_prefix_len = prefix;
                        config.ipv6_gateway = gateway;
                    } else {
                        config.secondary_ipv6_addresses.push(Address {
                            addr: addr.to_string(),
                            prefix_length: prefix,
                        });
                    }
                }
            }
        }
        let mac = normalize_mac(&iface.mac_address);
        if config.mac_address.is_empty() {
            config.mac_address = mac;
        } else {
            config.additional_mac_addresses.push(mac);
        }
    }
    config
}

/// The first link-local (`fe80::/10`) IPv6 address in `status`, in the
/// order [`basic_config`] visits addresses, with its prefix length.
pub fn link_local_ipv6(status: &StatusBlock) -> Option<Address> {
    status
        .interfaces
        .values()
        .flat_map(|iface| &iface.subnets)
        .find_map(|net| match net.ipnet.addr() {
            IpAddr::V6(addr) if is_link_local_v6(&addr) => Some(Address {
                addr: addr.to_string(),
                prefix_length: net.ipnet.prefix_len(),
            }),
            _ => None,
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "basic_tests.rs"]
mod tests;
