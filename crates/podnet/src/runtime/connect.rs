//! `connect` and `disconnect`: one network more or less, running or stopped.

use std::collections::BTreeMap;

use super::{
    dns_ready, failpoint, files, spec, FlowLock, NetworkRequest, Runtime, RuntimeError, Step,
    StepError,
};
use crate::backend::Backend;
use crate::state::{Intent, IntentKind};
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
        crate::validate::network_request(request)?;
        let lock = FlowLock::acquire(&self.config)?;
        let mut record = self.container(name_or_id)?;
        self.require_bridge(&record)?;
        if self.repair_own_intent(&record) {
            record = self.container(&record.id)?;
        }
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
        let in_use = record
            .networks
            .values()
            .map(|p| p.interface_name.as_str())
            .chain(
                record
                    .network_status
                    .values()
                    .flat_map(|s| s.interfaces.keys().map(String::as_str)),
            )
            .any(|name| name == per.interface_name);
        if in_use {
            // netavark's teardown of a failed connect would remove the existing interface
            return Err(RuntimeError::InterfaceInUse {
                container: record.name,
                interface: per.interface_name,
            }
            .into());
        }

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
        self.check_dns_names(&with_new, &nets)?;
        let intent = self.lease_and_intend(&with_new, &nets, &ns, IntentKind::Connect)?;
        let options = &intent.options;
        failpoint::hit("connect:intent-committed");
        // the backend is undone before the leases go: the address is never handed out
        // while an interface still carries it
        let undo_backend = |record: &ContainerRecord| {
            if self.undo_backend(record, &intent) {
                self.release_intent(record, &nets);
            }
        };
        let new_status = match self.backend.setup(&ns, options) {
            Ok(status) => status,
            Err(e) => {
                undo_backend(&record);
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
            undo_backend(record);
        };
        if let Err(e) = files::add_network(&record, &record.network_status, &new_status) {
            undo(&record, false);
            return Err(e.into());
        }
        with_new.network_status.extend(new_status.clone());
        with_new
            .applied_networks
            .insert(nets[0].name.clone(), nets[0].clone());
        if let Err(e) = self.backend.publish(
            &with_new.id,
            &with_new.port_mappings,
            &with_new.network_status,
        ) {
            undo(&record, true);
            self.republish_logged(&record);
            return Err(e.into());
        }
        let committed = self.state.begin().and_then(|tx| {
            tx.put_container(&with_new)?;
            tx.delete_intent(&with_new.id)?;
            tx.commit()
        });
        if let Err(e) = committed {
            undo(&record, true);
            self.republish_logged(&record);
            return Err(e.into());
        }
        tracing::debug!(container = %with_new.name, network = %nets[0].name, "connected");
        drop(lock);
        dns_ready::wait_for_name(
            &ns,
            &with_new.name,
            &new_status,
            self.config.dns_ready_timeout,
        );
        Ok(with_new)
    }

    /// Disconnects a container from a network (libpod's `NetworkDisconnect`). On a stopped
    /// container only the record changes. On a running one the backend tears the network
    /// down first; if that fails nothing changes and the error is returned (the rules are
    /// still there, and the record must keep saying so). Then leases and record change in
    /// one transaction, and hosts and resolv.conf lose the network's entries (best effort).
    pub fn disconnect(&self, name_or_id: &str, network: &str) -> Result<ContainerRecord, Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let mut record = self.container(name_or_id)?;
        let net = match self.networks.inspect(network) {
            Ok(net) => net,
            // removed by another tool while the container uses it
            Err(e) => match record.applied_networks.get(network) {
                Some(recorded) => {
                    tracing::warn!(container = %record.name, network, "the network's file is gone: disconnecting with the definition recorded at setup");
                    recorded.clone()
                }
                None => return Err(e.into()),
            },
        };
        if !record.networks.contains_key(&net.name) {
            return Err(RuntimeError::NotConnected {
                container: record.name,
                network: net.name,
            }
            .into());
        }
        if record.running {
            if let Some(ns) = record.netns_path.clone() {
                let options = self.applied_options(&record, std::slice::from_ref(&net));
                let tx = self.state.begin()?;
                tx.put_intent(&Intent {
                    container_id: record.id.clone(),
                    kind: IntentKind::Disconnect,
                    netns_path: ns.clone(),
                    options: options.clone(),
                    new_bridges: Vec::new(),
                })?;
                tx.commit()?;
                if let Err(e) = self.backend.teardown(&ns, &options) {
                    // nothing changed: the rules are still there and the record says so
                    let _ = self.state.begin().and_then(|tx| {
                        tx.delete_intent(&record.id)?;
                        tx.commit()
                    });
                    return Err(e.into());
                }
                failpoint::hit("disconnect:backend-done");
            }
        }
        let mut errors = self.finish_disconnect(&mut record, &net)?;
        if record.running {
            if let Err(e) =
                self.backend
                    .publish(&record.id, &record.port_mappings, &record.network_status)
            {
                errors.push(StepError::new(Step::Ports, e));
            }
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

    /// Publishes the record's ports to its addresses again (after a failed connect).
    fn republish_logged(&self, record: &ContainerRecord) {
        if let Err(e) =
            self.backend
                .publish(&record.id, &record.port_mappings, &record.network_status)
        {
            tracing::warn!(container = %record.name, error = %e, "undo: republishing ports failed");
        }
    }

    /// The part of a disconnect after the backend let go of the network: leases, record
    /// and intent in one transaction, then hosts and resolv.conf (their errors returned).
    pub(super) fn finish_disconnect(
        &self,
        record: &mut ContainerRecord,
        net: &crate::Network,
    ) -> Result<Vec<StepError>, Error> {
        let mut removed = BTreeMap::new();
        if let Some(status) = record.network_status.remove(&net.name) {
            removed.insert(net.name.clone(), status);
        }
        record.networks.remove(&net.name);
        record.applied_networks.remove(&net.name);
        let tx = self.state.begin()?;
        tx.release_ips(net, &record.id)?;
        tx.put_container(record)?;
        tx.delete_intent(&record.id)?;
        tx.commit()?;
        Ok(if record.running {
            files::remove_network(record, &removed)
        } else {
            Vec::new()
        })
    }
}
