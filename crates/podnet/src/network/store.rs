//! `NetworkStore`: the directory of `NAME.json` network files podman uses.
//!
//! On-disk layout (shared with podman, which must keep working on it):
//!
//! ```text
//! <dir>/                       /etc/containers/networks (root) or
//!                              ~/.local/share/containers/storage/networks
//!   netavark.lock              write-locked (fcntl, whole file) around create
//!                              and remove, by podman and by us (OFD lock)
//!   NAME.json                  one network, podman's JSON, 5-space indent
//!   .NAME.json.tmp-PID-RAND    our temp file while writing (never *.json,
//!                              so podman does not load it)
//! ```
//!
//! The default network (`podman`, 10.88.0.0/16, `podman0`) has no file unless
//! someone wrote one; a file with its name overrides it, as in podman.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use tracing::{debug, warn};

use super::cni_files;
use super::error::NetworkError;
use super::files::{self, DirLock};
use super::pick::{self, SubnetPool};
use super::read::Skipped;
use super::types::*;
use super::validate;

/// The network definitions in one directory, podman-compatible.
#[derive(Debug, Clone)]
pub struct NetworkStore {
    dir: PathBuf,
    proc_net: PathBuf,
    pools: Vec<SubnetPool>,
    default_name: String,
    default_subnet: IpNet,
    format: Format,
}

/// Which of podman's network file formats a store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// netavark's `NAME.json`.
    Netavark,
    /// podman 4's CNI `NAME.conflist`; `dnsname`: whether DNS-enabled networks get the
    /// dnsname plugin (podman adds it only when installed).
    Cni { dnsname: bool },
}

impl NetworkStore {
    /// A store on `dir` (created on the first write). Nothing is read yet.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        NetworkStore {
            dir: dir.into(),
            proc_net: PathBuf::from("/proc/net"),
            pools: SubnetPool::podman_defaults(),
            default_name: DEFAULT_NETWORK_NAME.to_owned(),
            default_subnet: IpNet::V4(
                ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(10, 88, 0, 0), 16).unwrap_or_default(),
            ),
            format: Format::Netavark,
        }
    }

    /// A store of podman 4's CNI networks: the `*.conflist` files of `dir` (podman's
    /// `/etc/cni/net.d`), read unchanged; create writes podman 4.3's conflist, with the
    /// dnsname plugin on DNS-enabled networks when `dnsname` (it is installed).
    pub fn cni(dir: impl Into<PathBuf>, dnsname: bool) -> Self {
        NetworkStore {
            format: Format::Cni { dnsname },
            ..Self::new(dir)
        }
    }

    /// Whether the store keeps CNI conflists.
    pub fn is_cni(&self) -> bool {
        matches!(self.format, Format::Cni { .. })
    }

    /// Podman's directory: `/etc/containers/networks` for root, else `networks` in podman's
    /// graph root (storage.conf's `graphroot`, by default
    /// `$XDG_DATA_HOME/containers/storage`, `~/.local/share/...`).
    pub fn default_dir() -> Result<PathBuf, NetworkError> {
        if !rootless() {
            return Ok(PathBuf::from("/etc/containers/networks"));
        }
        Ok(super::rootless_networks_dir(&super::podman_storage_roots()?))
    }

    /// podman 4.3's CNI directory: `/etc/cni/net.d` for root, else
    /// `$XDG_CONFIG_HOME/cni/net.d` (default `~/.config/cni/net.d`), as containers/common's
    /// `getDefaultCNIConfigDir` places it.
    pub fn default_cni_dir() -> Result<PathBuf, NetworkError> {
        if !rootless() {
            return Ok(PathBuf::from(crate::CNI_CONFIG_DIR));
        }
        let config = xdg_dir("XDG_CONFIG_HOME", ".config").ok_or(NetworkError::NoConfigHome)?;
        Ok(config.join("cni/net.d"))
    }

    /// The store on [`NetworkStore::default_dir`].
    pub fn open_default() -> Result<Self, NetworkError> {
        Ok(Self::new(Self::default_dir()?))
    }

    /// Where the host's route and interface tables are read
    /// (`route`, `ipv6_route`, `dev`); default `/proc/net`.
    pub fn with_proc_net_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.proc_net = dir.into();
        self
    }

    /// Subnet pools for create (containers.conf `default_subnet_pools`);
    /// default [`SubnetPool::podman_defaults`].
    pub fn with_subnet_pools(mut self, pools: Vec<SubnetPool>) -> Self {
        self.pools = pools;
        self
    }

    /// Name and subnet of the default network (containers.conf
    /// `default_network`, `default_subnet`).
    pub fn with_default_network(mut self, name: impl Into<String>, subnet: IpNet) -> Self {
        self.default_name = name.into();
        self.default_subnet = subnet.trunc();
        self
    }

    /// The directory of the network files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Name of the default network.
    pub fn default_network_name(&self) -> &str {
        &self.default_name
    }

    /// All networks, sorted by name; the default network included.
    /// Unreadable or invalid files are skipped with a warning.
    pub fn list(&self) -> Result<Vec<Network>, NetworkError> {
        let _lock = self.lock_if_present();
        self.load()
    }

    /// The network with this name, full ID or unique ID prefix. A `NAME.json` that is not
    /// a readable network file (a FIFO, a symlink, too big, not parsable) is an error
    /// saying so, not "not found".
    pub fn inspect(&self, name_or_id: &str) -> Result<Network, NetworkError> {
        let _lock = self.lock_if_present();
        let (all, skipped) = self.load_all()?;
        find_or_skipped(&all, &skipped, name_or_id).cloned()
    }

    /// Creates a network from a partly filled definition, as `podman network
    /// create` does: empty fields get podman's defaults (driver `bridge`, name
    /// and bridge `podmanN`, a free subnet from the pools, a random IPv6 /64
    /// when `ipv6_enabled`, gateways, IPAM `host-local`), the rest is
    /// validated; the file is written atomically. `id` must be empty.
    pub fn create(&self, mut net: Network) -> Result<Network, NetworkError> {
        // refused before anything is written, even the directory
        crate::validate::new_network(&net)?;
        fs::create_dir_all(&self.dir).map_err(|source| NetworkError::CreateDir {
            path: self.dir.clone(),
            source,
        })?;
        let _lock = self.lock()?;
        let (existing, skipped) = self.load_all()?;
        if net.driver.is_empty() {
            net.driver = BRIDGE_DRIVER.to_owned();
        }
        if !net.id.is_empty() {
            return Err(NetworkError::IdGiven { name: net.name });
        }
        net.apply_ipam_default();
        let live = crate::network::host::interface_names(&self.proc_net)?;
        if net.name.is_empty() {
            let taken = taken_names(&existing, &live);
            net.name = match self.format {
                Format::Netavark => pick::free_device_name(&taken)?,
                Format::Cni { .. } => pick::free_name(cni_files::BRIDGE_PREFIX, &taken)?,
            };
            if net.driver == BRIDGE_DRIVER && net.network_interface.is_empty() {
                net.network_interface = net.name.clone();
            }
        } else {
            if existing.iter().any(|n| n.name == net.name) {
                return Err(NetworkError::NameInUse { name: net.name });
            }
            // never rename over a file podnet could not read (a FIFO, say)
            if let Some(s) = skipped.iter().find(|s| s.name == net.name) {
                return Err(unreadable(s));
            }
        }
        // podman 4's CNI backend names a network's ID after its name
        net.id = match self.format {
            Format::Netavark => unique_id(&existing)?,
            Format::Cni { .. } => cni_files::network_id(&net.name),
        };
        match net.ipam_driver() {
            HOST_LOCAL_IPAM => {}
            NONE_IPAM if !net.subnets.is_empty() => {
                return Err(NetworkError::IpamNoneWithSubnets { name: net.name })
            }
            NONE_IPAM => {}
            // containers/common 0.58's `createIpvlanOrMacvlan` (podman 5); podman 4.3
            // refuses dhcp outright
            DHCP_IPAM if net.driver != MACVLAN_DRIVER => {
                return Err(NetworkError::DhcpNeedsMacvlan {
                    name: net.name,
                    driver: net.driver,
                })
            }
            DHCP_IPAM if !net.subnets.is_empty() => {
                return Err(NetworkError::DhcpWithSubnets { name: net.name })
            }
            DHCP_IPAM => {}
            other => {
                return Err(NetworkError::UnsupportedIpamDriver {
                    driver: other.to_owned(),
                })
            }
        }
        let used = match net.driver.as_str() {
            BRIDGE_DRIVER => {
                let mut used: Vec<IpNet> = existing
                    .iter()
                    .flat_map(|n| n.subnets.iter().map(|s| s.subnet))
                    .collect();
                used.extend(crate::network::host::route_subnets(&self.proc_net)?);
                self.fill_bridge(&mut net, &existing, &live, &used)?;
                used
            }
            // ipvlan takes a parent and subnets as macvlan does (podman's
            // `createIpvlanOrMacvlan`); the backend was asked for it first
            MACVLAN_DRIVER | IPVLAN_DRIVER => {
                fill_macvlan(&mut net, &live)?;
                Vec::new()
            }
            other => {
                return Err(NetworkError::UnsupportedDriver {
                    driver: other.to_owned(),
                })
            }
        };
        validate::validate_options(&mut net)?;
        // no addresses known here, so no aardvark-dns (podman 5 turns DNS off on every
        // macvlan network: netavark serves none there)
        if [NONE_IPAM, DHCP_IPAM].contains(&net.ipam_driver()) {
            net.dns_enabled = false;
        }
        // podman 5's rule for `network create --dns`
        if !net.dns_enabled && !net.network_dns_servers.is_empty() {
            return Err(NetworkError::DnsServersWithoutDns { name: net.name });
        }
        let add_gateway = !net.internal || net.dns_enabled;
        validate::validate_subnets(&mut net, add_gateway, &used)?;
        net.created = validate::now_rfc3339();
        self.write(&net)?;
        debug!(network = %net.name, id = %net.id, "network created");
        Ok(net)
    }

    /// Removes the network with this name, full ID or unique ID prefix and
    /// returns its definition. The default network cannot be removed. It does
    /// not check whether containers use it (the caller does).
    pub fn remove(&self, name_or_id: &str) -> Result<Network, NetworkError> {
        let _lock = if self.dir.is_dir() {
            Some(self.lock()?)
        } else {
            None
        };
        let (all, skipped) = self.load_all()?;
        let net = find_or_skipped(&all, &skipped, name_or_id)?.clone();
        if net.name == self.default_name {
            return Err(NetworkError::RemoveDefault { name: net.name });
        }
        let path = self.file_path(&net.name);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(NetworkError::Remove { path, source }),
        }
        files::sync_dir(&self.dir).map_err(|source| NetworkError::Remove { path, source })?;
        debug!(network = %net.name, "network removed");
        Ok(net)
    }

    /// Changes the network with this name, full ID or unique ID prefix in place (podman's
    /// `NetworkUpdate`): read, `change`d and, when that changed anything, written back
    /// atomically, all under the directory lock. Returns the definition before and after.
    /// Fields podnet does not know ([`Network::extra`]) are written back as read. Only
    /// netavark's format: podman updates no CNI conflist.
    pub(crate) fn modify(
        &self,
        name_or_id: &str,
        change: impl FnOnce(&mut Network),
    ) -> Result<(Network, Network), NetworkError> {
        let _lock = if self.dir.is_dir() {
            Some(self.lock()?)
        } else {
            None
        };
        let (all, skipped) = self.load_all()?;
        let before = find_or_skipped(&all, &skipped, name_or_id)?.clone();
        if self.is_cni() {
            return Err(NetworkError::UpdateCni { name: before.name });
        }
        let mut after = before.clone();
        change(&mut after);
        if after != before {
            fs::create_dir_all(&self.dir).map_err(|source| NetworkError::CreateDir {
                path: self.dir.clone(),
                source,
            })?;
            // the default network may have had no file (and so no lock) until now
            let _created_lock = if _lock.is_none() {
                Some(self.lock()?)
            } else {
                None
            };
            self.write(&after)?;
            debug!(network = %after.name, "network file rewritten");
        }
        Ok((before, after))
    }

    fn fill_bridge(
        &self,
        net: &mut Network,
        existing: &[Network],
        live: &[String],
        used: &[IpNet],
    ) -> Result<(), NetworkError> {
        if net.network_interface.is_empty() {
            let taken = taken_names(existing, live);
            net.network_interface = match self.format {
                Format::Netavark => pick::free_device_name(&taken)?,
                Format::Cni { .. } => pick::free_name(cni_files::BRIDGE_PREFIX, &taken)?,
            };
        } else {
            let name = &net.network_interface;
            if existing
                .iter()
                .any(|n| n.driver == BRIDGE_DRIVER && &n.network_interface == name)
            {
                return Err(NetworkError::BridgeNameInUse { name: name.clone() });
            }
        }
        if net.ipam_driver() != HOST_LOCAL_IPAM {
            return Ok(());
        }
        if net.subnets.is_empty() {
            net.subnets
                .push(Subnet::new(pick::free_ipv4_subnet(&self.pools, used)?));
        }
        if net.ipv6_enabled {
            let has_v4 = net.subnets.iter().any(|s| matches!(s.subnet, IpNet::V4(_)));
            let has_v6 = net.subnets.iter().any(|s| matches!(s.subnet, IpNet::V6(_)));
            if !has_v4 {
                net.subnets
                    .push(Subnet::new(pick::free_ipv4_subnet(&self.pools, used)?));
            }
            if !has_v6 {
                net.subnets
                    .push(Subnet::new(pick::free_ipv6_subnet(&self.pools, used)?));
            }
        }
        net.ipam_options
            .insert(IPAM_DRIVER_KEY.to_owned(), HOST_LOCAL_IPAM.to_owned());
        Ok(())
    }

    /// The built-in default network (podman's `createDefaultNetwork`).
    pub fn default_network(&self) -> Network {
        let mut net = Network {
            name: self.default_name.clone(),
            id: match self.format {
                Format::Netavark => DEFAULT_NETWORK_ID.to_owned(),
                Format::Cni { .. } => cni_files::network_id(&self.default_name),
            },
            driver: BRIDGE_DRIVER.to_owned(),
            network_interface: match self.format {
                Format::Netavark => DEFAULT_BRIDGE.to_owned(),
                Format::Cni { .. } => format!("{}0", cni_files::BRIDGE_PREFIX),
            },
            created: validate::now_rfc3339(),
            subnets: vec![Subnet::new(self.default_subnet)],
            ..Network::default()
        };
        net.ipam_options
            .insert(IPAM_DRIVER_KEY.to_owned(), HOST_LOCAL_IPAM.to_owned());
        // Never fails: no used subnets, the gateway is derived from the subnet.
        if let Err(e) = validate::validate_subnets(&mut net, true, &[]) {
            warn!(error = %e, "default network subnet invalid");
        }
        net
    }

    /// Every valid network file, plus the default network when no file has its name.
    fn load(&self) -> Result<Vec<Network>, NetworkError> {
        Ok(self.load_all()?.0)
    }

    /// [`NetworkStore::load`], and the `*.json` files skipped with the reason.
    fn load_all(&self) -> Result<(Vec<Network>, Vec<Skipped>), NetworkError> {
        let (mut out, skipped) = match self.format {
            Format::Netavark => files::load_dir(&self.dir)?,
            Format::Cni { .. } => (cni_files::load_dir(&self.dir)?, Vec::new()),
        };
        if !out.iter().any(|n| n.name == self.default_name) {
            out.push(self.default_network());
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((out, skipped))
    }

    fn write(&self, net: &Network) -> Result<(), NetworkError> {
        let bytes = match self.format {
            Format::Netavark => net
                .to_podman_json()
                .map_err(|source| NetworkError::Encode {
                    name: net.name.clone(),
                    source,
                })?,
            Format::Cni { dnsname } => {
                crate::backend::podman_conflist(net, dnsname).map_err(|e| {
                    NetworkError::CniConfig {
                        name: net.name.clone(),
                        reason: e.to_string(),
                    }
                })?
            }
        };
        let path = self.file_path(&net.name);
        files::write_atomic(&self.dir, &path, &net.name, &bytes)
            .map_err(|source| NetworkError::Write { path, source })
    }

    /// `NAME.json`, or `NAME.conflist` for CNI.
    fn file_path(&self, name: &str) -> PathBuf {
        match self.format {
            Format::Netavark => self.dir.join(format!("{name}.json")),
            Format::Cni { .. } => self.dir.join(format!("{name}.conflist")),
        }
    }

    fn lock(&self) -> Result<DirLock, NetworkError> {
        match self.format {
            Format::Netavark => files::lock_dir(&self.dir),
            Format::Cni { .. } => files::lock_dir_file(&self.dir, cni_files::LOCK_FILE),
        }
    }

    /// Reads lock, taken only where the directory exists and is writable;
    /// otherwise reads go unlocked (our own writes are atomic anyway).
    fn lock_if_present(&self) -> Option<DirLock> {
        if !self.dir.is_dir() {
            return None;
        }
        match self.lock() {
            Ok(l) => Some(l),
            Err(e) => {
                debug!(error = %e, "reading networks without the lock");
                None
            }
        }
    }
}

/// Rootless as podman means it: not root, or root only inside a user
/// namespace of an unprivileged user.
fn rootless() -> bool {
    rootless_detect::is_rootless()
}

/// The XDG base directory `var` names, else `$HOME/<home_default>`; `None` when neither
/// variable is set.
fn xdg_dir(var: &str, home_default: &str) -> Option<PathBuf> {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    set(var)
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| PathBuf::from(home).join(home_default)))
}

/// Podman's `getNetwork`: exact name, else a unique ID prefix (a full ID is a prefix too).
pub(crate) fn find<'a>(all: &'a [Network], name_or_id: &str) -> Result<&'a Network, NetworkError> {
    if let Some(n) = all.iter().find(|n| n.name == name_or_id) {
        return Ok(n);
    }
    let not_found = || NetworkError::NotFound {
        name_or_id: name_or_id.to_owned(),
    };
    if name_or_id.is_empty() {
        return Err(not_found());
    }
    let matches: Vec<&Network> = all
        .iter()
        .filter(|n| n.id.starts_with(name_or_id))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(not_found()),
        many => Err(NetworkError::AmbiguousId {
            prefix: name_or_id.to_owned(),
            matches: many.iter().map(|n| n.name.clone()).collect(),
        }),
    }
}

/// [`find`], but a name whose file was skipped is an error saying why.
fn find_or_skipped<'a>(
    all: &'a [Network],
    skipped: &[Skipped],
    name_or_id: &str,
) -> Result<&'a Network, NetworkError> {
    match find(all, name_or_id) {
        Err(NetworkError::NotFound { name_or_id }) => {
            match skipped.iter().find(|s| s.name == name_or_id) {
                Some(s) => Err(unreadable(s)),
                None => Err(NetworkError::NotFound { name_or_id }),
            }
        }
        other => other,
    }
}

fn unreadable(s: &Skipped) -> NetworkError {
    NetworkError::Unreadable {
        path: s.path.clone(),
        reason: s.reason.clone(),
    }
}

fn unique_id(existing: &[Network]) -> Result<String, NetworkError> {
    for _ in 0..1000 {
        let id = validate::random_id();
        if find(existing, &id).is_err() {
            return Ok(id);
        }
    }
    Err(NetworkError::NoFreeId)
}

/// Bridge names of bridge networks plus the host's interfaces.
fn taken_names(existing: &[Network], live: &[String]) -> Vec<String> {
    existing
        .iter()
        .filter(|n| n.driver == BRIDGE_DRIVER)
        .map(|n| n.network_interface.clone())
        .chain(live.iter().cloned())
        .collect()
}

fn fill_macvlan(net: &mut Network, live: &[String]) -> Result<(), NetworkError> {
    if !net.network_interface.is_empty() && !live.contains(&net.network_interface) {
        return Err(NetworkError::ParentMissing {
            name: net.network_interface.clone(),
        });
    }
    if net.ipam_driver() == HOST_LOCAL_IPAM {
        if net.subnets.is_empty() {
            return Err(NetworkError::MacvlanNeedsSubnet {
                name: net.name.clone(),
                driver: net.driver.clone(),
            });
        }
        net.ipam_options
            .insert(IPAM_DRIVER_KEY.to_owned(), HOST_LOCAL_IPAM.to_owned());
    }
    Ok(())
}
