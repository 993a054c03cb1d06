//! IPAM cost as a network fills up: allocating for the 1st container vs the
//! 200th on one /24 (issue 5's target: the 200th at most 1.2x the 1st), and
//! the worst case of a wrapped cursor walking a nearly full subnet.
//!
//! Run: `cargo bench -p podnet --bench ipam`.

#![allow(
    missing_docs,
    reason = "criterion_group!/criterion_main! generate undocumented items"
)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use podnet::{ContainerRecord, Network, StateStore, Subnet};

fn network() -> Network {
    let mut n = {
        let mut v = Network::default();
        v.name = "pntbench".into();
        v.id = "b".repeat(64);
        v.driver = "bridge".into();
        v.subnets = vec![Subnet {
            gateway: "10.89.0.1".parse().ok(),
            ..Subnet::new("10.89.0.0/24".parse().expect("literal subnet"))
        }];
        v
    };
    n.ipam_options.insert("driver".into(), "host-local".into());
    n
}

/// A fresh database with `held` containers holding one address each.
fn store_with(dir: &std::path::Path, held: usize) -> StateStore {
    let s = StateStore::open(dir.join("state.db")).expect("open state db");
    let net = network();
    let tx = podnet::testing::begin(&s).expect("begin");
    for i in 0..held {
        tx.allocate_ips(&net, &format!("held{i}"), "eth0", &[])
            .expect("allocate");
    }
    tx.commit().expect("commit");
    s
}

fn record(id: &str) -> ContainerRecord {
    {
        let mut v = ContainerRecord::default();
        v.id = id.into();
        v.name = id.into();
        v.hostname = id.into();
        v.network_mode = podnet::NetworkMode::Bridge;
        v
    }
}

fn bench(c: &mut Criterion) {
    let net = network();
    let mut g = c.benchmark_group("ipam_allocate");
    g.sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (id, held) in [("1st", 0usize), ("200th", 199)] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let s = store_with(tmp.path(), held);
        // allocation alone, rolled back so every iteration sees the same state
        g.bench_function(id, |b| {
            b.iter(|| {
                let tx = podnet::testing::begin(&s).expect("begin");
                let ips = tx.allocate_ips(&net, "new", "eth0", &[]).expect("allocate");
                assert_eq!(ips.len(), 1);
                drop(tx);
            })
        });
    }
    // 252 leased, only .254 free, cursor at the end: the walk reads every lease
    {
        let tmp = tempfile::tempdir().expect("tempdir");
        let s = store_with(tmp.path(), 253);
        let tx = podnet::testing::begin(&s).expect("begin");
        tx.release_ips(&net, "held252").expect("release");
        tx.commit().expect("commit");
        g.bench_function("253rd_wrapped_walk", |b| {
            b.iter(|| {
                let tx = podnet::testing::begin(&s).expect("begin");
                let ips = tx.allocate_ips(&net, "new", "eth0", &[]).expect("allocate");
                assert_eq!(ips[0].addr().to_string(), "10.89.0.254");
                drop(tx);
            })
        });
    }
    g.finish();

    // what a connect + disconnect costs in the database: two durable commits
    let mut g = c.benchmark_group("ipam_connect_disconnect");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (id, held) in [("1st", 0usize), ("200th", 199)] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let s = store_with(tmp.path(), held);
        g.bench_function(id, |b| {
            b.iter(|| {
                let tx = podnet::testing::begin(&s).expect("begin");
                tx.allocate_ips(&net, "new", "eth0", &[]).expect("allocate");
                tx.put_container(&record("new")).expect("put");
                tx.commit().expect("commit");
                let tx = podnet::testing::begin(&s).expect("begin");
                tx.release_ips(&net, "new").expect("release");
                tx.delete_container("new").expect("delete");
                tx.commit().expect("commit");
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
