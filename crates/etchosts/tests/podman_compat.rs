//! Byte-compatibility with real podman 4.3: run a few busybox containers, read the
//! hosts and resolv.conf podman wrote for them, and compare with what this crate writes
//! for the same inputs. Needs root and podman with `localhost/busybox` (set up by
//! /work/shared/tools/podman-peer.sh, which this test runs when the image is missing).
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

fn podman_ready() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root (rootful podman)".into());
    }
    let exists = || {
        Command::new("podman")
            .args(["image", "exists", "localhost/busybox"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if exists() {
        return Ok(());
    }
    Err("podman or its localhost/busybox image is missing: run `cargo xtask setup` as root".into())
}

/// Runs a container printing its hosts, resolv.conf, routes and eth0 address.
fn run(args: &[&str]) -> Vec<String> {
    let script = "cat /etc/hosts; echo '@@'; cat /etc/resolv.conf 2>/dev/null; echo '@@'; ip route; echo '@@'; ip -o -4 addr show eth0 2>/dev/null; true";
    let out = Command::new("podman")
        .args(["run", "--rm"])
        .args(args)
        .args(["localhost/busybox", "sh", "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "podman run {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
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

fn host_ipv4() -> IpAddr {
    let out = Command::new("ip")
        .args(["-o", "-4", "addr", "show", "scope", "global"])
        .output()
        .unwrap();
    word_after(&String::from_utf8(out.stdout).unwrap(), "inet ")
        .parse()
        .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn hosts_and_resolv_conf_match_podman() {
    if let Err(reason) = podman_ready() {
        return skip(&reason);
    }
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let extra = ["a.b:1.2.3.4", "six.example:fd00::9"];

    // 1. --network none: the names go to 127.0.0.1, the host's address is h.c.i.
    let name = format!("pntetc{pid}n");
    let mut args = vec!["--network", "none", "--hostname", "h1", "--name", &name];
    for e in &extra {
        args.extend(["--add-host", e]);
    }
    let podman = run(&args);
    let params = hosts::HostsParams {
        base_file: Some(hosts::DEFAULT_HOSTS_FILE.into()),
        extra_hosts: extra.iter().map(|s| s.to_string()).collect(),
        container_ips: vec![HostEntry::new(ip("127.0.0.1"), ["h1", name.as_str()])],
        host_containers_internal_ip: Some(host_ipv4()),
        target_file: dir.path().join("hosts-none"),
    };
    assert_eq!(ours_hosts(&params), podman[0], "hosts, --network none");

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
    let podman = run(&args);
    let gateway = ip(word_after(&podman[2], "default via "));
    let addr = ip(word_after(&podman[3], "inet "));
    let params = hosts::HostsParams {
        base_file: Some(hosts::DEFAULT_HOSTS_FILE.into()),
        extra_hosts: extra.iter().map(|s| s.to_string()).collect(),
        container_ips: vec![HostEntry::new(addr, ["h2", name.as_str()])],
        host_containers_internal_ip: Some(gateway),
        target_file: dir.path().join("hosts-bridge"),
    };
    assert_eq!(ours_hosts(&params), podman[0], "hosts, --network bridge");
    let mut rp = resolvconf::ResolvParams::new(dir.path().join("resolv-bridge"));
    rp.options = vec!["ndots:3".into()];
    resolvconf::new(&rp).unwrap();
    assert_eq!(
        std::fs::read_to_string(&rp.path).unwrap(),
        podman[1],
        "resolv.conf, bridge"
    );

    // 3. bridge with every DNS setting given; `.` clears the search list.
    for search in ["example.com", "."] {
        let podman = run(&[
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
        ]);
        let mut rp = resolvconf::ResolvParams::new(dir.path().join("resolv-dns"));
        rp.nameservers = vec![ip("1.2.3.4"), ip("fd00::53")];
        rp.searches = vec![search.into()];
        rp.options = vec!["ndots:3".into(), "edns0".into()];
        resolvconf::new(&rp).unwrap();
        assert_eq!(
            std::fs::read_to_string(&rp.path).unwrap(),
            podman[1],
            "resolv.conf, --dns-search {search}"
        );
    }
}
