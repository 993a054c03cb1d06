//! The same steps through real podman 4.3 and through podnet give the same files: hosts and
//! resolv.conf after start, after `network connect` and after `network disconnect`. podman
//! runs as a throwaway peer (its own storage, network directory and configuration, in a
//! fake host netns of its own); podnet in another throwaway host namespace with networks of
//! the same names and subnets, chosen free at run time. Needs root and podman (`cargo xtask
//! setup` installs it and builds the busybox rootfs the peer imports).
//!
//! The one difference allowed: current containers/common also names the host address
//! `host.docker.internal`; podman 4.3 predates that, so the name is removed before comparing.
#![allow(clippy::unwrap_used)]

mod flows_support;

use flows_support::{can_run, Host};
use testkit::Podman;

/// The `n`th address of `net` (network address + n).
fn nth_host(net: ipnet::Ipv4Net, n: u32) -> std::net::Ipv4Addr {
    (u32::from(net.network()) + n).into()
}

/// A throwaway podman in a fake host of its own (podnet's containers, with the same
/// subnets, sit in another), with the busybox image imported; `None` after a skip.
fn podman_peer(test: &str, host: &Host) -> Option<Podman> {
    testkit::require_binary(test, "podman")?;
    let podman = Podman::new().in_netns(host.netns_path());
    if let Err(why) = podman.import_busybox() {
        testkit::skip(test, &why);
        return None;
    }
    Some(podman)
}

fn files_podman(podman: &Podman, container: &str) -> String {
    podman.run(&["exec", container, "cat", "/etc/hosts", "/etc/resolv.conf"])
}

fn files_podnet(host: &Host, container: &str) -> String {
    host.podnet(&[
        "exec",
        container,
        "--",
        "cat",
        "/etc/hosts",
        "/etc/resolv.conf",
    ])
    .replace(" host.docker.internal", "")
}

#[test]
fn hosts_and_resolv_conf_match_podman_through_connect_and_disconnect() {
    let test = "hosts_and_resolv_conf_match_podman_through_connect_and_disconnect";
    if !can_run(test) {
        return;
    }
    let pid = std::process::id();
    let (n1, n2, ctr) = (
        format!("pntpc1-{pid}"),
        format!("pntpc2-{pid}"),
        format!("pntpcc-{pid}"),
    );
    // podman's fake host outlives its podman (dropped first)
    let podman_host = Host::new();
    let Some(podman) = podman_peer(test, &podman_host) else {
        return;
    };
    let host = Host::new();
    let (net1, net2) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
    for (net, subnet) in [(&n1, net1), (&n2, net2)] {
        podman.run(&["network", "create", "--subnet", &subnet.to_string(), net]);
        host.podnet(&["network", "create", "--subnet", &subnet.to_string(), net]);
    }
    podman.run(&[
        "run",
        "-d",
        "--name",
        &ctr,
        "--hostname",
        "box",
        "--network",
        &n1,
        "localhost/busybox",
        "sleep",
        "600",
    ]);
    host.podnet(&["create", &ctr, "--hostname", "box", "--network", &n1]);
    host.podnet(&["start", &ctr]);
    let started = files_podman(&podman, &ctr);
    let addr1 = format!("{}\tbox ", nth_host(net1, 2));
    assert!(started.contains(&addr1), "{started}");
    assert_eq!(files_podnet(&host, &ctr), started, "after start");

    podman.run(&["network", "connect", &n2, &ctr]);
    host.podnet(&["connect", &n2, &ctr]);
    let connected = files_podman(&podman, &ctr);
    let addr2 = format!("{}\tbox ", nth_host(net2, 2));
    assert!(connected.contains(&addr2), "{connected}");
    assert_eq!(files_podnet(&host, &ctr), connected, "after connect");

    podman.run(&["network", "disconnect", &n2, &ctr]);
    host.podnet(&["disconnect", &n2, &ctr]);
    let disconnected = files_podman(&podman, &ctr);
    assert_eq!(
        disconnected, started,
        "podman itself returns to the first files"
    );
    assert_eq!(files_podnet(&host, &ctr), disconnected, "after disconnect");
}
