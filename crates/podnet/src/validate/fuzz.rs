//! Fuzzing of the parsers and rules over arbitrary bytes and strings (proptest): nothing
//! panics, and whatever is accepted holds no white space or control character where the
//! value ends up in a line-based file (aardvark-dns's config, /etc/hosts, resolv.conf).
//!
//! Cases per target: `PODNET_FUZZ_CASES` (default 4000, what CI runs; the long run
//! recorded under `crates/podnet/fuzz-logs/` sets it high and loops with fresh seeds).

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::IpNet;
use proptest::prelude::*;

use crate::runtime::NetworkRequest;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: testkit::fuzz_cases(),
        // a failure is printed with its minimal input; CI must not depend on a file
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// No white space or control character: the property every accepted line value holds.
/// Written out independently of the rule it checks.
fn clean(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\u{85}' || c == '\u{2028}')
}

/// Strings from an alphabet dense in the characters the parsers split on, plus any char.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9:.,=;/_ \t\n\r\x00\x7f-]{0,40}",
        any::<String>(),
        "(alias|mac|ip|ip6|interface_name)=[ -~\n]{0,20}",
    ]
}

fn network_option() -> impl Strategy<Value = String> {
    let opt = prop_oneof![
        hostile().prop_map(|v| format!("alias={v}")),
        hostile().prop_map(|v| format!("mac={v}")),
        hostile().prop_map(|v| format!("interface_name={v}")),
        hostile().prop_map(|v| format!("ip={v}")),
        hostile(),
    ];
    (hostile(), prop::collection::vec(opt, 0..4))
        .prop_map(|(net, opts)| format!("{net}:{}", opts.join(",")))
}

fn any_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, p)| IpNet::new(IpAddr::V4(Ipv4Addr::from(a)), p).unwrap()),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, p)| IpNet::new(IpAddr::V6(Ipv6Addr::from(a)), p).unwrap()),
        // near the reserved ranges, where the boundaries are
        (
            prop::sample::select(vec![0u8, 126, 127, 128, 169, 223, 224, 239, 240, 255]),
            any::<[u8; 3]>(),
            0u8..=32
        )
            .prop_map(|(a, [b, c, d], p)| IpNet::new(
                IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
                p
            )
            .unwrap()),
    ]
}

/// A network file as JSON whose string fields are hostile.
fn network_json() -> impl Strategy<Value = Vec<u8>> {
    (
        hostile(),
        hostile(),
        hostile(),
        any_net(),
        any::<Option<u32>>(),
        hostile(),
    )
        .prop_map(|(name, iface, mtu, net, gw, driver)| {
            let gw = gw.map(|g| IpAddr::V4(Ipv4Addr::from(g)).to_string());
            serde_json::json!({
                "name": name,
                "id": "a".repeat(64),
                "driver": driver,
                "network_interface": iface,
                "subnets": [{ "subnet": net.to_string(), "gateway": gw }],
                "options": { "mtu": mtu },
            })
            .to_string()
            .into_bytes()
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn network_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Some(net) = crate::network::parse_file(Path::new("x.json"), &bytes) {
            let _ = super::network_findings(&net);
        }
    }

    #[test]
    fn loaded_network_files_have_clean_names(json in network_json()) {
        let name = serde_json::from_slice::<serde_json::Value>(&json).unwrap()["name"]
            .as_str().unwrap_or_default().to_string();
        let path = format!("{name}.json");
        if let Some(net) = crate::network::parse_file(Path::new(&path), &json) {
            prop_assert!(clean(&net.name), "{:?}", net.name);
            for finding in super::network_findings(&net) {
                prop_assert!(!finding.to_string().contains('\n'));
            }
            if super::new_network(&net).is_ok() {
                prop_assert!(clean(&net.network_interface));
                prop_assert!(net.network_interface.len() <= 15);
            }
        }
    }

    #[test]
    fn publish_specs_never_panic(spec in hostile()) {
        if let Ok(m) = portmap::parse_publish(&spec) {
            prop_assert!(clean(&m.to_string()));
            let _ = portmap::canonicalize(&[m]);
        } else {
            let e = portmap::parse_publish(&spec).unwrap_err().to_string();
            // the reason is in the one message, after the spec
            let prefix = format!("invalid publish spec {:?}: ", spec);
            prop_assert!(e.len() > prefix.len(), "{}", e);
        }
    }

    #[test]
    fn accepted_network_options_are_clean(spec in network_option()) {
        if let Ok(request) = spec.parse::<NetworkRequest>() {
            if super::network_request(&request).is_ok() {
                prop_assert!(clean(&request.network));
                for a in &request.aliases {
                    prop_assert!(clean(a) && !a.contains(',') && !a.is_empty(), "{a:?}");
                }
                if let Some(m) = &request.static_mac {
                    prop_assert!(clean(m) && m.len() == 17, "{m:?}");
                }
                if let Some(i) = &request.interface_name {
                    prop_assert!(clean(i) && !i.contains('/') && i.len() <= 15 && i != "lo", "{i:?}");
                }
            }
        }
    }

    #[test]
    fn accepted_names_are_clean_and_bounded(s in hostile()) {
        for (ok, max) in [
            (super::alias(&s).is_ok(), 253),
            (super::hostname(&s).is_ok(), 64),
            (super::container_name(&s).is_ok(), 253),
            (super::network_name(&s).is_ok(), 228),
            (super::search_domain(&s).is_ok(), 253),
            (super::interface_name(&s).is_ok(), 15),
        ] {
            if ok {
                prop_assert!(clean(&s) && !s.is_empty() && s.len() <= max, "{s:?}");
            }
        }
    }

    #[test]
    fn accepted_add_hosts_are_clean(s in hostile()) {
        if super::add_host(&s).is_ok() {
            prop_assert!(clean(&s) && !s.contains('#'), "{s:?}");
            let (names, ip) = s.split_once(':').unwrap();
            prop_assert!(!names.is_empty());
            prop_assert!(ip == "host-gateway" || ip.parse::<IpAddr>().is_ok());
        }
    }

    #[test]
    fn accepted_subnets_are_usable_and_unreserved(net in any_net(), gw in any::<u32>()) {
        if super::subnet(&net).is_ok() {
            match net {
                IpNet::V4(v4) => {
                    prop_assert!(v4.prefix_len() <= 30);
                    let first = v4.trunc().network().octets();
                    prop_assert!(v4.prefix_len() >= 8 || v4.prefix_len() >= 1 && first[0] >= 1);
                    prop_assert!(![0, 127].contains(&first[0]) && first[0] < 224, "{net}");
                    prop_assert!(!(first[0] == 169 && first[1] == 254), "{net}");
                }
                IpNet::V6(v6) => {
                    prop_assert!(v6.prefix_len() <= 126);
                    let seg = v6.trunc().network().segments();
                    prop_assert!(seg[0] & 0xffc0 != 0xfe80 && seg[0] & 0xff00 != 0xff00, "{net}");
                }
            }
        }
        let gw = IpAddr::V4(Ipv4Addr::from(gw));
        if super::gateway(gw, &net).is_ok() {
            prop_assert!(net.contains(&gw) && gw != net.network());
        }
    }
}
