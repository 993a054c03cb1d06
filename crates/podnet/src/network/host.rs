//! What the host already uses: route destinations from `/proc/net/route` and
//! `/proc/net/ipv6_route`, interface names from `/proc/net/dev`. All read
//! from a directory that tests can replace with fixtures.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::IpNet;
use tracing::debug;

use super::error::NetworkError;

/// Reads `dir/name`; a missing file (no IPv6 on the host) reads as empty.
fn read_table(dir: &Path, name: &str) -> Result<String, NetworkError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            debug!(path = %path.display(), "host table missing, treated as empty");
            Ok(String::new())
        }
        Err(source) => Err(NetworkError::ReadHost { path, source }),
    }
}

/// Destinations of every non-default route of the host, both families.
pub(crate) fn route_subnets(dir: &Path) -> Result<Vec<IpNet>, NetworkError> {
    let mut out = parse_route(&read_table(dir, "route")?);
    out.extend(parse_ipv6_route(&read_table(dir, "ipv6_route")?));
    Ok(out)
}

/// Names of the host's interfaces.
pub(crate) fn interface_names(dir: &Path) -> Result<Vec<String>, NetworkError> {
    Ok(parse_dev(&read_table(dir, "dev")?))
}

/// `/proc/net/route`: hex fields in the kernel's native byte order; lines
/// that do not parse are skipped.
pub(crate) fn parse_route(text: &str) -> Vec<IpNet> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let (Ok(dst), Ok(mask)) = (u32::from_str_radix(f[1], 16), u32::from_str_radix(f[7], 16))
        else {
            continue;
        };
        let dst = Ipv4Addr::from(dst.to_ne_bytes());
        let mask = Ipv4Addr::from(mask.to_ne_bytes());
        let Ok(prefix) = ipnet::ipv4_mask_to_prefix(mask) else {
            continue;
        };
        if prefix == 0 {
            continue; // a default route covers everything; podman ignores it too
        }
        if let Ok(n) = IpNet::new(IpAddr::V4(dst), prefix) {
            out.push(n.trunc());
        }
    }
    out
}

/// `/proc/net/ipv6_route`: destination as 32 hex digits in network order,
/// prefix length in hex.
pub(crate) fn parse_ipv6_route(text: &str) -> Vec<IpNet> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 2 {
            continue;
        }
        let (Ok(dst), Ok(prefix)) = (u128::from_str_radix(f[0], 16), u8::from_str_radix(f[1], 16))
        else {
            continue;
        };
        if prefix == 0 {
            continue;
        }
        if let Ok(n) = IpNet::new(IpAddr::V6(Ipv6Addr::from(dst)), prefix) {
            out.push(n.trunc());
        }
    }
    out
}

/// `/proc/net/dev`: two header lines, then `name: counters...`.
pub(crate) fn parse_dev(text: &str) -> Vec<String> {
    text.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_routes_native_order_default_skipped() {
        // Captured from a little-endian host.
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
podman1\t0000590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let got = parse_route(text);
        if cfg!(target_endian = "little") {
            assert_eq!(
                got,
                vec![
                    "192.168.0.0/24".parse::<IpNet>().unwrap(),
                    "10.89.0.0/24".parse().unwrap()
                ]
            );
        }
    }

    #[test]
    fn ipv6_routes() {
        let text = "fd44ced26e1136720000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001  podman2\n\
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n\
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo\n";
        assert_eq!(
            parse_ipv6_route(text),
            vec![
                "fd44:ced2:6e11:3672::/64".parse::<IpNet>().unwrap(),
                "::1/128".parse().unwrap()
            ]
        );
    }

    #[test]
    fn dev_names() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\npodman1: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        assert_eq!(parse_dev(text), vec!["lo", "eth0", "podman1"]);
    }
}
