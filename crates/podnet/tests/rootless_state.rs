//! Rootless defaults, run as the unprivileged test user: the network
//! directory and the state database land under the user's data directory
//! (`$XDG_DATA_HOME`, here a temporary one), and create, allocate and remove
//! work there without any privilege.

#![allow(clippy::unwrap_used)]

use podnet::{Network, NetworkStore, StateStore};

#[test]
fn rootless_paths_and_operations() {
    if !rootless_detect::is_rootless() {
        testkit::skip(
            "rootless_paths_and_operations",
            "running as root (cargo xtask integration runs it as podnet-ci)",
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // the only test of this binary: nothing else reads the environment meanwhile
    std::env::set_var("XDG_DATA_HOME", tmp.path());

    let dir = NetworkStore::default_dir().unwrap();
    assert_eq!(dir, tmp.path().join("containers/storage/networks"));
    let db = StateStore::default_path().unwrap();
    assert_eq!(db, tmp.path().join("podnet/state.db"));

    let store = NetworkStore::open_default().unwrap();
    let net = store
        .create({
            let mut v = Network::default();
            v.name = format!("pntrl{}", std::process::id());
            v.dns_enabled = true;
            v
        })
        .unwrap();
    assert!(dir.join(format!("{}.json", net.name)).is_file());

    let state = StateStore::open(&db).unwrap();
    let tx = podnet::testing::begin(&state).unwrap();
    let ips = tx.allocate_ips(&net, "c1", "eth0", &[]).unwrap();
    tx.commit().unwrap();
    assert_eq!(ips[0].addr(), podnet_first_host(&net));

    let tx = podnet::testing::begin(&state).unwrap();
    tx.release_ips(&net, "c1").unwrap();
    tx.commit().unwrap();
    store.remove(&net.name).unwrap();
    assert!(!dir.join(format!("{}.json", net.name)).exists());
}

/// The gateway is .1 of the new /24, so the first lease is .2.
fn podnet_first_host(net: &Network) -> std::net::IpAddr {
    let std::net::IpAddr::V4(v4) = net.subnets[0].subnet.network() else {
        panic!("expected an IPv4 subnet first");
    };
    std::net::IpAddr::V4((u32::from(v4) + 2).into())
}
