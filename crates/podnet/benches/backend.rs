//! `backend_roundtrip`: one container set up and torn down on one bridge
//! network, through podnet's `Netavark` (`podnet`) and by running the
//! netavark binary directly with the same JSON (`peer_netavark`).
//!
//! Needs root and netavark; otherwise it says why and measures nothing. Runs
//! inside a throwaway "host" network namespace (`pntnvb-<pid>-h`), so the
//! machine's own interfaces and firewall are untouched; both variants enter
//! it the same way (`setns` in the child between fork and exec).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use netns::NetNs;
use podnet::{find_helper_binary, Backend, Netavark, NetworkOptions, PerNetworkOptions};

/// A namespace pinned in /run/netns, removed on drop.
struct Pinned(Arc<NetNs>);

impl Pinned {
    fn new(name: &str) -> Self {
        let ns = NetNs::create_named(name).unwrap();
        ns.command("ip")
            .unwrap()
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        Pinned(Arc::new(ns))
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = netns::remove(self.0.path());
    }
}

mod peer_support;
use peer_support::Peer;

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("backend bench SKIPPED: needs root");
        return;
    }
    let binary = match find_helper_binary("netavark", None) {
        Ok(b) => b,
        Err(err) => {
            eprintln!("backend bench SKIPPED: {err}");
            return;
        }
    };
    let pid = std::process::id();
    let host = Pinned::new(&format!("pntnvb-{pid}-h"));
    let container = Pinned::new(&format!("pntnvb-{pid}-c"));
    let config = tempfile::tempdir().unwrap();
    let config_dir = config.path().join("networks");
    let network: podnet::Network = serde_json::from_value(serde_json::json!({
        "name": "pntnvb", "id": format!("{:0>64}", pid), "driver": "bridge",
        "network_interface": format!("pntnvb{pid}"),
        "subnets": [{"subnet": "10.89.249.0/24", "gateway": "10.89.249.1"}],
        "ipv6_enabled": false, "internal": false, "dns_enabled": false,
        "ipam_options": {"driver": "host-local"}
    }))
    .unwrap();
    let mut opts = NetworkOptions::new(format!("{:0>64}", "b1"), "pntnvb-c");
    let per = {
        let mut v = PerNetworkOptions::new("eth0");
        v.static_ips = vec!["10.89.249.2".parse().unwrap()];
        v
    };
    opts.add_network(&network, per);
    let input = serde_json::to_vec(&opts).unwrap();
    let nv = Netavark::with_binaries(&binary, None, &config_dir).host_netns(host.0.clone());
    std::fs::create_dir_all(&config_dir).unwrap();
    let netns = container.0.path();

    {
        let mut c = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
            .configure_from_args();
        let mut group = c.benchmark_group("backend_roundtrip");
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("podnet", |b| {
            b.iter(|| {
                nv.setup(netns, &opts).unwrap();
                nv.teardown(netns, &opts).unwrap();
            })
        });
        Peer::new("backend_roundtrip", "peer_netavark").bench(&mut group, |p| {
            for command in ["setup", "teardown"] {
                p.retry(|| {
                    peer_support::netavark_alone(
                        &host.0,
                        &binary,
                        &config_dir,
                        None,
                        command,
                        netns,
                        &input,
                    )
                })?;
            }
            Ok(())
        });
        group.finish();
        c.final_summary();
    }
}
