//! Compatibility with real podman 4.3 on a dual-stack network, both ways: what podman
//! allocates, this crate reads in the layout; what this crate allocates, podman's next
//! `podman run` steps over (it gets the next address after ours, as its own would).
//!
//! Isolation: the test runs on a thread with its own mount and network namespaces,
//! tmpfs over `/run/containers/networks` (where rootful podman keeps `ipam.db`, a fixed
//! path) and `/run/netns`, and podman with its own `--root`, `--runroot`, `--tmpdir`, a
//! `CONTAINERS_CONF` whose `network_config_dir` is a temp dir, and a busybox `--rootfs`;
//! so the host's networks, firewall, containers and `ipam.db` are untouched. Needs root,
//! podman, netavark and busybox; run it under the integration lock.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use bbolt::podman_ipam::{self, Subnet};

const NETWORK: &str = "pbb-compat";
const IPAM_DB: &str = podman_ipam::ROOTFUL_PATH;

fn ready() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root (rootful podman)".into());
    }
    for (tool, package) in [
        ("podman", "podman"),
        ("/usr/lib/podman/netavark", "netavark"),
        ("/bin/busybox", "busybox-static"),
    ] {
        let found = if tool.starts_with('/') {
            Path::new(tool).exists()
        } else {
            Command::new(tool).arg("--version").output().is_ok()
        };
        if !found {
            return Err(format!(
                "{tool} is missing ({package}; `cargo xtask setup`)"
            ));
        }
    }
    Ok(())
}

struct Podman {
    base: PathBuf,
}

impl Podman {
    fn new(base: &Path) -> Podman {
        common::podman_base(base);
        Podman {
            base: base.to_path_buf(),
        }
    }

    fn command(&self) -> Command {
        common::podman_command(&self.base)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Starts a container on the network; returns its full ID.
    fn start(&self, name: &str) -> String {
        let rootfs = self.base.join("rootfs");
        self.run(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            NETWORK,
            "--rootfs",
            rootfs.to_str().unwrap(),
            "/bin/busybox",
            "sleep",
            "600",
        ])
    }

    /// The container's addresses on the network, as podman reports them.
    fn addresses(&self, id: &str) -> Vec<IpAddr> {
        let json = self.run(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", id]);
        let nets: serde_json::Value = serde_json::from_str(&json).unwrap();
        let net = &nets[NETWORK];
        ["IPAddress", "GlobalIPv6Address"]
            .iter()
            .filter_map(|k| net[k].as_str().filter(|s| !s.is_empty()))
            .map(|s| s.parse().unwrap())
            .collect()
    }

    /// The network's subnets, from the file podman wrote.
    fn subnets(&self) -> Vec<Subnet> {
        let file = self.base.join("networks").join(format!("{NETWORK}.json"));
        let net: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        net["subnets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| Subnet {
                gateway: s["gateway"].as_str().map(|g| g.parse().unwrap()),
                ..Subnet::new(s["subnet"].as_str().unwrap().parse().unwrap())
            })
            .collect()
    }
}

impl Drop for Podman {
    /// Removes the test's containers even when an assertion failed half-way.
    fn drop(&mut self) {
        let _ = self.command().args(["rm", "-f", "-a", "-t", "0"]).output();
    }
}

fn scenario(base: &Path) {
    common::isolate();
    let podman = Podman::new(base);
    podman.run(&[
        "network",
        "create",
        "--disable-dns",
        "--subnet",
        "10.213.7.0/24",
        "--subnet",
        "fd00:213:7::/64",
        NETWORK,
    ]);
    let subnets = podman.subnets();
    assert_eq!(subnets.len(), 2);

    // podman allocates: this crate reads it in podman's layout
    let a = podman.start("pbb-a");
    let a_ips = podman.addresses(&a);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(a_ips, [ip("10.213.7.2"), ip("fd00:213:7::2")]);
    let mut db = bbolt::Db::open(IPAM_DB).unwrap();
    let recorded = db.view(|tx| podman_ipam::lookup(tx, NETWORK, &a)).unwrap();
    let mut sorted = recorded.clone();
    sorted.sort();
    let mut want = a_ips.clone();
    want.sort();
    assert_eq!(sorted, want, "podman's record of its container");
    let holders = db.view(|tx| podman_ipam::holders(tx, NETWORK)).unwrap();
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].container_id, a);

    // this crate allocates: podman's next container gets other addresses
    let ours = db
        .update(|tx| podman_ipam::allocate(tx, NETWORK, &subnets, "podnet-bbolt-test", &[]))
        .unwrap();
    drop(db); // podman waits on the flock while the file is open
              // the next after podman's lastIP, in podman's subnet order
    assert_eq!(ours, [ip("10.213.7.3"), ip("fd00:213:7::3")]);
    let b = podman.start("pbb-b");
    let b_ips = podman.addresses(&b);
    // podman read our allocation and our lastIP: it goes on after them
    assert_eq!(b_ips, [ip("10.213.7.4"), ip("fd00:213:7::4")]);

    // releasing ours and podman's removals leave an empty, valid database
    let mut db = bbolt::Db::open(IPAM_DB).unwrap();
    db.update(|tx| podman_ipam::release(tx, NETWORK, &subnets, "podnet-bbolt-test", &ours))
        .unwrap();
    drop(db);
    podman.run(&["rm", "-f", "-t", "0", &a, &b]);
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    assert!(db
        .view(|tx| podman_ipam::holders(tx, NETWORK))
        .unwrap()
        .is_empty());
    drop(db);
    if let Some(peer) = common::peer("podman_compat") {
        common::go_check(peer, Path::new(IPAM_DB));
    }
    podman.run(&["network", "rm", NETWORK]);
}

#[test]
fn podman_and_this_crate_share_one_ipam_database() {
    if let Err(reason) = ready() {
        common::skip("podman_compat", &reason);
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let path = base.path().to_path_buf();
    // The namespaces belong to this thread only, and go away with it.
    std::thread::spawn(move || scenario(&path)).join().unwrap();
}
