//! Property tests: canonical form and legacy merge against brute-force oracles.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use crate::types::pm;
use crate::{
    canonicalize, expand, merge_ranges, parse_publish, Error, OciCniPortMapping, PortMapping,
    Protocol, Protocols,
};

/// Host IPs as written, with the form the canonical output must use (written
/// out here by hand, independent of the code under test).
const IPS: &[(&str, &str)] = &[
    ("", ""),
    ("0.0.0.0", ""),
    ("::", ""),
    ("127.0.0.1", "127.0.0.1"),
    ("::1", "::1"),
    ("0:0::1", "::1"),
    ("10.0.0.1", "10.0.0.1"),
];
/// Protocol fields as written, with the protocols they stand for.
const PROTOS: &[(&str, &[&str])] = &[
    ("tcp", &["tcp"]),
    ("", &["tcp"]),
    ("udp", &["udp"]),
    ("TCP,udp", &["tcp", "udp"]),
    ("sctp", &["sctp"]),
];

/// A mapping with the indexes of its host IP and protocol field in [`IPS`] and [`PROTOS`].
fn indexed_mapping() -> impl Strategy<Value = (usize, usize, PortMapping)> {
    (
        0..IPS.len(),
        0..PROTOS.len(),
        prop_oneof![1 => Just(0u16), 6 => 1u16..120],
        1u16..120,
        prop_oneof![1 => Just(0u16), 8 => 1u16..12],
        prop::bool::weighted(0.8),
    )
        .prop_map(|(ip, proto, host, ctr, range, same_offset)| {
            // Mostly host == container port, so ranges meet and merge.
            let ctr = if same_offset && host != 0 { host } else { ctr };
            (ip, proto, pm(IPS[ip].0, host, ctr, range, PROTOS[proto].0))
        })
}

/// The text of a host IP, `""` for every address.
fn ip_text(m: &PortMapping) -> String {
    m.host_ip.map(|ip| ip.to_string()).unwrap_or_default()
}

type Tuple = (String, String, u16, u16);

fn mapping() -> impl Strategy<Value = PortMapping> {
    indexed_mapping().prop_map(|(_, _, m)| m)
}

/// Mappings with the indexes of their host IPs and protocol fields.
fn indexed(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<(usize, usize, PortMapping)>> {
    prop::collection::vec(indexed_mapping(), n)
}

fn plain(input: &[(usize, usize, PortMapping)]) -> Vec<PortMapping> {
    input.iter().map(|(_, _, m)| m.clone()).collect()
}

/// Every (ip, protocol, host port, container port) an input stands for.
fn oracle_expand(input: &[(usize, usize, PortMapping)]) -> BTreeSet<Tuple> {
    let mut out = BTreeSet::new();
    for (ip, proto, m) in input {
        let ip = IPS[*ip].1;
        let protos = PROTOS[*proto].1;
        for proto in protos {
            for i in 0..m.range.max(1) {
                let host = if m.host_port == 0 { 0 } else { m.host_port + i };
                out.insert((
                    ip.to_owned(),
                    (*proto).to_owned(),
                    host,
                    m.container_port + i,
                ));
            }
        }
    }
    out
}

/// Whether one (protocol, host port) goes to two container ports on the same
/// address, or on every address and a specific one.
fn oracle_conflict(tuples: &BTreeSet<Tuple>) -> bool {
    let mut by_port: BTreeMap<(&str, u16), Vec<(&str, u16)>> = BTreeMap::new();
    for (ip, proto, host, ctr) in tuples.iter().filter(|t| t.2 != 0) {
        by_port.entry((proto, *host)).or_default().push((ip, *ctr));
    }
    by_port.values().any(|binds| {
        binds.iter().any(|(ip_a, ctr_a)| {
            binds
                .iter()
                .any(|(ip_b, ctr_b)| ctr_a != ctr_b && (ip_a == ip_b || ip_a.is_empty()))
        })
    })
}

fn tuples_of(out: &[PortMapping]) -> BTreeSet<Tuple> {
    let mut set = BTreeSet::new();
    for m in out {
        for i in 0..m.range {
            let host = if m.host_port == 0 { 0 } else { m.host_port + i };
            set.insert((
                ip_text(m),
                m.protocol.to_string(),
                host,
                m.container_port + i,
            ));
        }
    }
    set
}

proptest! {
    #[test]
    fn canonical_form_keeps_the_port_set(indexed_input in indexed(0..24)) {
        let want = oracle_expand(&indexed_input);
        let input = plain(&indexed_input);
        match canonicalize(&input) {
            Ok(out) => {
                prop_assert!(!oracle_conflict(&want), "missed a conflict in {input:?}");
                prop_assert_eq!(tuples_of(&out), want);
                // Sorted, one protocol each, maximally merged.
                for pair in out.windows(2) {
                    let (a, b) = (&pair[0], &pair[1]);
                    // every address first, then IPv4 before IPv6, numerically
                    let key = |m: &PortMapping| (m.host_ip, m.protocol.to_string(), m.host_port, m.container_port);
                    prop_assert!(key(a) < key(b), "not sorted: {a} {b}");
                    if a.host_ip == b.host_ip && a.protocol == b.protocol {
                        let a_end = u32::from(a.container_port) + u32::from(a.range);
                        let touches = if a.host_port == 0 {
                            b.host_port == 0 && u32::from(b.container_port) < a_end
                        } else {
                            i32::from(a.container_port) - i32::from(a.host_port)
                                == i32::from(b.container_port) - i32::from(b.host_port)
                                && u32::from(b.host_port) <= u32::from(a.host_port) + u32::from(a.range)
                        };
                        prop_assert!(!touches, "not merged: {a} {b}");
                    }
                }
                for m in &out {
                    prop_assert!(m.range >= 1);
                    prop_assert_eq!(m.protocol.len(), 1);
                }
            }
            Err(Error::Conflict { host_port, first_container_port, second_container_port, .. }) => {
                prop_assert!(oracle_conflict(&want), "false conflict in {input:?}");
                prop_assert_ne!(first_container_port, second_container_port);
                prop_assert_ne!(host_port, 0);
            }
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }

    #[test]
    fn equal_offsets_never_conflict_and_merge(
        input in prop::collection::vec(
            indexed_mapping().prop_map(|(i, p, m)| (i, p, PortMapping { host_port: m.container_port, ..m })),
            0..40,
        )
    ) {
        let out = canonicalize(&plain(&input)).unwrap();
        prop_assert_eq!(tuples_of(&out), oracle_expand(&input));
        // Maximal merge: per (ip, protocol) the number of runs is the number of
        // gaps in the port set plus one.
        let mut runs: BTreeMap<(String, String), Vec<u16>> = BTreeMap::new();
        for (ip, proto, host, _) in oracle_expand(&input) {
            runs.entry((ip, proto)).or_default().push(host);
        }
        let want: usize = runs
            .values()
            .map(|ports| 1 + ports.windows(2).filter(|w| w[1] != w[0] + 1).count())
            .sum();
        prop_assert_eq!(out.len(), want);
    }

    #[test]
    fn canonical_form_is_a_fixed_point(input in prop::collection::vec(mapping(), 0..24)) {
        if let Ok(out) = canonicalize(&input) {
            prop_assert_eq!(canonicalize(&out).unwrap(), out);
        }
    }

    #[test]
    fn merge_ranges_and_expand_round_trip(
        input in prop::collection::vec(
            (0..3usize, 0..2usize, 0u16..40, 0u16..40),
            0..60,
        )
    ) {
        let legacy: Vec<OciCniPortMapping> = input
            .iter()
            .map(|&(ip, proto, host, ctr)| oci(["", "127.0.0.1", "::1"][ip], [Protocol::Tcp, Protocol::Udp][proto], host, ctr))
            .collect();
        let merged = merge_ranges(&legacy);
        let mut back = expand(&merged).unwrap();
        let mut sorted = legacy;
        sorted.sort();
        back.sort();
        prop_assert_eq!(&back, &sorted);
        prop_assert_eq!(merge_ranges(&back), merged.clone());
        prop_assert!(merged.len() <= sorted.len());
    }

    #[test]
    fn merge_ranges_matches_podmans_algorithm(
        input in prop::collection::vec((0..3usize, 0..3usize, 0u16..30, 0u16..30), 0..60)
    ) {
        let legacy: Vec<OciCniPortMapping> = input
            .iter()
            .map(|&(ip, proto, host, ctr)| oci(["", "10.0.0.1", "::1"][ip], [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][proto], host, ctr))
            .collect();
        prop_assert_eq!(merge_ranges(&legacy), podman_merge(legacy));
    }

    #[test]
    fn display_parses_back(m in mapping()) {
        // parse_publish writes the canonical single-mapping form, so compare with that.
        prop_assume!(!matches!(ip_text(&m).as_str(), "::" | "0.0.0.0"));
        let shown = PortMapping { range: m.range.max(1), ..m };
        prop_assert_eq!(parse_publish(&shown.to_string()).unwrap(), shown);
    }
}

fn oci(ip: &str, protocol: Protocol, host: u16, ctr: u16) -> OciCniPortMapping {
    let mut m = OciCniPortMapping::new(host, ctr, protocol);
    m.host_ip = (!ip.is_empty()).then(|| ip.parse().unwrap());
    m
}

/// podman's ocicniPortsToNetTypesPorts, transcribed literally (comparison
/// sort on the strings, then one pass) as the oracle for `merge_ranges`.
fn podman_merge(mut ports: Vec<OciCniPortMapping>) -> Vec<PortMapping> {
    let text = |p: &OciCniPortMapping| {
        let ip = p.host_ip.map(|ip| ip.to_string()).unwrap_or_default();
        (ip, p.protocol.to_string())
    };
    ports.sort_by(|a, b| {
        let (a_ip, a_proto) = text(a);
        let (b_ip, b_proto) = text(b);
        a_ip.cmp(&b_ip)
            .then(a_proto.cmp(&b_proto))
            .then(a.host_port.cmp(&b.host_port))
            .then(a.container_port.cmp(&b.container_port))
    });
    let mut out: Vec<PortMapping> = Vec::new();
    for p in ports {
        if let Some(cur) = out.last_mut() {
            if p.host_ip == cur.host_ip
                && Protocols::one(p.protocol) == cur.protocol
                && i32::from(p.host_port) - i32::from(cur.range) == i32::from(cur.host_port)
                && i32::from(p.container_port) - i32::from(cur.range)
                    == i32::from(cur.container_port)
            {
                cur.range += 1;
                continue;
            }
        }
        out.push(PortMapping {
            host_ip: p.host_ip,
            container_port: p.container_port,
            host_port: p.host_port,
            range: 1,
            protocol: p.protocol.into(),
        });
    }
    out
}
