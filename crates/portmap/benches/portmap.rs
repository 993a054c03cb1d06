//! Benchmarks: canonical form of 65,535 single-port mappings in random order,
//! podman's legacy merge of the same, and parsing plus merging of 10,000 `-p` specs.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use portmap::{
    canonicalize, merge_ranges, parse_publish, OciCniPortMapping, PortMapping, Protocol,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const SEED: u64 = 0x706f_726d_6170;

/// Host ports 1..=65535, one mapping each, shuffled with a fixed seed. Every
/// fourth block of 16 ports is shifted by 1000 in the container (where that
/// stays below 65536), so the result has thousands of runs rather than one.
fn singles() -> Vec<(u16, u16)> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut ports: Vec<(u16, u16)> = (1..=u16::MAX)
        .map(|p| {
            let shift = if (p / 16) % 4 == 0 { 1000 } else { 0 };
            (p, p.checked_add(shift).unwrap_or(p))
        })
        .collect();
    ports.shuffle(&mut rng);
    ports
}

fn bench_singles(c: &mut Criterion) {
    let singles = singles();
    let ranged: Vec<PortMapping> = singles
        .iter()
        .map(|&(host, ctr)| PortMapping::new(ctr).with_host_port(host))
        .collect();
    let legacy: Vec<OciCniPortMapping> = singles
        .iter()
        .map(|&(host, ctr)| OciCniPortMapping::new(host, ctr, Protocol::Tcp))
        .collect();
    let mut group = c.benchmark_group("portmap_65535_singles");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("canonicalize", |b| {
        b.iter(|| canonicalize(black_box(&ranged)))
    });
    group.bench_function("merge_ranges_legacy", |b| {
        b.iter(|| merge_ranges(black_box(&legacy)))
    });
    group.finish();
}

/// 10,000 varied `-p` specs that do not conflict (host port == container
/// port, or host port left to pick).
fn specs() -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(SEED);
    (0..10_000u32)
        .map(|i| {
            let p = 1 + (i * 6) % 60_000;
            match rng.gen_range(0..6) {
                0 => format!("{p}"),
                1 => format!("{p}:{p}"),
                2 => format!("127.0.0.1:{p}:{p}/udp"),
                3 => format!("[fd00::1]:{p}-{}:{p}-{}/tcp,udp", p + 2, p + 2),
                4 => format!("0.0.0.0::{p}/sctp"),
                _ => format!("{p}-{}:{p}-{}", p + 5, p + 5),
            }
        })
        .collect()
}

fn bench_publish(c: &mut Criterion) {
    let specs = specs();
    let mut group = c.benchmark_group("portmap_10000_publish");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("parse", |b| {
        b.iter(|| {
            black_box(&specs)
                .iter()
                .map(|s| parse_publish(s))
                .collect::<Result<Vec<_>, _>>()
        })
    });
    group.bench_function("parse_and_canonicalize", |b| {
        b.iter(|| {
            let parsed = black_box(&specs)
                .iter()
                .map(|s| parse_publish(s))
                .collect::<Result<Vec<_>, _>>()?;
            canonicalize(&parsed)
        })
    });
    group.finish();
}

/// The bench inputs must be accepted, or the figures would time error paths.
fn check_inputs() {
    let parsed: Vec<PortMapping> = specs()
        .iter()
        .filter_map(|s| parse_publish(s).ok())
        .collect();
    assert_eq!(parsed.len(), 10_000, "every bench spec parses");
    assert!(canonicalize(&parsed).is_ok(), "bench specs do not conflict");
}

fn benches(c: &mut Criterion) {
    check_inputs();
    bench_singles(c);
    bench_publish(c);
}

criterion_group!(portmap_benches, benches);
criterion_main!(portmap_benches);
