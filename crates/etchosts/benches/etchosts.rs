//! Criterion benchmarks: hosts `new` from a 10,000-line base file, `add` and `remove` on
//! a 10,000-line hosts file, resolvconf `new` from a 100-line host file. Each full call
//! locks, reads once, journals, writes once and fsyncs; files live on tmpfs (/dev/shm,
//! like podman's /run) when available, so the figures are this crate's own cost rather
//! than the disk's fsync latency. `render` ids time the pure computation alone.
#![allow(clippy::unwrap_used)]
// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use etchosts::{hosts, resolvconf, HostEntry};

fn work_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("pntetc-bench")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap()
}

fn big_hosts(lines: usize) -> String {
    (0..lines)
        .map(|i| {
            format!(
                "10.{}.{}.{}\thost{i} alias{i}.example.com # c\n",
                i / 65536,
                (i / 256) % 256,
                i % 256
            )
        })
        .collect()
}

fn ctr() -> HostEntry {
    HostEntry::new("10.88.0.5".parse().unwrap(), ["ctr", "abc123"])
}

fn hosts_new(c: &mut Criterion) {
    let dir = work_dir();
    let base = dir.path().join("base");
    fs::write(&base, big_hosts(10_000)).unwrap();
    let params = hosts::HostsParams {
        base_file: Some(base),
        extra_hosts: vec!["db:10.0.0.7".into()],
        container_ips: vec![ctr()],
        host_containers_internal_ip: Some("10.88.0.1".parse().unwrap()),
        target_file: dir.path().join("hosts"),
    };
    let mut g = c.benchmark_group("hosts_new_10k_base");
    g.bench_function("new", |b| {
        b.iter_batched(
            || fs::write(&params.target_file, "").unwrap(),
            |()| hosts::new(&params).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("render", |b| b.iter(|| hosts::render(&params).unwrap()));
    g.finish();
}

fn hosts_edit(c: &mut Criterion) {
    let dir = work_dir();
    let path: PathBuf = dir.path().join("hosts");
    let content = big_hosts(10_000);
    let with_ctr = format!("{content}10.88.0.5\tctr abc123\n");
    let mut g = c.benchmark_group("hosts_edit_10k");
    g.bench_function("add", |b| {
        b.iter_batched(
            || fs::write(&path, &content).unwrap(),
            |()| hosts::add(&path, &[ctr()]).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("remove", |b| {
        b.iter_batched(
            || fs::write(&path, &with_ctr).unwrap(),
            |()| hosts::remove(&path, &[ctr()]).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn resolv_new(c: &mut Criterion) {
    let dir = work_dir();
    let host = dir.path().join("host-resolv.conf");
    let mut text = String::from("# generated\nsearch a.example b.example\n");
    for i in 0..90 {
        text.push_str(&format!("nameserver 10.0.{}.{}\n", i / 200, i % 200 + 1));
    }
    text.push_str("nameserver 127.0.0.1\nnameserver fd00::53\nnameserver fe80::1%eth0\noptions ndots:2\noptions edns0\n# end\n\n\n");
    assert_eq!(text.lines().count(), 100);
    fs::write(&host, text).unwrap();
    let mut p = resolvconf::ResolvParams::new(dir.path().join("resolv.conf"));
    p.host.resolv_conf = host;
    let mut g = c.benchmark_group("resolvconf_new_100_lines");
    g.bench_function("new", |b| {
        b.iter_batched(
            || fs::write(&p.path, "").unwrap(),
            |()| resolvconf::new(&p).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("render", |b| b.iter(|| resolvconf::render(&p).unwrap()));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = benches; config = config(); targets = hosts_new, hosts_edit, resolv_new }
criterion_main!(benches);
