//! Benchmark: netstatus conversion of a 64-interface StatusBlock into inspect form.
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use netstatus::{
    basic_config, network_settings, Attachment, NetnsState, SettingsInput, StatusBlock,
};

/// 64 interfaces, each with one IPv4, one global IPv6 and one link-local address.
fn status_64() -> StatusBlock {
    let mut interfaces = serde_json::Map::new();
    for i in 0..64u32 {
        interfaces.insert(
            format!("eth{i}"),
            serde_json::json!({
                "mac_address": format!("0a:58:0a:59:{:02x}:{:02x}", i / 256, i % 256),
                "subnets": [
                    {"ipnet": format!("10.89.{i}.2/24"), "gateway": format!("10.89.{i}.1")},
                    {"ipnet": format!("fd00:{i:x}::2/64"), "gateway": format!("fd00:{i:x}::1")},
                    {"ipnet": format!("fe80::{i:x}:2/64"), "gateway": null}
                ]
            }),
        );
    }
    let json = serde_json::json!({ "interfaces": interfaces });
    serde_json::from_value(json).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let status = status_64();
    assert_eq!(status.interfaces.len(), 64);
    let json = serde_json::to_string(&BTreeMap::from([("podman".to_string(), status.clone())]))
        .unwrap_or_default();
    let networks = [Attachment::new("podman", None, vec![])];
    let map = BTreeMap::from([("podman".to_string(), status.clone())]);

    let mut group = c.benchmark_group("netstatus_64_interfaces");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.bench_function("basic_config", |b| {
        b.iter(|| basic_config(black_box(&status)))
    });
    group.bench_function("network_settings", |b| {
        b.iter(|| {
            network_settings(
                &SettingsInput::new(NetnsState::Own(Path::new("/run/netns/bench")))
                    .with_networks(&networks, black_box(&map)),
            )
        })
    });
    group.bench_function("parse_and_inspect_json", |b| {
        b.iter(|| {
            let parsed =
                netstatus::parse_setup_output("bench", black_box(&json)).unwrap_or_default();
            let settings = network_settings(
                &SettingsInput::new(NetnsState::Own(Path::new("/run/netns/bench")))
                    .with_networks(&networks, &parsed),
            );
            settings.map(|s| serde_json::to_string(&s).unwrap_or_default())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
