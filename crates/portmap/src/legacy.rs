//! Conversion between the legacy one-port form and ranges: podman's
//! `ocicniPortsToNetTypesPorts` ([`merge_ranges`]) and its inverse ([`expand`]).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::error::{Error, Invalid};
use crate::protocol::{Protocol, Protocols};
use crate::types::{OciCniPortMapping, PortMapping};

/// Converts legacy one-port mappings to ranges exactly as podman's
/// `ocicniPortsToNetTypesPorts` does.
///
/// The entries are sorted by host IP, protocol, host port and container port
/// (their texts compared bytewise, as Go compares podman's strings), then each
/// run of entries with the same host IP and protocol whose host and container
/// ports both go up by one is folded into one mapping. Nothing is normalized:
/// `0.0.0.0` and every address stay apart, and exact duplicates stay separate
/// entries (podman's behaviour). For a validated, deduplicated form use
/// [`canonicalize`](crate::canonicalize).
///
/// One difference from podman: a run never grows past 65535 ports (only
/// possible with all of 0..=65535), where podman's `uint16` range would wrap to 0.
/// O(n log n).
pub fn merge_ranges(ports: &[OciCniPortMapping]) -> Vec<PortMapping> {
    let order = sorted_order(ports);
    let mut out: Vec<PortMapping> = Vec::with_capacity(ports.len());
    // The (IP, protocol) rank of the mapping being grown, and the mapping.
    let mut current: Option<(usize, PortMapping)> = None;
    for (group, host_port, container_port, index) in order {
        if let Some((cur_group, cur)) = current.as_mut() {
            let next_host = u32::from(cur.host_port) + u32::from(cur.range);
            let next_container = u32::from(cur.container_port) + u32::from(cur.range);
            if group == *cur_group
                && u32::from(host_port) == next_host
                && u32::from(container_port) == next_container
                && cur.range < u16::MAX
            {
                cur.range += 1;
                continue;
            }
        }
        let Some(port) = ports.get(index) else {
            continue;
        };
        if let Some((_, done)) = current.replace((group, single(port))) {
            out.push(done);
        }
    }
    out.extend(current.map(|(_, last)| last));
    tracing::debug!(
        mappings = out.len(),
        "merged legacy port mappings into ranges"
    );
    out
}

/// `(group, host port, container port, index)` of each of `ports`, in
/// podman's order: host IP, protocol (their texts compared bytewise, as podman
/// compares its strings), host port, container port. `group` ranks the
/// (IP, protocol) pair; each distinct pair is ranked once, so the sort compares
/// integers only.
fn sorted_order(ports: &[OciCniPortMapping]) -> Vec<(usize, u16, u16, usize)> {
    let mut first_seen: HashMap<(Option<IpAddr>, Protocol), usize> = HashMap::new();
    let mut pairs: Vec<(String, &'static str)> = Vec::new();
    let group: Vec<usize> = ports
        .iter()
        .map(|p| {
            *first_seen
                .entry((p.host_ip, p.protocol))
                .or_insert_with(|| {
                    let ip = p.host_ip.map(|ip| ip.to_string()).unwrap_or_default();
                    pairs.push((ip, p.protocol.as_str()));
                    pairs.len() - 1
                })
        })
        .collect();
    let mut by_name: Vec<usize> = (0..pairs.len()).collect();
    by_name.sort_unstable_by(|&a, &b| pairs[a].cmp(&pairs[b]));
    let mut rank = vec![0usize; pairs.len()];
    for (r, &i) in by_name.iter().enumerate() {
        rank[i] = r;
    }
    let mut order: Vec<(usize, u16, u16, usize)> = ports
        .iter()
        .zip(group)
        .enumerate()
        .map(|(index, (p, g))| (rank[g], p.host_port, p.container_port, index))
        .collect();
    order.sort_unstable();
    order
}

fn single(port: &OciCniPortMapping) -> PortMapping {
    PortMapping {
        host_ip: port.host_ip,
        container_port: port.container_port,
        host_port: port.host_port,
        range: 1,
        protocol: Protocols::one(port.protocol),
    }
}

/// Expands ranged mappings into one legacy entry per port and protocol, in
/// input order (per mapping: each protocol in its list's order, then each
/// port): the inverse of [`merge_ranges`].
///
/// A `range` of 0 counts as 1 (netavark's reading). The host IP is copied as
/// written. Host port 0 is not special here, exactly as in
/// [`merge_ranges`] (the legacy form has no "pick later"): entry `i` gets
/// host port `host_port + i`. A range running past port 65535 on either side
/// is an [`Error::Expand`] naming the mapping, never wrapped.
pub fn expand(mappings: &[PortMapping]) -> Result<Vec<OciCniPortMapping>, Error> {
    let mut total: usize = 0;
    for m in mappings {
        check_range(m).map_err(|cause| Error::Expand {
            mapping: Box::new(m.clone()),
            cause,
        })?;
        total = total.saturating_add(usize::from(m.range.max(1)) * m.protocol.len());
    }
    let mut out = Vec::with_capacity(total);
    for m in mappings {
        for protocol in m.protocol.iter() {
            for i in 0..m.range.max(1) {
                out.push(OciCniPortMapping {
                    host_port: m.host_port + i,
                    container_port: m.container_port + i,
                    protocol,
                    host_ip: m.host_ip,
                });
            }
        }
    }
    Ok(out)
}

/// Checks that neither side of `m` runs past 65535.
pub(crate) fn check_range(m: &PortMapping) -> Result<(), Invalid> {
    let range = m.range.max(1);
    let last = |start: u16| u32::from(start) + u32::from(range) - 1;
    if last(m.container_port) > u32::from(u16::MAX) {
        return Err(Invalid::Overflow {
            which: "container",
            start: m.container_port,
            range,
        });
    }
    if last(m.host_port) > u32::from(u16::MAX) {
        return Err(Invalid::Overflow {
            which: "host",
            start: m.host_port,
            range,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn oci(ip: &str, proto: &str, host: u16, ctr: u16) -> OciCniPortMapping {
        OciCniPortMapping {
            host_port: host,
            container_port: ctr,
            protocol: proto.parse().unwrap(),
            host_ip: (!ip.is_empty()).then(|| ip.parse().unwrap()),
        }
    }

    fn pm(ip: &str, proto: &str, host: u16, ctr: u16, range: u16) -> PortMapping {
        crate::types::pm(ip, host, ctr, range, proto)
    }

    #[test]
    fn merge_sorts_and_folds_like_podman() {
        // Sorted by ip, then protocol, then ports; folded only within one ip and protocol.
        let input = vec![
            oci("", "tcp", 8082, 82),
            oci("", "udp", 8080, 80),
            oci("", "tcp", 8080, 80),
            oci("127.0.0.1", "tcp", 8080, 80),
            oci("", "tcp", 8081, 81),
            oci("", "tcp", 9000, 90),
        ];
        assert_eq!(
            merge_ranges(&input),
            vec![
                pm("", "tcp", 8080, 80, 3),
                pm("", "tcp", 9000, 90, 1),
                pm("", "udp", 8080, 80, 1),
                pm("127.0.0.1", "tcp", 8080, 80, 1),
            ]
        );
    }

    #[test]
    fn merge_needs_both_sides_consecutive_and_keeps_duplicates() {
        let input = vec![
            oci("", "tcp", 1, 10),
            oci("", "tcp", 2, 12),
            oci("", "tcp", 2, 12),
        ];
        assert_eq!(
            merge_ranges(&input),
            vec![
                pm("", "tcp", 1, 10, 1),
                pm("", "tcp", 2, 12, 1),
                pm("", "tcp", 2, 12, 1),
            ]
        );
        assert!(merge_ranges(&[]).is_empty());
    }

    #[test]
    fn merge_never_wraps_the_range() {
        let input: Vec<_> = (0..=u16::MAX).map(|p| oci("", "tcp", p, p)).collect();
        assert_eq!(
            merge_ranges(&input),
            vec![
                pm("", "tcp", 0, 0, u16::MAX),
                pm("", "tcp", 65535, 65535, 1)
            ]
        );
    }

    #[test]
    fn expand_is_the_inverse() {
        let ranges = vec![
            pm("::1", "udp", 8080, 80, 2),
            pm("", "tcp", 0, 53, 0),
            pm("", "tcp", 0, 7, 2),
        ];
        assert_eq!(
            expand(&ranges).unwrap(),
            vec![
                oci("::1", "udp", 8080, 80),
                oci("::1", "udp", 8081, 81),
                oci("", "tcp", 0, 53),
                oci("", "tcp", 0, 7),
                oci("", "tcp", 1, 8),
            ]
        );
    }

    #[test]
    fn expand_splits_protocol_lists() {
        assert_eq!(
            expand(&[pm("", "udp,tcp", 53, 53, 2)]).unwrap(),
            vec![
                oci("", "udp", 53, 53),
                oci("", "udp", 54, 54),
                oci("", "tcp", 53, 53),
                oci("", "tcp", 54, 54),
            ]
        );
    }

    /// Podman compares the texts: "10.0.0.9" sorts before "9.0.0.1", and IPv4
    /// before IPv6 only because digits come before ':' and letters.
    #[test]
    fn merge_sorts_addresses_as_text() {
        let input = vec![
            oci("9.0.0.1", "tcp", 1, 1),
            oci("fd00::1", "tcp", 1, 1),
            oci("::1", "tcp", 1, 1),
            oci("10.0.0.9", "tcp", 1, 1),
            oci("0.0.0.0", "tcp", 1, 1),
            oci("", "tcp", 1, 1),
        ];
        let order: Vec<String> = merge_ranges(&input)
            .iter()
            .map(|m| m.host_ip.map(|ip| ip.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(
            order,
            ["", "0.0.0.0", "10.0.0.9", "9.0.0.1", "::1", "fd00::1"]
        );
    }

    #[test]
    fn expand_names_a_range_past_65535() {
        let bad = pm("10.0.0.1", "tcp", 65535, 80, 2);
        let err = expand(std::slice::from_ref(&bad)).unwrap_err();
        assert_eq!(
            err,
            Error::Expand {
                mapping: Box::new(bad),
                cause: Invalid::Overflow {
                    which: "host",
                    start: 65535,
                    range: 2
                }
            }
        );
        assert!(
            err.to_string().contains("10.0.0.1:65535-65536:80-81/tcp"),
            "{err}"
        );
        let bad = pm("", "tcp", 0, 65535, 3);
        let err = expand(&[bad]).unwrap_err();
        assert!(err.to_string().contains(":65535-65537/tcp"), "{err}");
    }
}
