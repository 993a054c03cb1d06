//! Where a [`Runtime`](super::Runtime) keeps its files, rootful and rootless.

use std::path::{Path, PathBuf};

/// The directories and files a runtime uses. [`RuntimeConfig::system`] gives podman's
/// locations for the current user; tests point everything into a temporary directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Network definitions (`NAME.json`), shared with podman.
    pub networks_dir: PathBuf,
    /// The SQLite state database.
    pub state_db: PathBuf,
    /// Where container network namespaces are pinned.
    pub netns_dir: PathBuf,
    /// Per-container files: `<dir>/<id>/hosts` and `<dir>/<id>/resolv.conf`.
    pub containers_dir: PathBuf,
    /// The lock file every mutating flow holds.
    pub lock_file: PathBuf,
    /// The hosts file whose entries are copied into each container's (`/etc/hosts`).
    pub base_hosts: Option<PathBuf>,
    /// Host-side resolver files read for each container's resolv.conf.
    pub resolv_sources: etchosts::resolvconf::HostSources,
}

impl RuntimeConfig {
    /// Everything under one directory (tests, demos): `networks/`, `state.db`, `netns/`,
    /// `containers/`.
    pub fn under(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        Self {
            networks_dir: root.join("networks"),
            state_db: root.join("state.db"),
            netns_dir: root.join("netns"),
            containers_dir: root.join("containers"),
            lock_file: root.join("podnet.lock"),
            base_hosts: Some(etchosts::hosts::DEFAULT_HOSTS_FILE.into()),
            resolv_sources: Default::default(),
        }
    }

    /// podman's locations: networks in `/etc/containers/networks` (rootless:
    /// `~/.local/share/containers/storage/networks`), netns pins in `/run/netns` (rootless:
    /// `$XDG_RUNTIME_DIR/netns`), podnet's own state in `/var/lib/podnet` and
    /// `/run/podnet` (rootless: `~/.local/share/podnet`, `$XDG_RUNTIME_DIR/podnet`).
    pub fn system() -> Result<Self, crate::Error> {
        let networks_dir = crate::NetworkStore::default_dir()?;
        let state_db = crate::StateStore::default_path()
            .ok_or(crate::Error::Runtime(super::RuntimeError::NoDataDir))?;
        let netns_dir = netns::run_dir()
            .map_err(|source| crate::Error::Runtime(super::RuntimeError::NetnsDir { source }))?;
        let run = if rootless_detect::is_rootless() {
            rootless_detect::runtime_dir()
                .map(|d| d.join("podnet"))
                .unwrap_or_else(|_| std::env::temp_dir().join("podnet"))
        } else {
            PathBuf::from("/run/podnet")
        };
        Ok(Self {
            networks_dir,
            state_db,
            netns_dir,
            containers_dir: run.join("containers"),
            lock_file: run.join("podnet.lock"),
            base_hosts: Some(etchosts::hosts::DEFAULT_HOSTS_FILE.into()),
            resolv_sources: Default::default(),
        })
    }
}
