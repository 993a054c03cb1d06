//! The canonical form of a set of port mappings: validated, one protocol per
//! mapping, host IPs normalized, duplicates removed, adjacent and overlapping
//! ranges of equal offset merged, conflicts rejected.

use std::net::IpAddr;

use crate::error::{Error, Invalid};
use crate::legacy::check_range;
use crate::overlap::Wildcards;
use crate::protocol::{Protocol, Protocols};
use crate::types::PortMapping;

/// One validated (host IP, protocol) share of an input mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seg {
    /// Rank of the normalized host IP among all of them (every address first).
    pub(crate) ip: u32,
    /// The normalized host IP is `None`: every address.
    pub(crate) every: bool,
    pub(crate) proto: Protocol,
    /// First host port; 0 = not chosen yet.
    pub(crate) host: u16,
    pub(crate) ctr: u16,
    /// Last container port (inclusive).
    pub(crate) ctr_end: u16,
    /// Index of the input mapping it came from.
    pub(crate) src: usize,
}

impl Seg {
    /// Container port minus host port.
    pub(crate) fn offset(&self) -> i32 {
        i32::from(self.ctr) - i32::from(self.host)
    }
    /// Last host port (inclusive); only meaningful when `host != 0`.
    pub(crate) fn host_end(&self) -> u16 {
        self.host + (self.ctr_end - self.ctr)
    }
    /// Sort key: host IP, protocol name, host port, container port.
    fn key(&self) -> (u32, u8, u16, u16) {
        (self.ip, self.proto.name_rank(), self.host, self.ctr)
    }
}

/// Brings `mappings` into canonical form (O(n log n)).
///
/// - **Validated**: container port not 0, neither range past 65535 (`range` 0
///   counts as 1). (Protocols and addresses are valid by their types.)
/// - **One protocol per mapping**: `tcp,udp` becomes two mappings.
/// - **Host IP normalized**: `0.0.0.0`, `::` and `None` all mean "every
///   address" and become `None` (podman's `-p` parser already drops
///   `0.0.0.0`; no host IP is the unspecified address of whichever family the
///   network has). An IPv4-mapped IPv6 address becomes IPv4, as Go's
///   `net.IP.String` writes it.
/// - **Merged**: within one host IP and protocol, ranges that overlap or touch
///   and keep the same host-to-container offset become one; exact duplicates
///   vanish. Mappings with host port 0 (pick later) merge when their
///   container ranges overlap, as in podman's `ParsePortMapping`.
/// - **Conflicts rejected**: one host IP, protocol and host port sent to two
///   container ports is [`Error::Conflict`] naming both input mappings. The
///   same holds between a mapping on every address (`None`) and one on a
///   specific address: both would catch the same packets, so they must agree
///   on the container port (if they agree, both are kept: they are harmless).
///
/// The result is sorted by host IP (every address first, then IPv4 before IPv6,
/// each in numeric order), protocol name, host port, container port.
pub fn canonicalize(mappings: &[PortMapping]) -> Result<Vec<PortMapping>, Error> {
    let (ips, segs) = validate(mappings)?;

    let mut runs: Vec<Seg> = Vec::with_capacity(segs.len());
    for seg in &segs {
        let Some(cur) = runs
            .last_mut()
            .filter(|c| c.ip == seg.ip && c.proto == seg.proto)
        else {
            runs.push(*seg);
            continue;
        };
        if cur.host == 0 && seg.host == 0 {
            // Not chosen yet: merge overlapping container ranges only, as
            // podman does (touching ones would force one contiguous block
            // of host ports where two separate picks would do).
            if seg.ctr <= cur.ctr_end {
                if seg.ctr_end > cur.ctr_end {
                    cur.ctr_end = seg.ctr_end;
                    cur.src = seg.src;
                }
                continue;
            }
        } else if cur.host != 0 && u32::from(seg.host) <= u32::from(cur.host_end()) + 1 {
            if seg.offset() == cur.offset() {
                if seg.ctr_end > cur.ctr_end {
                    cur.ctr_end = seg.ctr_end;
                    cur.src = seg.src;
                }
                continue;
            }
            if seg.host <= cur.host_end() {
                // cur.src is the input whose range reaches furthest; its
                // start is <= seg.host, so it covers seg.host.
                return Err(conflict(mappings, cur, seg, seg.host));
            }
        }
        runs.push(*seg);
    }

    let wildcards = Wildcards::new(&runs);
    for run in runs.iter().filter(|r| !r.every && r.host != 0) {
        if let Some((wild, port)) = wildcards.disagreeing(run) {
            let first = covering(&segs, wild, port);
            let second = covering(&segs, run, port);
            return Err(conflict(mappings, first, second, port));
        }
    }

    tracing::debug!(
        input = mappings.len(),
        output = runs.len(),
        "canonicalized port mappings"
    );
    Ok(runs
        .into_iter()
        .map(|r| PortMapping {
            host_ip: ips.get(r.ip as usize).copied().unwrap_or_default(),
            container_port: r.ctr,
            host_port: r.host,
            range: r.ctr_end - r.ctr + 1,
            protocol: Protocols::one(r.proto),
        })
        .collect())
}

/// Validates every mapping and splits it per protocol. Returns the distinct
/// normalized host IPs in order and the segments, sorted, whose `ip` indexes that list.
fn validate(mappings: &[PortMapping]) -> Result<(Vec<Option<IpAddr>>, Vec<Seg>), Error> {
    let mut segs = Vec::with_capacity(mappings.len());
    // The normalized host IP of each input mapping.
    let mut normal: Vec<Option<IpAddr>> = Vec::with_capacity(mappings.len());
    for (src, m) in mappings.iter().enumerate() {
        let invalid = |cause| Error::Mapping {
            mapping: Box::new(m.clone()),
            cause,
        };
        if m.container_port == 0 {
            return Err(invalid(Invalid::PortZero("container")));
        }
        check_range(m).map_err(invalid)?;
        normal.push(normalize_host_ip(m.host_ip));
        // check_range guarantees this stays within u16.
        let ctr_end = m.container_port + (m.range.max(1) - 1);
        for proto in m.protocol.iter() {
            segs.push(Seg {
                ip: 0,
                every: false,
                proto,
                host: m.host_port,
                ctr: m.container_port,
                ctr_end,
                src,
            });
        }
    }
    let mut ips = normal.clone();
    ips.sort_unstable();
    ips.dedup();
    if u32::try_from(ips.len()).is_err() {
        return Err(Error::Mapping {
            mapping: Box::new(mappings.last().cloned().unwrap_or_default()),
            cause: Invalid::TooMany,
        });
    }
    for seg in &mut segs {
        let ip = normal[seg.src];
        // every normalized address is in `ips`, whose length fits u32 (checked above)
        seg.ip = ips.binary_search(&ip).unwrap_or_default() as u32;
        seg.every = ip.is_none();
    }
    segs.sort_unstable_by_key(Seg::key);
    Ok((ips, segs))
}

/// The input segment of `run`'s address, protocol and offset that covers
/// host `port` (error path only: a linear scan). Falls back to `run` itself.
fn covering<'a>(segs: &'a [Seg], run: &'a Seg, port: u16) -> &'a Seg {
    segs.iter()
        .find(|s| {
            s.ip == run.ip
                && s.proto == run.proto
                && s.host != 0
                && s.offset() == run.offset()
                && s.host <= port
                && port <= s.host_end()
        })
        .unwrap_or(run)
}

/// Builds [`Error::Conflict`] for two segments that both bind host `port`.
fn conflict(mappings: &[PortMapping], a: &Seg, b: &Seg, port: u16) -> Error {
    let at = |s: &Seg| {
        // Container port for host `port` in `s`; in range by construction.
        let ctr = i32::from(port) + s.offset();
        u16::try_from(ctr).unwrap_or(s.ctr)
    };
    Error::Conflict {
        first: Box::new(mappings.get(a.src).cloned().unwrap_or_default()),
        second: Box::new(mappings.get(b.src).cloned().unwrap_or_default()),
        protocol: b.proto,
        host_port: port,
        first_container_port: at(a),
        second_container_port: at(b),
    }
}

/// The unspecified addresses (`0.0.0.0`, `::`) become `None` (every address), an
/// IPv4-mapped IPv6 address its IPv4 address; others stay.
pub(crate) fn normalize_host_ip(ip: Option<IpAddr>) -> Option<IpAddr> {
    let ip = match ip? {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    (!ip.is_unspecified()).then_some(ip)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::types::pm;

    #[test]
    fn merges_adjacent_and_overlapping_ranges_of_equal_offset() {
        let got = canonicalize(&[
            pm("", 8085, 85, 10, "tcp"),
            pm("", 8080, 80, 3, "tcp"),
            pm("", 8083, 83, 2, "tcp"), // fills the gap between the two
            pm("", 8090, 90, 1, "tcp"), // inside 8085-8094
            pm("", 9000, 90, 1, "tcp"), // other offset, disjoint
        ])
        .unwrap();
        assert_eq!(
            got,
            vec![pm("", 8080, 80, 15, "tcp"), pm("", 9000, 90, 1, "tcp")]
        );
    }

    #[test]
    fn adjacent_ranges_of_different_offset_stay_apart() {
        let got = canonicalize(&[pm("", 1, 10, 2, "tcp"), pm("", 3, 20, 2, "tcp")]).unwrap();
        assert_eq!(got, vec![pm("", 1, 10, 2, "tcp"), pm("", 3, 20, 2, "tcp")]);
    }

    #[test]
    fn removes_duplicates_and_splits_protocol_lists() {
        let got = canonicalize(&[
            pm("", 53, 53, 1, "udp,TCP"),
            pm("", 53, 53, 1, "tcp"),
            pm("", 53, 53, 0, "udp"),
            pm("", 53, 53, 1, ""),
        ])
        .unwrap();
        assert_eq!(
            got,
            vec![pm("", 53, 53, 1, "tcp"), pm("", 53, 53, 1, "udp")]
        );
    }

    #[test]
    fn unspecified_addresses_are_the_empty_host_ip() {
        let got = canonicalize(&[
            pm("0.0.0.0", 80, 80, 1, "tcp"),
            pm("::", 80, 80, 1, "tcp"),
            pm("", 81, 81, 1, "tcp"),
            pm("fd00:0:0::1", 80, 80, 1, "tcp"),
            pm("::ffff:127.0.0.1", 80, 80, 1, "tcp"),
        ])
        .unwrap();
        assert_eq!(
            got,
            vec![
                pm("", 80, 80, 2, "tcp"),
                pm("127.0.0.1", 80, 80, 1, "tcp"),
                pm("fd00::1", 80, 80, 1, "tcp"),
            ]
        );
    }

    #[test]
    fn host_port_zero_merges_on_container_ports() {
        let got = canonicalize(&[
            pm("", 0, 80, 2, "tcp"),
            pm("", 0, 81, 3, "tcp"),
            pm("", 0, 84, 1, "tcp"),
            pm("", 0, 90, 1, "tcp"),
            pm("", 80, 80, 1, "tcp"),
        ])
        .unwrap();
        assert_eq!(
            got,
            vec![
                pm("", 0, 80, 4, "tcp"),
                pm("", 0, 84, 1, "tcp"),
                pm("", 0, 90, 1, "tcp"),
                pm("", 80, 80, 1, "tcp"),
            ]
        );
    }

    #[test]
    fn conflict_names_both_mappings() {
        let a = pm("127.0.0.1", 8080, 80, 10, "tcp");
        let b = pm("127.0.0.1", 8085, 90, 1, "tcp,udp");
        let err = canonicalize(&[a.clone(), b.clone()]).unwrap_err();
        assert_eq!(
            err,
            Error::Conflict {
                first: Box::new(a),
                second: Box::new(b),
                protocol: Protocol::Tcp,
                host_port: 8085,
                first_container_port: 85,
                second_container_port: 90,
            }
        );
        let text = err.to_string();
        assert!(text.contains("127.0.0.1:8080-8089:80-89/tcp"), "{text}");
        assert!(text.contains("127.0.0.1:8085:90/tcp,udp"), "{text}");
    }

    #[test]
    fn conflict_names_the_covering_input_of_a_merged_run() {
        let a = pm("", 100, 100, 50, "udp");
        let b = pm("", 110, 110, 5, "udp");
        let c = pm("", 120, 7, 1, "udp");
        let err = canonicalize(&[b, a.clone(), c.clone()]).unwrap_err();
        let Error::Conflict {
            first,
            second,
            host_port,
            ..
        } = err
        else {
            panic!("{err:?}");
        };
        assert_eq!((*first, *second, host_port), (a, c, 120));
    }

    #[test]
    fn every_address_and_specific_address_must_agree() {
        let wild = pm("0.0.0.0", 8000, 80, 100, "tcp");
        let specific = pm("10.1.2.3", 8050, 9000, 1, "tcp");
        let err = canonicalize(&[specific.clone(), wild.clone()]).unwrap_err();
        assert_eq!(
            err,
            Error::Conflict {
                first: Box::new(wild.clone()),
                second: Box::new(specific),
                protocol: Protocol::Tcp,
                host_port: 8050,
                first_container_port: 130,
                second_container_port: 9000,
            }
        );
        // Same container port: agreed, both kept.
        let same = pm("10.1.2.3", 8050, 130, 1, "tcp");
        let got = canonicalize(&[same, wild]).unwrap();
        assert_eq!(
            got,
            vec![
                pm("", 8000, 80, 100, "tcp"),
                pm("10.1.2.3", 8050, 130, 1, "tcp")
            ]
        );
        // Other protocol or other host port: no overlap.
        let got = canonicalize(&[pm("", 80, 80, 1, "tcp"), pm("::1", 80, 81, 1, "udp")]);
        assert!(got.is_ok(), "{got:?}");
    }

    #[test]
    fn specific_range_spanning_many_wildcard_ranges() {
        let mut input: Vec<_> = (0..50)
            .map(|i| pm("", 1000 + 2 * i, 1000 + 2 * i, 1, "tcp"))
            .collect();
        input.push(pm("::1", 1000, 1000, 99, "tcp"));
        assert!(canonicalize(&input).is_ok());
        input.push(pm("", 1051, 7, 1, "tcp"));
        let err = canonicalize(&input).unwrap_err();
        let Error::Conflict {
            host_port,
            second_container_port,
            ..
        } = err
        else {
            panic!("{err:?}");
        };
        assert_eq!((host_port, second_container_port), (1051, 1051));
    }

    #[test]
    fn every_invalid_mapping_is_named() {
        let cases = [
            (pm("", 80, 0, 1, "tcp"), Invalid::PortZero("container")),
            (
                pm("", 65000, 80, 600, "tcp"),
                Invalid::Overflow {
                    which: "host",
                    start: 65000,
                    range: 600,
                },
            ),
            (
                pm("", 0, 65535, 2, "tcp"),
                Invalid::Overflow {
                    which: "container",
                    start: 65535,
                    range: 2,
                },
            ),
        ];
        for (mapping, cause) in cases {
            let err = canonicalize(&[pm("", 1, 1, 1, "tcp"), mapping.clone()]).unwrap_err();
            assert_eq!(
                err,
                Error::Mapping {
                    mapping: Box::new(mapping.clone()),
                    cause
                }
            );
            assert!(err.to_string().contains(&mapping.to_string()), "{err}");
        }
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(canonicalize(&[]).unwrap().is_empty());
    }
}
