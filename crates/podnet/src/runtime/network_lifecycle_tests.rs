//! Unit tests of the network lifecycle calls (`rm -f`, prune, exists, update) with the
//! recording fake backend; `tests/network_cli.rs` runs them with netavark and podman.

#![allow(clippy::unwrap_used)]

use super::tests::{container_names, fixture, spec};
use super::*;
use crate::{NetworkFilter, UpdateNetworkOptions};

#[test]
fn force_removes_the_containers_then_the_network() {
    let f = fixture();
    f.rt.create(&spec("c1", &["front"])).unwrap();
    f.rt.setup("c1").unwrap();
    f.rt.create(&spec("c2", &["back"])).unwrap();
    let refused =
        f.rt.remove_network("front", &RemoveNetworkOptions::default())
            .unwrap_err();
    assert!(refused.to_string().contains("c1"), "{refused}");
    assert!(
        f.rt.container("c1").unwrap().running,
        "refusal changed nothing"
    );

    let gone =
        f.rt.remove_network("front", &RemoveNetworkOptions::default().force(true))
            .unwrap();
    assert_eq!(gone.name, "front");
    // by name only: `container("c1")` would also match an ID starting with c1
    let names = container_names(&f);
    assert!(
        !names.contains(&"c1".to_string()),
        "its container went with it: {names:?}"
    );
    assert!(f.rt.leases().unwrap().is_empty());
    assert_eq!(f.rt.containers().unwrap()[0].name, "c2", "others stay");
    assert!(!f.rt.network_exists("front").unwrap());
}

#[test]
fn force_on_the_default_network_removes_nothing() {
    let f = fixture();
    f.rt.create(&spec("c1", &[])).unwrap();
    let err =
        f.rt.remove_network("podman", &RemoveNetworkOptions::default().force(true))
            .unwrap_err();
    assert!(err.to_string().contains("default network"), "{err}");
    assert!(f.rt.container("c1").is_ok());
}

#[test]
fn prune_removes_unused_filtered_networks_only() {
    let f = fixture();
    for (name, label) in [("keep", "k=1"), ("spare", "k=2")] {
        f.rt.networks()
            .create(Network {
                name: name.into(),
                labels: [label.split_once('=').unwrap()]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                ..Network::default()
            })
            .unwrap();
    }
    f.rt.create(&spec("c1", &["front"])).unwrap();
    let pruned =
        f.rt.prune_networks(&NetworkFilter::parse_prune(&["label!=k=1"]).unwrap())
            .unwrap();
    assert_eq!(pruned, ["back", "spare"]);
    let left: Vec<String> =
        f.rt.list_networks(&NetworkFilter::default())
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect();
    assert_eq!(left, ["front", "keep", "podman"]);
}

#[test]
fn update_rewrites_the_file_and_keeps_unknown_fields() {
    let f = fixture();
    let path = f.rt.config().networks_dir.join("back.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["from_newer_podman"] = serde_json::json!({"kept": [1, 2]});
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();

    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    let opts = UpdateNetworkOptions::default().add_dns_servers([ip("192.0.2.1"), ip("192.0.2.2")]);
    let net = f.rt.update_network("back", &opts).unwrap();
    assert_eq!(net.network_dns_servers, [ip("192.0.2.1"), ip("192.0.2.2")]);
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        written["network_dns_servers"],
        serde_json::json!(["192.0.2.1", "192.0.2.2"])
    );
    assert_eq!(
        written["from_newer_podman"],
        serde_json::json!({"kept": [1, 2]})
    );

    let dropped = UpdateNetworkOptions::default().drop_dns_servers([ip("192.0.2.1")]);
    let net = f.rt.update_network("back", &dropped).unwrap();
    assert_eq!(net.network_dns_servers, [ip("192.0.2.2")]);
    assert!(f.rt.update_network("nope", &dropped).is_err());
}
