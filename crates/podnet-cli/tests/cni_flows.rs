//! The flows on podman 4's CNI backend with the real reference plugins (bridge, host-local,
//! portmap, firewall, tuning, and dnsname when installed), in a throwaway network namespace
//! standing for the host: two containers ping each other, a host client reaches a published
//! port through portmap, teardown leaves no veth, rule, cache entry or host-local lease, and
//! a kill -9 at each flow failpoint is repaired by reconcile. The test's own CNI config,
//! cache and host-local data directories live under its root (never /etc/cni/net.d or
//! /var/lib/cni). Needs root.
#![allow(clippy::unwrap_used)]

mod cni_support;
mod flows_support;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Stdio;

use cni_support::{can_run, runtime_at, CniHost};
use flows_support::listen;
use podnet::{CniBackend, ContainerSpec, NetworkRequest, Runtime};

fn create(rt: &Runtime<CniBackend>, name: &str, network: &str, ports: &[&str]) -> String {
    rt.create(&{
        let mut v = ContainerSpec::new(name);
        v.networks = vec![NetworkRequest::new(network)];
        v.ports = ports
            .iter()
            .map(|p| portmap::parse_publish(p).unwrap())
            .collect();
        v
    })
    .unwrap()
    .id
}

/// The container's address on `network`, from the status the CNI result became.
fn address(rt: &Runtime<CniBackend>, container: &str, network: &str) -> IpAddr {
    let record = rt.container(container).unwrap();
    record.network_status[network].interfaces["eth0"].subnets[0]
        .ipnet
        .addr()
}

#[test]
fn containers_on_a_cni_network_talk_and_publish_and_leave_nothing() {
    if !can_run("containers_on_a_cni_network") {
        return;
    }
    let h = CniHost::new();
    let rt = h.runtime();
    let net = format!("pntcni{}", std::process::id());
    h.network(&rt, &net, "pntcnibr0", "10.89.231.0/24");
    let a = create(&rt, "a", &net, &["18231:8080"]);
    let b = create(&rt, "b", &net, &[]);
    rt.setup("a").unwrap();
    rt.setup("b").unwrap();

    // host-local picked the addresses: podnet leased none
    let (ip_a, ip_b) = (address(&rt, "a", &net), address(&rt, "b", &net));
    assert!(ip_a.to_string().starts_with("10.89.231."), "{ip_a}");
    assert_ne!(ip_a, ip_b);
    assert!(rt.leases().unwrap().is_empty());
    assert_eq!(h.host_local_leases().len(), 2);
    assert_eq!(h.cache_entries().len(), 2);

    h.exec_ok(
        "a",
        &["busybox", "ping", "-c", "1", "-W", "2", &ip_b.to_string()],
    );
    h.exec_ok(
        "b",
        &["busybox", "ping", "-c", "1", "-W", "2", &ip_a.to_string()],
    );
    if cni_support::has_dnsname() {
        h.exec_ok("a", &["busybox", "ping", "-c", "1", "-W", "2", "b"]);
        h.exec_ok("b", &["busybox", "ping", "-c", "1", "-W", "2", "a"]);
    }

    // a host client reaches a's published port on the bridge's address through portmap
    let mut server = listen(&h.host, "a", 8080, "hello-cni");
    let got = h
        .host
        .run(&["busybox", "nc", "-w", "2", "10.89.231.1", "18231"]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "hello-cni");

    // reload (libpod's reloadContainerNetwork) asks host-local for the same address back
    let reloaded = rt.reload("a").unwrap();
    assert_eq!(
        reloaded.network_status[&net].interfaces["eth0"].subnets[0]
            .ipnet
            .addr(),
        ip_a
    );
    h.exec_ok(
        "b",
        &["busybox", "ping", "-c", "1", "-W", "2", &ip_a.to_string()],
    );
    assert_eq!(h.host_local_leases().len(), 2);

    rt.teardown("a").unwrap();
    rt.teardown("b").unwrap();
    rt.remove("a", false).unwrap();
    rt.remove("b", false).unwrap();
    h.assert_clean("10.89.231.", &[&a, &b]);
}

/// Runs one flow of container `k` in a new process of this test binary (this test, in its
/// [`crash_child`] role) with `PODNET_FAILPOINT=point`; it must die by SIGKILL. A new process and
/// not a fork: a fork of the threaded harness can inherit a lock another test's thread
/// holds (std's environment lock while it spawns a command) and wait on it forever.
fn crash_at(h: &CniHost, point: &str, flow: &str) {
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CRASH_TEST, "--nocapture"])
        .env("PODNET_FAILPOINT", point)
        .env(CHILD_ROOT, h.host.root.path())
        .env(CHILD_NETNS, h.host.netns_path())
        .env(CHILD_FLOW, flow)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(nix::sys::signal::Signal::SIGKILL as i32),
        "{point}: {status:?}"
    );
}

const CHILD_ROOT: &str = "PODNET_CNI_CHILD_ROOT";
const CHILD_NETNS: &str = "PODNET_CNI_CHILD_NETNS";
const CHILD_FLOW: &str = "PODNET_CNI_CHILD_FLOW";

/// The child of [`crash_at`], when this binary was started by it: runs `CHILD_FLOW`
/// (`setup`, `connect:NETWORK`, `reload`, `teardown`) of container `k` in the runtime under
/// `CHILD_ROOT`, and returns true.
fn crash_child() -> bool {
    let Ok(flow) = std::env::var(CHILD_FLOW) else {
        return false;
    };
    let root = PathBuf::from(std::env::var_os(CHILD_ROOT).expect("set with CHILD_FLOW"));
    let host = PathBuf::from(std::env::var_os(CHILD_NETNS).expect("set with CHILD_FLOW"));
    let rt = runtime_at(&root, &host);
    let _ = match flow.split_once(':') {
        None if flow == "setup" => rt.setup("k").map(|_| ()),
        None if flow == "reload" => rt.reload("k").map(|_| ()),
        None if flow == "teardown" => rt.teardown("k").map(|_| ()),
        Some(("connect", network)) => rt.connect("k", &NetworkRequest::new(network)).map(|_| ()),
        _ => panic!("unknown flow {flow}"),
    };
    true
}

const CRASH_TEST: &str = "a_kill_at_any_point_of_a_cni_flow_is_repaired_by_reconcile";

#[test]
fn a_kill_at_any_point_of_a_cni_flow_is_repaired_by_reconcile() {
    if crash_child() {
        return;
    }
    if !can_run("a_kill_at_any_point_of_a_cni_flow") {
        return;
    }
    let h = CniHost::new();
    let rt = h.runtime();
    let pid = std::process::id();
    let (n1, n2) = (format!("pntcnk{pid}"), format!("pntcnl{pid}"));
    h.network(&rt, &n1, "pntcnibr1", "10.89.232.0/24");
    h.network(&rt, &n2, "pntcnibr2", "10.89.233.0/24");
    let k = create(&rt, "k", &n1, &["127.0.0.1:18232:8080"]);
    // an attachment of another runtime (podman's) in the same cache: reconcile leaves it
    let foreign = h.cache.join("results").join(format!("{n1}-f00d-eth0"));
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(&foreign, br#"{"kind":"cniCacheV1","containerId":"f00d"}"#).unwrap();

    for point in [
        "setup:netns-created",
        "setup:intent-committed",
        "setup:backend-done",
    ] {
        crash_at(&h, point, "setup");
        let report = rt.reconcile().unwrap();
        assert!(report.errors.is_empty(), "{point}: {report:?}");
        h.assert_clean("10.89.232.", &[&k]);
        // and it starts normally afterwards
        rt.setup("k").unwrap();
        h.exec_ok(
            "k",
            &["busybox", "ping", "-c", "1", "-W", "2", "10.89.232.1"],
        );
        rt.teardown("k").unwrap();
    }

    // a connected container stays connected when a connect to another network is killed
    rt.setup("k").unwrap();
    for point in ["connect:intent-committed", "connect:backend-done"] {
        crash_at(&h, point, &format!("connect:{n2}"));
        let report = rt.reconcile().unwrap();
        assert!(report.errors.is_empty(), "{point}: {report:?}");
        let addrs = h.exec_ok("k", &["ip", "-o", "-4", "addr", "show"]);
        assert!(!addrs.contains("10.89.233."), "{point}: {addrs}");
        h.exec_ok(
            "k",
            &["busybox", "ping", "-c", "1", "-W", "2", "10.89.232.1"],
        );
        assert_eq!(h.host_local_leases().len(), 1, "{point}");
        assert_eq!(h.cache_entries().len(), 1, "{point}");
        assert!(!h.firewall().contains("10.89.233."), "{point}");
    }

    // a killed reload is redone, with the same address
    let before = address(&rt, "k", &n1);
    crash_at(&h, "reload:torn-down", "reload");
    let report = rt.reconcile().unwrap();
    assert_eq!(report.reloads_redone.len(), 1, "{report:?}");
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(address(&rt, "k", &n1), before);
    h.exec_ok(
        "k",
        &["busybox", "ping", "-c", "1", "-W", "2", "10.89.232.1"],
    );

    // a killed stop is finished by reconcile
    crash_at(&h, "teardown:backend-done", "teardown");
    let report = rt.reconcile().unwrap();
    assert!(report.errors.is_empty(), "{report:?}");
    assert!(!rt.container("k").unwrap().running);
    h.assert_clean("10.89.232.", &[&k]);
    rt.remove("k", false).unwrap();
    assert!(
        foreign.exists(),
        "reconcile removed another runtime's cache entry"
    );
}
