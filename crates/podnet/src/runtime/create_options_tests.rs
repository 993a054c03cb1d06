//! Unit tests of podman's container options on `create` and `setup` (`--ip`,
//! `--mac-address`, `--network-alias` on the one network; `--dns-option`, `--no-hosts`,
//! `--expose` with `-P`), with the recording fake backend; `tests/network_cli.rs` runs
//! them with netavark.

#![allow(clippy::unwrap_used)]

use super::tests::{container_names, fixture, spec};
use crate::SingleNetworkOptions;

fn single(ip: &str, alias: &str) -> SingleNetworkOptions {
    SingleNetworkOptions {
        static_ips: vec![ip.parse().unwrap()],
        static_mac: Some("02:00:00:00:00:07".into()),
        aliases: vec![alias.into()],
    }
}

#[test]
fn single_network_options_go_to_the_only_network() {
    let f = fixture();
    let front = f.rt.networks().inspect("front").unwrap();
    let ip = std::net::IpAddr::from(match front.subnets[0].subnet {
        ipnet::IpNet::V4(n) => std::net::Ipv4Addr::from(u32::from(n.network()) + 9),
        ipnet::IpNet::V6(_) => unreachable!(),
    });
    let mut s = spec("c1", &["front"]);
    s.single_network = single(&ip.to_string(), "web");
    let rec = f.rt.create(&s).unwrap();
    let per = &rec.networks["front"];
    assert_eq!(per.static_ips, [ip]);
    assert_eq!(per.static_mac.as_deref(), Some("02:00:00:00:00:07"));
    assert!(per.aliases.contains(&"web".to_string()));

    // several networks: refused, naming the flag, nothing recorded
    let mut s = spec("c2", &["front", "back"]);
    s.single_network = single(&ip.to_string(), "web");
    let err = f.rt.create(&s).unwrap_err().to_string();
    assert!(
        err.contains("--ip") && err.contains("single network"),
        "{err}"
    );
    let names = container_names(&f);
    assert!(!names.contains(&"c2".to_string()), "{names:?}");

    // aliases go to every network
    let mut s = spec("c4", &["front", "back"]);
    s.single_network = SingleNetworkOptions {
        aliases: vec!["both".into()],
        ..SingleNetworkOptions::default()
    };
    let rec = f.rt.create(&s).unwrap();
    assert!(rec
        .networks
        .values()
        .all(|p| p.aliases.contains(&"both".to_string())));

    // none given: the default network gets them
    let mut s = spec("c3", &[]);
    s.single_network = SingleNetworkOptions {
        aliases: vec!["db".into()],
        ..SingleNetworkOptions::default()
    };
    let rec = f.rt.create(&s).unwrap();
    assert!(rec.networks["podman"].aliases.contains(&"db".to_string()));
}

#[test]
fn publish_all_publishes_each_exposed_port_not_published_yet() {
    let f = fixture();
    let mut s = spec("c1", &["front"]);
    s.ports = vec![portmap::parse_publish("18080:90").unwrap()];
    s.expose = portmap::parse_expose_arg("90,91-92/udp").unwrap();
    let rec = f.rt.create(&s).unwrap();
    assert_eq!(
        rec.port_mappings.len(),
        1,
        "--expose alone publishes nothing"
    );

    s.name = "c2".into();
    s.ports.clear();
    s.publish_all = true;
    let rec = f.rt.create(&s).unwrap();
    let mut got: Vec<(u16, String)> = rec
        .port_mappings
        .iter()
        .flat_map(|m| {
            (0..m.range.max(1)).map(move |i| (m.container_port + i, m.protocol.to_string()))
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [(90, "tcp".into()), (91, "udp".into()), (92, "udp".into())]
    );
    assert!(
        rec.port_mappings.iter().all(|m| m.host_port != 0),
        "{:?}",
        rec.port_mappings
    );
}

#[test]
fn dns_options_and_no_hosts_shape_the_files() {
    let f = fixture();
    let mut s = spec("c1", &["front"]);
    s.dns_options = vec!["ndots:3".into(), "edns0".into()];
    s.no_hosts = true;
    f.rt.create(&s).unwrap();
    let rec = f.rt.setup("c1").unwrap();
    assert!(rec.hosts_path.is_none());
    let resolv = std::fs::read_to_string(rec.resolv_conf_path.unwrap()).unwrap();
    assert!(resolv.contains("options ndots:3 edns0"), "{resolv}");
    let rec = f.rt.container("c1").unwrap();
    assert_eq!(rec.dns_options, ["ndots:3", "edns0"], "kept in the record");
    assert!(rec.no_hosts);

    let mut bad = spec("c2", &["front"]);
    bad.dns_options = vec!["ndots:3 evil".into()];
    let err = f.rt.create(&bad).unwrap_err().to_string();
    assert!(
        err.contains("--dns-option") && err.contains("ndots:3 evil"),
        "{err}"
    );
}
