//! `connect` and `disconnect`: one network more or less, running or stopped.

use std::collections::BTreeMap;

use super::{failpoint, files, spec, FlowLock, NetworkRequest, Runtime, RuntimeError};
use crate::backend::Backend;
use crate::state::IntentKind;
use crate::{ContainerRecord, Error};

impl<B: Backend> Runtime<B> {
    /// Connects a container to a network (libpod's `NetworkConnect`). On a stopped
    /// container it is only recorded (applied at the next setup); connecting an already
    /// connected network is then a no-op (Docker compatibility) and an error on a running
    /// one. On a running container: leases, backend, hosts and resolv.conf, record; any
    /// failure undoes the earlier steps.
    pub fn connect(
        &self,
        name_or_id: &str,
        request: &NetworkRequest,
    ) -> Result<ContainerRecord, Error> {
        let _lock = FlowLock::acquire(&self.config.lock_file)?;
        let mut record = self.container(name_or_id)?;
        let net = self.networks.inspect(&request.network)?;
        if record.networks.contains_key(&net.name) {
            if record.running {
                return Err(RuntimeError::AlreadyConnected {
                    container: record.name,
                    network: net.name,
                }
                .into());
            }
            return Ok(record);
        }
        let explicit_hostname =
            (record.hostname != spec::short_id(&record.id)).then_some(record.hostname.as_str());
        let per = self.network_options(&record.id, explicit_hostname, request, &record.networks)?;

        if !record.running {
            let tx = self.state.begin()?;
            if net.requires_ipam() && !per.static_ips.is_empty() {
                tx.allocate_ips(&net, &record.id, &per.interface_name, &per.static_ips)?;
                tx.release_ips(&net, &record.id)?;
            }
            record.networks.insert(net.name.clone(), per);
            tx.put_container(&record)?;
            tx.commit()?;
            return Ok(record);
        }

        let ns = record
            .netns_path
            .clone()
            .ok_or_else(|| RuntimeError::NotRunning(record.name.clone()))?;
        let mut with_new = record.clone();
        with_new.networks.insert(net.name.clone(), per);
        let nets = [net];
        let options = self.lease_and_intend(&with_new, &nets, &ns, IntentKind::Connect)?;
        failpoint::hit("connect:intent-committed");
        let new_status = match self.backend.setup(&ns, &options) {
            Ok(status) => status,
            Err(e) => {
                self.release_intent(&record, &nets);
                return Err(e.into());
            }
        };
        failpoint::hit("connect:backend-done");
        let undo = |record: &ContainerRecord, files_done: bool| {
            if files_done {
                for e in files::remove_network(record, &new_status) {
                    tracing::warn!(container = %record.name, error = %e, "undo: hosts/resolv.conf");
                }
            }
            if let Err(e) = self.backend.teardown(&ns, &options) {
                tracing::warn!(container = %record.name, error = %e, "undo: backend teardown failed");
            }
            self.release_intent(record, &nets);
        };
        if let Err(e) = files::add_network(&record, &record.network_status, &new_status) {
            undo(&record, false);
            return Err(e.into());
        }
        with_new.network_status.extend(new_status.clone());
        let committed = self.state.begin().and_then(|tx| {
            tx.put_container(&with_new)?;
            tx.delete_intent(&with_new.id)?;
            tx.commit()
        });
        if let Err(e) = committed {
            undo(&record, true);
            return Err(e.into());
        }
        tracing::debug!(container = %with_new.name, network = %nets[0].name, "connected");
        Ok(with_new)
    }

    /// Disconnects a container from a network (libpod's `NetworkDisconnect`). On a stopped
    /// container only the record changes. On a running one the backend tears the network
    /// down first; if that fails nothing changes and the error is returned (the rules are
    /// still there, and the record must keep saying so). Then leases and record change in
    /// one transaction, and hosts and resolv.conf lose the network's entries (best effort).
    pub fn disconnect(&self, name_or_id: &str, network: &str) -> Result<ContainerRecord, Error> {
        let _lock = FlowLock::acquire(&self.config.lock_file)?;
        let mut record = self.container(name_or_id)?;
        let net = self.networks.inspect(network)?;
        if !record.networks.contains_key(&net.name) {
            return Err(RuntimeError::NotConnected {
                container: record.name,
                network: net.name,
            }
            .into());
        }
        let mut errors = Vec::new();
        let mut removed = BTreeMap::new();
        if record.running {
            if let Some(ns) = record.netns_path.clone() {
                let per = record.networks[&net.name].clone();
                let options = self.backend_options(&record, [(&net, per)])?;
                self.backend.teardown(&ns, &options)?;
                failpoint::hit("disconnect:backend-done");
            }
            if let Some(status) = record.network_status.remove(&net.name) {
                removed.insert(net.name.clone(), status);
            }
        }
        record.networks.remove(&net.name);
        let tx = self.state.begin()?;
        tx.release_ips(&net, &record.id)?;
        tx.put_container(&record)?;
        tx.commit()?;
        if record.running {
            errors.extend(files::remove_network(&record, &removed));
        }
        if errors.is_empty() {
            Ok(record)
        } else {
            Err(RuntimeError::Incomplete {
                flow: "disconnect",
                container: record.name,
                errors,
            }
            .into())
        }
    }
}
