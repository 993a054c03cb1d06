//! `cni_start_stop`: a container's network started and stopped on one of podman 4's CNI
//! networks (podman 4.3's conflist: bridge, host-local, portmap, firewall, tuning; DNS off so
//! no dnsmasq of one side meets the other's), each side by side with podman in the same run:
//!
//! - `podnet`: the library's `Runtime` on `CniBackend` (`setup` + `teardown`: netns,
//!   plugin chain ADD, state, hosts and resolv.conf, then DEL from libcni's cache);
//! - `podnet_cli`: the same through the binary, `podnet --network-backend cni start` +
//!   `stop`, as a user runs it;
//! - `peer_podman`: `podman --network-backend cni start` + `stop -t 0` of a created
//!   busybox container on the same conflist (`--network-config-dir`): podman 4.3's own CNI
//!   path, which also starts and stops the container's process (runc): podman's figure is an
//!   upper bound of its network part, the one whole-command figure there is to compare with.
//!
//! Needs root and the CNI plugins; podman 4.3 with the `localhost/busybox` image that `cargo
//! xtask setup` imports for the peer (a missing piece is named, the peer reported failed).
//! podnet's bridge, veths and rules live in a throwaway host namespace (`pntcnb-PID`);
//! podman's (the peer's) on the host, on the bench's own bridge and subnet, removed after.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use criterion::Criterion;
use netns::NetNs;
use podnet::{CniBackend, ContainerSpec, Network, NetworkRequest, Runtime, RuntimeConfig, Subnet};

#[path = "../../podnet/benches/peer_support/mod.rs"]
mod peer_support;
use peer_support::{Peer, Pinned};

const PODNET_BIN: &str = env!("CARGO_BIN_EXE_podnet");
const PLUGIN_DIR: &str = "/usr/lib/cni";
const BRIDGE: &str = "pntcnb0";

fn main() {
    if !nix::unistd::geteuid().is_root() || !Path::new(PLUGIN_DIR).join("bridge").exists() {
        eprintln!("cni bench SKIPPED: needs root and the CNI plugins in {PLUGIN_DIR}");
        return;
    }
    let pid = std::process::id();
    let host = Pinned(Arc::new(
        NetNs::create_named(&format!("pntcnb-{pid}")).unwrap(),
    ));
    peer_support::run(
        host.0
            .command("ip")
            .unwrap()
            .args(["link", "set", "lo", "up"]),
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let conf_dir = root.path().join("net.d");
    let name = format!("pntcnb{pid}");

    // podman 4.3's conflist for the network, written by podnet's CNI store (byte-identical)
    let cni = podnet::cni::Runtime::new([PLUGIN_DIR]).with_cache_dir(root.path().join("cache"));
    let backend = CniBackend::new(&conf_dir, cni).host_netns(host.0.clone());
    let store = backend.network_store();
    store
        .create({
            let mut v = Network::default();
            v.name = name.clone();
            v.network_interface = BRIDGE.into();
            v.subnets = vec![Subnet::new("10.89.228.0/24".parse().unwrap())];
            v.dns_enabled = false;
            v
        })
        .unwrap();
    let rt = Runtime::new(RuntimeConfig::under(root.path()), backend)
        .unwrap()
        .with_network_store(store);
    rt.create(&{
        let mut v = ContainerSpec::new("bench");
        v.networks = vec![NetworkRequest::new(&name)];
        v
    })
    .unwrap();

    let mut c = Criterion::default().configure_from_args();
    let mut group = peer_support::flow_group(&mut c, "cni_start_stop");
    group.bench_function("podnet", |b| {
        b.iter(|| {
            rt.setup("bench").unwrap();
            rt.teardown("bench").unwrap();
        })
    });
    let conf = conf_dir.display().to_string();
    group.bench_function("podnet_cli", |b| {
        b.iter(|| {
            for command in ["start", "stop"] {
                let mut cmd = host.0.command(PODNET_BIN).unwrap();
                cmd.arg("--root")
                    .arg(root.path())
                    .args(["--network-backend", "cni", "--network-dir", &conf])
                    .args([command, "bench"])
                    .stdout(Stdio::null());
                peer_support::run(&mut cmd).unwrap();
            }
        })
    });

    let podman = |args: &[&str]| {
        let mut cmd = Command::new("podman");
        cmd.args(["--network-backend", "cni", "--network-config-dir", &conf])
            .args(args);
        cmd
    };
    let ctr = format!("pntcnbc-{pid}");
    let peer = Peer::new("cni_start_stop", "peer_podman");
    let ready = peer
        .run(|| podman(&["image", "exists", "localhost/busybox:latest"]))
        .map_err(|e| format!("no localhost/busybox image (run `cargo xtask setup`): {e}"))
        .and_then(|()| {
            peer.run(|| {
                podman(&[
                    "create",
                    "--replace",
                    "--name",
                    &ctr,
                    "--network",
                    &name,
                    "localhost/busybox",
                    "sleep",
                    "3600",
                ])
            })
        });
    if let Err(e) = ready {
        peer.fail(e);
    }
    peer.bench(&mut group, |peer| {
        peer.run(|| podman(&["start", &ctr]))?;
        peer.run(|| podman(&["stop", "-t", "0", &ctr]))
    });
    group.finish();
    c.final_summary();

    let _ = podman(&["rm", "-f", "-t", "0", &ctr]).output();
    rt.remove("bench", true).unwrap();
    // the peer's bridge on the host and host-local's directory of this network (ours only)
    let _ = Command::new("ip").args(["link", "del", BRIDGE]).output();
    let _ = std::fs::remove_dir_all(Path::new("/var/lib/cni/networks").join(&name));
}
