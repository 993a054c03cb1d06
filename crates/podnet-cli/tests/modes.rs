//! The network modes without netavark, end to end with the real `podnet` binary in a
//! throwaway network namespace standing for the host, with real packets: two containers of
//! one pod talk over localhost; a `none` container reaches nothing; a `host` container sees
//! the (fake) host's interfaces and serves on its loopback; `ns:` joins exactly the
//! namespace given and leaves it standing; the inspect output of `none` and `host` equals
//! podman 4.3's; a kill -9 in a mode's start or stop is repaired by `reconcile`. Needs root
//! (podman for the inspect comparison).
#![allow(clippy::unwrap_used)]

mod flows_support;

use std::os::unix::fs::MetadataExt;

use flows_support::{can_run, crash_at, link_names, listen, Host};
use testkit::Podman;

/// What a TCP client inside `container` read from `127.0.0.1:port`, or None.
fn fetch_in(host: &Host, container: &str, port: u16) -> Option<String> {
    let out = host.podnet_out(&[
        "exec",
        container,
        "--",
        "busybox",
        "nc",
        "-w",
        "2",
        "127.0.0.1",
        &port.to_string(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn exec(host: &Host, container: &str, cmd: &[&str]) -> std::process::Output {
    let mut args = vec!["exec", container, "--"];
    args.extend_from_slice(cmd);
    host.podnet_out(&args)
}

fn exec_ok(host: &Host, container: &str, cmd: &[&str]) -> String {
    let out = exec(host, container, cmd);
    assert!(
        out.status.success(),
        "{container} {cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn two_containers_of_a_pod_reach_each_other_on_localhost() {
    if !can_run("two_containers_of_a_pod_reach_each_other_on_localhost") {
        return;
    }
    let host = Host::new();
    let subnet = testkit::free_subnet_v4();
    host.podnet(&[
        "network",
        "create",
        "--subnet",
        &subnet.to_string(),
        "pntpod",
    ]);
    let infra = host.create_json(&["infra", "--network", "pntpod"]);
    let app = host.create_json(&["app", "--network", "container:infra"]);
    let (infra_id, app_id) = (
        infra["Id"].as_str().unwrap().to_string(),
        app["Id"].as_str().unwrap().to_string(),
    );
    // libpod: a dependent does not start before its owner
    let err = host.podnet_err(&["start", "app"]);
    assert!(
        err.contains(&format!(
            "some dependencies of container {app_id} are not started: {infra_id}"
        )),
        "{err}"
    );
    host.podnet(&["start", "infra"]);
    host.podnet(&["start", "app"]);

    // one namespace: a listener in one is reached over 127.0.0.1 from the other, both ways
    let mut l = listen(&host, "app", 18311, "hello-from-app");
    assert_eq!(
        fetch_in(&host, "infra", 18311).as_deref(),
        Some("hello-from-app")
    );
    let _ = l.wait();
    let mut l = listen(&host, "infra", 18312, "hello-from-infra");
    assert_eq!(
        fetch_in(&host, "app", 18312).as_deref(),
        Some("hello-from-infra")
    );
    let _ = l.wait();
    // the same hosts and resolv.conf: the owner's
    let files = ["cat", "/etc/hosts", "/etc/resolv.conf"];
    assert_eq!(
        exec_ok(&host, "app", &files),
        exec_ok(&host, "infra", &files)
    );
    let addrs = exec_ok(&host, "app", &["ip", "-o", "-4", "addr", "show"]);
    let prefix = subnet.to_string();
    let prefix = prefix.rsplit_once('.').unwrap().0;
    assert!(addrs.contains(prefix), "{addrs}");

    // the owner is not removed while it has a dependent, even with force
    for args in [&["rm", "infra"][..], &["rm", "-f", "infra"][..]] {
        let err = host.podnet_err(args);
        assert!(
            err.contains(&format!(
                "container {infra_id} has dependent containers which must be removed before it: {app_id}: container already exists"
            )),
            "{err}"
        );
    }
    // stopping the owner stops the dependent: its namespace is the owner's
    host.podnet(&["stop", "infra"]);
    let ps = host.podnet_json(&["ps", "--format", "json"]);
    assert!(
        ps.as_array().unwrap().iter().all(|c| c["Running"] == false),
        "{ps}"
    );
    assert!(host.pins().is_empty(), "{:?}", host.pins());
    host.podnet(&["rm", "app"]);
    host.podnet(&["rm", "infra"]);
    host.podnet(&["network", "rm", "pntpod"]);
    assert_eq!(host.links(), ["lo"]);
}

#[test]
fn a_none_container_has_only_loopback_and_reaches_nothing() {
    if !can_run("a_none_container_has_only_loopback_and_reaches_nothing") {
        return;
    }
    let host = Host::new();
    // something to reach in the fake host, were there a way (a veth pair: this kernel
    // has no dummy interfaces)
    host.sh(&[
        "ip", "link", "add", "pntmd0", "type", "veth", "peer", "name", "pntmd0p",
    ]);
    host.sh(&["ip", "addr", "add", "10.89.251.1/24", "dev", "pntmd0"]);
    host.sh(&["ip", "link", "set", "pntmd0", "up"]);
    let rec = host.create_json(&["iso", "--network", "none"]);
    host.podnet(&["start", "iso"]);
    assert_eq!(host.pins().len(), 1);

    let links = exec_ok(&host, "iso", &["ip", "-o", "link", "show"]);
    assert_eq!(link_names(&links), ["lo"], "{links}");
    assert!(links.contains("UP"), "lo is up: {links}");
    assert_eq!(exec_ok(&host, "iso", &["ip", "route", "show"]).trim(), "");
    let ping = exec(
        &host,
        "iso",
        &["busybox", "ping", "-c", "1", "-W", "1", "10.89.251.1"],
    );
    assert!(!ping.status.success(), "a none container reached the host");
    // its own loopback works, and its names point at it
    let mut l = listen(&host, "iso", 18313, "hello-from-none");
    assert_eq!(
        fetch_in(&host, "iso", 18313).as_deref(),
        Some("hello-from-none")
    );
    let _ = l.wait();
    let hosts = exec_ok(&host, "iso", &["cat", "/etc/hosts"]);
    let short = &rec["Id"].as_str().unwrap()[..12];
    assert!(
        hosts.contains(&format!("127.0.0.1\t{short} iso")),
        "{hosts}"
    );
    let resolv = exec_ok(&host, "iso", &["cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver"), "{resolv}");

    host.podnet(&["stop", "iso"]);
    assert!(host.pins().is_empty());
    host.podnet(&["rm", "iso"]);
    host.sh(&["ip", "link", "del", "pntmd0"]);
}

#[test]
fn a_host_container_sees_the_hosts_interfaces_and_serves_on_its_loopback() {
    if !can_run("a_host_container_sees_the_hosts_interfaces") {
        return;
    }
    let host = Host::new();
    host.sh(&[
        "ip", "link", "add", "pntmd1", "type", "veth", "peer", "name", "pntmd1p",
    ]);
    host.sh(&["ip", "addr", "add", "10.89.252.1/24", "dev", "pntmd1"]);
    host.sh(&["ip", "link", "set", "pntmd1", "up"]);
    host.podnet(&["create", "hnet", "--network", "host"]);
    let started = host.start_json("hnet");
    assert!(started["NetNS"].is_null(), "{started}");
    assert!(host.pins().is_empty(), "host mode makes no namespace");

    let links = exec_ok(&host, "hnet", &["ip", "-o", "link", "show"]);
    assert_eq!(link_names(&links), host.links(), "{links}");
    assert!(links.contains("pntmd1"), "{links}");
    let addrs = exec_ok(&host, "hnet", &["ip", "-o", "-4", "addr", "show"]);
    assert!(addrs.contains("10.89.252.1/24"), "{addrs}");
    // a server in the container is a server on the host
    let mut l = listen(&host, "hnet", 18314, "hello-from-host-mode");
    let out = host.run(&["busybox", "nc", "-w", "2", "10.89.252.1", "18314"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello-from-host-mode"
    );
    let _ = l.wait();

    host.podnet(&["stop", "hnet"]);
    host.podnet(&["rm", "hnet"]);
    assert!(
        host.links().contains(&"pntmd1".to_string()),
        "the host's interface stays"
    );
    host.sh(&["ip", "link", "del", "pntmd1"]);
}

/// An `ip netns add` namespace of the test, deleted when it goes out of scope (also when an
/// assertion failed half-way).
struct NamedNetns(String);

impl Drop for NamedNetns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

#[test]
fn ns_joins_exactly_the_given_namespace_and_leaves_it_standing() {
    if !can_run("ns_joins_exactly_the_given_namespace") {
        return;
    }
    let host = Host::new();
    let name = format!("pntmodes-ns-{}", std::process::id());
    let path = format!("/run/netns/{name}");
    flows_support::sh(&["ip", "netns", "add", &name]);
    let _pin = NamedNetns(name.clone());
    flows_support::sh(&[
        "ip", "-n", &name, "link", "add", "pntmd2", "type", "veth", "peer", "name", "pntmd2p",
    ]);
    flows_support::sh(&[
        "ip",
        "-n",
        &name,
        "addr",
        "add",
        "10.89.253.5/24",
        "dev",
        "pntmd2",
    ]);
    let mode = format!("ns:{path}");
    host.podnet(&["create", "joined", "--network", &mode]);
    let started = host.start_json("joined");
    assert_eq!(started["NetNS"], path.as_str());

    let links = exec_ok(&host, "joined", &["ip", "-o", "link", "show"]);
    let mut names = link_names(&links);
    names.sort();
    assert_eq!(names, ["lo", "pntmd2", "pntmd2p"], "{links}");
    // the very namespace: same inode as the path's
    let seen = exec_ok(
        &host,
        "joined",
        &["stat", "-L", "-c", "%i", "/proc/self/ns/net"],
    );
    let ino = std::fs::metadata(&path).unwrap().ino();
    assert_eq!(seen.trim(), ino.to_string());

    // inspect shows what is in the joined namespace, as podman 4.3 does
    let settings = &host.podnet_json(&["inspect", "joined"])[0]["NetworkSettings"];
    assert_eq!(settings["IPAddress"], "10.89.253.5", "{settings}");
    assert_eq!(settings["IPPrefixLen"], 24, "{settings}");
    assert!(settings.get("Networks").is_none(), "{settings}");

    host.podnet(&["stop", "joined"]);
    host.podnet(&["rm", "joined"]);
    assert!(netns::is_netns(&path), "ns: left the namespace standing");
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), ino);
    let still = flows_support::sh(&["ip", "-n", &name, "-o", "link", "show"]);
    assert!(still.contains("pntmd2"), "{still}");
    // a path that is no namespace: refused at start in one line naming it, nothing started
    host.podnet(&["create", "nowhere", "--network", "ns:/nonexistent/pntns"]);
    let err = host.podnet_err(&["start", "nowhere"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ns:/nonexistent/pntns is not a network namespace"),
        "{err}"
    );
    host.podnet(&["rm", "nowhere"]);
}

#[test]
fn bad_network_values_are_one_line_and_record_nothing() {
    if !can_run("bad_network_values_are_one_line") {
        return;
    }
    let host = Host::new();
    for (args, needle) in [
        (
            &["create", "x", "--network", "ns:"][..],
            "ns: needs the path",
        ),
        (
            &["create", "x", "--network", "container:"][..],
            "container name or ID",
        ),
        (
            &["create", "x", "--network", "host", "--network", "other"][..],
            "cannot set multiple networks without bridge network mode, selected mode host",
        ),
        (
            &["create", "x", "--network", "slirp4netns:mtu=big"][..],
            "mtu=",
        ),
        (
            &["create", "x", "--network", "none", "-p", "8080:80"][..],
            "publishes no ports",
        ),
        (
            &["create", "x", "--network", "container:nobody"][..],
            "nobody",
        ),
    ] {
        let err = host.podnet_err(args);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(
        host.podnet_json(&["ps", "--format", "json"]),
        serde_json::json!([])
    );
}

/// podman 4.3's `NetworkSettings` of a running container in `mode`.
fn podman_settings(podman: &Podman, name: &str, mode: &str) -> serde_json::Value {
    podman.run(&[
        "run",
        "-d",
        "--name",
        name,
        "--network",
        mode,
        testkit::BUSYBOX_IMAGE,
        "sleep",
        "600",
    ]);
    let out = podman.run(&["inspect", name, "--format", "{{json .NetworkSettings}}"]);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn inspect_of_none_and_host_equals_podman_4_3() {
    let test = "inspect_of_none_and_host_equals_podman_4_3";
    if !can_run(test) || testkit::require_binary(test, "podman").is_none() {
        return;
    }
    let podman_host = Host::new();
    let podman = Podman::new().in_netns(podman_host.netns_path());
    if let Err(why) = podman.import_busybox() {
        testkit::skip(test, &why);
        return;
    }
    let host = Host::new();
    for mode in ["none", "host"] {
        let name = format!("pntmi-{mode}");
        let expected = podman_settings(&podman, &name, mode);
        host.podnet(&["create", &name, "--network", mode]);
        host.podnet(&["start", &name]);
        let ours = host.podnet_json(&["inspect", &name]);
        assert_eq!(ours[0]["NetworkSettings"], expected, "{mode}");
        host.podnet(&["stop", &name]);
        let ours = host.podnet_json(&["inspect", &name]);
        assert_eq!(ours[0]["NetworkSettings"], expected, "{mode} stopped");
        host.podnet(&["rm", &name]);
    }
}

#[test]
fn a_kill_in_a_none_containers_start_or_stop_is_repaired_by_reconcile() {
    if !can_run("a_kill_in_a_none_containers_start_or_stop") {
        return;
    }
    let host = Host::new();
    host.podnet(&["create", "iso", "--network", "none"]);
    // killed after its pin was made, before the record: the pin no record names goes
    crash_at(&host, "setup:netns-created", &["start", "iso"]);
    assert_eq!(host.pins().len(), 1);
    let report = host.podnet_json(&["reconcile"]);
    assert_eq!(
        report["netns_removed"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    assert!(host.pins().is_empty());
    let ps = host.podnet_json(&["ps", "--format", "json"]);
    assert_eq!(ps[0]["Running"], false, "{ps}");

    // killed after the pin went, before the record: found running without its namespace
    host.podnet(&["start", "iso"]);
    crash_at(&host, "teardown:backend-done", &["stop", "iso"]);
    assert!(host.pins().is_empty());
    let report = host.podnet_json(&["reconcile"]);
    assert_eq!(
        report["containers_stopped"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert_eq!(
        host.podnet_json(&["ps", "--format", "json"])[0]["Running"],
        false
    );

    // and the container starts again, whole
    host.podnet(&["start", "iso"]);
    let links = exec_ok(&host, "iso", &["ip", "-o", "link", "show"]);
    assert_eq!(link_names(&links), ["lo"]);
    let again = host.podnet_json(&["reconcile"]);
    assert!(
        again["netns_removed"].as_array().unwrap().is_empty(),
        "{again}"
    );
    host.podnet(&["rm", "-f", "iso"]);
    assert!(host.pins().is_empty());
}
