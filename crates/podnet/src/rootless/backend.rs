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
/// `setup` records the container as a member first (idempotent; undone if the backend
/// fails and the container was not a member before). Only the caller knows when a
/// container lost its last network, so leaving is explicit:
/// [`RootlessBackend::release`] (or [`RootlessNetNs::leave`]) after the last teardown
/// removes the netns with its helper when no member is left. A teardown when the
/// rootless netns is gone is a no-op: the container's interfaces in it went with it.
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

    /// Call when `container_id` has no network left (after its last teardown): forgets it
    /// and removes the rootless netns with its helper if it was the last member. Returns
    /// true when the netns was removed. Idempotent.
    pub fn release(&self, container_id: &str) -> Result<bool, RootlessError> {
        self.netns.leave(container_id)
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
        let id = &options.container_id;
        let mut locked = self.netns.lock().map_err(|e| wrap("setup", e))?;
        locked.ensure().map_err(|e| wrap("setup", e))?;
        let added = locked.add_member(id).map_err(|e| wrap("setup", e))?;
        let result = locked
            .run(|| self.inner.setup(netns, options))
            .map_err(|e| wrap("setup", e))
            .and_then(|r| r);
        if result.is_err() && added {
            // Roll back our own membership; the netns goes if nobody else uses it.
            let undo = locked.remove_member(id).and_then(|_| {
                if locked.members()?.is_empty() {
                    locked.teardown()?;
                }
                Ok(())
            });
            if let Err(e) = undo {
                tracing::warn!(container_id = %id, error = %e, "rollback of rootless netns membership failed");
            }
        }
        result
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
