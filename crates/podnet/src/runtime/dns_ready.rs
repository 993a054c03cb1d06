//! Names answer before a flow returns: after a setup or connect on a network with DNS, ask
//! the network's DNS server (aardvark-dns) from inside the container for the container's
//! own name until it answers, for at most [`RuntimeConfig::dns_ready_timeout`].
//!
//! Why: netavark returns as soon as it has told aardvark-dns about the container (a new
//! entry in its config file and a SIGHUP), and aardvark-dns 1.4 can stay silent for some
//! seconds while it reloads, so a client started right after `podnet start` may not
//! resolve the container. podman has the same gap; podnet closes it. When the bound is hit
//! the flow still succeeds (the network works, only the name is late) with a warning.
//!
//! [`RuntimeConfig::dns_ready_timeout`]: super::RuntimeConfig::dns_ready_timeout

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::StatusBlock;

/// How long one query waits for its answer before it is sent again.
const ATTEMPT: Duration = Duration::from_millis(250);

/// Waits until every DNS server of `status` answers `name` from inside `netns`, for at
/// most `bound` in all; warns (naming the container, the server and the wait) when it does
/// not. Returns the time waited.
pub(crate) fn wait_for_name(
    netns: &Path,
    name: &str,
    status: &BTreeMap<String, StatusBlock>,
    bound: Duration,
) -> Duration {
    let start = Instant::now();
    let servers: Vec<IpAddr> = status
        .values()
        .flat_map(|s| s.dns_server_ips.iter().copied())
        .collect();
    if servers.is_empty() || bound.is_zero() {
        return Duration::ZERO;
    }
    // aardvark-dns answers AAAA only for a container without IPv4 addresses
    let has_v4 = status
        .values()
        .flat_map(|s| s.interfaces.values())
        .flat_map(|i| i.subnets.iter())
        .any(|a| a.ipnet.addr().is_ipv4());
    let qtype = if has_v4 { QTYPE_A } else { QTYPE_AAAA };
    for server in servers {
        let socket = match socket_in(netns, server) {
            Ok(socket) => socket,
            Err(e) => {
                tracing::warn!(container = name, netns = %netns.display(), error = %e, "cannot ask the network's DNS server whether the name answers");
                return start.elapsed();
            }
        };
        let to = SocketAddr::new(server, 53);
        let mut id: u16 = rand::random();
        loop {
            id = id.wrapping_add(1);
            if answers(&socket, to, id, name, qtype) {
                break;
            }
            if start.elapsed() >= bound {
                tracing::warn!(
                    container = name,
                    %server,
                    waited_ms = start.elapsed().as_millis() as u64,
                    "the container's name does not answer yet; continuing (clients may need to retry)"
                );
                return start.elapsed();
            }
        }
    }
    let waited = start.elapsed();
    tracing::debug!(
        container = name,
        waited_ms = waited.as_millis() as u64,
        "name answers"
    );
    waited
}

/// A UDP socket of the container's netns (a socket keeps the netns it was made in).
fn socket_in(netns: &Path, family_of: IpAddr) -> Result<UdpSocket, String> {
    let ns = netns::NetNs::open(netns).map_err(|e| e.to_string())?;
    let any: SocketAddr = match family_of {
        IpAddr::V4(_) => "0.0.0.0:0".parse().map_err(|_| "address".to_string())?,
        IpAddr::V6(_) => "[::]:0".parse().map_err(|_| "address".to_string())?,
    };
    let socket = ns
        .run_in(|| UdpSocket::bind(any))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(ATTEMPT))
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

/// One query for `name`: true when the server answers it with at least one record.
fn answers(socket: &UdpSocket, to: SocketAddr, id: u16, name: &str, qtype: u16) -> bool {
    let Some(query) = query(id, name, qtype) else {
        return false;
    };
    if socket.send_to(&query, to).is_err() {
        // e.g. the address is not up yet: wait as an unanswered query would
        std::thread::sleep(ATTEMPT);
        return false;
    }
    let mut buf = [0u8; 512];
    let deadline = Instant::now() + ATTEMPT;
    while Instant::now() < deadline {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            return false;
        };
        if from == to && has_answer(&buf[..n], id) {
            return true;
        }
    }
    false
}

const QTYPE_A: u16 = 1;
const QTYPE_AAAA: u16 = 28;

/// A DNS query (RFC 1035 4.1) for the `qtype` records of `name`, recursion desired; `None`
/// for a name that is not a valid DNS name.
fn query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(18 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| (1..64).contains(l))?;
        q.push(len);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    Some(q)
}

/// A response to query `id` with no error and at least one answer record.
fn has_answer(msg: &[u8], id: u16) -> bool {
    msg.len() >= 12
        && msg[0..2] == id.to_be_bytes()
        && msg[2] & 0x80 != 0
        && msg[3] & 0x0f == 0
        && u16::from_be_bytes([msg[6], msg[7]]) > 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_rfc_1035_wire_format() {
        let q = query(0x1234, "web.dns.podman", QTYPE_A).unwrap();
        let mut want = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(b"\x03web\x03dns\x06podman\x00\x00\x01\x00\x01");
        assert_eq!(q, want);
        let aaaa = query(0x1234, "web", QTYPE_AAAA).unwrap();
        assert_eq!(&aaaa[aaaa.len() - 4..], [0, 28, 0, 1]);
        assert!(query(1, "a..b", QTYPE_A).is_none());
        assert!(query(1, &"x".repeat(64), QTYPE_A).is_none());
    }

    #[test]
    fn only_a_matching_answer_without_error_counts() {
        let mut answer = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        assert!(has_answer(&answer, 0x1234));
        assert!(!has_answer(&answer, 0x1235));
        answer[3] = 0x83; // NXDOMAIN
        assert!(!has_answer(&answer, 0x1234));
        let empty = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        assert!(!has_answer(&empty, 0x1234));
        assert!(!has_answer(&empty[..6], 0x1234));
    }

    #[test]
    fn no_dns_server_means_no_wait() {
        let status = BTreeMap::from([("n".to_string(), StatusBlock::default())]);
        let waited = wait_for_name(
            Path::new("/nonexistent"),
            "c",
            &status,
            Duration::from_secs(5),
        );
        assert_eq!(waited, Duration::ZERO);
    }
}
