//! Network files shared with podman: files written by `podman network create`
//! (podman 4.3, captured under `tests/data/`) load and serialize back to the
//! same bytes, the default network matches podman's, and, live with root and
//! podman installed, each side reads what the other created. The live part
//! uses a throwaway network config directory (through `CONTAINERS_CONF`), so
//! the host's networks are neither read nor changed.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use podnet::{Network, NetworkStore, DEFAULT_NETWORK_ID};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A store on a fresh directory holding copies of the captured files.
fn store_with_captures(tmp: &Path) -> NetworkStore {
    let dir = tmp.join("networks");
    fs::create_dir_all(&dir).unwrap();
    for f in ["pntfoo.json", "pntdual.json", "pntplain.json"] {
        fs::copy(data(f), dir.join(f)).unwrap();
    }
    NetworkStore::new(dir)
}

#[test]
fn podman_files_round_trip_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store_with_captures(tmp.path());
    for name in ["pntfoo", "pntdual", "pntplain"] {
        let original = fs::read(data(&format!("{name}.json"))).unwrap();
        let net = store.inspect(name).unwrap();
        assert_eq!(
            String::from_utf8(net.to_podman_json().unwrap()).unwrap(),
            String::from_utf8(original).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn podman_files_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store_with_captures(tmp.path());
    let foo = store.inspect("pntfoo").unwrap();
    assert_eq!(
        foo.id,
        "562b8382918f443b3c6e5da600fe3b49acee76cc479764f81e3f128b00b2419b"
    );
    assert_eq!(foo.network_interface, "podman1");
    assert_eq!(foo.subnets[0].subnet.to_string(), "10.89.77.0/24");
    let range = foo.subnets[0].lease_range.as_ref().unwrap();
    assert_eq!(range.start_ip.unwrap().to_string(), "10.89.77.129");
    assert_eq!(foo.options["mtu"], "1400");
    assert_eq!(foo.labels["tier"], "test");
    let dual = store.inspect("4d1d2e9f").unwrap();
    assert_eq!(dual.name, "pntdual");
    assert!(dual.internal && dual.dns_enabled && dual.ipv6_enabled);
    assert_eq!(
        dual.subnets[1].gateway.unwrap().to_string(),
        "fd44:ced2:6e11:3672::1"
    );
}

#[test]
fn default_network_matches_podman_inspect() {
    let tmp = tempfile::tempdir().unwrap();
    let ours = NetworkStore::new(tmp.path().join("none"))
        .inspect("podman")
        .unwrap();
    let text = fs::read_to_string(data("podman-default-inspect.json")).unwrap();
    let mut theirs: Vec<Network> = serde_json::from_str(&text).unwrap();
    let mut theirs = theirs.remove(0);
    assert_eq!(theirs.id, DEFAULT_NETWORK_ID);
    theirs.created = ours.created.clone(); // podman stamps "now" too
    assert_eq!(ours, theirs);
}

/// Why the live test cannot run, if it cannot.
fn live_skip_reason() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root".into());
    }
    match Command::new("podman").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("podman is not installed".into()),
    }
}

fn skip(reason: &str) {
    testkit::skip("podman_and_podnet_read_each_others_networks", reason);
}

#[test]
fn podman_and_podnet_read_each_others_networks() {
    if let Some(reason) = live_skip_reason() {
        return skip(&reason);
    }
    // a throwaway podman: its own storage, network directory and configuration
    let podman = testkit::Podman::new();
    let dir = podman.network_dir();
    let store = NetworkStore::new(&dir);
    let subnet = testkit::free_subnet_v4();
    let gateway = std::net::Ipv4Addr::from(u32::from(subnet.network()) + 1);
    let tag = std::process::id();

    // podman creates, podnet reads
    let theirs_name = format!("pntnp{tag}");
    podman.run(&[
        "network",
        "create",
        "--subnet",
        &subnet.to_string(),
        "--label",
        "x=y",
        &theirs_name,
    ]);
    let theirs = store.inspect(&theirs_name).unwrap();
    assert_eq!(
        theirs.subnets[0].gateway.unwrap().to_string(),
        gateway.to_string()
    );
    assert_eq!(theirs.labels["x"], "y");
    assert_eq!(
        theirs.to_podman_json().unwrap(),
        fs::read(dir.join(format!("{theirs_name}.json"))).unwrap()
    );

    // podnet creates, podman reads and agrees on every field
    let ours_name = format!("pntnq{tag}");
    let ours = store
        .create({
            let mut v = Network::default();
            v.name = ours_name.clone();
            v.dns_enabled = true;
            v.ipv6_enabled = true;
            v
        })
        .unwrap();
    assert_ne!(ours.network_interface, theirs.network_interface);
    let inspected: Vec<Network> =
        serde_json::from_str(&podman.run(&["network", "inspect", &ours_name])).unwrap();
    assert_eq!(inspected[0], ours);
    // podman's next network avoids ours: it sees our subnet and bridge
    let third = format!("pntnr{tag}");
    podman.run(&["network", "create", &third]);
    let third = store.inspect(&third).unwrap();
    assert_ne!(third.subnets[0].subnet, ours.subnets[0].subnet);
    assert_ne!(third.network_interface, ours.network_interface);

    // both remove
    podman.run(&["network", "rm", &ours_name]);
    assert!(store.inspect(&ours_name).is_err());
    store.remove(&theirs_name).unwrap();
    let listed = podman.run(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!listed.contains(&theirs_name), "{listed}");
    podman.run(&["network", "rm", &third.name]);
}
