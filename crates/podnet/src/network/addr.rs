//! Address arithmetic on `IpAddr`/`IpNet` as 128-bit integers, shared by
//! subnet picking and the IPAM allocator.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// The address as an integer (IPv4 in the low 32 bits).
pub(crate) fn to_int(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The integer as an address of the same family as `like`. Out-of-range
/// IPv4 values saturate (callers compare against subnet bounds first).
pub(crate) fn from_int(value: u128, like: IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX))),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

/// An IPv4-mapped IPv6 address becomes plain IPv4 (Go's `NormalizeIP`).
pub(crate) fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// The subnet with host bits cleared.
pub(crate) fn trunc(net: IpNet) -> IpNet {
    net.trunc()
}

/// Podman's `networkIntersect`: one contains the other's network address.
pub(crate) fn intersects(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The gateway podman picks when none is given: the first address after the
/// network address (the network address itself for a /32 or /128).
pub(crate) fn first_ip(net: &IpNet) -> IpAddr {
    if net.prefix_len() == net.max_prefix_len() {
        return net.network();
    }
    from_int(to_int(net.network()) + 1, net.network())
}

/// Usable host range for automatic allocation: network address + 1 up to the
/// last address (IPv4: the broadcast address excluded).
pub(crate) fn host_bounds(net: &IpNet) -> (u128, u128) {
    let lo = to_int(net.network());
    let hi = to_int(net.broadcast());
    match net {
        _ if net.prefix_len() == net.max_prefix_len() => (lo, lo),
        IpNet::V4(_) if net.prefix_len() >= 31 => (lo, hi),
        IpNet::V4(_) => (lo + 1, hi - 1),
        IpNet::V6(_) => (lo + 1, hi),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn show(v: u128, like: &str) -> String {
        from_int(v, like.parse().unwrap()).to_string()
    }

    #[test]
    fn bounds_exclude_network_and_broadcast() {
        let (lo, hi) = host_bounds(&net("10.89.0.0/24"));
        assert_eq!(show(lo, "0.0.0.0"), "10.89.0.1");
        assert_eq!(show(hi, "0.0.0.0"), "10.89.0.254");
        let (lo6, hi6) = host_bounds(&net("fd00::/64"));
        assert_eq!(show(lo6, "::"), "fd00::1");
        assert_eq!(show(hi6, "::"), "fd00::ffff:ffff:ffff:ffff");
        let (lo31, hi31) = host_bounds(&net("10.0.0.0/31"));
        assert_eq!(
            (show(lo31, "0.0.0.0"), show(hi31, "0.0.0.0")),
            ("10.0.0.0".into(), "10.0.0.1".into())
        );
    }

    #[test]
    fn intersect_both_ways_and_families() {
        assert!(intersects(&net("10.89.0.0/24"), &net("10.0.0.0/8")));
        assert!(intersects(&net("10.0.0.0/8"), &net("10.89.0.0/24")));
        assert!(!intersects(&net("10.89.1.0/24"), &net("10.89.0.0/24")));
        assert!(!intersects(&net("fd00::/64"), &net("10.89.0.0/24")));
    }

    #[test]
    fn first_ip_and_normalize() {
        assert_eq!(first_ip(&net("10.88.0.0/16")).to_string(), "10.88.0.1");
        assert_eq!(first_ip(&net("fd00:1::/64")).to_string(), "fd00:1::1");
        assert_eq!(
            normalize("::ffff:10.1.2.3".parse().unwrap()).to_string(),
            "10.1.2.3"
        );
    }
}
