//! Network definitions: podman's `NAME.json` files, the default network,
//! create (free subnet and bridge name), lookup, remove.

mod addr;
mod cni_files;
mod error;
mod files;
mod filter;
mod host;
mod pick;
mod read;
mod storage_roots;
mod store;
mod types;
mod until;
mod validate;

pub(crate) use addr::{from_int, host_bounds, to_int};
pub(crate) use cni_files::LOCK_FILE as CNI_LOCK_FILE;
pub use error::NetworkError;
#[cfg(test)]
pub(crate) use files::parse_file;
pub(crate) use files::{lock_dir, lock_dir_file, DirLock};
pub use filter::NetworkFilter;
pub use pick::SubnetPool;
pub(crate) use storage_roots::{podman_storage_roots, rootless_ipam_db, rootless_networks_dir};
pub use store::NetworkStore;
pub use types::{
    LeaseRange, Network, Route, Subnet, BRIDGE_DRIVER, DEFAULT_NETWORK_ID, DEFAULT_NETWORK_NAME,
    DHCP_IPAM, HOST_LOCAL_IPAM, IPAM_DRIVER_KEY, IPVLAN_DRIVER, MACVLAN_DRIVER, NONE_IPAM,
};
pub use validate::is_valid_name;

#[cfg(test)]
mod dhcp_tests;
#[cfg(test)]
mod tests;
