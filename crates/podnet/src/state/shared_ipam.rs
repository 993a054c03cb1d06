//! podman's IPAM database (`ipam.db`) as the address authority on networks shared with
//! podman; podnet's SQLite leases stay podnet's own record of what it holds.
//!
//! When the state store has a shared `ipam.db` ([`StateStore::with_shared_ipam`]), every
//! allocation on a network with host-local IPAM is made in `ipam.db` first (through
//! [`bbolt::podman_ipam`], committed at once under bbolt's `flock`), then recorded as a
//! SQLite lease in the flow's transaction with the same addresses. A release is recorded
//! in SQLite first and done in `ipam.db` after the SQLite commit. The caller holds
//! podman's `netavark.lock` (the flow lock takes it), so podman's order of locks is
//! kept: `netavark.lock`, then `ipam.db`'s `flock`.
//!
//! What a crash leaves, and who repairs it:
//!
//! - between the `ipam.db` commit of an allocation and the SQLite commit, or between the
//!   SQLite commit of a release and the `ipam.db` release: an `ipam.db` entry of one of
//!   podnet's containers on a network where SQLite holds no lease for it.
//!   [`StateStore::release_unleased_shared`] (run by `reconcile`) releases exactly those;
//!   an entry whose container ID podnet does not know is another tool's and is never
//!   touched.
//! - a transaction dropped without commit (a flow failed after allocating) releases its
//!   own new `ipam.db` entries when it is dropped.
//!
//! After a reboot `ipam.db` (on tmpfs under `/run`) is gone while podnet's records
//! persist. Records still marked running have no netns any more: `reconcile` marks them
//! stopped and releases their leases (the `ipam.db` side finds nothing to release, which
//! is not an error). A container started again allocates afresh in the new `ipam.db`; a
//! SQLite lease left by a container `reconcile` has not seen yet does not block an
//! address `ipam.db` hands out (the authority said it is free; the stale lease is
//! dropped with a warning).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use bbolt::podman_ipam::{self, IpamError};
use ipnet::IpNet;

use super::error::StateError;
use crate::Network;

fn shared_error(path: &Path) -> impl Fn(IpamError) -> StateError + '_ {
    move |source| StateError::SharedIpam {
        path: path.to_path_buf(),
        source,
    }
}

fn subnets_of(net: &Network) -> Vec<podman_ipam::Subnet> {
    net.subnets
        .iter()
        .map(|s| podman_ipam::Subnet {
            subnet: s.subnet.trunc(),
            gateway: s.gateway,
            lease_start: s.lease_range.as_ref().and_then(|r| r.start_ip),
            lease_end: s.lease_range.as_ref().and_then(|r| r.end_ip),
        })
        .collect()
}

fn open(path: &Path) -> Result<bbolt::Db, StateError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    bbolt::Db::open(path).map_err(|e| shared_error(path)(e.into()))
}

/// What `container_id` holds on `network`, or nothing.
fn held(tx: &bbolt::Tx, network: &str, container_id: &str) -> Result<Vec<IpAddr>, IpamError> {
    match podman_ipam::lookup(tx, network, container_id) {
        Ok(ips) => Ok(ips),
        Err(IpamError::NetworkNotFound { .. } | IpamError::ContainerNotFound { .. }) => {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Releases what `container_id` holds on `network`, with the subnets read from the file
/// itself (the network's definition may have gone); returns the released addresses.
fn release_in(
    tx: &mut bbolt::TxMut,
    network: &str,
    container_id: &str,
) -> Result<Vec<IpAddr>, IpamError> {
    let ips = held(tx, network, container_id)?;
    if ips.is_empty() {
        return Ok(ips);
    }
    let subnets: Vec<podman_ipam::Subnet> = tx
        .bucket(network.as_bytes())
        .map(|b| {
            b.iter()
                .filter_map(|(k, _)| std::str::from_utf8(k).ok()?.parse::<IpNet>().ok())
                .filter(|s| ips.iter().any(|ip| s.contains(ip)))
                .map(podman_ipam::Subnet::new)
                .collect()
        })
        .unwrap_or_default();
    podman_ipam::release(tx, network, &subnets, container_id, &ips)?;
    Ok(ips)
}

/// An allocation this transaction made, undone if the transaction is not committed.
#[derive(Debug)]
struct Made {
    network: String,
    container_id: String,
}

/// The shared side of one [`StateTx`](super::StateTx): allocations made (undone on drop
/// without commit) and releases queued (done after the SQLite commit).
#[derive(Debug)]
pub(crate) struct SharedTx {
    path: PathBuf,
    made: RefCell<Vec<Made>>,
    releases: RefCell<BTreeSet<(String, String)>>,
    committed: bool,
}

impl SharedTx {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            made: RefCell::default(),
            releases: RefCell::default(),
            committed: false,
        }
    }

    /// Allocates in `ipam.db` one address per subnet of `net` (the container's current
    /// ones are kept unless a static address of `static_ips` replaces one); returns them
    /// in subnet order.
    pub(crate) fn allocate(
        &self,
        net: &Network,
        container_id: &str,
        static_ips: &[IpAddr],
    ) -> Result<Vec<IpAddr>, StateError> {
        let subnets = subnets_of(net);
        let mut db = open(&self.path)?;
        let (ips, fresh) = db
            .update(|tx| {
                let current = held(tx, &net.name, container_id)?;
                // the wanted static address of each subnet, else the one held there
                let wanted: Vec<IpAddr> = subnets
                    .iter()
                    .filter_map(|s| {
                        static_ips
                            .iter()
                            .chain(current.iter())
                            .find(|ip| s.subnet.contains(*ip))
                            .copied()
                    })
                    .collect();
                if !current.is_empty() && wanted.len() == current.len() {
                    let mut sorted = wanted.clone();
                    sorted.sort();
                    let mut now = current.clone();
                    now.sort();
                    if sorted == now {
                        return Ok((current, false));
                    }
                }
                if !current.is_empty() {
                    release_in(tx, &net.name, container_id)?;
                }
                let ips = podman_ipam::allocate(tx, &net.name, &subnets, container_id, &wanted)?;
                Ok::<_, IpamError>((ips, current.is_empty()))
            })
            .map_err(shared_error(&self.path))?;
        drop(db);
        if fresh {
            self.made.borrow_mut().push(Made {
                network: net.name.clone(),
                container_id: container_id.to_owned(),
            });
        }
        crate::runtime::failpoint::hit("shared-ipam:allocated");
        Ok(ips)
    }

    /// Whether each of `static_ips` inside `net` is free in `ipam.db` (or held by
    /// `container_id`); nothing is written.
    pub(crate) fn check_free(
        &self,
        net: &Network,
        container_id: &str,
        static_ips: &[IpAddr],
    ) -> Result<(), StateError> {
        if !self.path.exists() {
            return Ok(());
        }
        let db = bbolt::Db::open_read_only(&self.path)
            .map_err(|e| shared_error(&self.path)(e.into()))?;
        let holders = db
            .view(|tx| podman_ipam::holders(tx, &net.name))
            .map_err(shared_error(&self.path))?;
        for ip in static_ips {
            if let Some(h) = holders
                .iter()
                .find(|h| h.container_id != container_id && h.ips.contains(ip))
            {
                return Err(StateError::StaticIpTaken {
                    ip: *ip,
                    network: net.name.clone(),
                    container: h.container_id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Queues the release of what `container_id` holds on `network` for after the
    /// SQLite commit.
    pub(crate) fn release_later(&self, network: &str, container_id: &str) {
        self.releases
            .borrow_mut()
            .insert((network.to_owned(), container_id.to_owned()));
    }

    /// The SQLite transaction committed: the queued releases are due.
    pub(crate) fn committed(mut self) {
        self.committed = true;
    }

    fn release_all(&self, pairs: impl IntoIterator<Item = (String, String)>) {
        let pairs: Vec<(String, String)> = pairs.into_iter().collect();
        if pairs.is_empty() {
            return;
        }
        let done = open(&self.path).and_then(|mut db| {
            db.update(|tx| {
                for (network, id) in &pairs {
                    release_in(tx, network, id)?;
                }
                Ok::<_, IpamError>(())
            })
            .map_err(shared_error(&self.path))
        });
        if let Err(e) = done {
            // reconcile releases entries of podnet's containers that hold no lease
            tracing::warn!(error = %e, "shared ipam release failed; reconcile will retry");
        }
    }
}

impl Drop for SharedTx {
    fn drop(&mut self) {
        if self.committed {
            let releases = std::mem::take(&mut *self.releases.borrow_mut());
            self.release_all(releases);
        } else {
            let made = std::mem::take(&mut *self.made.borrow_mut());
            self.release_all(made.into_iter().map(|m| (m.network, m.container_id)));
        }
    }
}

/// Every holder of an address on `network` in `ipam.db` (none when the file or the
/// network's bucket does not exist), read without writing.
pub(crate) fn holders(path: &Path, network: &str) -> Result<Vec<podman_ipam::Holder>, StateError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let db = bbolt::Db::open_read_only(path).map_err(|e| StateError::SharedIpam {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    db.view(|tx| podman_ipam::holders(tx, network))
        .map_err(shared_error(path))
}

/// Releases every `ipam.db` entry of a container in `known` on a network where
/// `leased` has no entry for it; returns them as (network, container ID, addresses).
/// Entries of containers not in `known` are another tool's and stay.
pub(crate) fn release_unleased(
    path: &Path,
    known: &BTreeSet<String>,
    leased: &BTreeSet<(String, String)>,
) -> Result<Vec<(String, String, Vec<IpAddr>)>, StateError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut db = open(path)?;
    db.update(|tx| {
        let mut stray: BTreeMap<(String, String), ()> = BTreeMap::new();
        let networks: Vec<String> = tx
            .buckets()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect();
        for network in networks {
            for h in podman_ipam::holders(tx, &network)? {
                let pair = (network.clone(), h.container_id.clone());
                if known.contains(&h.container_id) && !leased.contains(&pair) {
                    stray.insert(pair, ());
                }
            }
        }
        let mut out = Vec::new();
        for (network, id) in stray.into_keys() {
            let ips = release_in(tx, &network, &id)?;
            tracing::info!(
                network,
                container_id = id,
                ?ips,
                "stray shared ipam entry released"
            );
            out.push((network, id, ips));
        }
        Ok::<_, IpamError>(out)
    })
    .map_err(shared_error(path))
}
