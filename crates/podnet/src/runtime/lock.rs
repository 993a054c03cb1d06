//! The runtime lock: one flow at a time changes containers, across processes.
//!
//! netavark serializes its own runs anyway; holding one lock for the whole flow (state
//! read, backend call, state write) is what makes "validate, apply, commit" atomic with
//! respect to another podnet process working on the same container. Inside it, podman's
//! own `netavark.lock` of the network directory is held too, as podman holds it around
//! its IPAM allocation and netavark run: so podman and podnet never allocate in the
//! shared `ipam.db` or run netavark on one network directory at the same time, and the
//! locks are taken in podman's order (`netavark.lock`, then `ipam.db`'s flock). With the
//! CNI backend it is the conflist directory's `cni.lock`, which podman 4's CNI backend
//! holds around its network changes and plugin runs.

use std::fs::File;
use std::path::Path;

use fs2::FileExt;

use super::{RuntimeConfig, RuntimeError};
use crate::network::DirLock;

/// Held while a flow runs; dropping it releases the locks (podman's first).
#[derive(Debug)]
pub(crate) struct FlowLock {
    _netavark: Option<DirLock>,
    _file: File,
}

impl std::fmt::Debug for DirLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirLock")
    }
}

impl FlowLock {
    /// Blocks until podnet's lock (`config.lock_file`, creating it and its directory)
    /// and then podman's `netavark.lock` (CNI: `cni.lock`) in `config.networks_dir` are ours.
    pub(crate) fn acquire(config: &RuntimeConfig) -> Result<Self, crate::Error> {
        let file = lock_file(&config.lock_file)?;
        let netavark = if config.networks_dir.is_dir() {
            Some(match config.backend.network_backend {
                Some(containers_conf::NetworkBackend::Cni) => crate::network::lock_dir_file(
                    &config.networks_dir,
                    crate::network::CNI_LOCK_FILE,
                )?,
                _ => crate::network::lock_dir(&config.networks_dir)?,
            })
        } else {
            None
        };
        Ok(Self {
            _netavark: netavark,
            _file: file,
        })
    }
}

fn lock_file(path: &Path) -> Result<File, RuntimeError> {
    let io = |source| RuntimeError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io)?;
    file.lock_exclusive().map_err(io)?;
    Ok(file)
}
