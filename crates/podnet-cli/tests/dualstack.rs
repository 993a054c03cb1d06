//! A dual-stack network end to end, rootful: the real `podnet` binary, netavark and
//! aardvark-dns in a throwaway host namespace. Two containers get an IPv4 and an IPv6
//! address each, one pings the other over IPv6 by name (aardvark-dns answers the AAAA
//! query), and a TCP client in the host reaches a published port over IPv6 at the host's
//! own (non-loopback) address. Subnets and ports are chosen free at run time. Needs root.
//!
//! Why not `-p [::1]:PORT:80`: netavark 1.4 writes the DNAT rule for `::1`, but the kernel
//! never routes a packet from or to `::1` off the loopback device (IPv6 has no
//! `route_localnet`), so such a port cannot be reached; the host-side address is what a
//! client on the host uses.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;

use std::net::IpAddr;

use flows_support::Host;
use ipnet::IpNet;
use paths_support::{
    assert_clean, can_run, exec_ok, fetch_tcp, first_host, kernel_addresses, listen_tcp, ping_name,
    pinged_address, uplink,
};

/// The container's addresses on `eth0` as the kernel has them: (IPv4, IPv6).
fn addresses(host: &Host, container: &str) -> (IpNet, IpNet) {
    let record = host.podnet_json(&["inspect", container]);
    let netns = record[0]["NetworkSettings"]["SandboxKey"].as_str().unwrap();
    let addrs = kernel_addresses(host, std::path::Path::new(netns), "eth0");
    let v4 = addrs.iter().find(|a| a.addr().is_ipv4()).copied();
    let v6 = addrs.iter().find(|a| a.addr().is_ipv6()).copied();
    (
        v4.unwrap_or_else(|| panic!("{container}: no IPv4 address: {addrs:?}")),
        v6.unwrap_or_else(|| panic!("{container}: no IPv6 address: {addrs:?}")),
    )
}

#[test]
fn dual_stack_ping_by_name_over_ipv6_and_an_ipv6_published_port() {
    if !can_run("dual_stack_ping_by_name_over_ipv6_and_an_ipv6_published_port") {
        return;
    }
    let host = Host::new();
    let v4 = IpNet::V4(testkit::free_subnet_v4());
    let v6 = IpNet::V6(testkit::free_subnet_v6());
    let host_side = first_host(IpNet::V6(testkit::free_subnet_v6()));
    uplink(&host, "pntup0", "pntup1", &[host_side]);
    let port = testkit::free_port(testkit::Protocol::Tcp);

    host.podnet(&[
        "network",
        "create",
        "--subnet",
        &v4.to_string(),
        "--subnet",
        &v6.to_string(),
        "pntds",
    ]);
    let net = host.podnet_json(&["network", "inspect", "pntds"])[0].clone();
    assert_eq!(net["ipv6_enabled"], true, "{net}");
    let a = host.create_json(&["a", "--network", "pntds", "-p", &format!("{port}:8080")]);
    host.podnet(&["create", "b", "--network", "pntds"]);
    host.podnet(&["start", "a"]);
    host.podnet(&["start", "b"]);

    let (a4, a6) = addresses(&host, "a");
    let (b4, b6) = addresses(&host, "b");
    assert!(
        v4.contains(&a4.addr()) && v4.contains(&b4.addr()),
        "{a4} {b4}"
    );
    assert!(
        v6.contains(&a6.addr()) && v6.contains(&b6.addr()),
        "{a6} {b6}"
    );
    assert_ne!(a6.addr(), b6.addr());

    // by name, over IPv6: the AAAA answer is a's IPv6 address, and a answers
    let ping = ping_name(&host, "b", &["-6"], "a");
    assert_eq!(pinged_address(&ping), a6.addr(), "{ping}");
    let short_id = &a["Id"].as_str().unwrap()[..12];
    let ping = ping_name(&host, "b", &["-6"], short_id);
    assert_eq!(pinged_address(&ping), a6.addr(), "{ping}");
    // and the other way round
    let ping = ping_name(&host, "a", &["-6"], "b");
    assert_eq!(pinged_address(&ping), b6.addr(), "{ping}");
    // both families are in the hosts file and in resolv.conf (aardvark on both gateways)
    let hosts = exec_ok(&host, "b", &["cat", "/etc/hosts"]);
    for addr in [b4.addr(), b6.addr()] {
        assert!(hosts.contains(&format!("{addr}\t")), "{addr}: {hosts}");
    }
    let resolv = exec_ok(&host, "b", &["cat", "/etc/resolv.conf"]);
    let v6_gateway = first_host(v6).addr();
    assert!(
        resolv.contains(&format!("nameserver {v6_gateway}\n")),
        "{resolv}"
    );

    // the published port from the host, over IPv6 to the host's own address
    let mut listener = listen_tcp(&host, "a", 8080, "hello-over-ipv6");
    assert_eq!(
        fetch_tcp(&host, host_side.addr(), port).as_deref(),
        Some("hello-over-ipv6")
    );
    let _ = listener.wait();
    // the same port over IPv4 (the rule covers both families)
    let mut listener = listen_tcp(&host, "a", 8080, "hello-over-ipv4");
    assert_eq!(
        fetch_tcp(&host, IpAddr::from([127, 0, 0, 1]), port).as_deref(),
        Some("hello-over-ipv4")
    );
    let _ = listener.wait();

    host.podnet(&["rm", "-f", "a"]);
    host.podnet(&["rm", "-f", "b"]);
    host.podnet(&["network", "rm", "pntds"]);
    assert_eq!(fetch_tcp(&host, host_side.addr(), port), None);
    let needles: Vec<String> = [v4.trunc(), v6.trunc(), a4, a6, b4, b6]
        .iter()
        .map(|n| n.addr().to_string())
        .chain([format!("dport {port}")])
        .collect();
    assert_clean(&host, &["pntup0", "pntup1"], &needles);
}
