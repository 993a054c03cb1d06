//! `RootlessBackend`: any [`Backend`] run inside the rootless netns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::RootlessError;
use super::rootless_netns::RootlessNetNs;
use crate::{Backend, BackendError, NetworkOptions, StatusBlock};

/// Wraps a backend (normally [`Netavark`](crate::Netavark) with `.rootless(true)`) so
/// each call runs inside the rootless netns and its private mount namespace: under the
/// rootless netns lock, after [`ensure`](super::RootlessNetNsLock::ensure) (creating it,
/// or healing a dead pasta), through [`run`](super::RootlessNetNsLock::run).
///
/// Membership stays with the caller, which alone knows when a container gets its first
/// network and loses its last one: [`RootlessNetNs::join`] before the first setup,
/// [`RootlessNetNs::leave`] after the last teardown. A teardown when the rootless netns
/// is gone is a no-op: the container's interfaces in it went with it.
///
/// Rootless errors surface as [`BackendError::Spawn`] with the `rootless-netns` binary
/// name and the [`RootlessError`] as the source.
#[derive(Debug, Clone)]
pub struct RootlessBackend<B> {
    inner: B,
    netns: RootlessNetNs,
}

impl<B> RootlessBackend<B> {
    /// Runs `inner` inside `netns`.
    pub fn new(inner: B, netns: RootlessNetNs) -> Self {
        Self { inner, netns }
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The rootless netns.
    pub fn netns(&self) -> &RootlessNetNs {
        &self.netns
    }
}

fn wrap(command: &'static str, e: RootlessError) -> BackendError {
    BackendError::Spawn {
        binary: PathBuf::from("rootless-netns"),
        command,
        source: std::io::Error::other(e),
    }
}

impl<B: Backend + Sync> Backend for RootlessBackend<B> {
    fn setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError> {
        let mut locked = self.netns.lock().map_err(|e| wrap("setup", e))?;
        locked.ensure().map_err(|e| wrap("setup", e))?;
        locked
            .run(|| self.inner.setup(netns, options))
            .map_err(|e| wrap("setup", e))?
    }

    fn teardown(&self, netns: &Path, options: &NetworkOptions) -> Result<(), BackendError> {
        let locked = self.netns.lock().map_err(|e| wrap("teardown", e))?;
        if !netns::is_netns(self.netns.config().pin_path()) {
            tracing::debug!(container_id = %options.container_id, "rootless netns is gone; nothing to tear down in it");
            return Ok(());
        }
        locked
            .run(|| self.inner.teardown(netns, options))
            .map_err(|e| wrap("teardown", e))?
    }
}
