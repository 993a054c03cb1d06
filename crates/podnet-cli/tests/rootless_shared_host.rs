//! One unprivileged user's rootless podman 4.3 and podnet on one network (run by `cargo
//! xtask integration` as `podnet-ci`, with its login shell's PATH): containers started
//! alternately by the two tools get distinct addresses from the one rootless `ipam.db`,
//! which agrees with what each tool reports (the rootful suite `shared_host` also checks the
//! file with bbolt's own `tx.Check()`). The tools keep separate rootless network namespaces (podman 4.3 removes its
//! own when its last container goes, counting only its containers), so their containers do
//! not reach each other: only the addresses are shared.
//!
//! Isolation: podman runs with its own `--root`, `--runroot` (its rootless `ipam.db` is
//! `RUNROOT/networks/ipam.db`), `--tmpdir` and a `CONTAINERS_CONF` whose
//! `network_config_dir` is the test's; podnet with its own `--root` and that network
//! directory and `ipam.db`.
#![allow(clippy::unwrap_used)]

#[path = "../../bbolt/tests/common/mod.rs"]
mod bbolt_common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bbolt::podman_ipam;

const PAIRS: usize = 3;

fn podnet_bin() -> PathBuf {
    // xtask copies the binary next to this test for the unprivileged user
    std::env::var_os("PODNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_podnet")))
}

fn ready(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        testkit::skip(
            test,
            "runs as an unprivileged user (cargo xtask integration runs it as podnet-ci)",
        );
        return false;
    }
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        testkit::skip(test, "needs XDG_RUNTIME_DIR");
        return false;
    }
    ["podman", "/usr/lib/podman/netavark", "/bin/busybox"]
        .iter()
        .all(|tool| testkit::require_binary(test, tool).is_some())
}

use testkit::stdout_of as check;

struct Peers {
    base: tempfile::TempDir,
}

impl Peers {
    fn new() -> Peers {
        let base = tempfile::Builder::new().prefix("pntrsh").tempdir().unwrap();
        bbolt_common::podman_base(base.path());
        Peers { base }
    }

    fn ipam_db(&self) -> PathBuf {
        self.base.path().join("runroot/networks/ipam.db")
    }

    fn podman(&self, args: &[&str]) -> String {
        let out = bbolt_common::podman_command(self.base.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        check(&format!("podman {args:?}"), &out)
    }

    /// podnet with the test's root, podman's network directory and `ipam.db`.
    fn podnet_command(&self, args: &[&str]) -> Command {
        let base = self.base.path();
        let mut c = Command::new(podnet_bin());
        c.arg("--root")
            .arg(base.join("podnet"))
            .arg("--network-dir")
            .arg(base.join("networks"))
            .arg("--shared-ipam")
            .arg(self.ipam_db())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn podnet(&self, args: &[&str]) -> String {
        let out = self.podnet_command(args).output().unwrap();
        check(&format!("podnet {args:?}"), &out)
    }

    fn podman_addresses(&self, name: &str, network: &str) -> Vec<IpAddr> {
        let json = self.podman(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", name]);
        let nets: serde_json::Value = serde_json::from_str(&json).unwrap();
        ["IPAddress", "GlobalIPv6Address"]
            .iter()
            .filter_map(|k| nets[network][k].as_str().filter(|s| !s.is_empty()))
            .map(|s| s.parse().unwrap())
            .collect()
    }

    /// The podnet container's addresses on `network`, from `podnet ps`.
    fn podnet_addresses(&self, name: &str, network: &str) -> (String, Vec<IpAddr>) {
        let ps: Vec<serde_json::Value> =
            serde_json::from_str(&self.podnet(&["ps", "--format", "json"])).unwrap();
        let c = ps.iter().find(|c| c["Name"] == name).unwrap();
        let ips = c["Addresses"][network]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str())
            .filter_map(|a| a.split_whitespace().last())
            .map(|cidr| cidr.split('/').next().unwrap().parse().unwrap())
            .collect();
        (c["Id"].as_str().unwrap().to_string(), ips)
    }
}

impl Drop for Peers {
    /// Removes the test's containers even when an assertion failed half-way.
    fn drop(&mut self) {
        let podnet = |args: &[&str]| self.podnet_command(args).output();
        if let Ok(out) = podnet(&["ps", "--format", "json"]) {
            let list: Vec<serde_json::Value> =
                serde_json::from_slice(&out.stdout).unwrap_or_default();
            for c in list {
                if let Some(name) = c["Name"].as_str() {
                    let _ = podnet(&["rm", "-f", name]);
                }
            }
        }
        let _ = bbolt_common::podman_command(self.base.path())
            .args(["rm", "-f", "-a", "-t", "0"])
            .output();
        // podman's storage may hold files owned by the user's subordinate IDs
        let _ = bbolt_common::podman_command(self.base.path())
            .args(["unshare", "rm", "-rf"])
            .arg(self.base.path().join("root"))
            .output();
    }
}

#[test]
fn rootless_podman_and_podnet_take_distinct_addresses_from_one_ipam_db() {
    if !ready("rootless_shared_host") {
        return;
    }
    let peers = Peers::new();
    let net = format!("pnrsh{}", std::process::id());
    peers.podman(&["network", "create", "--subnet", "10.215.1.0/24", &net]);
    let rootfs = peers.base.path().join("rootfs");
    let mut by_id: Vec<(String, Vec<IpAddr>)> = Vec::new();
    let mut podnet_names = Vec::new();
    for i in 0..PAIRS {
        let pm = format!("{net}-pm{i}");
        let id = peers.podman(&[
            "run",
            "-d",
            "--name",
            &pm,
            "--network",
            &net,
            "--rootfs",
            rootfs.to_str().unwrap(),
            "/bin/busybox",
            "sleep",
            "600",
        ]);
        by_id.push((
            id.lines().last().unwrap().to_string(),
            peers.podman_addresses(&pm, &net),
        ));
        let pn = format!("{net}-pn{i}");
        peers.podnet(&["create", &pn, "--network", &net]);
        peers.podnet(&["start", &pn]);
        by_id.push(peers.podnet_addresses(&pn, &net));
        podnet_names.push(pn);
    }
    let mut seen = BTreeSet::new();
    for (id, ips) in &by_id {
        assert_eq!(ips.len(), 1, "{id}: {ips:?}");
        assert!(
            seen.insert(ips[0]),
            "{} handed out twice (again to {id})",
            ips[0]
        );
    }
    let holders = {
        let db = bbolt::Db::open_read_only(peers.ipam_db()).unwrap();
        db.view(|tx| podman_ipam::holders(tx, &net)).unwrap()
    };
    assert_eq!(holders.len(), by_id.len(), "{holders:?}");
    for (id, ips) in &by_id {
        let h = holders.iter().find(|h| &h.container_id == id).unwrap();
        assert_eq!(&h.ips, ips, "ipam.db's record of {id}");
    }

    for name in &podnet_names {
        peers.podnet(&["rm", "-f", name]);
    }
    let db = bbolt::Db::open_read_only(peers.ipam_db()).unwrap();
    let left = db.view(|tx| podman_ipam::holders(tx, &net)).unwrap();
    drop(db);
    assert_eq!(left.len(), PAIRS, "podnet released only its own: {left:?}");
    peers.podman(&["rm", "-f", "-a", "-t", "0"]);
    peers.podman(&["network", "rm", &net]);
    assert!(!Path::new(
        &peers
            .base
            .path()
            .join("networks")
            .join(format!("{net}.json"))
    )
    .exists());
}
