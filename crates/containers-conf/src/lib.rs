//! containers.conf as containers/common reads it, for the network side of podman:
//! which files, in which order, the typed `[network]` and `[engine]` keys podnet uses,
//! and the default network backend decision (`$graphroot/defaultNetworkBackend`).
//!
//! Requires: nothing but read access to the files; no privileges.
//!
//! - [`Sources`] lists the files ([`Sources::files`]): `/usr/share/containers/containers.conf`,
//!   `/etc/containers/containers.conf`, its `containers.conf.d/`, the rootless drop-ins
//!   (`containers.rootless.conf`, `.d/`, `.d/<uid>/`), the user's file and `.d/`;
//!   `CONTAINERS_CONF` replaces that chain, modules follow it, `CONTAINERS_CONF_OVERRIDE`
//!   comes last. [`Layout::ConfigFile`] selects podman 6's rules instead (one main file,
//!   drop-ins merged by name, `containers.rootful.conf.d/`).
//! - [`load`] reads them; later files override earlier ones key by key. podman 4.3's
//!   files are read as they are.
//! - Unknown keys are ignored, as podman ignores them, with a `tracing` warning naming
//!   the file and the key. A known key with a bad value (wrong type, bad CIDR, unknown
//!   backend) is one [`Error::InvalidValue`] naming the file, the key and the value.
//! - [`choose_backend`] is podman's choice when `network_backend` is unset.
//! - [`StorageSources::roots`] is podman's run and graph root from storage.conf, as
//!   containers/storage reads it (rootless podman keeps its networks and `ipam.db` there).
//!
//! ```
//! use containers_conf::{load, FirewallDriver, NetworkBackend, Sources};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = tempfile::tempdir()?; // stands for `/`
//! let etc = root.path().join("etc/containers");
//! std::fs::create_dir_all(etc.join("containers.conf.d"))?;
//! std::fs::write(etc.join("containers.conf"), "[network]\nnetwork_backend = \"netavark\"\ndns_bind_port = 5353\n")?;
//! std::fs::write(etc.join("containers.conf.d/10-nft.conf"), "[network]\nfirewall_driver = \"nftables\"\n")?;
//!
//! let conf = load(&Sources::under(root.path(), 0))?;
//! assert_eq!(conf.network.network_backend, Some(NetworkBackend::Netavark));
//! assert_eq!(conf.network.firewall_driver, Some(FirewallDriver::Nftables));
//! assert_eq!(conf.network.dns_bind_port, Some(5353));
//! assert_eq!(conf.network.default_subnet.to_string(), "10.88.0.0/16"); // built-in default
//! assert_eq!(conf.files.len(), 2);
//!
//! // Real machine: containers_conf::load(&Sources::system(uid))
//! # Ok(())
//! # }
//! ```

mod apply;
mod backend;
mod config;
mod error;
mod known;
mod sources;
mod storage;

use std::path::PathBuf;

pub use backend::{
    choose_backend, read_backend_marker, BackendChoice, BackendFacts, BACKEND_MARKER_FILE,
};
pub use config::{
    ContainersConf, EngineConfig, FirewallDriver, NetworkBackend, NetworkConfig,
    RootlessNetworkCmd, SubnetPool, DEFAULT_CNI_PLUGIN_DIRS, DEFAULT_HELPER_BINARIES_DIR,
    DEFAULT_NETAVARK_PLUGIN_DIRS, DEFAULT_SUBNET_POOLS,
};
pub use error::Error;
pub use ipnet;
pub use sources::{
    Layout, Sources, ADMIN_DIR, CONTAINERS_CONF_ENV, CONTAINERS_CONF_OVERRIDE_ENV, VENDOR_DIR,
};
pub use storage::{
    RootlessUser, StorageRoots, StorageSources, DEFAULT_GRAPH_ROOT, DEFAULT_RUN_ROOT,
    STORAGE_CONF_ENV,
};

impl Default for ContainersConf {
    /// containers/common's built-in defaults, before any file.
    fn default() -> Self {
        Self {
            network: NetworkConfig::default(),
            engine: EngineConfig::default(),
            files: Vec::new(),
        }
    }
}

/// Reads every file of `sources` in order over the built-in defaults.
pub fn load(sources: &Sources) -> Result<ContainersConf, Error> {
    load_files(&sources.files()?)
}

/// Reads `files` in order over the built-in defaults (later files win key by key).
pub fn load_files(files: &[PathBuf]) -> Result<ContainersConf, Error> {
    let mut conf = ContainersConf::default();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        apply::apply_file(&mut conf, path, &text)?;
        tracing::debug!(file = %path.display(), "merged containers.conf");
    }
    Ok(conf)
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod apply_tests;

#[cfg(test)]
mod differential_tests;

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
