//! `reload`: re-apply a running container's network after a firewall flush.

use std::path::Path;

use super::{failpoint, FlowLock, Runtime, RuntimeError};
use crate::backend::{Backend, NetworkOptions};
use crate::state::{Intent, IntentKind};
use crate::{ContainerRecord, Error};

impl<B: Backend> Runtime<B> {
    /// Tears the container's networks down (errors only logged: after a flush the rules
    /// are gone already) and sets them up again with the same interface names, MAC
    /// addresses and IPs as before (libpod's `reloadContainerNetwork`). The addresses are
    /// the container's own leases, so IPAM is not asked again and no static IP can be
    /// "already allocated" (the failure podman 4.3 shows rootless).
    pub fn reload(&self, name_or_id: &str) -> Result<ContainerRecord, Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let mut record = self.container(name_or_id)?;
        if !record.network_mode.is_bridge() {
            // no firewall rules of its own to restore
            return Ok(record);
        }
        let ns = match (&record.netns_path, record.running) {
            (Some(ns), true) => ns.clone(),
            _ => return Err(RuntimeError::NotRunning(record.name).into()),
        };
        if record.networks.is_empty() {
            return Ok(record);
        }
        let options = self.applied_options(&record, &self.record_networks(&record)?);
        let tx = self.state.begin()?;
        tx.put_intent(&Intent {
            container_id: record.id.clone(),
            kind: IntentKind::Reload,
            netns_path: ns.clone(),
            options: options.clone(),
            new_bridges: Vec::new(),
        })?;
        tx.commit()?;
        let status = self.reapply(&record, &ns, &options)?;
        self.backend
            .publish(&record.id, &record.port_mappings, &status)?;
        record.network_status = status;
        let tx = self.state.begin()?;
        tx.put_container(&record)?;
        tx.delete_intent(&record.id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Teardown (logged) then setup with `options`.
    pub(super) fn reapply(
        &self,
        record: &ContainerRecord,
        ns: &Path,
        options: &NetworkOptions,
    ) -> Result<std::collections::BTreeMap<String, crate::StatusBlock>, Error> {
        if let Err(e) = self.backend.teardown(ns, options) {
            tracing::debug!(container = %record.name, error = %e, "reload: teardown before setup failed (expected after a flush)");
        }
        failpoint::hit("reload:torn-down");
        Ok(self.backend.setup(ns, options)?)
    }
}
