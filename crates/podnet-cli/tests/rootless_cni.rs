//! Rootless CNI as podman 4.3 does it, through the `podnet` CLI as an unprivileged user (run
//! by `cargo xtask integration` as `podnet-ci`) with `--network-backend cni`: the reference
//! plugins (and dnsname when installed) run inside the user's rootless network namespace and
//! a mount namespace where the rootless netns' `var` and `run` stand in for `/var` and `/run`
//! (so host-local's leases land in `rootless-netns/var/lib/cni`, dnsname's dnsmasq state and
//! iptables' lock in `rootless-netns/run`), with the container netns pins still reachable;
//! outbound through pasta and published ports through podnet's forwarders, as for netavark.
//! Two containers ping each other by address and by name, a client on the host's loopback
//! reaches a published port, and teardown leaves no pin, process, cache entry or lease.
#![allow(clippy::unwrap_used)]

mod rootless_cli_support;
#[path = "../../podnet/tests/rootless_support/mod.rs"]
mod rootless_support;

use std::path::Path;

use rootless_cli_support::{
    assert_rootless_clean, can_run, fetch, in_rootless_netns, prefix_of, Cli,
};
use rootless_support::loopback_server;

fn has_dnsname() -> bool {
    Path::new("/usr/lib/cni/dnsname").exists()
}

/// Addresses host-local holds in the rootless netns' `/var/lib/cni` (lease files are named by
/// address).
fn leases(root: &Path, network: &str) -> Vec<String> {
    let dir = root
        .join("rootless-netns/var/lib/cni/networks")
        .join(network);
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
                .collect()
        })
        .unwrap_or_default()
}

/// libcni's cache entries under the root (`--root`'s `cni/cache/results`).
fn cache_entries(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("cni/cache/results"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The container's address in its summary ("eth0 10.x.y.z/24").
fn address(started: &serde_json::Value, network: &str) -> String {
    let line = started["Addresses"][network][0].as_str().unwrap();
    let cidr = line.split_whitespace().nth(1).unwrap();
    cidr.split('/').next().unwrap().to_string()
}

#[test]
fn rootless_cni_containers_ping_by_address_and_name_publish_and_clean_up() {
    if !can_run("rootless_cni") {
        return;
    }
    let cli = Cli::with_options(&["--network-backend", "cni"]);
    let root = cli.root.path().to_path_buf();
    let net = testkit::free_subnet_v4();
    let prefix = prefix_of(net);
    let port = testkit::free_port(testkit::Protocol::Tcp);
    let name = format!("pntrlcni{}", std::process::id());
    cli.ok(&["network", "create", "--subnet", &net.to_string(), &name]);
    let conflist = root.join("networks").join(format!("{name}.conflist"));
    assert!(conflist.is_file(), "no conflist at {}", conflist.display());
    let publish = format!("127.0.0.1:{port}:8080");
    cli.ok(&["create", "rla", "--network", &name, "-p", &publish]);
    cli.ok(&["create", "rlb", "--network", &name]);
    let ip_a = address(&cli.start_json("rla"), &name);
    let ip_b = address(&cli.start_json("rlb"), &name);
    assert!(ip_a.starts_with(&prefix) && ip_b.starts_with(&prefix));
    assert_ne!(ip_a, ip_b);

    // host-local wrote its leases where podman 4.3's rootless netns keeps /var/lib/cni
    let mut held = leases(&root, &name);
    held.sort();
    let mut want = vec![ip_a.clone(), ip_b.clone()];
    want.sort();
    assert_eq!(held, want);
    assert_eq!(cache_entries(&root).len(), 2, "{:?}", cache_entries(&root));

    for (from, to) in [("rla", ip_b.as_str()), ("rlb", ip_a.as_str())] {
        let ping = cli.ping(from, to);
        assert!(
            ping.contains("1 packets received"),
            "{from} -> {to}: {ping}"
        );
    }
    if has_dnsname() {
        for (from, to) in [("rla", "rlb"), ("rlb", "rla")] {
            let ping = cli.ping(from, to);
            assert!(
                ping.contains("1 packets received"),
                "{from} -> {to}: {ping}"
            );
        }
    }

    // outbound through pasta: the rootless netns' gateway is the host's loopback
    let server = loopback_server();
    let route = in_rootless_netns(&root, &["ip", "-4", "route", "show", "default"]);
    let route = String::from_utf8_lossy(&route.stdout).into_owned();
    let gateway = route
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_string();
    // stdin held open a moment: nc reads the reply before it half-closes its side
    let client = format!("sleep 2 | busybox nc {gateway} {server}");
    let reply = cli.ok(&[
        "exec", "rla", "--", "busybox", "timeout", "15", "sh", "-c", &client,
    ]);
    assert!(
        reply.starts_with("pong"),
        "via {gateway} ({route}): {reply:?}"
    );

    let mut l = cli.listen("rla", 8080, "hello-rootless-cni");
    assert_eq!(fetch(port).as_deref(), Some("hello-rootless-cni"));
    let _ = l.wait();

    cli.ok(&["stop", "rla"]);
    cli.ok(&["stop", "rlb"]);
    assert!(
        cache_entries(&root).is_empty(),
        "{:?}",
        cache_entries(&root)
    );
    cli.ok(&["rm", "rla"]);
    cli.ok(&["rm", "rlb"]);
    cli.ok(&["network", "rm", &name]);
    assert!(!conflist.exists());
    assert_eq!(fetch(port), None, "the port is still published");
    // the rootless netns went with its last member, its /var and /run (leases, dnsmasq) too
    assert!(leases(&root, &name).is_empty());
    assert!(!root.join("rootless-netns/var").exists());
    assert!(!root.join("rootless-netns/run").exists());
    assert_rootless_clean(&root, "after rm");
}

#[test]
fn rootless_cni_kill_at_a_setup_or_teardown_point_is_repaired_by_reconcile() {
    if !can_run("rootless_cni_kill_at_a_setup_or_teardown_point") {
        return;
    }
    let cli = Cli::with_options(&["--network-backend", "cni"]);
    let root = cli.root.path().to_path_buf();
    let net = testkit::free_subnet_v4();
    let port = testkit::free_port(testkit::Protocol::Tcp);
    let name = format!("pntrlcnk{}", std::process::id());
    cli.ok(&["network", "create", "--subnet", &net.to_string(), &name]);
    let publish = format!("127.0.0.1:{port}:8080");
    cli.ok(&["create", "rla", "--network", &name, "-p", &publish]);

    for point in podnet::testing::FAILPOINTS
        .iter()
        .filter(|p| p.starts_with("setup:") || p.starts_with("teardown:"))
    {
        let command = if point.starts_with("setup:") {
            "start"
        } else {
            cli.ok(&["start", "rla"]);
            "stop"
        };
        cli.crash(point, &[command, "rla"]);
        let ps = cli.ok(&["ps", "--format", "json"]);
        assert!(ps.contains("\"Running\": false"), "{point}: {ps}");
        // the plugins' DEL ran (the cache outlives the rootless netns, so this is its proof)
        assert!(
            cache_entries(&root).is_empty(),
            "{point}: {:?}",
            cache_entries(&root)
        );
        assert!(leases(&root, &name).is_empty(), "{point}");
        assert_rootless_clean(&root, point);

        // and the container starts again, reachable through its published port
        cli.ok(&["start", "rla"]);
        let mut l = cli.listen("rla", 8080, point);
        assert_eq!(fetch(port).as_deref(), Some(*point), "{point}");
        let _ = l.wait();
        cli.ok(&["stop", "rla"]);
        assert!(cache_entries(&root).is_empty(), "{point}");
        assert_rootless_clean(&root, point);
    }
    cli.ok(&["rm", "rla"]);
    cli.ok(&["network", "rm", &name]);
}
