//! Reload of a container on three networks, rootful: the real netavark in a throwaway host
//! namespace, whose uplink leads to a second throwaway namespace standing for the outside
//! world (it has no route back to any container subnet, so only netavark's masquerade
//! lets a reply come back). The container pings the outside through each of its three
//! interfaces and serves a published port; a flush of the host's whole firewall (iptables,
//! ip6tables, nftables) breaks all four, and `reload` restores all four: once through the
//! library (`Runtime::reload`), once through `podnet reload`. Subnets and the port are
//! chosen free at run time. Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;

use std::net::IpAddr;
use std::process::Command;
use std::sync::Arc;

use flows_support::Host;
use ipnet::IpNet;
use paths_support::{
    assert_clean, can_run, fetch_tcp, first_host, flush_firewall, kernel_addresses, listen_tcp,
    nth_host, ping_once, stop_listener, uplink,
};
use podnet::{Netavark, Runtime, RuntimeConfig};

const NETWORKS: [&str; 3] = ["pntrm1", "pntrm2", "pntrm3"];

/// A throwaway namespace beyond the host's uplink, removed on drop.
struct Outside(String);

impl Outside {
    fn new() -> Self {
        let name = format!("pntout-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        flows_support::sh(&["ip", "netns", "add", &name]);
        flows_support::sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Outside(name)
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

/// The library's runtime on the same `--root` as the CLI, running netavark in the fake host.
fn library_runtime(host: &Host) -> Runtime<Netavark> {
    let fake_host = Arc::new(netns::NetNs::open(host.netns_path()).unwrap());
    let backend = Netavark::new(host.root.path().join("netavark"))
        .unwrap()
        .host_netns(fake_host);
    Runtime::new(RuntimeConfig::under(host.root.path()), backend).unwrap()
}

/// Which of the four paths work now: a ping to the outside through eth0, eth1 and eth2,
/// and a TCP connection from the host to the published port.
fn paths(host: &Host, outside: IpAddr, port: u16) -> [bool; 4] {
    let target = outside.to_string();
    let ping = |iface: &str| ping_once(host, "r", &["-I", iface], &target).0;
    let mut listener = listen_tcp(host, "r", 8080, "published");
    let port_ok = match fetch_tcp(host, IpAddr::from([127, 0, 0, 1]), port) {
        Some(text) => {
            assert_eq!(text, "published");
            let _ = listener.wait();
            true
        }
        None => {
            stop_listener(listener);
            false
        }
    };
    [ping("eth0"), ping("eth1"), ping("eth2"), port_ok]
}

/// The nat rules of the fake host, sorted (iptables-save prints no counters without -c).
fn nat_rules(host: &Host) -> Vec<String> {
    let mut rules: Vec<String> = host
        .sh(&["iptables-save", "-t", "nat"])
        .lines()
        .filter(|l| l.starts_with('-'))
        .map(String::from)
        .collect();
    rules.sort();
    rules
}

#[test]
fn reload_restores_three_networks_and_a_published_port_after_a_firewall_flush() {
    if !can_run("reload_restores_three_networks_and_a_published_port_after_a_firewall_flush") {
        return;
    }
    let host = Host::new();
    let outside = Outside::new();
    let link_net = IpNet::V4(testkit::free_subnet_v4());
    let host_side = first_host(link_net);
    let outside_addr = nth_host(link_net, 2);
    uplink(&host, "pntup0", "pntup1", &[host_side]);
    host.sh(&["ip", "link", "set", "pntup1", "netns", &outside.0]);
    let in_outside = |args: &[&str]| {
        let mut all = vec!["ip", "-n", &outside.0];
        all.extend_from_slice(args);
        flows_support::sh(&all)
    };
    in_outside(&["addr", "add", &outside_addr.to_string(), "dev", "pntup1"]);
    in_outside(&["link", "set", "pntup1", "up"]);

    let subnets: Vec<IpNet> = NETWORKS
        .iter()
        .map(|_| IpNet::V4(testkit::free_subnet_v4()))
        .collect();
    for (name, subnet) in NETWORKS.iter().zip(&subnets) {
        host.podnet(&["network", "create", "--subnet", &subnet.to_string(), name]);
    }
    let port = testkit::free_port(testkit::Protocol::Tcp);
    let mut create = vec!["create", "r"];
    for name in NETWORKS {
        create.extend(["--network", name]);
    }
    let publish = format!("{port}:8080");
    create.extend(["-p", &publish]);
    host.podnet(&create);
    let started = host.start_json("r");
    let netns = std::path::PathBuf::from(started["NetNS"].as_str().unwrap());
    for (i, subnet) in subnets.iter().enumerate() {
        let addrs = kernel_addresses(&host, &netns, &format!("eth{i}"));
        assert!(
            addrs.len() == 1 && subnet.contains(&addrs[0].addr()),
            "eth{i}: {addrs:?} not in {subnet}"
        );
    }

    let all_work = [true; 4];
    let none_work = [false; 4];
    assert_eq!(
        paths(&host, outside_addr.addr(), port),
        all_work,
        "before any flush"
    );
    let rules_before = nat_rules(&host);

    flush_firewall(&host);
    assert_eq!(
        paths(&host, outside_addr.addr(), port),
        none_work,
        "the flush left a path working, so it proves nothing"
    );
    let reloaded = library_runtime(&host).reload("r").unwrap();
    assert!(reloaded.running);
    assert_eq!(
        reloaded.networks.keys().collect::<Vec<_>>(),
        NETWORKS.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        paths(&host, outside_addr.addr(), port),
        all_work,
        "after Runtime::reload"
    );
    assert_eq!(nat_rules(&host), rules_before, "Runtime::reload");

    flush_firewall(&host);
    assert_eq!(
        paths(&host, outside_addr.addr(), port),
        none_work,
        "after the second flush"
    );
    let reloaded = host.podnet_json(&["reload", "--all"]);
    assert_eq!(reloaded.as_array().map(Vec::len), Some(1), "{reloaded}");
    assert_eq!(reloaded[0]["Addresses"], started["Addresses"]);
    assert_eq!(
        paths(&host, outside_addr.addr(), port),
        all_work,
        "after podnet reload"
    );
    assert_eq!(nat_rules(&host), rules_before, "podnet reload");
    // a reload without a flush changes nothing and duplicates nothing
    host.podnet(&["reload", "r"]);
    assert_eq!(nat_rules(&host), rules_before, "a second reload");
    assert_eq!(
        paths(&host, outside_addr.addr(), port),
        all_work,
        "after a second reload"
    );

    host.podnet(&["rm", "-f", "r"]);
    let mut rm = vec!["network", "rm"];
    rm.extend(NETWORKS);
    host.podnet(&rm);
    let needles: Vec<String> = subnets
        .iter()
        .map(|s| s.trunc().addr().to_string())
        .chain([format!("dport {port}")])
        .collect();
    assert_clean(&host, &["pntup0"], &needles);
}
