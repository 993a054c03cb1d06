//! What another container on the host already owns, checked before a container starts
//! or is connected: its name in aardvark-dns on a shared network, and its published
//! host ports.
//!
//! Names: aardvark-dns answers every name of every entry of a network's file
//! (`<netavark config>/aardvark-dns/<network>`, written by netavark for podman and
//! podnet alike). Its format (netavark 1.4): a header line of the listening addresses
//! (`ip1,ip2`, optionally a space and DNS servers), then one line per container,
//! `id ipv4s ipv6s names` separated by single spaces, each list comma-separated and
//! possibly empty. A container name already answered there for a container podnet does
//! not know (another tool's) is refused, naming the holder; aliases may be shared, as
//! podman allows.
//!
//! Ports: a publish whose (host address, protocol, port) overlaps one of a running podnet
//! container is refused, naming it; then each TCP and UDP port is probed by binding it
//! on its host address: "address in use" is refused, naming the program holding it when
//! `/proc` tells (the socket's inode in `/proc/net/{tcp,udp}{,6}` and the process with
//! a descriptor on it). SCTP is not probed (no socket of ours can say), as podman.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use portmap::{PortMapping, Protocol};

use super::{Runtime, RuntimeError};
use crate::backend::Backend;
use crate::{ContainerRecord, Error, Network};

/// One entry of an aardvark-dns network file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnsEntry {
    pub(crate) container_id: String,
    pub(crate) names: Vec<String>,
}

/// The entries of an aardvark-dns network file (the header line skipped).
pub(crate) fn parse_dns_entries(text: &str) -> Vec<DnsEntry> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let id = fields.first().filter(|id| !id.is_empty())?;
            let names = fields.get(3)?;
            Some(DnsEntry {
                container_id: (*id).to_owned(),
                names: names
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

fn host_ip(m: &PortMapping) -> IpAddr {
    m.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn ports(m: &PortMapping) -> std::ops::Range<u32> {
    let first = u32::from(m.host_port);
    first..first + u32::from(m.range.max(1))
}

/// Whether two publishes can take the same socket: one protocol in common, overlapping
/// host ports, and the same host address or an unspecified one on either side.
fn overlap(a: &PortMapping, b: &PortMapping) -> Option<u16> {
    let (ia, ib) = (host_ip(a), host_ip(b));
    if !(ia == ib || ia.is_unspecified() || ib.is_unspecified()) {
        return None;
    }
    if !a.protocol.iter().any(|p| b.protocol.contains(p)) {
        return None;
    }
    let (ra, rb) = (ports(a), ports(b));
    let first = ra.start.max(rb.start);
    (first < ra.end.min(rb.end)).then_some(first as u16)
}

/// The program holding `port` of `protocol`, from `/proc`: "name (pid N)".
fn holder_of(protocol: Protocol, port: u16) -> Option<String> {
    let inodes: BTreeSet<String> = ["", "6"]
        .iter()
        .filter_map(|v| std::fs::read_to_string(format!("/proc/net/{protocol}{v}")).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    let local_port = f.get(1)?.rsplit(':').next()?;
                    let bound = u16::from_str_radix(local_port, 16).ok()? == port;
                    // TCP: listening sockets only (state 0A); UDP: every bound one
                    let listening = protocol != Protocol::Tcp || f.get(3) == Some(&"0A");
                    (bound && listening).then(|| f.get(9).map(|s| s.to_string()))?
                })
                .collect::<Vec<_>>()
        })
        .filter(|inode| inode != "0")
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: BTreeSet<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let pid = proc_entry.file_name().to_string_lossy().into_owned();
        if pid.parse::<u32>().is_err() {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let target = std::fs::read_link(fd.path()).unwrap_or_default();
            if wanted.contains(&*target.to_string_lossy()) {
                let comm =
                    std::fs::read_to_string(proc_entry.path().join("comm")).unwrap_or_default();
                return Some(format!("{} (pid {pid})", comm.trim()));
            }
        }
    }
    None
}

trait InUse {
    fn filter_in_use(self) -> Result<(), std::io::Error>;
}

impl InUse for std::io::Result<()> {
    fn filter_in_use(self) -> Result<(), std::io::Error> {
        match self {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(e),
            _ => Ok(()),
        }
    }
}

/// The first port of `m` that is in use now, with the error.
fn unbindable(m: &PortMapping) -> Option<(u16, Protocol, std::io::Error)> {
    let ip = host_ip(m);
    for port in ports(m) {
        let port = port as u16;
        for protocol in m.protocol.iter() {
            let addr = SocketAddr::new(ip, port);
            let bound = match protocol {
                Protocol::Tcp => TcpListener::bind(addr).map(drop),
                Protocol::Udp => UdpSocket::bind(addr).map(drop),
                Protocol::Sctp => Ok(()),
            };
            // only "in use" says someone owns it (a low port refused to a rootless
            // user is the forwarder's problem, reported when it binds)
            if let Err(e) = bound.filter_in_use() {
                return Some((port, protocol, e));
            }
        }
    }
    None
}

impl<B: Backend> Runtime<B> {
    /// Refuses to start `record` on `nets` when another container owns its name in
    /// aardvark-dns or one of its host ports (see the module doc), then holds its ports
    /// (`port_holders.rs`) until the claim is dropped with the container not running.
    pub(super) fn claim_host(
        &self,
        record: &ContainerRecord,
        nets: &[Network],
    ) -> Result<super::port_holders::PortClaim<'_, B>, Error> {
        self.check_dns_names(record, nets)?;
        self.check_host_ports(record)?;
        self.claim_ports(record)
    }

    /// Refuses a container name aardvark-dns already answers on one of `nets` for a
    /// container podnet does not know.
    pub(super) fn check_dns_names(
        &self,
        record: &ContainerRecord,
        nets: &[Network],
    ) -> Result<(), Error> {
        let Some(dir) = self.config.dns_entries_dir.as_deref() else {
            return Ok(());
        };
        let mut known: Option<BTreeSet<String>> = None;
        for net in nets.iter().filter(|n| n.dns_enabled) {
            let Ok(text) = std::fs::read_to_string(dir.join(&net.name)) else {
                continue;
            };
            for entry in parse_dns_entries(&text) {
                if entry.container_id == record.id || !entry.names.contains(&record.name) {
                    continue;
                }
                let known = match &known {
                    Some(k) => k,
                    None => known.insert(
                        self.state
                            .list_containers()?
                            .into_iter()
                            .map(|c| c.id)
                            .collect(),
                    ),
                };
                if !known.contains(&entry.container_id) {
                    return Err(RuntimeError::NameAnswered {
                        name: record.name.clone(),
                        network: net.name.clone(),
                        holder: entry.container_id,
                        file: dir.join(&net.name),
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Refuses a publish overlapping a running podnet container's or a socket bound on
    /// the host.
    pub(super) fn check_host_ports(&self, record: &ContainerRecord) -> Result<(), Error> {
        if record.port_mappings.is_empty() {
            return Ok(());
        }
        for other in self.state.list_containers()? {
            if other.id == record.id || !other.running {
                continue;
            }
            for mine in &record.port_mappings {
                for theirs in &other.port_mappings {
                    if let Some(port) = overlap(mine, theirs) {
                        return Err(RuntimeError::PortOwned {
                            container: record.name.clone(),
                            mapping: mine.clone(),
                            port,
                            holder: format!("podnet container {}", other.name),
                        }
                        .into());
                    }
                }
            }
        }
        for mine in &record.port_mappings {
            if let Some((port, protocol, error)) = unbindable(mine) {
                let holder =
                    holder_of(protocol, port).unwrap_or_else(|| format!("unknown holder: {error}"));
                return Err(RuntimeError::PortOwned {
                    container: record.name.clone(),
                    mapping: mine.clone(),
                    port,
                    holder,
                }
                .into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn publish(ip: &str, port: u16, range: u16, protocol: &str) -> PortMapping {
        let m = PortMapping::new(80)
            .with_host_port(port)
            .with_range(range)
            .with_protocols(protocol.parse::<portmap::Protocols>().unwrap());
        if ip.is_empty() {
            m
        } else {
            m.with_host_ip(ip.parse::<IpAddr>().unwrap())
        }
    }

    #[test]
    fn aardvark_entries_are_read_with_empty_lists() {
        let text = "10.89.0.1,fd00::1\nabc 10.89.0.2 fd00::2 web,alias1\ndef 10.89.0.3  db\nbad\n";
        assert_eq!(
            parse_dns_entries(text),
            [
                DnsEntry {
                    container_id: "abc".into(),
                    names: vec!["web".into(), "alias1".into()]
                },
                DnsEntry {
                    container_id: "def".into(),
                    names: vec!["db".into()]
                },
            ]
        );
    }

    #[test]
    fn publishes_overlap_by_address_protocol_and_port() {
        let any = publish("", 8080, 1, "tcp");
        assert_eq!(
            overlap(&any, &publish("127.0.0.1", 8080, 1, "tcp")),
            Some(8080)
        );
        assert_eq!(overlap(&any, &publish("", 8080, 1, "udp")), None);
        assert_eq!(overlap(&any, &publish("", 8079, 2, "udp,tcp")), Some(8080));
        assert_eq!(overlap(&any, &publish("", 8081, 5, "tcp")), None);
        assert_eq!(
            overlap(
                &publish("127.0.0.1", 8080, 1, "tcp"),
                &publish("127.0.0.2", 8080, 1, "tcp")
            ),
            None
        );
    }

    #[test]
    fn a_bound_port_is_found_and_its_holder_named() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let (got, protocol, _) = unbindable(&publish("127.0.0.1", port, 1, "tcp")).unwrap();
        assert_eq!((got, protocol), (port, Protocol::Tcp));
        let holder = holder_of(Protocol::Tcp, port).unwrap();
        assert!(
            holder.ends_with(&format!("(pid {})", std::process::id())),
            "{holder}"
        );
        drop(held);
        assert!(unbindable(&publish("127.0.0.1", port, 1, "tcp")).is_none());
    }
}
