//! `scale_connect_<N>x<P>_netavark-<V>`: N running containers connected to a second network
//! and disconnected again, P commands at a time (default 50 and 10), for each netavark
//! version at hand (Debian's 1.4, and 2.x when `$PODNET_TEST_NETAVARK` and
//! `$PODNET_TEST_AARDVARK` name it, as `cargo xtask bench` does from its tools directory):
//!
//! - `podnet`: `podnet connect` then `podnet disconnect` for each container (the CLI, as
//!   users run it, P processes at a time);
//! - `peer_netavark`: netavark's own `setup` then `teardown` of the same second network
//!   for the same containers, with the options podnet hands it, P workers queueing for one
//!   netavark at a time: the floor, since podnet and podman both serialize netavark calls
//!   (and netavark alone in parallel fails on its own files and chains);
//! - `peer_podman`: `podman network connect`/`disconnect` for N running podman containers,
//!   P at a time; podman 4.3 runs Debian's netavark, and the 2.x binaries through a
//!   containers.conf whose `helper_binaries_dir` names their directories first.
//!
//! Needs root, netavark, and for `peer_podman` podman with `localhost/busybox` (`cargo xtask
//! setup`); podnet's and podman's bridges, veths and rules live in a throwaway host
//! namespace (`pntscb-PID`). `PODNET_BENCH_SCALE=N,P` changes the sizes (a quick look: `10,5`).
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use netns::NetNs;
use podnet::{Netavark, NetworkOptions, Runtime, RuntimeConfig};

#[path = "../../podnet/benches/peer_support/mod.rs"]
mod peer_support;
use peer_support::{in_parallel, Peer, Pinned};

const PODNET_BIN: &str = env!("CARGO_BIN_EXE_podnet");

/// One netavark version and its aardvark-dns.
struct Version {
    label: String,
    netavark: PathBuf,
    aardvark: PathBuf,
    /// The containers.conf that points podman 4.3 at this version (`None`: podman's own
    /// helper directories already hold it).
    podman_conf: Option<PathBuf>,
}

fn versions() -> Vec<Version> {
    let label = |binary: &Path| {
        podnet::NetavarkVersion::detect(binary)
            .map(|v| v.to_string())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut out = Vec::new();
    if let (Ok(netavark), Ok(aardvark)) = (
        podnet::find_helper_binary("netavark", None),
        podnet::find_helper_binary("aardvark-dns", None),
    ) {
        out.push(Version {
            label: label(&netavark),
            netavark,
            aardvark,
            podman_conf: None,
        });
    }
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let (Some(netavark), Some(aardvark)) =
        (env("PODNET_TEST_NETAVARK"), env("PODNET_TEST_AARDVARK"))
    {
        let netavark = PathBuf::from(netavark);
        let aardvark = PathBuf::from(aardvark);
        out.push(Version {
            label: label(&netavark),
            podman_conf: Some(podman_conf(&netavark, &aardvark)),
            netavark,
            aardvark,
        });
    } else {
        eprintln!(
            "scale: only one netavark: set PODNET_TEST_NETAVARK and PODNET_TEST_AARDVARK for 2.x"
        );
    }
    out
}

/// The podnet CLI in the fake host, on `version`'s binaries, with everything under `root`.
fn podnet(host: &NetNs, root: &Path, version: &Version, args: &[&str]) -> Command {
    let mut c = host.command(PODNET_BIN).unwrap();
    c.arg("--root")
        .arg(root)
        .arg("--netavark")
        .arg(&version.netavark)
        .env(
            podnet::HELPER_BINARY_DIR_ENV,
            version.aardvark.parent().unwrap(),
        )
        .args(args)
        .stdout(Stdio::null());
    c
}

fn must(mut cmd: Command) {
    if let Err(e) = peer_support::run(&mut cmd) {
        panic!("{e}");
    }
}

/// Connect-then-disconnect rounds measured as one figure: `round` does both halves.
fn measure(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    round: impl Fn() -> Result<(), String>,
) {
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                round().unwrap_or_else(|e| panic!("{id}: {e}"));
            }
            start.elapsed()
        })
    });
}

fn scale(c: &mut Criterion, host: &Arc<NetNs>, root: &Path, version: &Version, index: usize) {
    let (n, parallel) = sizes();
    let root = root.join(format!("v{index}"));
    let octet = 231 + 2 * index;
    let (net1, net2) = (format!("pntsc{index}a"), format!("pntsc{index}b"));
    let subnet = |o: usize| format!("10.89.{o}.0/24");
    let cli = |args: &[&str]| podnet(host, &root, version, args);
    must(cli(&[
        "network",
        "create",
        "--subnet",
        &subnet(octet),
        &net1,
    ]));
    must(cli(&[
        "network",
        "create",
        "--subnet",
        &subnet(octet + 1),
        &net2,
    ]));
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    for name in &names {
        must(cli(&["create", name, "--network", &net1]));
        must(cli(&["start", name]));
    }

    let name = format!("scale_connect_{n}x{parallel}_netavark-{}", version.label);
    let mut group = c.benchmark_group(&name);
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    measure(&mut group, "podnet", || {
        in_parallel(n, parallel, |i| {
            peer_support::run(&mut cli(&["connect", &net2, &names[i]]))
        })?;
        in_parallel(n, parallel, |i| {
            peer_support::run(&mut cli(&["disconnect", &net2, &names[i]]))
        })
    });

    // netavark alone, with the options podnet hands it for each container
    let rt = Runtime::new(
        RuntimeConfig::under(&root),
        Netavark::with_binaries(
            &version.netavark,
            Some(version.aardvark.clone()),
            root.join("netavark"),
        ),
    )
    .unwrap();
    let inputs: Vec<(PathBuf, Vec<u8>)> = names
        .iter()
        .map(|name| {
            must(cli(&["connect", &net2, name]));
            let record = rt.container(name).unwrap();
            let mut options = NetworkOptions::new(&record.id, &record.name);
            let mut per = record.networks[&net2].clone();
            per.static_ips = record.network_status[&net2].interfaces[&per.interface_name]
                .subnets
                .iter()
                .map(|a| a.ipnet.addr())
                .collect();
            let net = rt.networks().inspect(&net2).unwrap();
            options.add_network(&net, per);
            must(cli(&["disconnect", &net2, name]));
            (
                record.netns_path.clone().unwrap(),
                serde_json::to_vec(&options).unwrap(),
            )
        })
        .collect();
    // podnet's own netavark config directory: one aardvark-dns serves the network, as
    // it does for podnet (a second one could not bind the gateway's port 53)
    let config = root.join("netavark");
    let netavark = |command: &str, netns: &Path, input: &[u8]| {
        peer_support::netavark_alone(
            host,
            &version.netavark,
            &config,
            Some(&version.aardvark),
            command,
            netns,
            input,
        )
    };
    // One netavark at a time, as podnet (its flow lock) and podman (its network lock) run
    // it: netavark run in parallel by itself races on its own files and chains (1.4:
    // "iptables: Chain already exists"; both: "remove aardvark entries: No such file").
    let serial = Mutex::new(());
    Peer::new(&name, "peer_netavark").bench(&mut group, |peer| {
        for command in ["setup", "teardown"] {
            in_parallel(n, parallel, |i| {
                peer.retry(|| {
                    let _one = serial.lock().unwrap_or_else(|e| e.into_inner());
                    netavark(command, &inputs[i].0, &inputs[i].1)
                })
            })?;
        }
        Ok(())
    });

    peer_support::podman_connect_disconnect(
        &mut group,
        &name,
        |args| {
            // in the throwaway host too: podman's bridges and netavark's rules stay off
            // the real host
            let mut c = host.command("podman").unwrap();
            if let Some(conf) = &version.podman_conf {
                c.env("CONTAINERS_CONF", conf);
            }
            c.args(args);
            c
        },
        "pntscp",
        ["10.89.241.0/24", "10.89.242.0/24"],
        (n, parallel),
    );
    group.finish();
    for name in &names {
        must(cli(&["rm", "-f", name]));
    }
    must(cli(&["network", "rm", &net1, &net2]));
}

/// N containers, P at a time: `PODNET_BENCH_SCALE=N,P`, else 50 and 10.
fn sizes() -> (usize, usize) {
    std::env::var("PODNET_BENCH_SCALE")
        .ok()
        .and_then(|v| {
            let (n, p) = v.split_once(',')?;
            Some((n.trim().parse().ok()?, p.trim().parse().ok()?))
        })
        .filter(|&(n, p)| n > 0 && p > 0)
        .unwrap_or((50, 10))
}

/// A containers.conf (in a directory kept for the run): the administrator's
/// (`/etc/containers/containers.conf`: this VM's `default_ulimits` among others) with
/// `helper_binaries_dir` naming the directories of `netavark` and `aardvark` before podman's
/// own, so podman 4.3 runs them. `CONTAINERS_CONF` replaces the administrator's file, hence
/// the copy.
fn podman_conf(netavark: &Path, aardvark: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pntscc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let admin = std::fs::read_to_string("/etc/containers/containers.conf").unwrap_or_default();
    let mut conf: toml::Table = admin.parse().unwrap();
    let dirs: toml::value::Array = [netavark, aardvark]
        .iter()
        .filter_map(|b| b.parent())
        .map(|d| d.display().to_string())
        .chain(["/usr/lib/podman".into(), "/usr/libexec/podman".into()])
        .map(toml::Value::String)
        .collect();
    let engine = conf
        .entry("engine")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(engine) = engine {
        engine.insert("helper_binaries_dir".into(), toml::Value::Array(dirs));
    }
    let path = dir.join("containers.conf");
    std::fs::write(&path, toml::to_string(&conf).unwrap()).unwrap();
    path
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("scale benches skipped: they need root");
        return;
    }
    let versions = versions();
    if versions.is_empty() {
        eprintln!("scale benches skipped: no netavark and aardvark-dns found");
        return;
    }
    let host = Pinned(Arc::new(
        NetNs::create_named(&format!("pntscb-{}", std::process::id())).unwrap(),
    ));
    must({
        let mut c = host.0.command("ip").unwrap();
        c.args(["link", "set", "lo", "up"]);
        c
    });
    let root = tempfile::tempdir().unwrap();
    let mut c = Criterion::default().configure_from_args();
    for (index, version) in versions.iter().enumerate() {
        scale(&mut c, &host.0, root.path(), version, index);
    }
    for conf in versions.iter().filter_map(|v| v.podman_conf.as_deref()) {
        if let Some(dir) = conf.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    c.final_summary();
}
