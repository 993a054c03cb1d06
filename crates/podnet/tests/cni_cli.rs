//! The `podnet` command line on podman 4's CNI backend, selected by containers.conf
//! (`network_backend = "cni"`, `cni_plugin_dirs`) or `--network-backend cni`, with the real
//! reference plugins (and dnsname when installed) in a throwaway network namespace standing
//! for the host: `network create/ls/inspect/rm` in podman's shape, two containers ping each
//! other by address and by name, a host client reaches a published port through portmap, and
//! stop and rm leave no veth, rule, cache entry, host-local lease or pin. The conflists and
//! libcni's cache live under the test's root (`--network-dir`, `--root`), never in
//! /etc/cni/net.d or /var/lib/cni. Needs root.
#![allow(clippy::unwrap_used)]

mod cni_support;
mod flows_support;

use std::path::PathBuf;

use cni_support::{can_run, has_dnsname, CniHost, PLUGIN_DIR};
use flows_support::listen;

/// The CLI with the test's containers.conf (CNI, the plugins' directory) and conflists.
struct Cli<'a> {
    h: &'a CniHost,
    conf: PathBuf,
}

impl Cli<'_> {
    fn new(h: &CniHost) -> Cli<'_> {
        let conf = h.host.root.path().join("containers.conf");
        std::fs::write(
            &conf,
            format!("[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"{PLUGIN_DIR}\"]\n"),
        )
        .unwrap();
        Cli { h, conf }
    }

    fn out(&self, args: &[&str]) -> std::process::Output {
        let dir = self.h.conf.display().to_string();
        let mut all = vec!["--network-dir", &dir];
        all.extend_from_slice(args);
        let conf = self.conf.display().to_string();
        self.h
            .host
            .podnet_env(&all, &[("CONTAINERS_CONF", conf.as_str())])
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.out(args);
        assert!(
            out.status.success(),
            "podnet {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// The container's address on `network` as `podnet start` printed it ("eth0 10.x.y.z/24").
fn address(started: &serde_json::Value, network: &str) -> String {
    let line = started["Addresses"][network][0].as_str().unwrap();
    let cidr = line.split_whitespace().nth(1).unwrap();
    cidr.split('/').next().unwrap().to_string()
}

#[test]
fn the_cli_drives_cni_networks_and_containers_and_leaves_nothing() {
    if !can_run("the_cli_drives_cni_networks") {
        return;
    }
    let h = CniHost::new();
    let cli = Cli::new(&h);
    let net = format!("pntccli{}", std::process::id());

    // network create writes podman 4.3's conflist; ls and inspect show podman's shape
    let created = cli.json(&[
        "network",
        "create",
        &net,
        "--subnet",
        "10.89.241.0/24",
        "--interface-name",
        "pntclibr0",
    ]);
    assert_eq!(created["driver"], "bridge");
    assert_eq!(created["network_interface"], "pntclibr0");
    let file = h.conf.join(format!("{net}.conflist"));
    let conflist: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(conflist["cniVersion"], "0.4.0");
    let types: Vec<&str> = conflist["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    let mut want = vec!["bridge", "portmap", "firewall", "tuning"];
    if has_dnsname() {
        want.push("dnsname");
    }
    assert_eq!(types, want);
    h.own_data_dir(&net);
    let listed = cli.json(&["network", "ls"]);
    let ours: Vec<&serde_json::Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["name"] == net.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{listed}");
    assert_eq!(ours[0]["subnets"][0]["subnet"], "10.89.241.0/24");
    assert_eq!(ours[0]["subnets"][0]["gateway"], "10.89.241.1");
    let inspected = cli.json(&["network", "inspect", &net]);
    assert_eq!(inspected[0]["id"], created["id"]);
    assert_eq!(inspected[0]["dns_enabled"], has_dnsname());

    // --network-backend cni selects the same backend without containers.conf's key
    let flag = h.host.podnet(&[
        "--network-backend",
        "cni",
        "--network-dir",
        &h.conf.display().to_string(),
        "network",
        "inspect",
        &net,
    ]);
    let flag: serde_json::Value = serde_json::from_str(&flag).unwrap();
    assert_eq!(flag[0]["id"], created["id"]);

    // two containers on it, one publishing a port
    let id_a = cli.json(&["create", "a", "--network", &net, "-p", "18241:8080"])["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let id_b = cli.json(&["create", "b", "--network", &net])["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = cli.json(&["start", "a"]);
    let b = cli.json(&["start", "b"]);
    let (ip_a, ip_b) = (address(&a, &net), address(&b, &net));
    assert!(ip_a.starts_with("10.89.241."), "{a}");
    assert_ne!(ip_a, ip_b);
    assert_eq!(h.host_local_leases().len(), 2);
    assert_eq!(h.cache_entries().len(), 2);
    let inspect_a = cli.json(&["inspect", "a"]);
    assert_eq!(
        inspect_a[0]["NetworkSettings"]["Networks"][&net]["IPAddress"],
        ip_a.as_str(),
        "{inspect_a}"
    );

    let ping = |from: &str, to: &str| {
        h.exec_ok(from, &["busybox", "ping", "-c", "1", "-W", "2", to]);
    };
    ping("a", &ip_b);
    ping("b", &ip_a);
    if has_dnsname() {
        ping("a", "b");
        ping("b", "a");
    }

    // a host client reaches a's published port on the bridge's address through portmap
    let mut server = listen(&h.host, "a", 8080, "hello-cni-cli");
    let got = h
        .host
        .run(&["busybox", "nc", "-w", "2", "10.89.241.1", "18241"]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "hello-cni-cli");

    for c in ["a", "b"] {
        cli.json(&["stop", c]);
        cli.json(&["rm", c]);
    }
    let removed = cli.json(&["network", "rm", &net]);
    assert_eq!(removed, serde_json::json!([net]));
    assert!(!file.exists(), "network rm left {}", file.display());
    h.assert_clean("10.89.241.", &[&id_a, &id_b]);
}
