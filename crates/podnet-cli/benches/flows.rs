//! Whole-flow figures, each side by side with its peer in the same run:
//!
//! - `connect_disconnect`: one more network connected to, then disconnected from, a running
//!   container: `podnet` (the library's `Runtime`: leases, backend, hosts, resolv.conf,
//!   state; container files on tmpfs as under a standard `/run`), `podnet_cli` (the same
//!   through the `podnet` binary, as a user runs it, with every file on disk),
//!   `peer_netavark` (netavark's own setup + teardown of the same network, the floor) and
//!   `peer_podman` (`podman network connect` + `disconnect` of a running podman container).
//! - `connect_at_scale`: the same round trip when the network (a /22) holds no other
//!   container (`first`) and 999 others (`nth_1000`): IPAM and state must not grow with
//!   the network. Then every container is stopped, and the state database's size (with its
//!   WAL) after those 1,000 starts and stops and every round trip is printed.
//! - the breakdown of one round trip through the library: the backend's time (every
//!   `Backend` call, timed by a wrapper) against podnet's own (state, leases, locks, files).
//!
//! Sizes and shares are printed as `bench-figure:` lines, which `cargo xtask bench` lists
//! under its table.
//!
//! Needs root, netavark and (for `peer_podman`) podman with the `localhost/busybox` image
//! that `cargo xtask setup` imports; a missing piece is named and its function skipped.
//! podnet's bridges, veths and rules live in a throwaway host namespace (`pntflb-PID`).
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use netns::NetNs;
use std::collections::BTreeMap;

use podnet::{
    Backend, BackendError, ContainerSpec, Netavark, Network, NetworkOptions, NetworkRequest,
    Runtime, RuntimeConfig, StatusBlock, Subnet,
};

#[path = "../../podnet/benches/peer_support/mod.rs"]
mod peer_support;
use peer_support::{Peer, Pinned};

const PODNET_BIN: &str = env!("CARGO_BIN_EXE_podnet");

fn network(name: &str, bridge: &str, subnet: &str) -> Network {
    {
        let mut v = Network::default();
        v.name = name.into();
        v.network_interface = bridge.into();
        v.subnets = vec![Subnet::new(subnet.parse().unwrap())];
        v
    }
}

/// The library's runtime: state under `root` (on disk, as `/var/lib`), the per-container
/// hosts and resolv.conf on tmpfs, as under `/run` on a standard host (this VM's `/run` is
/// on disk; the CLI variant keeps everything on disk and shows that case).
fn runtime(root: &Path, host: &Arc<NetNs>) -> Runtime<Netavark> {
    runtime_with(root, netavark(root, host))
}

fn netavark(root: &Path, host: &Arc<NetNs>) -> Netavark {
    Netavark::new(root.join("netavark"))
        .unwrap()
        .host_netns(host.clone())
}

fn runtime_with<B: Backend>(root: &Path, backend: B) -> Runtime<B> {
    let mut config = RuntimeConfig::under(root);
    let run = Path::new("/dev/shm").join(format!("pntflb-{}", std::process::id()));
    if Path::new("/dev/shm").is_dir() {
        config.containers_dir = run.join(root.file_name().unwrap()).join("containers");
    }
    Runtime::new(config, backend).unwrap()
}

fn spec(name: &str, network: &str) -> ContainerSpec {
    {
        let mut v = ContainerSpec::new(name);
        v.networks = vec![NetworkRequest::new(network)];
        v
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn connect_disconnect(c: &mut Criterion, host: &Arc<NetNs>, root: &Path) {
    let rt = runtime(root, host);
    rt.networks()
        .create(network("pntb1", "pntb1", "10.89.221.0/24"))
        .unwrap();
    rt.networks()
        .create(network("pntb2", "pntb2", "10.89.222.0/24"))
        .unwrap();
    rt.create(&spec("bench", "pntb1")).unwrap();
    let ctr = rt.setup("bench").unwrap();
    let probe = NetworkRequest::new("pntb2");

    let mut group = peer_support::flow_group(c, "connect_disconnect");
    group.bench_function("podnet", |b| {
        b.iter(|| {
            rt.connect("bench", &probe).unwrap();
            rt.disconnect("bench", "pntb2").unwrap();
        })
    });
    group.bench_function("podnet_cli", |b| {
        b.iter(|| {
            for args in [
                ["connect", "pntb2", "bench"],
                ["disconnect", "pntb2", "bench"],
            ] {
                let mut cmd = host.command(PODNET_BIN).unwrap();
                cmd.arg("--root").arg(root).args(args).stdout(Stdio::null());
                run(&mut cmd);
            }
        })
    });

    // netavark alone, with the exact options podnet hands it
    rt.connect("bench", &probe).unwrap();
    let record = rt.container("bench").unwrap();
    let netns_path = record.netns_path.clone().unwrap();
    let mut options = podnet::NetworkOptions::new(&record.id, &record.name);
    let net2 = rt.networks().inspect("pntb2").unwrap();
    let mut per = record.networks["pntb2"].clone();
    per.static_ips = record.network_status["pntb2"].interfaces["eth1"]
        .subnets
        .iter()
        .map(|a| a.ipnet.addr())
        .collect();
    options.add_network(&net2, per);
    rt.disconnect("bench", "pntb2").unwrap();
    let json = serde_json::to_vec(&options).unwrap();
    let netavark = podnet::find_helper_binary("netavark", None).unwrap();
    let config = root.join("netavark-peer");
    Peer::new("connect_disconnect", "peer_netavark").bench(&mut group, |peer| {
        for command in ["setup", "teardown"] {
            peer.retry(|| {
                peer_support::netavark_alone(
                    host,
                    &netavark,
                    &config,
                    None,
                    command,
                    &netns_path,
                    &json,
                )
            })?;
        }
        Ok(())
    });

    // a podman that keeps failing is reported and the other figures stand
    peer_support::podman_connect_disconnect(
        &mut group,
        "connect_disconnect",
        |args| {
            let mut c = Command::new("podman");
            c.args(args);
            c
        },
        "pntpb",
        ["10.89.223.0/24", "10.89.224.0/24"],
        (1, 1),
    );
    group.finish();
    rt.remove(&ctr.id, true).unwrap();
}

fn connect_at_scale(c: &mut Criterion, host: &Arc<NetNs>, root: &Path) {
    let rt = runtime(root, host);
    rt.networks()
        .create(network("pnts1", "pnts1", "10.89.225.0/24"))
        .unwrap();
    rt.networks()
        .create(network("pnts2", "pnts2", "10.89.228.0/22"))
        .unwrap();
    rt.create(&spec("probe", "pnts1")).unwrap();
    rt.setup("probe").unwrap();
    let probe = NetworkRequest::new("pnts2");
    let mut group = peer_support::flow_group(c, "connect_at_scale");
    let measure = |group: &mut criterion::BenchmarkGroup<'_, _>, id: &str| {
        group.bench_function(id, |b| {
            b.iter(|| {
                rt.connect("probe", &probe).unwrap();
                rt.disconnect("probe", "pnts2").unwrap();
            })
        });
    };
    measure(&mut group, "first");
    for i in 0..999 {
        let name = format!("fill{i}");
        rt.create(&spec(&name, "pnts2")).unwrap();
        rt.setup(&name).unwrap();
    }
    measure(&mut group, "nth_1000");
    group.finish();
    for record in rt.containers().unwrap() {
        rt.remove(&record.id, true).unwrap();
    }
    let size: u64 = ["state.db", "state.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(root.join(f)).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "bench-figure: state database after 1,000 container starts and stops and every \
         connect round trip above, all containers removed: {} KiB (state.db + WAL)",
        size / 1024
    );
}

/// Every `Backend` call of the wrapped backend, timed.
struct Timed<B> {
    inner: B,
    spent: std::sync::Mutex<Duration>,
}

impl<B> Timed<B> {
    fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        *self.spent.lock().unwrap() += start.elapsed();
        out
    }
}

impl<B: Backend> Backend for Timed<B> {
    fn setup(
        &self,
        netns: &Path,
        o: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError> {
        self.time(|| self.inner.setup(netns, o))
    }
    fn teardown(&self, netns: &Path, o: &NetworkOptions) -> Result<(), BackendError> {
        self.time(|| self.inner.teardown(netns, o))
    }
    fn missing_bridges(&self, o: &NetworkOptions) -> Result<Vec<String>, BackendError> {
        self.time(|| self.inner.missing_bridges(o))
    }
    fn undo_setup(
        &self,
        netns: &Path,
        o: &NetworkOptions,
        new: &[String],
    ) -> Result<(), BackendError> {
        self.time(|| self.inner.undo_setup(netns, o, new))
    }
    fn repair_dns(&self) -> Result<Option<String>, BackendError> {
        self.time(|| self.inner.repair_dns())
    }
    fn publish(
        &self,
        id: &str,
        ports: &[portmap::PortMapping],
        status: &BTreeMap<String, StatusBlock>,
    ) -> Result<(), BackendError> {
        self.time(|| self.inner.publish(id, ports, status))
    }
    fn release(&self, id: &str) -> Result<(), BackendError> {
        self.time(|| self.inner.release(id))
    }
    fn assigns_addresses(&self) -> bool {
        self.inner.assigns_addresses()
    }
}

/// One connect + disconnect round trip split into the backend's time and podnet's own.
fn breakdown(host: &Arc<NetNs>, root: &Path) {
    let backend = Timed {
        inner: netavark(root, host),
        spent: Default::default(),
    };
    let rt = runtime_with(root, backend);
    rt.networks()
        .create(network("pntbd1", "pntbd1", "10.89.232.0/24"))
        .unwrap();
    rt.networks()
        .create(network("pntbd2", "pntbd2", "10.89.233.0/24"))
        .unwrap();
    // a second container keeps the bridge of the second network, as in a busy network
    for name in ["probe", "keeper"] {
        rt.create(&spec(
            name,
            if name == "probe" { "pntbd1" } else { "pntbd2" },
        ))
        .unwrap();
        rt.setup(name).unwrap();
    }
    let probe = NetworkRequest::new("pntbd2");
    const ROUNDS: u32 = 50;
    *rt.backend().spent.lock().unwrap() = Duration::ZERO;
    let start = std::time::Instant::now();
    for _ in 0..ROUNDS {
        rt.connect("probe", &probe).unwrap();
        rt.disconnect("probe", "pntbd2").unwrap();
    }
    let total = start.elapsed();
    let backend = *rt.backend().spent.lock().unwrap();
    let own = total.saturating_sub(backend);
    println!(
        "bench-figure: one connect + disconnect through the library ({ROUNDS} rounds, netavark \
         {}): {:.1} ms, of which the backend {:.1} ms and podnet's own work (state, leases, \
         locks, hosts and resolv.conf, name check) {:.1} ms = {:.1} % (target under 10 %)",
        podnet::NetavarkVersion::detect(&podnet::find_helper_binary("netavark", None).unwrap())
            .map(|v| v.to_string())
            .unwrap_or_default(),
        total.as_secs_f64() * 1e3 / f64::from(ROUNDS),
        backend.as_secs_f64() * 1e3 / f64::from(ROUNDS),
        own.as_secs_f64() * 1e3 / f64::from(ROUNDS),
        own.as_secs_f64() * 100.0 / total.as_secs_f64()
    );
    for record in rt.containers().unwrap() {
        rt.remove(&record.id, true).unwrap();
    }
}

fn main() {
    if !nix::unistd::geteuid().is_root() || podnet::find_helper_binary("netavark", None).is_err() {
        eprintln!("flows benches skipped: they need root and netavark");
        return;
    }
    let host = Pinned(Arc::new(
        NetNs::create_named(&format!("pntflb-{}", std::process::id())).unwrap(),
    ));
    run(host
        .0
        .command("ip")
        .unwrap()
        .args(["link", "set", "lo", "up"]));
    let root = tempfile::tempdir().unwrap();
    let mut c = Criterion::default().configure_from_args();
    connect_disconnect(&mut c, &host.0, &root.path().join("a"));
    connect_at_scale(&mut c, &host.0, &root.path().join("b"));
    breakdown(&host.0, &root.path().join("c"));
    c.final_summary();
    let _ = std::fs::remove_dir_all(
        Path::new("/dev/shm").join(format!("pntflb-{}", std::process::id())),
    );
}
