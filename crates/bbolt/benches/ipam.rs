//! Criterion benchmark: one allocate and one release in podman's IPAM database, each in
//! its own open + transaction + close as containers/common does, on a network holding
//! 250 containers; the database lives on tmpfs (/dev/shm, like podman's /run), so the
//! figure is this crate's cost, not the disk's. The peer, `go_bbolt_same_writes`, is
//! Debian's go.etcd.io/bbolt making the same writes (the Go peer's `ipambench`), timed
//! over the same number of iterations.
#![allow(clippy::unwrap_used)]
// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bbolt::podman_ipam::{self, Subnet};
use criterion::{criterion_group, criterion_main, Criterion};

const NETWORK: &str = "bench";
const SUBNET: &str = "10.90.0.0/16";

fn prepared(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("ipam.db");
    let subnets = [subnets()];
    let mut db = bbolt::Db::open(&path).unwrap();
    db.update(|tx| {
        for n in 0..250 {
            podman_ipam::allocate(tx, NETWORK, &subnets, &format!("{n:064x}"), &[])?;
        }
        Ok::<_, podman_ipam::IpamError>(())
    })
    .unwrap();
    path
}

fn subnets() -> Subnet {
    Subnet {
        gateway: Some("10.90.0.1".parse().unwrap()),
        ..Subnet::new(SUBNET.parse().unwrap())
    }
}

fn allocate_release(c: &mut Criterion) {
    let dir = tempfile::Builder::new()
        .prefix("pnt-bbolt-bench")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let path = prepared(dir.path());
    let subnets = [subnets()];
    let mut group = c.benchmark_group("podman_ipam");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("allocate_release", |b| {
        b.iter(|| {
            let mut db = bbolt::Db::open(&path).unwrap();
            let ips: Vec<IpAddr> = db
                .update(|tx| podman_ipam::allocate(tx, NETWORK, &subnets, "bench-container", &[]))
                .unwrap();
            drop(db);
            let mut db = bbolt::Db::open(&path).unwrap();
            db.update(|tx| podman_ipam::release(tx, NETWORK, &subnets, "bench-container", &ips))
                .unwrap();
        })
    });
    if let Some(peer) = common::peer("ipam bench") {
        let go_path = prepared(&dir.path().join("go").tap_mkdir());
        group.bench_function("go_bbolt_same_writes", |b| {
            b.iter_custom(|iters| {
                let out = Command::new(peer)
                    .arg("ipambench")
                    .arg(&go_path)
                    .args([NETWORK, SUBNET, &iters.to_string()])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let ns: u64 = String::from_utf8(out.stdout)
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                Duration::from_nanos(ns)
            })
        });
    }
    group.finish();
}

trait MkDir {
    fn tap_mkdir(self) -> Self;
}

impl MkDir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

criterion_group!(benches, allocate_release);
criterion_main!(benches);
