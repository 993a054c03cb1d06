//! The IP allocator: podman's host-local IPAM (containers/common
//! `libnetwork/netavark/ipam.go`) on SQLite.
//!
//! Per subnet, automatic allocation continues after the last address handed
//! out (a cursor row), wraps to the start of the range once, skips the
//! gateway and every leased address, and never hands out the network or (IPv4)
//! broadcast address. The search is a walk over the `(net, ip)`
//! primary key from the cursor: it reads only the leased addresses directly
//! after the cursor, so the cost per call does not grow with the number of
//! leases.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use rusqlite::{params, Connection, OptionalExtension};

use super::error::StateError;
use crate::network::{from_int, host_bounds, to_int};
use crate::{Network, Subnet};

/// The lease key: 4 bytes for IPv4, 16 for IPv6, big-endian, so that byte
/// order is address order.
pub(crate) fn ip_blob(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

pub(crate) fn blob_ip(b: &[u8]) -> Option<IpAddr> {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        return Some(IpAddr::V4(Ipv4Addr::from(a)));
    }
    <[u8; 16]>::try_from(b)
        .ok()
        .map(|a| IpAddr::V6(Ipv6Addr::from(a)))
}

fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

struct Ctx<'a> {
    conn: &'a Connection,
    net: &'a Network,
    container: &'a str,
    /// The network's `ipam_networks.key`.
    key: i64,
}

/// The network's short key; created (or its name refreshed) when `create`.
fn net_key(conn: &Connection, net: &Network, create: bool) -> rusqlite::Result<Option<i64>> {
    let found: Option<(i64, String)> = conn
        .prepare_cached("SELECT key, network_name FROM ipam_networks WHERE network_id = ?1")?
        .query_row([&net.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match found {
        Some((key, name)) if create && name != net.name => {
            conn.prepare_cached("UPDATE ipam_networks SET network_name = ?2 WHERE key = ?1")?
                .execute(params![key, net.name])?;
            Ok(Some(key))
        }
        Some((key, _)) => Ok(Some(key)),
        None if create => {
            conn.prepare_cached(
                "INSERT INTO ipam_networks (network_id, network_name) VALUES (?1, ?2)",
            )?
            .execute(params![net.id, net.name])?;
            Ok(Some(conn.last_insert_rowid()))
        }
        None => Ok(None),
    }
}

fn lease_error(net: &Network, container: &str) -> impl Fn(rusqlite::Error) -> StateError {
    let (network, container) = (net.name.clone(), container.to_owned());
    move |source| StateError::Lease {
        network: network.clone(),
        container: container.clone(),
        source,
    }
}

impl Ctx<'_> {
    fn db(&self, source: rusqlite::Error) -> StateError {
        StateError::Lease {
            network: self.net.name.clone(),
            container: self.container.to_owned(),
            source,
        }
    }
}

/// Allocates one address per subnet of `net` for `container`'s `interface`;
/// see [`StateTx::allocate_ips`](super::StateTx::allocate_ips).
pub(crate) fn allocate(
    conn: &Connection,
    net: &Network,
    container: &str,
    interface: &str,
    static_ips: &[IpAddr],
) -> Result<Vec<IpNet>, StateError> {
    if !net.requires_ipam() {
        return Ok(Vec::new());
    }
    let key = net_key(conn, net, true)
        .map_err(lease_error(net, container))?
        .ok_or_else(|| lease_error(net, container)(rusqlite::Error::QueryReturnedNoRows))?;
    let cx = Ctx {
        conn,
        net,
        container,
        key,
    };
    let mut wanted: Vec<Option<IpAddr>> = vec![None; net.subnets.len()];
    for &ip in static_ips {
        let ip = normalize(ip);
        let Some(i) = net
            .subnets
            .iter()
            .position(|s| s.subnet.trunc().contains(&ip))
        else {
            return Err(StateError::StaticIpOutsideNetwork {
                ip,
                network: net.name.clone(),
            });
        };
        match wanted[i] {
            Some(first) if first != ip => {
                return Err(StateError::DuplicateStaticIp {
                    network: net.name.clone(),
                    subnet: net.subnets[i].subnet.trunc(),
                    first,
                    second: ip,
                })
            }
            _ => wanted[i] = Some(ip),
        }
    }
    let mut out = Vec::with_capacity(net.subnets.len());
    for (s, want) in net.subnets.iter().zip(wanted) {
        let subnet = s.subnet.trunc();
        let subnet_key = subnet.to_string();
        let existing = cx.own_lease(&subnet_key)?;
        let ip = match (want, existing) {
            (Some(ip), existing) => {
                cx.check_static(s, ip)?;
                if let Some(old) = existing.filter(|old| *old != ip) {
                    cx.delete_lease(old)?;
                }
                ip
            }
            (None, Some(ip)) => ip,
            (None, None) => cx.next_free(s, &subnet_key)?,
        };
        cx.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO leases (net, ip, subnet, container_id, interface) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    cx.key,
                    ip_blob(ip),
                    subnet_key,
                    container,
                    interface
                ])
            })
            .map_err(|e| cx.db(e))?;
        let prefixed =
            IpNet::new(ip, subnet.prefix_len()).map_err(|_| StateError::CorruptLease {
                network: net.id.clone(),
                detail: format!("bad prefix length of {subnet}"),
            })?;
        tracing::debug!(network = %net.name, container_id = container, ip = %ip, "ip leased");
        out.push(prefixed);
    }
    Ok(out)
}

impl Ctx<'_> {
    fn own_lease(&self, subnet: &str) -> Result<Option<IpAddr>, StateError> {
        let blob: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT ip FROM leases WHERE container_id = ?1 AND net = ?2 AND subnet = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![self.container, self.key, subnet], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.db(e))?;
        blob.map(|b| self.decode(&b)).transpose()
    }

    fn decode(&self, b: &[u8]) -> Result<IpAddr, StateError> {
        blob_ip(b).ok_or_else(|| StateError::CorruptLease {
            network: self.net.id.clone(),
            detail: format!("address of {} bytes", b.len()),
        })
    }

    fn delete_lease(&self, ip: IpAddr) -> Result<(), StateError> {
        self.conn
            .prepare_cached("DELETE FROM leases WHERE net = ?1 AND ip = ?2")
            .and_then(|mut st| st.execute(params![self.key, ip_blob(ip)]))
            .map(|_| ())
            .map_err(|e| self.db(e))
    }

    fn holder(&self, ip: IpAddr) -> Result<Option<String>, StateError> {
        self.conn
            .prepare_cached("SELECT container_id FROM leases WHERE net = ?1 AND ip = ?2")
            .and_then(|mut st| {
                st.query_row(params![self.key, ip_blob(ip)], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.db(e))
    }

    fn check_static(&self, s: &Subnet, ip: IpAddr) -> Result<(), StateError> {
        check_in_subnet(&self.net.name, s, ip)?;
        match self.holder(ip)? {
            Some(c) if c != self.container => Err(StateError::StaticIpTaken {
                ip,
                network: self.net.name.clone(),
                container: c,
            }),
            _ => Ok(()),
        }
    }

    /// The next free address after the cursor, wrapping once.
    fn next_free(&self, s: &Subnet, key: &str) -> Result<IpAddr, StateError> {
        let subnet = s.subnet.trunc();
        let (lo, hi) = host_bounds(&subnet);
        let range = s.lease_range.as_ref();
        let start = range
            .and_then(|r| r.start_ip)
            .map_or(lo, |ip| to_int(normalize(ip)).max(lo));
        let end = range
            .and_then(|r| r.end_ip)
            .map_or(hi, |ip| to_int(normalize(ip)).min(hi));
        let like = subnet.network();
        let exhausted = || StateError::NoFreeIp {
            network: self.net.name.clone(),
            subnet,
            start: from_int(start, like),
            end: from_int(end, like),
        };
        if start > end {
            return Err(exhausted());
        }
        let last: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT last_ip FROM ipam_cursor WHERE net = ?1 AND subnet = ?2")
            .and_then(|mut st| {
                st.query_row(params![self.key, key], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.db(e))?;
        let last = last.map(|b| self.decode(&b)).transpose()?.map(to_int);
        let cur = match last {
            Some(l) if l >= start && l < end => l + 1,
            _ => start,
        };
        let gw = s.gateway.map(|g| to_int(normalize(g)));
        let found = match self.scan(like, gw, cur, end)? {
            Some(v) => Some(v),
            None if cur > start => self.scan(like, gw, start, cur - 1)?,
            None => None,
        };
        let v = found.ok_or_else(exhausted)?;
        let ip = from_int(v, like);
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO ipam_cursor (net, subnet, last_ip) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut st| st.execute(params![self.key, key, ip_blob(ip)]))
            .map_err(|e| self.db(e))?;
        Ok(ip)
    }

    /// The lowest address in `[a, b]` that is neither leased nor the gateway:
    /// walks the leased addresses from `a` in key order and stops at the first gap.
    fn scan(
        &self,
        like: IpAddr,
        gw: Option<u128>,
        a: u128,
        b: u128,
    ) -> Result<Option<u128>, StateError> {
        let skip_gw = |c: u128| if Some(c) == gw { c + 1 } else { c };
        let mut cand = skip_gw(a);
        if cand > b {
            return Ok(None);
        }
        let lo = ip_blob(from_int(cand, like));
        let hi = ip_blob(from_int(b, like));
        let len = i64::try_from(lo.len()).unwrap_or(16);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT ip FROM leases WHERE net = ?1 AND ip >= ?2 AND ip <= ?3 \
                 AND length(ip) = ?4 ORDER BY ip",
            )
            .map_err(|e| self.db(e))?;
        let mut rows = st
            .query(params![self.key, lo, hi, len])
            .map_err(|e| self.db(e))?;
        while let Some(row) = rows.next().map_err(|e| self.db(e))? {
            let blob: Vec<u8> = row.get(0).map_err(|e| self.db(e))?;
            let leased = to_int(self.decode(&blob)?);
            if leased < cand {
                continue;
            }
            if leased > cand {
                break;
            }
            cand = skip_gw(cand + 1);
            if cand > b {
                return Ok(None);
            }
        }
        Ok((cand <= b).then_some(cand))
    }
}

/// Checks a requested static address against a network without looking at
/// leases: it must be inside one of the network's subnets and be neither the
/// gateway nor the network or (IPv4) broadcast address. Flows call it while
/// validating, before anything is applied; the allocator checks again and
/// also checks that no other container holds it.
pub fn check_static_ip(net: &Network, ip: IpAddr) -> Result<(), StateError> {
    let ip = normalize(ip);
    match net.subnets.iter().find(|s| s.subnet.trunc().contains(&ip)) {
        Some(s) => check_in_subnet(&net.name, s, ip),
        None => Err(StateError::StaticIpOutsideNetwork {
            ip,
            network: net.name.clone(),
        }),
    }
}

fn check_in_subnet(network: &str, s: &Subnet, ip: IpAddr) -> Result<(), StateError> {
    let subnet = s.subnet.trunc();
    if s.gateway.map(normalize) == Some(ip) {
        return Err(StateError::StaticIpIsGateway {
            ip,
            network: network.to_owned(),
        });
    }
    let (lo, hi) = host_bounds(&subnet);
    let v = to_int(ip);
    if v < lo || v > hi {
        let what = if ip == subnet.network() {
            "network"
        } else {
            "broadcast"
        };
        return Err(StateError::StaticIpReserved {
            ip,
            what,
            subnet,
            network: network.to_owned(),
        });
    }
    Ok(())
}

/// Deletes the leases other containers hold on `ips` of `net`: the shared IPAM database
/// handed these addresses out, so such a lease is stale (a container whose addresses
/// vanished with `ipam.db` at a reboot, not yet reconciled).
pub(crate) fn drop_stale(
    conn: &Connection,
    net: &Network,
    container: &str,
    ips: &[IpAddr],
) -> Result<(), StateError> {
    let Some(key) = net_key(conn, net, false).map_err(lease_error(net, container))? else {
        return Ok(());
    };
    for ip in ips {
        let gone = conn
            .prepare_cached(
                "DELETE FROM leases WHERE net = ?1 AND ip = ?2 AND container_id != ?3 \
                 RETURNING container_id",
            )
            .and_then(|mut st| {
                st.query_map(params![key, ip_blob(normalize(*ip)), container], |r| {
                    r.get::<_, String>(0)
                })?
                .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(lease_error(net, container))?;
        for holder in gone {
            tracing::warn!(network = %net.name, %ip, holder, "stale lease dropped: the shared IPAM database handed the address out");
        }
    }
    Ok(())
}

/// Deletes `container`'s leases on `net`; returns the released addresses.
pub(crate) fn release(
    conn: &Connection,
    net: &Network,
    container: &str,
) -> Result<Vec<IpAddr>, StateError> {
    let Some(key) = net_key(conn, net, false).map_err(lease_error(net, container))? else {
        return Ok(Vec::new());
    };
    let cx = Ctx {
        conn,
        net,
        container,
        key,
    };
    let blobs: Vec<Vec<u8>> = conn
        .prepare_cached("DELETE FROM leases WHERE container_id = ?1 AND net = ?2 RETURNING ip")
        .and_then(|mut st| {
            st.query_map(params![container, key], |r| r.get(0))?
                .collect()
        })
        .map_err(|e| cx.db(e))?;
    let mut ips = blobs
        .iter()
        .map(|b| cx.decode(b))
        .collect::<Result<Vec<_>, _>>()?;
    ips.sort();
    tracing::debug!(network = %net.name, container_id = container, released = ips.len(), "ip leases released");
    Ok(ips)
}
