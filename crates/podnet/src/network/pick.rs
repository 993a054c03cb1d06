//! Picking what `network create` leaves open: a free subnet from the subnet
//! pools (or a random IPv6 ULA /64) and a free `podmanN` device name.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use rand::RngCore;
use tracing::debug;

use super::addr;
use super::error::NetworkError;

/// A pool network create takes subnets from: every `/size` inside `base`, in
/// address order (containers.conf `default_subnet_pools`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubnetPool {
    /// The range to carve subnets out of.
    pub base: IpNet,
    /// Prefix length of each subnet handed out (at least `base`'s).
    pub size: u8,
}

impl SubnetPool {
    /// A pool; `size` is checked when the pool is used.
    pub fn new(base: IpNet, size: u8) -> Self {
        SubnetPool { base, size }
    }

    /// Podman's default pools: 10.89.0.0/24 up to 10.255.255.0/24.
    pub fn podman_defaults() -> Vec<SubnetPool> {
        [
            ("10.89.0.0", 16),
            ("10.90.0.0", 15),
            ("10.92.0.0", 14),
            ("10.96.0.0", 11),
            ("10.128.0.0", 9),
        ]
        .into_iter()
        .filter_map(|(ip, len)| {
            let ip: IpAddr = ip.parse().ok()?;
            Some(SubnetPool::new(IpNet::new(ip, len).ok()?, 24))
        })
        .collect()
    }

    fn subnets(&self) -> Result<ipnet::IpSubnets, NetworkError> {
        self.base
            .trunc()
            .subnets(self.size)
            .map_err(|_| NetworkError::InvalidPool {
                base: self.base,
                size: self.size,
            })
    }
}

/// The first subnet of the pools of the wanted family that intersects none of
/// `used` (podman's `GetFreeIPv4NetworkSubnet`, pools in order).
fn from_pools(
    pools: &[SubnetPool],
    v6: bool,
    used: &[IpNet],
) -> Result<Option<IpNet>, NetworkError> {
    for pool in pools
        .iter()
        .filter(|p| matches!(p.base, IpNet::V6(_)) == v6)
    {
        for candidate in pool.subnets()? {
            if !used.iter().any(|u| addr::intersects(&candidate, u)) {
                debug!(subnet = %candidate, "found free network subnet");
                return Ok(Some(candidate));
            }
        }
    }
    Ok(None)
}

/// A free IPv4 subnet from the pools.
pub(crate) fn free_ipv4_subnet(
    pools: &[SubnetPool],
    used: &[IpNet],
) -> Result<IpNet, NetworkError> {
    from_pools(pools, false, used)?.ok_or(NetworkError::NoFreeSubnet)
}

/// A free IPv6 subnet: from the IPv6 pools when any are configured, else a
/// random `fdXX:XXXX:XXXX:XXXX::/64` (RFC 4193, chosen randomly as podman does).
pub(crate) fn free_ipv6_subnet(
    pools: &[SubnetPool],
    used: &[IpNet],
) -> Result<IpNet, NetworkError> {
    if pools.iter().any(|p| matches!(p.base, IpNet::V6(_))) {
        return from_pools(pools, true, used)?.ok_or(NetworkError::NoFreeSubnet);
    }
    let mut rng = rand::thread_rng();
    for _ in 0..10_000 {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b[..8]);
        b[0] = 0xfd;
        let Ok(candidate) = IpNet::new(IpAddr::V6(Ipv6Addr::from(b)), 64) else {
            continue;
        };
        if !used.iter().any(|u| addr::intersects(&candidate, u)) {
            debug!(subnet = %candidate, "found free ipv6 network subnet");
            return Ok(candidate);
        }
    }
    Err(NetworkError::NoFreeIpv6Subnet)
}

/// The first `podmanN` (N from 1; 0 is the default network's) not in `taken`.
pub(crate) fn free_device_name(taken: &[String]) -> Result<String, NetworkError> {
    free_name("podman", taken)
}

/// The first `<prefix>N` (N from 1) not in `taken`.
pub(crate) fn free_name(prefix: &str, taken: &[String]) -> Result<String, NetworkError> {
    (1..1_000_000u32)
        .map(|i| format!("{prefix}{i}"))
        .find(|n| !taken.iter().any(|t| t == n))
        .ok_or(NetworkError::NoFreeDeviceName)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn first_free_in_default_pools() {
        let pools = SubnetPool::podman_defaults();
        assert_eq!(
            free_ipv4_subnet(&pools, &[]).unwrap().to_string(),
            "10.89.0.0/24"
        );
        let used = nets(&["10.89.0.0/24", "10.89.1.0/25", "10.89.2.7/32"]);
        assert_eq!(
            free_ipv4_subnet(&pools, &used).unwrap().to_string(),
            "10.89.3.0/24"
        );
        // a whole pool used: continue in the next one
        let used = nets(&["10.89.0.0/16"]);
        assert_eq!(
            free_ipv4_subnet(&pools, &used).unwrap().to_string(),
            "10.90.0.0/24"
        );
        // a route covering everything in the pools
        let used = nets(&["10.0.0.0/8"]);
        assert!(matches!(
            free_ipv4_subnet(&pools, &used),
            Err(NetworkError::NoFreeSubnet)
        ));
    }

    #[test]
    fn custom_pools_and_bad_pool() {
        let pools = vec![SubnetPool::new("192.168.100.0/23".parse().unwrap(), 25)];
        let used = nets(&["192.168.100.0/25"]);
        assert_eq!(
            free_ipv4_subnet(&pools, &used).unwrap().to_string(),
            "192.168.100.128/25"
        );
        let bad = vec![SubnetPool::new("10.0.0.0/16".parse().unwrap(), 8)];
        assert!(matches!(
            free_ipv4_subnet(&bad, &[]),
            Err(NetworkError::InvalidPool { .. })
        ));
    }

    #[test]
    fn ipv6_random_ula_or_pool() {
        let s = free_ipv6_subnet(&SubnetPool::podman_defaults(), &[]).unwrap();
        assert_eq!(s.prefix_len(), 64);
        assert!(s.to_string().starts_with("fd"), "{s}");
        let pools = vec![SubnetPool::new("fd10::/48".parse().unwrap(), 64)];
        let used = nets(&["fd10::/64"]);
        assert_eq!(
            free_ipv6_subnet(&pools, &used).unwrap().to_string(),
            "fd10:0:0:1::/64"
        );
    }

    #[test]
    fn device_names_skip_taken() {
        assert_eq!(free_device_name(&[]).unwrap(), "podman1");
        let taken = vec!["podman1".to_string(), "podman2".into(), "eth0".into()];
        assert_eq!(free_device_name(&taken).unwrap(), "podman3");
    }
}
