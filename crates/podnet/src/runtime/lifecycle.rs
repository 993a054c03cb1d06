//! `setup` (start), `teardown` (stop) and `remove`: a container's whole network life.

use std::path::{Path, PathBuf};

use super::{dns_ready, failpoint, files, FlowLock, Runtime, RuntimeError, Step, StepError};
use crate::backend::{Backend, NetworkOptions};
use crate::state::{Intent, IntentKind};
use crate::{ContainerRecord, Error, Network};

impl<B: Backend> Runtime<B> {
    /// Sets up a recorded container's network (libpod's `configureNetNS`): a new pinned
    /// netns, leases, the backend on every network, hosts and resolv.conf, then the record.
    /// Any failure undoes every earlier step. A running container is returned unchanged.
    pub fn setup(&self, name_or_id: &str) -> Result<ContainerRecord, Error> {
        let lock = FlowLock::acquire(&self.config)?;
        let mut record = self.container(name_or_id)?;
        if self.repair_own_intent(&record) {
            record = self.container(&record.id)?;
        }
        if record.running {
            return Ok(record);
        }
        if !record.network_mode.is_bridge() {
            return self.setup_mode(record);
        }
        let nets = self.record_networks(&record)?;
        let _ports = self.claim_host(&record, &nets)?;
        let ns = self.create_netns(&record)?;
        failpoint::hit("setup:netns-created");

        let intent = match self.lease_and_intend(&record, &nets, ns.as_path(), IntentKind::Setup) {
            Ok(intent) => intent,
            Err(e) => {
                self.remove_netns_logged(&record, ns.as_path());
                return Err(e);
            }
        };
        let options = &intent.options;
        failpoint::hit("setup:intent-committed");

        let status = match self.backend.setup(ns.as_path(), options) {
            Ok(status) => status,
            Err(e) => {
                self.undo_setup(&record, &nets, &intent);
                return Err(e.into());
            }
        };
        failpoint::hit("setup:backend-done");

        record.netns_path = Some(ns.as_path().to_path_buf());
        let bridge = |name: &str| {
            nets.iter()
                .any(|n| n.name == name && n.driver == crate::BRIDGE_DRIVER)
        };
        let written = files::write_new(&self.config, &record, &status, bridge);
        let (hosts, resolv) = match written {
            Ok(paths) => paths,
            Err(e) => {
                self.undo_setup(&record, &nets, &intent);
                return Err(e.into());
            }
        };
        if let Err(e) = self
            .backend
            .publish(&record.id, &record.port_mappings, &status)
        {
            self.undo_setup(&record, &nets, &intent);
            return Err(e.into());
        }
        record.running = true;
        record.network_status = status;
        record.applied_networks = nets.iter().map(|n| (n.name.clone(), n.clone())).collect();
        record.hosts_path = hosts;
        record.resolv_conf_path = Some(resolv);
        let committed = self.state.begin().and_then(|tx| {
            tx.put_container(&record)?;
            tx.delete_intent(&record.id)?;
            tx.commit()
        });
        if let Err(e) = committed {
            self.undo_setup(&record, &nets, &intent);
            return Err(e.into());
        }
        tracing::debug!(container = %record.name, netns = %ns.as_path().display(), "network set up");
        // other flows (podman's too) need not wait on the locks while the name comes up
        drop(lock);
        dns_ready::wait_for_name(
            ns.as_path(),
            &record.name,
            &record.network_status,
            self.config.dns_ready_timeout,
        );
        Ok(record)
    }

    /// A fresh netns pin for the container, `podnet-<short id>-<random>`.
    pub(super) fn create_netns(&self, record: &ContainerRecord) -> Result<PathBuf, Error> {
        let suffix: u32 = rand::random();
        let name = format!("podnet-{}-{suffix:08x}", super::spec::short_id(&record.id));
        Ok(self
            .namespaces
            .create(&self.config.netns_dir, &name, &record.name)?)
    }

    /// Allocates the leases of `nets` and commits them with an intent naming the exact
    /// backend options and the bridges that do not exist yet, so a crash after this point
    /// can be undone by `reconcile` (and a failure by the flow) without touching a bridge
    /// that was there before. Returns the intent.
    pub(super) fn lease_and_intend(
        &self,
        record: &ContainerRecord,
        nets: &[Network],
        netns: &Path,
        kind: IntentKind,
    ) -> Result<Intent, Error> {
        let tx = self.state.begin()?;
        let mut per_net = Vec::with_capacity(nets.len());
        for net in nets {
            let mut per = record.networks.get(&net.name).cloned().unwrap_or_default();
            if net.requires_ipam() && !self.backend.assigns_addresses() {
                let leased =
                    tx.allocate_ips(net, &record.id, &per.interface_name, &per.static_ips)?;
                per.static_ips = leased.iter().map(|n| n.addr()).collect();
            }
            per_net.push((net, per));
        }
        let options = self.backend_options(record, per_net);
        let new_bridges = self.backend.missing_bridges(&options)?;
        let intent = Intent {
            container_id: record.id.clone(),
            kind,
            netns_path: netns.to_path_buf(),
            options,
            new_bridges,
        };
        tx.put_intent(&intent)?;
        tx.commit()?;
        Ok(intent)
    }

    /// Undoes a failed setup, in the order that never hands out a live address: the
    /// backend (teardown, then what it left in the netns and the bridges this setup
    /// brought up), shared backend state, the netns, and only then leases and intent.
    /// When the backend undo or the netns removal leaves something, the intent and its
    /// leases stay for `reconcile`. Each failure is logged; the caller returns the
    /// original error.
    fn undo_setup(&self, record: &ContainerRecord, nets: &[Network], intent: &Intent) {
        let undone = self.undo_backend(record, intent);
        self.release_backend_logged(record);
        let netns_gone = self.remove_netns_logged(record, &intent.netns_path);
        if undone && netns_gone {
            self.release_intent(record, nets);
        }
    }

    /// The backend part of an undo; true when nothing the intent names is left.
    pub(super) fn undo_backend(&self, record: &ContainerRecord, intent: &Intent) -> bool {
        match self
            .backend
            .undo_setup(&intent.netns_path, &intent.options, &intent.new_bridges)
        {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(container = %record.name, error = %e, "undo: backend objects left; the intent and its leases stay for reconcile");
                false
            }
        }
    }

    /// Finishes an intent this container left earlier (a failed undo, a crash) before a
    /// new flow replaces it, so what it names is not forgotten. True when there was one
    /// (the record may have changed: read it again).
    pub(super) fn repair_own_intent(&self, record: &ContainerRecord) -> bool {
        let intents = match self.state.list_intents() {
            Ok(intents) => intents,
            Err(e) => {
                tracing::warn!(container = %record.name, error = %e, "reading intents failed");
                return false;
            }
        };
        let Some(intent) = intents.iter().find(|i| i.container_id == record.id) else {
            return false;
        };
        let mut report = super::ReconcileReport::default();
        self.repair_intent(intent, &mut report);
        for e in report.errors {
            tracing::warn!(container = %record.name, error = %e, "repairing an earlier intent");
        }
        true
    }

    /// Stops the container's port publishing and lets the backend release what it shared.
    fn release_backend_logged(&self, record: &ContainerRecord) {
        for e in self.release_backend(&record.id) {
            tracing::warn!(container = %record.name, error = %e, "undo: releasing backend resources");
        }
    }

    /// Unpublishes the container's ports and releases shared backend state; the errors.
    pub(super) fn release_backend(&self, container_id: &str) -> Vec<StepError> {
        let mut errors = Vec::new();
        self.stop_port_holder(container_id);
        if let Err(e) = self.backend.publish(container_id, &[], &Default::default()) {
            errors.push(StepError::new(Step::Ports, e));
        }
        if let Err(e) = self.backend.release(container_id) {
            errors.push(StepError::new(Step::BackendRelease, e));
        }
        errors
    }

    /// Releases the leases of `nets` and deletes the container's intent, logged on failure.
    pub(super) fn release_intent(&self, record: &ContainerRecord, nets: &[Network]) {
        let released = self.state.begin().and_then(|tx| {
            for net in nets {
                tx.release_ips(net, &record.id)?;
            }
            tx.delete_intent(&record.id)?;
            tx.commit()
        });
        if let Err(e) = released {
            tracing::warn!(container = %record.name, error = %e, "undo: releasing leases failed");
        }
    }

    /// Removes a netns pin; false (logged) when it could not be removed.
    pub(super) fn remove_netns_logged(&self, record: &ContainerRecord, netns: &Path) -> bool {
        match self.namespaces.remove(netns, &record.name) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(container = %record.name, netns = %netns.display(), error = %e, "undo: netns removal failed");
                false
            }
        }
    }

    /// Tears down a running container's network (libpod's `teardownNetwork` + netns
    /// cleanup): backend on every network, netns, leases; the record is kept, marked
    /// stopped. Best effort: goes on after failures and returns them all at the end.
    pub fn teardown(&self, name_or_id: &str) -> Result<ContainerRecord, Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let mut record = self.container(name_or_id)?;
        let errors = self.teardown_unlocked(&mut record);
        if errors.is_empty() {
            Ok(record)
        } else {
            Err(RuntimeError::Incomplete {
                flow: "teardown",
                container: record.name.clone(),
                errors,
            }
            .into())
        }
    }

    /// The teardown steps, for callers that hold the flow lock already.
    pub(super) fn teardown_unlocked(&self, record: &mut ContainerRecord) -> Vec<StepError> {
        if !record.running {
            return Vec::new();
        }
        // members of a pod lose the namespace with it
        let mut errors = self.stop_dependents(record);
        // what `exec` started in the container ends with its network
        errors.extend(self.end_exec_sessions(record));
        if !record.network_mode.is_bridge() {
            errors.extend(self.teardown_mode(record));
            return errors;
        }
        if let Some(ns) = record.netns_path.clone() {
            let found = match self.lookup_networks(record) {
                Ok(found) => found,
                Err(e) => {
                    errors.push(StepError::new(Step::Networks, e));
                    Vec::new()
                }
            };
            let nets: Vec<Network> = found
                .into_iter()
                .filter_map(|net| {
                    net.map_err(|e| errors.push(StepError::new(Step::Networks, e)))
                        .ok()
                })
                .collect();
            if !nets.is_empty() && !self.namespaces.is_alive(&ns) {
                let options = self.applied_options(record, &nets);
                self.teardown_in_scratch_netns(record, &options);
            } else if !nets.is_empty() {
                let options = self.applied_options(record, &nets);
                // a crash from here on is finished forward by reconcile
                let intent = Intent {
                    container_id: record.id.clone(),
                    kind: IntentKind::Teardown,
                    netns_path: ns.clone(),
                    options: options.clone(),
                    new_bridges: Vec::new(),
                };
                let noted = self.state.begin().and_then(|tx| {
                    tx.put_intent(&intent)?;
                    tx.commit()
                });
                if let Err(e) = noted {
                    errors.push(StepError::new(Step::State, e));
                }
                if let Err(e) = self.backend.teardown(&ns, &options) {
                    errors.push(StepError::new(Step::BackendTeardown, e));
                }
            }
            failpoint::hit("teardown:backend-done");
        }
        errors.extend(self.teardown_after_backend(record));
        errors
    }

    /// The container's netns is gone (its interfaces with it) but the backend still holds
    /// its DNS entries and port forwarding rules: netavark's teardown is run against an
    /// empty scratch namespace, where it removes both and then fails to find the
    /// container's interfaces (expected, logged). The scratch pin is a `podnet-` pin, so
    /// a crash in between leaves nothing `reconcile` does not remove.
    fn teardown_in_scratch_netns(&self, record: &ContainerRecord, options: &NetworkOptions) {
        let suffix: u32 = rand::random();
        let name = format!("podnet-scratch-{suffix:08x}");
        let scratch = match self
            .namespaces
            .create(&self.config.netns_dir, &name, &record.name)
        {
            Ok(path) => path,
            Err(e) => {
                tracing::warn!(container = %record.name, error = %e, "scratch netns for the teardown of a container without netns");
                return;
            }
        };
        if let Err(e) = self.backend.teardown(&scratch, options) {
            tracing::debug!(container = %record.name, error = %e, "teardown in a scratch netns (the container's interfaces are gone)");
        }
        self.remove_netns_logged(record, &scratch);
    }

    /// The teardown steps after the backend: netns, leases, record, intent.
    pub(super) fn teardown_after_backend(&self, record: &mut ContainerRecord) -> Vec<StepError> {
        let mut errors = Vec::new();
        if let Some(ns) = record.netns_path.clone() {
            if let Err(e) = self.namespaces.remove(&ns, &record.name) {
                errors.push(StepError::new(Step::Netns, e));
            }
        }
        errors.extend(self.release_backend(&record.id));
        errors.extend(self.save_stopped(record));
        errors
    }

    /// Marks the record stopped and saves it with its leases released and its intent
    /// deleted, in one transaction; the error, if any.
    pub(super) fn save_stopped(&self, record: &mut ContainerRecord) -> Option<StepError> {
        record.running = false;
        record.netns_path = None;
        record.network_status.clear();
        record.applied_networks.clear();
        let saved = self.state.begin().and_then(|tx| {
            tx.release_all_ips(&record.id)?;
            tx.put_container(record)?;
            tx.delete_intent(&record.id)?;
            tx.commit()
        });
        saved.err().map(|e| StepError::new(Step::State, e))
    }

    /// Removes a container's record, leases and files (`podman rm`). A running container
    /// needs `force`, which tears it down first.
    pub fn remove(&self, name_or_id: &str, force: bool) -> Result<(), Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let record = self.container(name_or_id)?;
        self.refuse_if_dependents(&record)?;
        if record.running && !force {
            return Err(RuntimeError::Running(record.name).into());
        }
        self.remove_unlocked(record)
    }

    /// [`Runtime::remove`] of a container, running or not, under the flow lock the
    /// caller holds: teardown (best effort), then record, leases, intent and files.
    pub(super) fn remove_unlocked(&self, mut record: ContainerRecord) -> Result<(), Error> {
        let mut errors = self.teardown_unlocked(&mut record);
        let deleted = self.state.begin().and_then(|tx| {
            tx.release_all_ips(&record.id)?;
            tx.delete_intent(&record.id)?;
            tx.delete_container(&record.id)?;
            tx.commit()
        });
        if let Err(e) = deleted {
            errors.push(StepError::new(Step::State, e));
        }
        let dir = files::container_dir(&self.config, &record.id);
        match std::fs::remove_dir_all(&dir) {
            Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                let cause = RuntimeError::Io { path: dir, source };
                errors.push(StepError::new(Step::ContainerDir, cause));
            }
            _ => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(RuntimeError::Incomplete {
                flow: "remove",
                container: record.name,
                errors,
            }
            .into())
        }
    }
}
