//! Errors of network definition operations.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

/// A failed network operation; each variant names the input it is about.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A value of the definition breaks a rule of [`crate::validate`].
    #[error(transparent)]
    Invalid(#[from] crate::InvalidInput),
    /// A network with this name exists already.
    #[error("network name {name} already used: network already exists")]
    NameInUse {
        /// The taken name.
        name: String,
    },
    /// Create was given an ID; IDs are always generated.
    #[error("network {name}: ID can not be set for network create")]
    IdGiven {
        /// The network being created.
        name: String,
    },
    /// DNS servers given for a network without DNS (`--dns` with `--disable-dns`).
    #[error("network {name}: cannot set DNS servers if DNS is not enabled for the network")]
    DnsServersWithoutDns {
        /// The network.
        name: String,
    },
    /// `network update` on a CNI network (podman updates netavark networks only).
    #[error("network {name}: network update is only supported with the netavark backend")]
    UpdateCni {
        /// The network.
        name: String,
    },
    /// No network has this name, ID or ID prefix.
    #[error("unable to find network with name or ID {name_or_id}: network not found")]
    NotFound {
        /// What was looked up.
        name_or_id: String,
    },
    /// The network's file exists but is not a network file podnet reads.
    #[error("{path} cannot be used as a network config file: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why (a FIFO, a symlink, too big, not a network definition...).
        reason: String,
    },
    /// An ID prefix matches more than one network.
    #[error("more than one result for network ID {prefix}: {matches:?}")]
    AmbiguousId {
        /// The prefix looked up.
        prefix: String,
        /// Names of the matching networks.
        matches: Vec<String>,
    },
    /// The default network has no file and cannot be removed.
    #[error("default network {name} cannot be removed")]
    RemoveDefault {
        /// The default network's name.
        name: String,
    },
    /// Only `bridge` and `macvlan` are supported.
    #[error("unsupported driver {driver}: invalid argument")]
    UnsupportedDriver {
        /// The requested driver.
        driver: String,
    },
    /// An option the driver does not know.
    #[error("unsupported {driver} network option {key}")]
    UnsupportedOption {
        /// The driver.
        driver: String,
        /// The unknown option key.
        key: String,
    },
    /// An option with a bad value.
    #[error("network option {key}={value:?} invalid: {reason}")]
    InvalidOption {
        /// Option key.
        key: String,
        /// Rejected value.
        value: String,
        /// Why.
        reason: String,
    },
    /// An IPAM driver other than host-local, none and dhcp.
    #[error("unsupported ipam driver {driver:?}: the ipam drivers are host-local, none and dhcp")]
    UnsupportedIpamDriver {
        /// The requested IPAM driver.
        driver: String,
    },
    /// IPAM driver `none` with subnets.
    #[error("network {name}: none ipam driver is set but subnets are given")]
    IpamNoneWithSubnets {
        /// The network.
        name: String,
    },
    /// IPAM driver `dhcp` on a driver other than macvlan: ipvlan's interfaces share the
    /// parent's MAC (no DHCP server tells them apart), netavark's bridge takes DHCP only
    /// on a bridge it does not manage.
    #[error("network {name}: ipam driver dhcp is not supported with the {driver} driver, only with macvlan")]
    DhcpNeedsMacvlan {
        /// The network.
        name: String,
        /// The network's driver.
        driver: String,
    },
    /// IPAM driver `dhcp` with subnets (the DHCP server hands out the addresses).
    #[error("network {name}: ipam driver dhcp is set but subnets are given")]
    DhcpWithSubnets {
        /// The network.
        name: String,
    },
    /// A bridge name used by another network.
    #[error("bridge name {name} already in use")]
    BridgeNameInUse {
        /// The bridge name.
        name: String,
    },
    /// A macvlan parent interface that does not exist on the host.
    #[error("parent interface {name} does not exist")]
    ParentMissing {
        /// The parent interface.
        name: String,
    },
    /// macvlan or ipvlan with host-local IPAM but no subnet (a macvlan network without
    /// subnets takes `--ipam-driver dhcp`).
    #[error("network {name}: {driver} driver needs at least one subnet specified")]
    MacvlanNeedsSubnet {
        /// The network.
        name: String,
        /// `macvlan` or `ipvlan`.
        driver: String,
    },
    /// A requested subnet overlaps another network's or a host route.
    #[error("subnet {subnet} is already used on the host or by another config")]
    SubnetInUse {
        /// The overlapping subnet.
        subnet: IpNet,
    },
    /// A gateway outside its subnet.
    #[error("gateway {gateway} not in subnet {subnet}")]
    GatewayOutsideSubnet {
        /// The gateway.
        gateway: IpAddr,
        /// The subnet.
        subnet: IpNet,
    },
    /// A lease range bound outside its subnet.
    #[error("lease range ip {ip} not in subnet {subnet}")]
    LeaseRangeOutsideSubnet {
        /// The bound.
        ip: IpAddr,
        /// The subnet.
        subnet: IpNet,
    },
    /// A subnet pool whose size is not inside its base prefix.
    #[error("subnet pool {base} with size {size} invalid")]
    InvalidPool {
        /// Pool base.
        base: IpNet,
        /// Requested prefix length.
        size: u8,
    },
    /// Every subnet of every pool is used.
    #[error("could not find free subnet from subnet pools")]
    NoFreeSubnet,
    /// No free random IPv6 /64 after many tries.
    #[error("failed to get random ipv6 subnet")]
    NoFreeIpv6Subnet,
    /// No free `podmanN` name.
    #[error("could not find free device name")]
    NoFreeDeviceName,
    /// No free random network ID.
    #[error("failed to create random network ID")]
    NoFreeId,
    /// The user's data directory could not be found (rootless, no HOME).
    #[error("cannot find the network config directory: neither XDG_DATA_HOME nor HOME is set")]
    NoDataDir,
    /// podman's storage.conf (which places rootless networks) could not be used.
    #[error("podman's storage.conf: {0}")]
    StorageConf(#[source] containers_conf::Error),
    /// The user's config directory could not be found (rootless CNI, no HOME).
    #[error("cannot find the CNI config directory: neither XDG_CONFIG_HOME nor HOME is set")]
    NoConfigHome,
    /// The config directory could not be created.
    #[error("failed to create network config directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The config directory could not be listed.
    #[error("failed to read network config directory {path}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The lock file could not be opened or locked.
    #[error("failed to lock {path}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// A host table (/proc/net/route, ipv6_route, dev) could not be read.
    #[error("failed to read host network table {path}")]
    ReadHost {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The network could not be encoded as JSON.
    #[error("failed to encode network {name}")]
    Encode {
        /// The network.
        name: String,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
    /// The network has no podman 4.3 CNI configuration.
    #[error("network {name} cannot be written as a CNI conflist: {reason}")]
    CniConfig {
        /// The network.
        name: String,
        /// Why.
        reason: String,
    },
    /// The network file could not be written (temp file, fsync or rename).
    #[error("failed to write network config file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The network file could not be removed.
    #[error("failed to remove network config file {path}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
}
