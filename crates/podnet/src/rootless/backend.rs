//! `RootlessBackend`: any [`Backend`] run inside the rootless netns.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use portmap::{PortMapping, Protocol};

use super::forwarder::{forwards_for, PortForward};

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
    forwarder: Option<PathBuf>,
}

impl<B> RootlessBackend<B> {
    /// Runs `inner` inside `netns`.
    pub fn new(inner: B, netns: RootlessNetNs) -> Self {
        Self {
            inner,
            netns,
            forwarder: None,
        }
    }

    /// The program started (in forwarder mode, [`is_port_forwarder`](super::is_port_forwarder)) as
    /// each container's port forwarder: one whose `main` calls
    /// [`run_port_forwarder`](super::run_port_forwarder) when that variable is set, such as
    /// the `podnet` binary. Without it, [`Backend::publish`] refuses published ports.
    pub fn with_forwarder(mut self, program: impl Into<PathBuf>) -> Self {
        self.forwarder = Some(program.into());
        self
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

/// The forwards of `ports` to the container's address: its first IPv4 address (networks
/// in name order), else its first IPv6 one, as podman picks rootlessport's child IP.
/// SCTP has no user-mode forwarder: such ports are skipped with a warning.
fn port_forwards(
    ports: &[PortMapping],
    status: &BTreeMap<String, StatusBlock>,
) -> Vec<PortForward> {
    let addresses: Vec<IpAddr> = status
        .values()
        .flat_map(|b| b.interfaces.values())
        .flat_map(|i| i.subnets.iter().map(|a| a.ipnet.addr()))
        .collect();
    let Some(container_ip) = addresses
        .iter()
        .find(|ip| ip.is_ipv4())
        .or_else(|| addresses.first())
        .copied()
    else {
        return Vec::new();
    };
    for mapping in ports.iter().filter(|m| m.protocol.contains(Protocol::Sctp)) {
        tracing::warn!(%mapping, "no rootless forwarder for sctp; port skipped");
    }
    forwards_for(ports, container_ip)
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

    fn publish(
        &self,
        container_id: &str,
        ports: &[PortMapping],
        status: &BTreeMap<String, StatusBlock>,
    ) -> Result<(), BackendError> {
        let forwards = port_forwards(ports, status);
        let mut locked = self.netns.lock().map_err(|e| wrap("publish", e))?;
        if forwards.is_empty() {
            locked
                .unforward_ports(container_id)
                .map_err(|e| wrap("publish", e))?;
            return Ok(());
        }
        let program = self.forwarder.as_ref().ok_or_else(|| {
            wrap(
                "publish",
                RootlessError::Forwarder {
                    action: "start: no forwarder program was configured",
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                },
            )
        })?;
        locked
            .forward_ports(container_id, Command::new(program), &forwards)
            .map_err(|e| wrap("publish", e))?;
        Ok(())
    }

    fn release(&self, container_id: &str) -> Result<(), BackendError> {
        if let Ok(mut locked) = self.netns.lock() {
            if let Err(e) = locked.unforward_ports(container_id) {
                tracing::warn!(container_id, error = %e, "stopping the port forwarder failed");
            }
        }
        self.release(container_id).map_err(|e| wrap("release", e))?;
        Ok(())
    }

    fn repair_dns(&self) -> Result<Option<String>, BackendError> {
        let locked = self.netns.lock().map_err(|e| wrap("repair dns", e))?;
        if !netns::is_netns(self.netns.config().pin_path()) {
            // no rootless netns: no container, and aardvark-dns went with it
            return Ok(None);
        }
        locked
            .run(|| self.inner.repair_dns())
            .map_err(|e| wrap("repair dns", e))?
    }

    fn missing_bridges(&self, options: &NetworkOptions) -> Result<Vec<String>, BackendError> {
        let locked = self.netns.lock().map_err(|e| wrap("setup", e))?;
        if !netns::is_netns(self.netns.config().pin_path()) {
            // no rootless netns yet: every bridge in it will be new
            return Ok(crate::backend::bridge_names(options));
        }
        locked
            .run(|| self.inner.missing_bridges(options))
            .map_err(|e| wrap("setup", e))?
    }

    fn undo_setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
        new_bridges: &[String],
    ) -> Result<(), BackendError> {
        let locked = self.netns.lock().map_err(|e| wrap("teardown", e))?;
        if !netns::is_netns(self.netns.config().pin_path()) {
            // the bridges went with the rootless netns; the container's netns is the
            // runtime's to remove
            return Ok(());
        }
        locked
            .run(|| self.inner.undo_setup(netns, options, new_bridges))
            .map_err(|e| wrap("teardown", e))?
    }

    fn check_network(&self, network: &crate::Network) -> Result<(), BackendError> {
        self.inner.check_network(network)
    }

    fn update_dns_servers(&self, network: &crate::Network) -> Result<(), BackendError> {
        let locked = self.netns.lock().map_err(|e| wrap("update", e))?;
        if !netns::is_netns(self.netns.config().pin_path()) {
            // no rootless netns: no aardvark-dns serves any network
            return Ok(());
        }
        locked
            .run(|| self.inner.update_dns_servers(network))
            .map_err(|e| wrap("update", e))?
    }

    fn assigns_addresses(&self) -> bool {
        // the CNI plugins pick addresses in the rootless netns as they do on the host
        self.inner.assigns_addresses()
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
