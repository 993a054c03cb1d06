//! Errors of the state database and the IP allocator.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;

/// A failed state or IPAM operation; each variant names what it was about.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The database's directory could not be created.
    #[error("failed to create state directory {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// The database could not be opened or configured (WAL, busy timeout).
    #[error("failed to open state database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The file is not a podnet state database (empty, not SQLite, another program's).
    #[error("{path} is not a podnet state database: {why}; move it away (only a missing file is created anew)")]
    NotPodnetDatabase {
        /// The database file.
        path: PathBuf,
        /// What it is instead.
        why: &'static str,
    },
    /// SQLite could not open or write the database, and the file system says why.
    #[error("cannot use the state database {path}: {reason}")]
    Unusable {
        /// The database file.
        path: PathBuf,
        /// The file system's reason (read-only, full, not writable).
        reason: String,
        /// What SQLite reported (boxed: this variant already carries the reason).
        #[source]
        source: Box<rusqlite::Error>,
    },
    /// The database file could not be looked at.
    #[error("cannot stat the state database {path}")]
    Stat {
        /// The database file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: io::Error,
    },
    /// A new database could not be put in place.
    #[error("cannot create the state database {path}: {reason}")]
    Create {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A schema migration failed.
    #[error("failed to migrate state database {path} to schema version {version}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The version being applied.
        version: u32,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer podnet.
    #[error(
        "state database {path} has schema version {found}, newer than the supported {supported}"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// Version found.
        found: u32,
        /// Highest version this build knows.
        supported: u32,
    },
    /// A transaction could not be started (e.g. busy past the timeout).
    #[error("failed to begin a state transaction")]
    Begin(#[source] rusqlite::Error),
    /// A transaction could not be committed; nothing of it was kept.
    #[error("failed to commit a state transaction")]
    Commit(#[source] rusqlite::Error),
    /// A transaction could not be rolled back.
    #[error("failed to roll back a state transaction")]
    Rollback(#[source] rusqlite::Error),
    /// Reading a container record failed.
    #[error("failed to read container record {key}")]
    ReadContainer {
        /// ID, name or prefix looked up.
        key: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Writing a container record failed.
    #[error("failed to write container record {id}")]
    WriteContainer {
        /// Container ID.
        id: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Deleting a container record failed.
    #[error("failed to delete container record {id}")]
    DeleteContainer {
        /// Container ID.
        id: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Listing container records failed.
    #[error("failed to list container records")]
    ListContainers(#[source] rusqlite::Error),
    /// Another container has this name.
    #[error("container name {name} is already used by container {other_id}")]
    ContainerNameInUse {
        /// The name.
        name: String,
        /// The container holding it.
        other_id: String,
    },
    /// An ID prefix matches several containers.
    #[error("more than one container matches ID prefix {prefix}: {matches:?}")]
    AmbiguousContainer {
        /// The prefix.
        prefix: String,
        /// Matching IDs.
        matches: Vec<String>,
    },
    /// A field of a container record could not be encoded as JSON.
    #[error("failed to encode field {field} of container {id}")]
    Encode {
        /// Container ID.
        id: String,
        /// Column.
        field: &'static str,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
    /// A stored JSON field could not be decoded.
    #[error("failed to decode field {field} of container {id}")]
    Decode {
        /// Container ID.
        id: String,
        /// Column.
        field: &'static str,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
    /// A stored text column holds a value this build cannot read.
    #[error("field {field} of container {id} is unreadable: {why}")]
    BadColumn {
        /// Container ID.
        id: String,
        /// Column.
        field: &'static str,
        /// Why.
        why: String,
    },
    /// Reading or writing a flow intent failed.
    #[error("failed to read or write the flow intent of container {container}")]
    Intent {
        /// Container ID (`*` for a listing).
        container: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A lease query or update failed.
    #[error("failed to update ip leases of container {container} on network {network}")]
    Lease {
        /// Network name.
        network: String,
        /// Container ID.
        container: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Releasing all leases of a container failed.
    #[error("failed to release the ip leases of container {container}")]
    ReleaseAll {
        /// Container ID.
        container: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Deleting a network's leases and cursors failed.
    #[error("failed to delete the ip leases of network {network}")]
    ForgetNetwork {
        /// Network ID.
        network: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Listing leases failed.
    #[error("failed to list ip leases")]
    ListLeases(#[source] rusqlite::Error),
    /// A stored lease has an address or subnet that does not parse.
    #[error("corrupt lease in network {network}: {detail}")]
    CorruptLease {
        /// Network ID.
        network: String,
        /// What was wrong.
        detail: String,
    },
    /// Every address of a subnet's range is leased.
    #[error("no free ip address in subnet {subnet} of network {network} (range {start} - {end})")]
    NoFreeIp {
        /// Network name.
        network: String,
        /// The subnet.
        subnet: IpNet,
        /// First address of the allocation range.
        start: IpAddr,
        /// Last address of the allocation range.
        end: IpAddr,
    },
    /// A static IP in no subnet of the network.
    #[error("requested static ip {ip} not in any subnet on network {network}")]
    StaticIpOutsideNetwork {
        /// The address.
        ip: IpAddr,
        /// Network name.
        network: String,
    },
    /// A static IP equal to the subnet's gateway.
    #[error("requested static ip {ip} is the gateway of network {network}")]
    StaticIpIsGateway {
        /// The address.
        ip: IpAddr,
        /// Network name.
        network: String,
    },
    /// A static IP equal to the network or broadcast address.
    #[error(
        "requested static ip {ip} is the {what} address of subnet {subnet} on network {network}"
    )]
    StaticIpReserved {
        /// The address.
        ip: IpAddr,
        /// `network` or `broadcast`.
        what: &'static str,
        /// The subnet.
        subnet: IpNet,
        /// Network name.
        network: String,
    },
    /// A static IP leased to another container.
    #[error("requested ip address {ip} on network {network} is already allocated to container ID {container}")]
    StaticIpTaken {
        /// The address.
        ip: IpAddr,
        /// Network name.
        network: String,
        /// The holder.
        container: String,
    },
    /// Two static IPs requested in the same subnet.
    #[error("static ips {first} and {second} are both in subnet {subnet} of network {network}: one per subnet")]
    DuplicateStaticIp {
        /// Network name.
        network: String,
        /// The subnet.
        subnet: IpNet,
        /// First address.
        first: IpAddr,
        /// Second address.
        second: IpAddr,
    },
    /// podman's IPAM database failed or refused (the reason names the network, subnet,
    /// address or container).
    #[error("shared IPAM database {path}: {source}")]
    SharedIpam {
        /// The `ipam.db` file.
        path: PathBuf,
        /// What went wrong.
        source: bbolt::podman_ipam::IpamError,
    },
}
