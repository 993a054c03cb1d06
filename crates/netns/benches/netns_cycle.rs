//! Criterion group `netns_cycle`: one create + remove cycle of a pinned network namespace.
//!
//! - `podnet`: `NetNs::create_in` + `NetNs::remove` in a tmpfs pin directory, in process;
//! - `peer_ip_netns`: `ip netns add NAME` + `ip netns del NAME`;
//! - `peer_unshare_n`: `unshare -n true` (the kernel's namespace creation plus one
//!   fork/exec, no pinning);
//! - `peer_kernel_floor`: a thread that only calls `unshare(CLONE_NEWNET)` and exits, so the
//!   namespace is made and destroyed with nothing else around it: the kernel's own cost,
//!   which no implementation can go below on this machine.
//!
//! Needs root. The binary re-runs itself in a private mount namespace with tmpfs on `/run`
//! and on its pin directory, so neither the host's mounts nor its `/run/netns` change.
#![allow(clippy::unwrap_used)]
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use netns::NetNs;

const INNER_ENV: &str = "PODNET_NETNS_BENCH_INNER";

fn pin_dir() -> PathBuf {
    PathBuf::from(std::env::var_os(INNER_ENV).unwrap()).join("netns")
}

fn netns_cycle(c: &mut Criterion) {
    let dir = pin_dir();
    let mut group = c.benchmark_group("netns_cycle");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("podnet", |b| {
        b.iter(|| {
            let ns = NetNs::create_in(&dir, "pntnsbench").unwrap();
            ns.remove().unwrap();
        })
    });
    let mut n = 0u64;
    let ip = |args: &[&str]| {
        let st = Command::new("ip").args(args).status().unwrap();
        assert!(st.success(), "ip {args:?}");
    };
    group.bench_function("peer_ip_netns", |b| {
        b.iter(|| {
            n += 1;
            let name = format!("pntnsbench{}-{n}", std::process::id());
            ip(&["netns", "add", &name]);
            ip(&["netns", "del", &name]);
        })
    });
    group.bench_function("peer_unshare_n", |b| {
        b.iter(|| {
            let st = Command::new("unshare")
                .args(["-n", "true"])
                .status()
                .unwrap();
            assert!(st.success());
        })
    });
    group.bench_function("peer_kernel_floor", |b| {
        b.iter(|| {
            std::thread::spawn(|| {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            })
            .join()
            .unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, netns_cycle);

fn main() {
    if std::env::var_os(INNER_ENV).is_some() {
        let base = PathBuf::from(std::env::var_os(INNER_ENV).unwrap());
        let tmpfs = |target: &std::path::Path| {
            nix::mount::mount(
                Some("tmpfs"),
                target,
                Some("tmpfs"),
                nix::mount::MsFlags::empty(),
                Some("mode=0755"),
            )
            .unwrap()
        };
        tmpfs(&base);
        tmpfs(std::path::Path::new("/run")); // `ip netns` pins under /run/netns
        benches();
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("netns_cycle: skipped, needs root (network namespaces and mounts)");
        if std::env::var_os("CI").is_some() {
            panic!("netns_cycle cannot run without root and CI is set");
        }
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("pntnsbench")
        .tempdir()
        .unwrap();
    let status = Command::new("unshare")
        .args(["--mount", "--propagation", "private"])
        .arg(std::env::current_exe().unwrap())
        .args(std::env::args_os().skip(1))
        .env(INNER_ENV, base.path())
        .status()
        .unwrap();
    assert!(status.success(), "netns_cycle: {status}");
}
