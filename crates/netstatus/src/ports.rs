//! Port mappings -> `podman inspect`'s `Ports`: podman's
//! `makeInspectPortBindings` plus `addInspectPortsExpose`.

use std::collections::BTreeMap;

use portmap::{PortMapping, Protocols};

use crate::{InspectHostPort, PortBindings};

/// `Ports` for `podman inspect`: one key `PORT/PROTO` per container port of
/// every mapping (ranges expanded, protocol lists split), each listing its
/// host bindings in mapping order; no host IP (every address) is shown as
/// `0.0.0.0`.
///
/// `exposed` (container port -> protocols) adds keys with a `null` value for
/// exposed ports that are not published.
///
/// A range of 0 counts as 1 (as portmap and netavark treat it). Ports that
/// would run past 65535 are skipped with a warning instead of wrapping
/// around as podman's `uint16` arithmetic does.
pub fn port_bindings(mappings: &[PortMapping], exposed: &BTreeMap<u16, Protocols>) -> PortBindings {
    let mut bindings = PortBindings::new();
    for mapping in mappings {
        let host_ip = mapping
            .host_ip
            .map_or_else(|| "0.0.0.0".to_owned(), |ip| ip.to_string());
        for protocol in mapping.protocol.iter() {
            for i in 0..mapping.range.max(1) {
                let (Some(container_port), Some(host_port)) = (
                    mapping.container_port.checked_add(i),
                    mapping.host_port.checked_add(i),
                ) else {
                    tracing::warn!(?mapping, "port range runs past 65535, rest skipped");
                    break;
                };
                bindings
                    .entry(format!("{container_port}/{protocol}"))
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(InspectHostPort {
                        host_ip: host_ip.clone(),
                        host_port: host_port.to_string(),
                    });
            }
        }
    }
    for (port, protocols) in exposed {
        for protocol in protocols.iter() {
            bindings.entry(format!("{port}/{protocol}")).or_insert(None);
        }
    }
    bindings
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pm(
        host_ip: &str,
        container_port: u16,
        host_port: u16,
        range: u16,
        protocol: &str,
    ) -> PortMapping {
        let m = PortMapping::new(container_port)
            .with_host_port(host_port)
            .with_range(range)
            .with_protocols(protocol.parse::<Protocols>().unwrap());
        if host_ip.is_empty() {
            m
        } else {
            m.with_host_ip(host_ip.parse::<std::net::IpAddr>().unwrap())
        }
    }

    fn hp(ip: &str, port: &str) -> InspectHostPort {
        InspectHostPort {
            host_ip: ip.into(),
            host_port: port.into(),
        }
    }

    #[test]
    fn expands_ranges_and_protocols() {
        let got = port_bindings(
            &[
                pm("", 80, 8080, 2, "tcp,udp"),
                pm("::1", 80, 9090, 1, "tcp"),
            ],
            &BTreeMap::new(),
        );
        let want: PortBindings = [
            ("80/tcp", vec![hp("0.0.0.0", "8080"), hp("::1", "9090")]),
            ("80/udp", vec![hp("0.0.0.0", "8080")]),
            ("81/tcp", vec![hp("0.0.0.0", "8081")]),
            ("81/udp", vec![hp("0.0.0.0", "8081")]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Some(v)))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn exposed_only_ports_are_null_and_published_ones_kept() {
        let exposed = BTreeMap::from([
            (80, Protocols::default()),
            (443, "tcp,udp".parse().unwrap()),
        ]);
        let got = port_bindings(&[pm("", 80, 8080, 1, "tcp")], &exposed);
        assert_eq!(got["80/tcp"], Some(vec![hp("0.0.0.0", "8080")]));
        assert_eq!(got["443/tcp"], None);
        assert_eq!(got["443/udp"], None);
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            r#"{"443/tcp":null,"443/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}"#
        );
    }

    #[test]
    fn range_zero_counts_as_one() {
        let got = port_bindings(&[pm("10.0.0.1", 22, 2222, 0, "")], &BTreeMap::new());
        assert_eq!(got.len(), 1);
        assert_eq!(got["22/tcp"], Some(vec![hp("10.0.0.1", "2222")]));
    }

    #[test]
    fn no_wrap_past_65535() {
        let got = port_bindings(&[pm("", 65534, 1000, 4, "tcp")], &BTreeMap::new());
        let keys: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["65534/tcp", "65535/tcp"]);
        let got = port_bindings(&[pm("", 10, 65535, 3, "udp")], &BTreeMap::new());
        assert_eq!(got.len(), 1);
        assert_eq!(got["10/udp"], Some(vec![hp("0.0.0.0", "65535")]));
    }

    #[test]
    fn nothing_gives_empty_map() {
        let got = port_bindings(&[], &BTreeMap::new());
        assert!(got.is_empty());
        assert_eq!(serde_json::to_string(&got).unwrap(), "{}");
    }
}
