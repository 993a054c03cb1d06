//! Byte-compatibility with real podman 4.3: run a few busybox containers, read the
//! hosts and resolv.conf podman wrote for them, and compare with what this crate writes
//! for the same inputs. podman is a throwaway peer (`testkit::Podman`: its own storage,
//! network directory and configuration) in a throwaway netns standing for the host, so the
//! host's podman state, interfaces and firewall are untouched. Needs root, podman and the
//! busybox rootfs `cargo xtask setup` builds.
//!
//! The one accepted difference: podman 4.3 names the host.containers.internal address
//! only `host.containers.internal`; current containers/common (which this crate follows)
//! adds `host.docker.internal` on that line, so that name is removed before comparing.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::process::Command;

use etchosts::{hosts, resolvconf, HostEntry};

/// Says why the test cannot run (the one skip path: a failure under `cargo xtask ci`).
fn skip(reason: &str) {
    testkit::skip("hosts_and_resolv_conf_match_podman", reason);
}

/// A throwaway netns standing for the host: `lo` up and a veth with a global
/// address (what podman names `host.containers.internal`); deleted on drop.
struct FakeHost {
    name: String,
    addr: std::net::Ipv4Addr,
}

impl FakeHost {
    fn new() -> Self {
        let name = format!("pntetc-{}", std::process::id());
        let net = testkit::free_subnet_v4();
        let addr = std::net::Ipv4Addr::from(u32::from(net.network()) + 1);
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        let host = FakeHost { name, addr };
        host.ip(&["netns", "add", &host.name]);
        host.ip(&["-n", &host.name, "link", "set", "lo", "up"]);
        // a veth pair inside it (the dummy module may be missing; veth is there for netavark)
        let n = host.name.clone();
        host.ip(&[
            "-n", &n, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
        ]);
        host.ip(&[
            "-n",
            &n,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "eth0",
        ]);
        host.ip(&["-n", &n, "link", "set", "eth0", "up"]);
        host.ip(&["-n", &n, "link", "set", "eth1", "up"]);
        host
    }

    fn ip(&self, args: &[&str]) {
        let out = Command::new("ip").args(args).output().unwrap();
        assert!(out.status.success(), "ip {args:?}: {out:?}");
    }

    fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }
}

impl Drop for FakeHost {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A throwaway podman in `host` with the busybox image; `Err` says why it cannot be had.
fn podman_peer(host: &FakeHost) -> Result<testkit::Podman, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root (rootful podman)".into());
    }
    if testkit::require_binary("hosts_and_resolv_conf_match_podman", "podman").is_none() {
        return Err("podman is not installed".into());
    }
    let podman = testkit::Podman::new().in_netns(host.path());
    podman.import_busybox()?;
    Ok(podman)
}

/// Runs a container printing its hosts, resolv.conf, routes and eth0 address.
fn run(podman: &testkit::Podman, args: &[&str]) -> Vec<String> {
    let script = "cat /etc/hosts; echo '@@'; cat /etc/resolv.conf 2>/dev/null; echo '@@'; ip route; echo '@@'; ip -o -4 addr show eth0 2>/dev/null; true";
    let mut all = vec!["run", "--rm"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["localhost/busybox", "sh", "-c", script]);
    let text = podman.run(&all);
    text.split("@@\n").map(str::to_string).collect()
}

fn ours_hosts(params: &hosts::HostsParams) -> String {
    hosts::new(params).unwrap();
    let got = std::fs::read_to_string(&params.target_file).unwrap();
    got.replace(
        "\thost.containers.internal host.docker.internal\n",
        "\thost.containers.internal\n",
    )
}

fn word_after<'a>(text: &'a str, key: &str) -> &'a str {
    let at = text.find(key).unwrap() + key.len();
    text[at..].split(['/', ' ', '\n']).next().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn hosts_and_resolv_conf_match_podman() {
    // podman's fake host outlives its podman (dropped first)
    let fake_host = FakeHost::new();
    let podman = match podman_peer(&fake_host) {
        Ok(p) => p,
        Err(reason) => return skip(&reason),
    };
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let extra = ["a.b:1.2.3.4", "six.example:fd00::9"];

    // 1. --network none: the names go to 127.0.0.1, the host's address is h.c.i.
    let name = format!("pntetc{pid}n");
    let mut args = vec!["--network", "none", "--hostname", "h1", "--name", &name];
    for e in &extra {
        args.extend(["--add-host", e]);
    }
    let out = run(&podman, &args);
    let params = hosts::HostsParams {
        base_file: Some(hosts::DEFAULT_HOSTS_FILE.into()),
        extra_hosts: extra.iter().map(|s| s.to_string()).collect(),
        container_ips: vec![HostEntry::new(ip("127.0.0.1"), ["h1", name.as_str()])],
        host_containers_internal_ip: Some(IpAddr::V4(fake_host.addr)),
        target_file: dir.path().join("hosts-none"),
    };
    assert_eq!(ours_hosts(&params), out[0], "hosts, --network none");

    // 2. default bridge, host DNS servers with an explicit option.
    let name = format!("pntetc{pid}b");
    let mut args = vec![
        "--network",
        "bridge",
        "--hostname",
        "h2",
        "--name",
        &name,
        "--dns-option",
        "ndots:3",
    ];
    for e in &extra {
        args.extend(["--add-host", e]);
    }
    let out = run(&podman, &args);
    let gateway = ip(word_after(&out[2], "default via "));
    let addr = ip(word_after(&out[3], "inet "));
    let params = hosts::HostsParams {
        base_file: Some(hosts::DEFAULT_HOSTS_FILE.into()),
        extra_hosts: extra.iter().map(|s| s.to_string()).collect(),
        container_ips: vec![HostEntry::new(addr, ["h2", name.as_str()])],
        host_containers_internal_ip: Some(gateway),
        target_file: dir.path().join("hosts-bridge"),
    };
    assert_eq!(ours_hosts(&params), out[0], "hosts, --network bridge");
    let mut rp = resolvconf::ResolvParams::new(dir.path().join("resolv-bridge"));
    rp.options = vec!["ndots:3".into()];
    resolvconf::new(&rp).unwrap();
    assert_eq!(
        std::fs::read_to_string(&rp.path).unwrap(),
        out[1],
        "resolv.conf, bridge"
    );

    // 3. bridge with every DNS setting given; `.` clears the search list.
    for search in ["example.com", "."] {
        let out = run(
            &podman,
            &[
                "--network",
                "bridge",
                "--dns",
                "1.2.3.4",
                "--dns",
                "fd00::53",
                "--dns-search",
                search,
                "--dns-option",
                "ndots:3",
                "--dns-option",
                "edns0",
            ],
        );
        let mut rp = resolvconf::ResolvParams::new(dir.path().join("resolv-dns"));
        rp.nameservers = vec![ip("1.2.3.4"), ip("fd00::53")];
        rp.searches = vec![search.into()];
        rp.options = vec!["ndots:3".into(), "edns0".into()];
        resolvconf::new(&rp).unwrap();
        assert_eq!(
            std::fs::read_to_string(&rp.path).unwrap(),
            out[1],
            "resolv.conf, --dns-search {search}"
        );
    }
}
