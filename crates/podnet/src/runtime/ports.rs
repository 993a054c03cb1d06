//! Host ports left for later (`-p 80`, `-p 0:80`): podman picks free ones when the container
//! is created, so they are known before anything is set up and stay the same across restarts.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use portmap::{PortMapping, Protocol, Protocols};

/// How many random bases are tried for a range of several ports.
const RANGE_ATTEMPTS: u32 = 64;

/// Whether `port` on `ip` can be bound now for every protocol of the mapping.
fn bindable(ip: IpAddr, port: u16, protocols: Protocols) -> bool {
    let addr = SocketAddr::new(ip, port);
    protocols.iter().all(|p| match p {
        Protocol::Udp => UdpSocket::bind(addr).is_ok(),
        // sctp has no std socket; tcp's view of the port is the best guess
        Protocol::Tcp | Protocol::Sctp => TcpListener::bind(addr).is_ok(),
    })
}

/// The first ports a run of `range` (at least 2) consecutive host ports may start at:
/// from 10000 when the run fits above it (podman's habit of leaving low ports alone),
/// else from 1, so that every run up to 65535 ports has at least one candidate.
fn range_bases(range: u16) -> std::ops::RangeInclusive<u16> {
    let last = u16::MAX - (range - 1);
    if last >= 10_000 {
        10_000..=last
    } else {
        1..=last
    }
}

/// Replaces every host port 0 by free host ports (one for a single port, a free run of
/// `range` consecutive ports otherwise). The mapping for which nothing free was found is the
/// error.
pub(crate) fn assign_free_host_ports(
    mappings: &[PortMapping],
) -> Result<Vec<PortMapping>, PortMapping> {
    let mut out = Vec::with_capacity(mappings.len());
    for m in mappings {
        if m.host_port != 0 {
            out.push(m.clone());
            continue;
        }
        let ip = m.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let range = m.range.max(1);
        let taken = |p: u16| {
            out.iter().any(|o: &PortMapping| {
                (o.host_port..o.host_port.saturating_add(o.range.max(1))).contains(&p)
            })
        };
        let found = if range == 1 {
            // the kernel's choice of an ephemeral port, checked for the other protocols
            (0..RANGE_ATTEMPTS).find_map(|_| {
                let port = TcpListener::bind(SocketAddr::new(ip, 0))
                    .ok()?
                    .local_addr()
                    .ok()?
                    .port();
                (!taken(port) && bindable(ip, port, m.protocol)).then_some(port)
            })
        } else {
            let bases = range_bases(range);
            let count = u32::from(bases.end() - bases.start()) + 1;
            (0..RANGE_ATTEMPTS.min(count)).find_map(|attempt| {
                let base = if count <= RANGE_ATTEMPTS {
                    // few candidates: each once, in order
                    bases.start() + attempt as u16
                } else {
                    rand::Rng::gen_range(&mut rand::thread_rng(), bases.clone())
                };
                (0..range)
                    .all(|i| !taken(base + i) && bindable(ip, base + i, m.protocol))
                    .then_some(base)
            })
        };
        match found {
            Some(port) => out.push(m.clone().with_host_port(port)),
            None => return Err(m.clone()),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mapping(host_port: u16, container_port: u16, range: u16) -> PortMapping {
        PortMapping::new(container_port)
            .with_host_ip(Ipv4Addr::LOCALHOST)
            .with_host_port(host_port)
            .with_range(range)
    }

    #[test]
    fn zero_host_ports_get_free_distinct_ports_and_others_stay() {
        let given = [
            mapping(0, 80, 1),
            mapping(0, 81, 1),
            mapping(18999, 82, 1),
            mapping(0, 9000, 3),
        ];
        let got = assign_free_host_ports(&given).unwrap();
        assert_eq!(got[2], given[2]);
        assert!(got.iter().all(|m| m.host_port != 0));
        assert_ne!(got[0].host_port, got[1].host_port);
        assert_eq!(got[3].range, 3);
        assert!(got[3].host_port >= 10_000 && got[3].host_port <= u16::MAX - 3);
        // each picked port could really be bound
        for m in [&got[0], &got[1]] {
            assert!(bindable(
                "127.0.0.1".parse().unwrap(),
                m.host_port,
                Protocols::default()
            ));
        }
    }

    #[test]
    fn runs_of_any_length_have_candidate_bases() {
        assert_eq!(range_bases(u16::MAX), 1..=1);
        assert_eq!(range_bases(2), 10_000..=u16::MAX - 1);
        assert_eq!(range_bases(60_000), 1..=5536);
    }

    #[test]
    fn a_run_of_every_port_is_no_free_port_not_a_panic() {
        // port 0 can never be a host port, and the one run of 65535 ports needs port
        // 65535 and every other, one of which this test holds
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let held = busy.local_addr().unwrap().port();
        let all = mapping(0, 1, u16::MAX);
        let err = assign_free_host_ports(std::slice::from_ref(&all)).unwrap_err();
        assert_eq!(err, all);
        assert!(!bindable(
            "127.0.0.1".parse().unwrap(),
            held,
            Protocols::default()
        ));
    }

    #[test]
    fn a_port_in_use_is_not_picked() {
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        assert!(!bindable(
            "127.0.0.1".parse().unwrap(),
            port,
            Protocols::default()
        ));
    }
}
