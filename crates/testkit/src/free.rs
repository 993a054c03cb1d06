//! Subnets and ports chosen at run time, free on this host and unique in this process, so a
//! suite never collides with a user's networks or with another test of the same run.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use portmap::Protocol;
use rand::Rng;

/// Subnets and ports handed out by this process.
static TAKEN_NETS: Mutex<Vec<IpNet>> = Mutex::new(Vec::new());
static TAKEN_PORTS: Mutex<Option<HashSet<(Protocol, u16)>>> = Mutex::new(None);

/// How many random picks before giving up: the space is large, so failing means the host's
/// routes cover it.
const ATTEMPTS: usize = 1000;

/// A random /24 inside 10.128.0.0/9 that overlaps no route of this netns or of the initial
/// netns (every table), no network file podman or podnet has (system and this user's), and
/// no subnet this process handed out before.
pub fn free_subnet_v4() -> Ipv4Net {
    let used = used_nets();
    let mut rng = rand::thread_rng();
    for _ in 0..ATTEMPTS {
        let [b, c]: [u8; 2] = [rng.gen_range(128..=255), rng.gen()];
        let net = IpNet::V4(Ipv4Net::new(Ipv4Addr::new(10, b, c, 0), 24).expect("24 <= 32"));
        if let Some(v4) = claim(net, &used) {
            return v4.into_v4();
        }
    }
    panic!("no free /24 in 10.128.0.0/9: the host's routes or networks cover it");
}

/// A random unique-local `fdXX:XXXX:XXXX:XXXX::/64`, free in the same sense as
/// [`free_subnet_v4`].
pub fn free_subnet_v6() -> Ipv6Net {
    let used = used_nets();
    let mut rng = rand::thread_rng();
    for _ in 0..ATTEMPTS {
        let seg: [u16; 3] = rng.gen();
        let first = 0xfd00 | u16::from(rng.gen::<u8>());
        let addr = Ipv6Addr::new(first, seg[0], seg[1], seg[2], 0, 0, 0, 0);
        let net = IpNet::V6(Ipv6Net::new(addr, 64).expect("64 <= 128"));
        if let Some(v6) = claim(net, &used) {
            return v6.into_v6();
        }
    }
    panic!("no free /64 in fd00::/8: the host's routes or networks cover it");
}

trait IntoFamily {
    fn into_v4(self) -> Ipv4Net;
    fn into_v6(self) -> Ipv6Net;
}

impl IntoFamily for IpNet {
    fn into_v4(self) -> Ipv4Net {
        match self {
            IpNet::V4(n) => n,
            IpNet::V6(n) => unreachable!("{n} was made as IPv4"),
        }
    }
    fn into_v6(self) -> Ipv6Net {
        match self {
            IpNet::V6(n) => n,
            IpNet::V4(n) => unreachable!("{n} was made as IPv6"),
        }
    }
}

/// Records `net` as taken when it overlaps nothing in `used` or in this process's list.
fn claim(net: IpNet, used: &[IpNet]) -> Option<IpNet> {
    let mut taken = TAKEN_NETS.lock().unwrap_or_else(|p| p.into_inner());
    if used.iter().chain(taken.iter()).any(|u| overlaps(*u, net)) {
        return None;
    }
    taken.push(net);
    Some(net)
}

fn overlaps(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Every subnet in use: routes (a default route excepted) and network files.
fn used_nets() -> Vec<IpNet> {
    let mut nets = Vec::new();
    for proc_dir in ["/proc/1/net", "/proc/self/net"] {
        if let Ok(text) = std::fs::read_to_string(format!("{proc_dir}/route")) {
            nets.extend(parse_proc_route(&text).into_iter().map(IpNet::V4));
        }
        if let Ok(text) = std::fs::read_to_string(format!("{proc_dir}/ipv6_route")) {
            nets.extend(parse_proc_ipv6_route(&text).into_iter().map(IpNet::V6));
        }
    }
    // /proc/net/route shows the main table only; ip shows every table of this netns
    if let Ok(out) = Command::new("ip")
        .args(["-4", "-o", "route", "show", "table", "all"])
        .output()
    {
        nets.extend(parse_ip_route(&String::from_utf8_lossy(&out.stdout)));
    }
    let mut dirs = vec![Path::new("/etc/containers/networks").to_path_buf()];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".local/share/containers/storage/networks"));
    }
    for dir in dirs {
        nets.extend(network_file_subnets(&dir));
    }
    nets.retain(|n| n.prefix_len() > 0);
    nets
}

/// `Destination` and `Mask` columns of `/proc/net/route` (hex, in host byte order).
fn parse_proc_route(text: &str) -> Vec<Ipv4Net> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            let dest = Ipv4Addr::from(u32::from_be(dest));
            let mask = Ipv4Addr::from(u32::from_be(mask));
            Ipv4Net::with_netmask(dest, mask).ok()
        })
        .collect()
}

/// Destination and prefix length, the first two columns of `/proc/net/ipv6_route`.
fn parse_proc_ipv6_route(text: &str) -> Vec<Ipv6Net> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u128::from_str_radix(f.first()?, 16).ok()?;
            let len = u8::from_str_radix(f.get(1)?, 16).ok()?;
            Ipv6Net::new(Ipv6Addr::from(dest), len).ok()
        })
        .collect()
}

/// The destination of each `ip -o route` line: the first word that is a prefix or address
/// (a route type such as `local` or `broadcast` may come before it).
fn parse_ip_route(text: &str) -> Vec<IpNet> {
    text.lines()
        .filter_map(|l| {
            l.split_whitespace().take(2).find_map(|w| {
                w.parse::<IpNet>()
                    .ok()
                    .or_else(|| w.parse::<std::net::IpAddr>().ok().map(IpNet::from))
            })
        })
        .collect()
}

/// Every `"subnet"` string in the JSON files of a podman network directory.
fn network_file_subnets(dir: &Path) -> Vec<IpNet> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut nets = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            collect_subnets(&value, &mut nets);
        }
    }
    nets
}

fn collect_subnets(value: &serde_json::Value, out: &mut Vec<IpNet>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match v.as_str().and_then(|s| s.parse().ok()) {
                    Some(net) if key == "subnet" => out.push(net),
                    _ => collect_subnets(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_subnets(v, out)),
        _ => {}
    }
}

/// A port on 127.0.0.1 that was free for `proto` in the current netns a moment ago (bound,
/// then released) and was not handed out before in this process. SCTP ports are checked
/// as free for both TCP and UDP.
pub fn free_port(proto: Protocol) -> u16 {
    for _ in 0..ATTEMPTS {
        let port = match proto {
            Protocol::Tcp => tcp_port(),
            Protocol::Udp => udp_port(),
            Protocol::Sctp => tcp_port().filter(|p| UdpSocket::bind((LOCAL, *p)).is_ok()),
        };
        let Some(port) = port else { continue };
        let mut taken = TAKEN_PORTS.lock().unwrap_or_else(|p| p.into_inner());
        if taken.get_or_insert_with(HashSet::new).insert((proto, port)) {
            return port;
        }
    }
    panic!("no free {proto:?} port on 127.0.0.1 in this netns");
}

const LOCAL: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn tcp_port() -> Option<u16> {
    TcpListener::bind((LOCAL, 0))
        .and_then(|l| l.local_addr())
        .ok()
        .map(|a| a.port())
}

fn udp_port() -> Option<u16> {
    UdpSocket::bind((LOCAL, 0))
        .and_then(|s| s.local_addr())
        .ok()
        .map(|a| a.port())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn proc_route_columns_are_host_order_hex() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                    eth0\t0000810A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(
            parse_proc_route(text),
            vec!["10.129.0.0/24".parse().unwrap()]
        );
    }

    #[test]
    fn ipv6_route_lines_give_prefixes() {
        let text = "fd123456789a00010000000000000000 40 00000000000000000000000000000000 00 \
                    00000000000000000000000000000000 00000100 00000001 00000000 00000001 br0\n";
        assert_eq!(
            parse_proc_ipv6_route(text),
            vec!["fd12:3456:789a:1::/64".parse().unwrap()]
        );
    }

    #[test]
    fn ip_route_lines_skip_the_route_type() {
        let text = "local 10.200.0.1 dev lo table local proto kernel scope host src 10.200.0.1\n\
                    10.131.7.0/24 dev br0 proto kernel scope link src 10.131.7.1\n\
                    default via 10.0.2.2 dev eth0\n";
        let nets = parse_ip_route(text);
        assert_eq!(
            nets,
            vec![
                "10.200.0.1/32".parse().unwrap(),
                "10.131.7.0/24".parse().unwrap()
            ]
        );
    }

    #[test]
    fn subnets_differ_from_each_other_and_from_routes() {
        let a = free_subnet_v4();
        let b = free_subnet_v4();
        assert!(!overlaps(IpNet::V4(a), IpNet::V4(b)));
        assert_eq!(a.prefix_len(), 24);
        let used = used_nets();
        assert!(used.iter().all(|u| !overlaps(*u, IpNet::V4(a))));
        let v6 = free_subnet_v6();
        assert_eq!((v6.prefix_len(), v6.addr().segments()[0] >> 8), (64, 0xfd));
    }

    #[test]
    fn network_files_count_as_used() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"name":"n","subnets":[{"subnet":"10.140.3.0/24","gateway":"10.140.3.1"}]}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        collect_subnets(&v, &mut out);
        assert_eq!(out, vec!["10.140.3.0/24".parse::<IpNet>().unwrap()]);
    }

    #[test]
    fn a_free_port_can_be_bound_and_is_not_handed_out_twice() {
        let a = free_port(Protocol::Tcp);
        let b = free_port(Protocol::Tcp);
        assert_ne!(a, b);
        TcpListener::bind((LOCAL, a)).unwrap();
        UdpSocket::bind((LOCAL, free_port(Protocol::Udp))).unwrap();
    }
}
