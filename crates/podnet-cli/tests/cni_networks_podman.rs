//! podman 4's CNI networks, live against podman 4.3 (`--network-backend cni` with a
//! throwaway `--network-config-dir`): for the same options podnet's CNI store writes the
//! same conflist bytes as `podman network create`, and `podman network inspect` of podnet's
//! files shows what podnet's store shows. Needs root and podman.
#![allow(clippy::unwrap_used)]

mod flows_support;

use std::path::Path;
use std::process::Command;

use flows_support::runs_unless;
use podnet::{LeaseRange, Network, NetworkStore, Subnet};

fn can_run(test: &str) -> bool {
    let reason = if !nix::unistd::geteuid().is_root() {
        Some("needs root".to_string())
    } else if !Path::new("/usr/bin/podman").exists() {
        Some("needs podman (apt-get install podman)".to_string())
    } else if !Path::new("/usr/lib/cni/dnsname").exists() {
        Some("needs the dnsname plugin (cargo xtask setup)".to_string())
    } else {
        None
    };
    runs_unless(test, reason)
}

fn podman(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("podman")
        .args(["--network-backend", "cni", "--network-config-dir"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn subnet(s: &str, gateway: Option<&str>, range: Option<(&str, &str)>) -> Subnet {
    Subnet {
        subnet: s.parse().unwrap(),
        gateway: gateway.map(|g| g.parse().unwrap()),
        lease_range: range.map(|(a, b)| LeaseRange {
            start_ip: Some(a.parse().unwrap()),
            end_ip: Some(b.parse().unwrap()),
        }),
    }
}

#[test]
fn podnet_writes_and_reads_cni_networks_as_podman_43() {
    if !can_run("podnet_writes_and_reads_cni_networks_as_podman_43") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (theirs, ours) = (tmp.path().join("podman"), tmp.path().join("podnet"));
    let store = NetworkStore::cni(&ours, true);

    // (podman's arguments, the same request to podnet's store)
    let cases: Vec<(Vec<&str>, Network)> = vec![
        (
            vec![
                "--subnet",
                "10.77.9.0/24",
                "--ip-range",
                "10.77.9.128/25",
                "--label",
                "a=b",
                "pntcx1",
            ],
            {
                let mut v = Network::default();
                v.name = "pntcx1".into();
                v.subnets = vec![subnet(
                    "10.77.9.0/24",
                    None,
                    Some(("10.77.9.129", "10.77.9.255")),
                )];
                v.labels = [("a".to_string(), "b".to_string())].into();
                v.dns_enabled = true;
                v
            },
        ),
        (
            vec![
                "--internal",
                "--ipv6",
                "--subnet",
                "fd00:77::/64",
                "--subnet",
                "10.77.4.0/24",
                "--disable-dns",
                "pntcx2",
            ],
            {
                let mut v = Network::default();
                v.name = "pntcx2".into();
                v.subnets = vec![
                    subnet("fd00:77::/64", None, None),
                    subnet("10.77.4.0/24", None, None),
                ];
                v.internal = true;
                v.ipv6_enabled = true;
                v
            },
        ),
        (
            vec![
                "--subnet",
                "10.77.11.0/24",
                "--gateway",
                "10.77.11.254",
                "--opt",
                "mtu=1400",
                "--opt",
                "isolate=true",
                "pntcx3",
            ],
            {
                let mut v = Network::default();
                v.name = "pntcx3".into();
                v.subnets = vec![subnet("10.77.11.0/24", Some("10.77.11.254"), None)];
                v.options = [
                    ("mtu".to_string(), "1400".to_string()),
                    ("isolate".to_string(), "true".to_string()),
                ]
                .into();
                v.dns_enabled = true;
                v
            },
        ),
    ];
    for (args, request) in cases {
        let name = request.name.clone();
        let mut create = vec!["network", "create"];
        create.extend(args);
        podman(&theirs, &create);
        let created = store.create(request).unwrap();
        let file = format!("{name}.conflist");
        assert_eq!(
            std::fs::read_to_string(ours.join(&file)).unwrap(),
            std::fs::read_to_string(theirs.join(&file)).unwrap(),
            "{name}"
        );

        // podman reads podnet's file as podnet does (the shape of `network inspect`)
        let inspected: serde_json::Value =
            serde_json::from_str(&podman(&ours, &["network", "inspect", &name])).unwrap();
        let mut podnet_view = serde_json::to_value(store.inspect(&name).unwrap()).unwrap();
        assert_eq!(podnet_view["id"], inspected[0]["id"], "{name}");
        assert_eq!(podnet_view["created"], inspected[0]["created"], "{name}");
        podnet_view["created"] = inspected[0]["created"].clone();
        assert_eq!(podnet_view, inspected[0], "{name}");
        assert_eq!(created.id, podnet_view["id"], "{name}");
    }

    // `network ls` sees the same networks, the default one included
    let names = |dir: &Path| {
        let mut v: Vec<String> = podman(dir, &["network", "ls", "--format", "{{.Name}}"])
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let ours_listed: Vec<String> = store.list().unwrap().into_iter().map(|n| n.name).collect();
    assert_eq!(names(&ours), ours_listed);
    assert_eq!(names(&theirs), ours_listed);
    let default = store.inspect("podman").unwrap();
    let podman_default: serde_json::Value =
        serde_json::from_str(&podman(&ours, &["network", "inspect", "podman"])).unwrap();
    assert_eq!(default.id, podman_default[0]["id"].as_str().unwrap());
    assert_eq!(
        default.network_interface,
        podman_default[0]["network_interface"].as_str().unwrap()
    );
}
