//! Helpers of the suites that walk the paths the flows suite does not (dual stack, macvlan,
//! UDP publishing, reload of several networks, concurrent CLI flows), on top of the fake
//! host of `flows_support`: commands in containers, packets sent from the fake host, code
//! run inside a namespace, and the check that a test left nothing behind.
#![allow(
    dead_code,
    reason = "each suite is its own binary and uses a subset of the helpers"
)]
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ipnet::IpNet;

use crate::flows_support::{Host, PODNET};

/// What the rootful suites need on this machine; skips `test` (through testkit) when a
/// piece is missing.
pub fn can_run(test: &str) -> bool {
    testkit::require_root(test)
        && [
            "netavark",
            "aardvark-dns",
            "nsenter",
            "busybox",
            "iptables-save",
            "ip6tables-save",
            "nft",
        ]
        .iter()
        .all(|binary| testkit::require_binary(test, binary).is_some())
}

/// A fake host with a veth pair `parent`/`peer`, both up: `parent` stands for the host's
/// own interface under a macvlan or ipvlan network (the kernel here has no `dummy` driver),
/// `peer` keeps it up.
pub fn host_with_parent(parent: &str, peer: &str) -> Host {
    let host = Host::new();
    host.sh(&[
        "ip", "link", "add", parent, "type", "veth", "peer", "name", peer,
    ]);
    for link in [parent, peer] {
        host.sh(&["ip", "link", "set", link, "up"]);
    }
    host
}

/// Runs `f` on a throwaway thread inside the network namespace pinned at `netns`.
pub fn in_netns<T: Send>(netns: &Path, f: impl FnOnce() -> T + Send) -> T {
    netns::NetNs::open(netns).unwrap().run_in(f).unwrap()
}

/// `podnet exec CONTAINER -- cmd...`, whatever its exit status.
pub fn exec(host: &Host, container: &str, cmd: &[&str]) -> Output {
    let mut args = vec!["exec", container, "--"];
    args.extend_from_slice(cmd);
    host.podnet_out(&args)
}

/// `podnet exec CONTAINER -- cmd...` that must succeed; returns stdout.
pub fn exec_ok(host: &Host, container: &str, cmd: &[&str]) -> String {
    let out = exec(host, container, cmd);
    assert!(
        out.status.success(),
        "{container}: {cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One `busybox ping -c 1` from `container` with extra `flags`; stdout and stderr, and
/// whether a reply came back.
pub fn ping_once(host: &Host, container: &str, flags: &[&str], target: &str) -> (bool, String) {
    let mut cmd = vec!["busybox", "ping", "-c", "1", "-W", "2"];
    cmd.extend_from_slice(flags);
    cmd.push(target);
    let out = exec(host, container, &cmd);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (
        out.status.success() && text.contains("1 packets received"),
        text,
    )
}

/// Pings `target` (a name) from `container`, which must answer; returns ping's output.
/// Three tries: a bridge made by podman's netavark 1.4 (which does not pin its address)
/// changes address when a container with a lower veth address joins, and the others lose
/// their gateway for seconds (podnet pins the bridges it makes).
pub fn ping_name(host: &Host, container: &str, flags: &[&str], target: &str) -> String {
    let mut last = String::new();
    for _ in 0..3 {
        let (ok, text) = ping_once(host, container, flags, target);
        if ok {
            return text;
        }
        last = text;
    }
    panic!("{container} cannot ping {target} {flags:?}: {last}");
}

/// The address ping printed for the name it resolved: `PING name (ADDR): ...`.
pub fn pinged_address(ping_output: &str) -> IpAddr {
    let line = ping_output
        .lines()
        .find(|l| l.starts_with("PING "))
        .unwrap_or_else(|| panic!("no PING line in {ping_output}"));
    let inner = line
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(addr, _)| addr)
        .unwrap_or_else(|| panic!("no address in {line}"));
    inner.parse().unwrap()
}

/// Starts `busybox nc -l -p PORT -e echo TEXT` in the container (one connection) and
/// waits until it listens.
pub fn listen_tcp(host: &Host, container: &str, port: u16, text: &str) -> Child {
    let mut podnet = host.command(PODNET);
    podnet.arg("--root").arg(host.root.path());
    serve_once(podnet, container, port, text, || {
        String::from_utf8_lossy(&exec(host, container, &["busybox", "netstat", "-ltn"]).stdout)
            .into_owned()
    })
}

/// Spawns `PODNET exec CONTAINER -- busybox nc -l -p PORT -e echo TEXT` (`podnet` is the
/// podnet command with its global options) and waits until `netstat` (the container's
/// `netstat -ltn`) shows the port listening.
pub fn serve_once(
    mut podnet: Command,
    container: &str,
    port: u16,
    text: &str,
    netstat: impl Fn() -> String,
) -> Child {
    let port_text = port.to_string();
    let mut child = podnet
        .args([
            "exec", container, "--", "busybox", "nc", "-l", "-p", &port_text, "-e", "echo", text,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if netstat().contains(&format!(":{port} ")) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no listener on port {port} in {container}");
}

/// Stops a listener that no client reached (a check that expected no connection).
pub fn stop_listener(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A TCP client in the fake host: what it read from `ip:port`, or None when it could not
/// connect or read nothing.
pub fn fetch_tcp(host: &Host, ip: IpAddr, port: u16) -> Option<String> {
    let out = host.run(&[
        "busybox",
        "nc",
        "-w",
        "2",
        &ip.to_string(),
        &port.to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Leases in podnet's database.
pub fn leases(host: &Host) -> Vec<podnet::Lease> {
    podnet::StateStore::open(host.state_db())
        .unwrap()
        .list_leases()
        .unwrap()
}

/// A veth pair `name`/`peer` in the fake host, both up, `addrs` on `name`: the host's own
/// uplink, a host-side address that is not loopback.
pub fn uplink(host: &Host, name: &str, peer: &str, addrs: &[IpNet]) {
    host.sh(&[
        "ip", "link", "add", name, "type", "veth", "peer", "name", peer,
    ]);
    for link in [name, peer] {
        host.sh(&["ip", "link", "set", link, "up"]);
    }
    for addr in addrs {
        let text = addr.to_string();
        let mut cmd = vec!["ip", "addr", "add", &text, "dev", name];
        if addr.addr().is_ipv6() {
            // usable at once, without waiting for duplicate address detection
            cmd.push("nodad");
        }
        host.sh(&cmd);
    }
}

/// The address `n` after `net`'s network address (`.1` / `::1` for 1), with `net`'s
/// prefix. (ipnet's `hosts()` starts an IPv6 net at the network address itself.)
pub fn nth_host(net: IpNet, n: u8) -> IpNet {
    let addr: IpAddr = match net.network() {
        IpAddr::V4(a) => (u32::from(a) + u32::from(n)).to_be_bytes().into(),
        IpAddr::V6(a) => (u128::from(a) + u128::from(n)).to_be_bytes().into(),
    };
    assert!(net.contains(&addr), "{net} has no host {n}");
    IpNet::new(addr, net.prefix_len()).unwrap()
}

/// The first host address of `net` (`.1` / `::1`), where podman puts the gateway.
pub fn first_host(net: IpNet) -> IpNet {
    nth_host(net, 1)
}

/// Addresses (with prefix) of `interface` in the network namespace at `netns`, as the
/// kernel reports them, global scope only.
pub fn kernel_addresses(host: &Host, netns: &Path, interface: &str) -> Vec<IpNet> {
    parse_ip_addr(&host.sh(&[
        "nsenter",
        &format!("--net={}", netns.display()),
        "ip",
        "-o",
        "addr",
        "show",
        "dev",
        interface,
        "scope",
        "global",
    ]))
}

/// The addresses in `ip -o addr` output.
pub fn parse_ip_addr(text: &str) -> Vec<IpNet> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == "inet" || *w == "inet6")?;
            words.next()?.parse().ok()
        })
        .collect()
}

/// Interface names in the network namespace at `netns`.
pub fn kernel_links(host: &Host, netns: &Path) -> Vec<String> {
    host.sh(&[
        "nsenter",
        &format!("--net={}", netns.display()),
        "ip",
        "-o",
        "link",
        "show",
    ])
    .lines()
    .filter_map(|l| l.split(": ").nth(1))
    .map(|n| n.split('@').next().unwrap_or(n).to_string())
    .collect()
}

/// Flushes every firewall rule of the fake host: iptables and ip6tables (filter and nat),
/// then the whole nftables ruleset, as a firewall reload on a real host would.
pub fn flush_firewall(host: &Host) {
    for tool in ["iptables", "ip6tables"] {
        host.sh(&[tool, "-F"]);
        host.sh(&[tool, "-t", "nat", "-F"]);
    }
    host.sh(&["nft", "flush", "ruleset"]);
}

/// Nothing of podnet's is left in the fake host: only `lo` and `keep_links` as interfaces,
/// no firewall rule (iptables, ip6tables, nftables) mentioning any of `needles`, no netns
/// pin, no lease, no record.
pub fn assert_clean(host: &Host, keep_links: &[&str], needles: &[String]) {
    let mut links = host.links();
    links.sort();
    let mut expected: Vec<String> = std::iter::once("lo")
        .chain(keep_links.iter().copied())
        .map(String::from)
        .collect();
    expected.sort();
    assert_eq!(links, expected, "interfaces left in the fake host");
    for needle in needles {
        let left = in_netns(&host.netns_path(), || testkit::firewall_leftovers(needle));
        assert!(
            left.is_empty(),
            "firewall rules left for {needle}: {left:#?}"
        );
    }
    assert!(host.pins().is_empty(), "pins left: {:?}", host.pins());
    let leases = leases(host);
    assert!(leases.is_empty(), "leases left: {leases:?}");
    let ps = host.podnet_json(&["ps", "--format", "json"]);
    assert_eq!(ps, serde_json::json!([]), "records left");
}
