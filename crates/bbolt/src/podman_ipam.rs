//! podman's IPAM database (`ipam.db`), as containers/common's `libnetwork/netavark/ipam.go`
//! (0.50, podman 4.3) reads and writes it, with the same allocation order.
//!
//! ```text
//! <network name>                 one top-level bucket per network
//! ├── ids                        container ID -> JSON list of its IPs, one per subnet,
//! │                              in the network's subnet order: ["10.89.0.2","fd00::2"]
//! ├── 10.89.0.0/24               one bucket per subnet, keyed by its CIDR (Go's
//! │   ├── <4-byte IP>            IPNet.String()); raw IP -> container ID
//! │   └── lastIP                 the last address handed out by the free search
//! └── fd00::/64
//!     └── <16-byte IP> ...
//! ```
//!
//! One transaction per operation, as podman does; several networks of one container may
//! share a transaction (`allocIPs` allocates them all in one `Update`):
//!
//! ```
//! use bbolt::podman_ipam::{self, Subnet};
//! # fn main() -> Result<(), podman_ipam::IpamError> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("ipam.db"); // podman: /run/containers/networks/ipam.db
//! let subnets = [Subnet {
//!     gateway: Some("10.89.0.1".parse().unwrap()),
//!     ..Subnet::new("10.89.0.0/24".parse().unwrap())
//! }];
//! let mut db = bbolt::Db::open(&path)?;
//! let ips = db.update(|tx| podman_ipam::allocate(tx, "web-net", &subnets, "c0ffee", &[]))?;
//! assert_eq!(ips, ["10.89.0.2".parse::<std::net::IpAddr>().unwrap()]);
//! assert_eq!(db.view(|tx| podman_ipam::lookup(tx, "web-net", "c0ffee"))?, ips);
//! db.update(|tx| podman_ipam::release(tx, "web-net", &subnets, "c0ffee", &ips))?;
//! drop(db); // releases bbolt's flock: podman waits for it
//! # Ok(()) }
//! ```
//!
//! The free search (`getFreeIPFromBucket`): from the address after `lastIP` (or the
//! range start), upwards to the range end, then from the range start, skipping the
//! gateway and taken addresses; the range is the subnet's lease range, by default the
//! first address after the network address up to the last one (IPv4: the one before
//! the broadcast address). A static address is taken as given (it must be free) and
//! does not move `lastIP`.
//!
//! Differences from containers/common, all where Go misbehaves: a `lastIP` of a length
//! other than 4 or 16 bytes counts as absent; a search that comes back to its start
//! through the gateway ends with "no free address" (Go loops forever); `release`
//! deletes an address only when it is held by the container being released. Go stores
//! the first address of a lease range under its 16-byte (IPv4-mapped) form, then
//! searches and releases 4-byte forms only, so it can leak that key or hand the address
//! out twice; this module always writes 4-byte keys and, for IPv4, treats an address as
//! taken, and releases it, under either form.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use ipnet::IpNet;

use crate::{Bucket, Tx, TxMut};

/// Where rootful podman keeps the database (containers/common's `netavarkRunDir`, fixed).
/// Rootless podman keeps it in `networks/ipam.db` under its storage run root (by default
/// `$XDG_RUNTIME_DIR/containers`).
pub const ROOTFUL_PATH: &str = "/run/containers/networks/ipam.db";

/// The key of the ids bucket inside a network bucket.
pub const IDS_BUCKET: &[u8] = b"ids";
/// The key of the last address handed out, inside a subnet bucket.
pub const LAST_IP_KEY: &[u8] = b"lastIP";

/// One subnet of a network, as podman's network file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// The subnet.
    pub subnet: IpNet,
    /// The gateway, never handed out.
    pub gateway: Option<IpAddr>,
    /// First address to hand out (`lease_range.start_ip`).
    pub lease_start: Option<IpAddr>,
    /// Last address to hand out (`lease_range.end_ip`).
    pub lease_end: Option<IpAddr>,
}

impl Subnet {
    /// A subnet with no gateway and no lease range.
    pub fn new(subnet: IpNet) -> Subnet {
        Subnet {
            subnet,
            gateway: None,
            lease_start: None,
            lease_end: None,
        }
    }

    /// Its bucket key: Go's `IPNet.String()`, the network address and prefix length.
    pub fn key(&self) -> String {
        self.subnet.trunc().to_string()
    }
}

/// A container's record on one network (an entry of the ids bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The container ID.
    pub container_id: String,
    /// Its addresses, one per subnet.
    pub ips: Vec<IpAddr>,
}

/// What went wrong, naming the network, subnet, address or container.
#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    /// The database itself failed (open, lock, read, write, corrupt).
    #[error(transparent)]
    Db(#[from] crate::Error),
    /// A static address is already allocated.
    #[error("requested ip address {ip} is already allocated to container ID {holder} on network {network}")]
    AddressTaken {
        /// The network.
        network: String,
        /// The address.
        ip: IpAddr,
        /// The container holding it.
        holder: String,
    },
    /// Every address of the range is taken.
    #[error(
        "failed to find free IP in range: {start} - {end} (network {network}, subnet {subnet})"
    )]
    NoFreeAddress {
        /// The network.
        network: String,
        /// The subnet.
        subnet: IpNet,
        /// First address of the range.
        start: IpAddr,
        /// Last address of the range.
        end: IpAddr,
    },
    /// The network has no bucket (nothing was ever allocated on it).
    #[error("network {network} has no bucket in the IPAM database")]
    NetworkNotFound {
        /// The network.
        network: String,
    },
    /// The network's bucket has no bucket for this subnet.
    #[error("network {network} has no bucket for subnet {subnet} in the IPAM database")]
    SubnetNotFound {
        /// The network.
        network: String,
        /// The subnet.
        subnet: IpNet,
    },
    /// The container has no record on the network.
    #[error("failed to get ips for container ID {container_id} on network {network}")]
    ContainerNotFound {
        /// The network.
        network: String,
        /// The container.
        container_id: String,
    },
    /// None of the given addresses is in this subnet.
    #[error("failed to find ip for subnet {subnet} on network {network}")]
    NoAddressInSubnet {
        /// The network.
        network: String,
        /// The subnet.
        subnet: IpNet,
    },
    /// A container's record is not a JSON list of addresses.
    #[error("container ID {container_id} on network {network} has a bad IPAM record: {reason}")]
    BadRecord {
        /// The network.
        network: String,
        /// The container.
        container_id: String,
        /// Why it cannot be read.
        reason: String,
    },
}

fn to_int(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address `n` in the family of `like`; `None` past the family's last address.
fn from_int(n: u128, like: IpAddr) -> Option<IpAddr> {
    match like {
        IpAddr::V4(_) => u32::try_from(n).ok().map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        IpAddr::V6(_) => Some(IpAddr::V6(Ipv6Addr::from(n))),
    }
}

/// Go's `NormalizeIP`: an IPv4-mapped IPv6 address is IPv4.
fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The bucket key of an address: its raw 4 or 16 bytes.
pub fn ip_key(ip: IpAddr) -> Vec<u8> {
    match normalize(ip) {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// Every key an address may have been stored under: podman stores IPv4 addresses as 4
/// bytes, except the first one of a lease range, which it stores as 16 (IPv4-mapped).
fn key_forms(ip: IpAddr) -> Vec<Vec<u8>> {
    match normalize(ip) {
        IpAddr::V4(v4) => vec![v4.octets().to_vec(), v4.to_ipv6_mapped().octets().to_vec()],
        IpAddr::V6(v6) => vec![v6.octets().to_vec()],
    }
}

/// The container holding `ip` in a subnet bucket, under any of its key forms.
fn holder_of(bucket: &Bucket, ip: IpAddr) -> Option<&[u8]> {
    key_forms(ip).iter().find_map(|k| bucket.get(k))
}

/// The address of a bucket key, when it is one (4 or 16 bytes).
pub fn ip_of_key(key: &[u8]) -> Option<IpAddr> {
    if let Ok(b) = <[u8; 4]>::try_from(key) {
        Some(IpAddr::V4(Ipv4Addr::from(b)))
    } else {
        <[u8; 16]>::try_from(key)
            .ok()
            .map(|b| normalize(IpAddr::V6(Ipv6Addr::from(b))))
    }
}

/// The first and last address the free search may hand out.
fn range(subnet: &Subnet) -> (u128, u128) {
    let net = subnet.subnet.trunc();
    let start = subnet.lease_start.map_or(to_int(net.network()) + 1, to_int);
    let end = subnet.lease_end.map_or_else(
        || {
            let last = to_int(net.broadcast());
            match net {
                IpNet::V4(_) => last.saturating_sub(1),
                IpNet::V6(_) => last,
            }
        },
        to_int,
    );
    (start, end)
}

/// containers/common's `getFreeIPFromBucket`.
fn free_address(bucket: &Bucket, network: &str, subnet: &Subnet) -> Result<IpAddr, IpamError> {
    let like = subnet.subnet.network();
    let (start, end) = range(subnet);
    let gateway = subnet.gateway.map(|g| to_int(normalize(g)));
    let no_free = || IpamError::NoFreeAddress {
        network: network.to_string(),
        subnet: subnet.subnet,
        start: from_int(start, like).unwrap_or(like),
        end: from_int(end, like).unwrap_or(like),
    };
    let last = bucket.get(LAST_IP_KEY).and_then(ip_of_key).map(to_int);
    // `None` stands for one past the family's last address: beyond any range end.
    let first = match last {
        Some(l) => l.checked_add(1),
        None => Some(start),
    };
    let mut cur = first;
    // Go's loop can only visit each address of the range once, plus the wrap and the
    // gateway; the bound ends the one case where Go loops forever.
    let mut budget = end.saturating_sub(start).saturating_add(4);
    loop {
        budget = budget.checked_sub(1).ok_or_else(no_free)?;
        if cur.is_some() && cur == gateway {
            cur = cur.and_then(|c| c.checked_add(1));
            continue;
        }
        let Some(c) = cur.filter(|c| *c <= end) else {
            if Some(start) == first {
                return Err(no_free());
            }
            cur = Some(start);
            continue;
        };
        let ip = from_int(c, like).ok_or_else(no_free)?;
        if holder_of(bucket, ip).is_none() {
            return Ok(ip);
        }
        cur = c.checked_add(1);
        if cur == first {
            return Err(no_free());
        }
    }
}

fn render(ips: &[IpAddr]) -> Vec<u8> {
    let strings: Vec<String> = ips.iter().map(|ip| normalize(*ip).to_string()).collect();
    // A list of strings always serializes.
    serde_json::to_vec(&strings).unwrap_or_default()
}

fn parse(network: &str, container_id: &str, json: &[u8]) -> Result<Vec<IpAddr>, IpamError> {
    let bad = |reason: String| IpamError::BadRecord {
        network: network.to_string(),
        container_id: container_id.to_string(),
        reason,
    };
    let strings: Vec<String> = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    strings
        .iter()
        .map(|s| {
            s.parse::<IpAddr>()
                .map(normalize)
                .map_err(|_| bad(format!("{s:?} is not an IP address")))
        })
        .collect()
}

/// Allocates one address per subnet of `network` to `container_id` (containers/common's
/// `allocIPs` for one network): the static address of `static_ips` that lies in the
/// subnet when there is one (refused when taken), else the next free one. Records
/// them in the ids bucket and returns them in subnet order.
pub fn allocate(
    tx: &mut TxMut,
    network: &str,
    subnets: &[Subnet],
    container_id: &str,
    static_ips: &[IpAddr],
) -> Result<Vec<IpAddr>, IpamError> {
    let net = tx.create_bucket_if_not_exists(network.as_bytes())?;
    let mut ips = Vec::with_capacity(subnets.len());
    for subnet in subnets {
        let bucket = net.create_bucket_if_not_exists(subnet.key().as_bytes())?;
        let wanted = static_ips
            .iter()
            .map(|ip| normalize(*ip))
            .find(|ip| subnet.subnet.contains(ip));
        let ip = match wanted {
            Some(ip) => {
                if let Some(holder) = holder_of(bucket, ip) {
                    return Err(IpamError::AddressTaken {
                        network: network.to_string(),
                        ip,
                        holder: String::from_utf8_lossy(holder).into_owned(),
                    });
                }
                ip
            }
            None => {
                let ip = free_address(bucket, network, subnet)?;
                bucket.put(LAST_IP_KEY, &ip_key(ip))?;
                ip
            }
        };
        bucket.put(&ip_key(ip), container_id.as_bytes())?;
        ips.push(ip);
    }
    net.create_bucket_if_not_exists(IDS_BUCKET)?
        .put(container_id.as_bytes(), &render(&ips))?;
    tracing::debug!(network, container_id, ?ips, "podman IPAM allocation");
    Ok(ips)
}

/// The addresses recorded for `container_id` on `network` (`getAssignedIPs`).
pub fn lookup(tx: &Tx, network: &str, container_id: &str) -> Result<Vec<IpAddr>, IpamError> {
    let net = tx
        .bucket(network.as_bytes())
        .ok_or_else(|| IpamError::NetworkNotFound {
            network: network.to_string(),
        })?;
    let json = net
        .bucket(IDS_BUCKET)
        .and_then(|ids| ids.get(container_id.as_bytes()))
        .ok_or_else(|| IpamError::ContainerNotFound {
            network: network.to_string(),
            container_id: container_id.to_string(),
        })?;
    parse(network, container_id, json)
}

/// Every container recorded on `network`, in container ID order (empty when the
/// network has no bucket).
pub fn holders(tx: &Tx, network: &str) -> Result<Vec<Holder>, IpamError> {
    let Some(ids) = tx
        .bucket(network.as_bytes())
        .and_then(|net| net.bucket(IDS_BUCKET))
    else {
        return Ok(Vec::new());
    };
    ids.iter()
        .filter_map(|(k, entry)| match entry {
            crate::Entry::Value(v) => Some((k, v)),
            crate::Entry::Bucket(_) => None,
        })
        .map(|(k, v)| {
            let container_id = String::from_utf8_lossy(k).into_owned();
            let ips = parse(network, &container_id, v)?;
            Ok(Holder { container_id, ips })
        })
        .collect()
}

/// Releases the addresses `ips` (one per subnet) of `container_id` on `network` and
/// its record (`deallocIPs`).
pub fn release(
    tx: &mut TxMut,
    network: &str,
    subnets: &[Subnet],
    container_id: &str,
    ips: &[IpAddr],
) -> Result<(), IpamError> {
    let net = tx
        .bucket_mut(network.as_bytes())
        .ok_or_else(|| IpamError::NetworkNotFound {
            network: network.to_string(),
        })?;
    for subnet in subnets {
        let bucket =
            net.bucket_mut(subnet.key().as_bytes())
                .ok_or_else(|| IpamError::SubnetNotFound {
                    network: network.to_string(),
                    subnet: subnet.subnet,
                })?;
        let ip = ips
            .iter()
            .map(|ip| normalize(*ip))
            .find(|ip| subnet.subnet.contains(ip))
            .ok_or_else(|| IpamError::NoAddressInSubnet {
                network: network.to_string(),
                subnet: subnet.subnet,
            })?;
        for key in key_forms(ip) {
            match bucket.get(&key) {
                None => {}
                Some(holder) if holder == container_id.as_bytes() => bucket.delete(&key)?,
                Some(holder) => tracing::warn!(
                    network,
                    container_id,
                    %ip,
                    holder = %String::from_utf8_lossy(holder),
                    "address held by another container is left alone"
                ),
            }
        }
    }
    let ids = net
        .bucket_mut(IDS_BUCKET)
        .ok_or_else(|| IpamError::ContainerNotFound {
            network: network.to_string(),
            container_id: container_id.to_string(),
        })?;
    ids.delete(container_id.as_bytes())?;
    tracing::debug!(network, container_id, ?ips, "podman IPAM release");
    Ok(())
}
