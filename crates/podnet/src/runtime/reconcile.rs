//! `reconcile`: bring database, namespaces, leases and backend back in line after a crash.
//!
//! What a crash can leave, by the step it interrupted, and what is done about it:
//!
//! | left behind                                   | repair                                   |
//! |-----------------------------------------------|------------------------------------------|
//! | a `podnet-*` pin no record or intent names    | removed (no backend work was done yet)   |
//! | a setup or connect intent (a crash, or a failed flow whose undo left something) | the backend undone with its exact options (teardown, the interfaces left in the netns, the bridges the intent says it brought up and nothing uses); only then its leases released unless the record has the network, the netns removed for a setup; kept for the next run when something is still left |
//! | a reload intent                               | the reload is redone (the container was connected and stays so) |
//! | a teardown or disconnect intent               | finished: backend teardown again (idempotent), then the flow's remaining steps |
//! | a record marked running whose netns is gone   | torn down (netavark run against an empty scratch netns removes its DNS entries and port forwarding rules) and marked stopped |
//! | a lease of a container without a record       | released                                 |
//! | a running container's port holder gone (killed, reboot) | started again; a stopped one's holder is stopped |
//! | a shared `ipam.db` entry of a podnet container without a lease on that network (a crash between the `ipam.db` and SQLite commits) | released; other tools' entries are never touched |
//! | a running pasta or slirp4netns container's helper dead (killed) | reported and started again in its namespace |
//! | a stopped pasta or slirp4netns container's helper still running (a crash in start) | stopped |
//! | DNS entries with no live aardvark-dns (dead, zombie, pid reused) | a server started as netavark starts one |

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{FlowLock, Runtime, Step, StepError};
use crate::backend::Backend;
use crate::state::{Intent, IntentKind};
use crate::Error;

/// What [`Runtime::reconcile`] repaired.
#[derive(Debug, Default, serde::Serialize)]
#[non_exhaustive]
pub struct ReconcileReport {
    /// Interrupted setups and connects undone, by container ID.
    pub intents_undone: Vec<String>,
    /// Interrupted teardowns and disconnects finished, by container ID.
    pub intents_finished: Vec<String>,
    /// Interrupted reloads redone, by container ID.
    pub reloads_redone: Vec<String>,
    /// Netns pins removed.
    pub netns_removed: Vec<PathBuf>,
    /// Containers found running without a netns, now stopped.
    pub containers_stopped: Vec<String>,
    /// Leases released because no container holds them.
    pub leases_released: usize,
    /// Entries of podnet's containers released from podman's shared `ipam.db` because
    /// podnet holds no lease for them, as (network, container ID).
    pub shared_ipam_released: Vec<(String, String)>,
    /// Running containers whose missing port holder was started again, by ID.
    pub port_holders_restored: Vec<String>,
    /// pasta or slirp4netns containers whose helper was dead (killed), started again.
    pub helpers_restarted: Vec<String>,
    /// Stopped pasta or slirp4netns containers whose helper a crash left running, stopped.
    pub helpers_stopped: Vec<String>,
    /// The shared DNS server restarted because entries existed without a live server.
    pub dns_repaired: Vec<String>,
    /// Problems met on the way (each repair is attempted regardless).
    pub errors: Vec<StepError>,
}

impl ReconcileReport {
    /// Nothing needed repair and nothing failed: the state matched the host.
    pub fn is_empty(&self) -> bool {
        // no `..`: a field added later must be added here too
        let ReconcileReport {
            intents_undone,
            intents_finished,
            reloads_redone,
            netns_removed,
            containers_stopped,
            leases_released,
            shared_ipam_released,
            port_holders_restored,
            helpers_restarted,
            helpers_stopped,
            dns_repaired,
            errors,
        } = self;
        *leases_released == 0
            && [
                intents_undone,
                intents_finished,
                reloads_redone,
                containers_stopped,
                port_holders_restored,
                helpers_restarted,
                helpers_stopped,
                dns_repaired,
            ]
            .iter()
            .all(|ids| ids.is_empty())
            && netns_removed.is_empty()
            && shared_ipam_released.is_empty()
            && errors.is_empty()
    }
}

/// A failure while finishing or undoing `intent`'s flow.
fn intent_error(intent: &Intent, cause: impl Into<Error>) -> StepError {
    StepError::new(Step::Intent(intent.container_id.clone()), cause)
}

impl<B: Backend> Runtime<B> {
    /// Repairs what a crash (kill -9 at any point of any flow) left behind. Idempotent.
    pub fn reconcile(&self) -> Result<ReconcileReport, Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let mut report = ReconcileReport::default();
        for intent in self.state.list_intents()? {
            self.repair_intent(&intent, &mut report);
        }
        self.stop_orphaned_running(&mut report)?;
        self.repair_user_mode(&mut report)?;
        self.remove_stray_pins(&mut report)?;
        self.release_stray_leases(&mut report)?;
        report.shared_ipam_released = self.state.release_unleased_shared()?;
        self.restore_port_holders(&mut report)?;
        // after the stale entries above are gone: only live containers' entries remain
        match self.backend.repair_dns() {
            Ok(Some(repaired)) => report.dns_repaired.push(repaired),
            Ok(None) => {}
            Err(e) => report.errors.push(StepError::new(Step::Dns, e)),
        }
        Ok(report)
    }

    pub(super) fn repair_intent(&self, intent: &Intent, report: &mut ReconcileReport) {
        let record = match self.state.get_container(&intent.container_id) {
            Ok(r) => r.filter(|r| r.id == intent.container_id),
            Err(e) => {
                report.errors.push(intent_error(intent, e));
                return;
            }
        };
        if intent.kind == IntentKind::Reload {
            if let Some(mut record) = record.clone().filter(|r| r.running) {
                match self.reapply(&record, &intent.netns_path, &intent.options) {
                    Ok(status) => {
                        if let Err(e) =
                            self.backend
                                .publish(&record.id, &record.port_mappings, &status)
                        {
                            report.errors.push(intent_error(intent, e));
                        }
                        record.network_status = status;
                        let saved = self.state.begin().and_then(|tx| {
                            tx.put_container(&record)?;
                            tx.delete_intent(&record.id)?;
                            tx.commit()
                        });
                        match saved {
                            Ok(()) => report.reloads_redone.push(record.id.clone()),
                            Err(e) => report.errors.push(intent_error(intent, e)),
                        }
                    }
                    Err(e) => report.errors.push(intent_error(intent, e)),
                }
                return;
            }
        }
        if matches!(intent.kind, IntentKind::Teardown | IntentKind::Disconnect) {
            self.finish_forward(intent, record, report);
            return;
        }
        // the same undo as a failed flow's: teardown, the interfaces netavark left in the
        // netns, the bridges the intent says this setup brought up (a dead netns only
        // skips its interfaces); the leases stay until nothing is left
        if let Err(e) =
            self.backend
                .undo_setup(&intent.netns_path, &intent.options, &intent.new_bridges)
        {
            report.errors.push(intent_error(intent, e));
            return;
        }
        let connected: BTreeSet<&String> = record
            .as_ref()
            .map(|r| r.network_status.keys().collect())
            .unwrap_or_default();
        let nets: Vec<crate::Network> = intent
            .options
            .networks
            .keys()
            .filter(|name| !connected.contains(name))
            .filter_map(|name| self.networks.inspect(name).ok())
            .collect();
        let released = self.state.begin().and_then(|tx| {
            for net in &nets {
                tx.release_ips(net, &intent.container_id)?;
            }
            tx.delete_intent(&intent.container_id)?;
            tx.commit()
        });
        if let Err(e) = released {
            report.errors.push(intent_error(intent, e));
            return;
        }
        let still_used = record
            .as_ref()
            .is_some_and(|r| r.running && r.netns_path.as_ref() == Some(&intent.netns_path));
        if intent.kind == IntentKind::Setup && !still_used {
            match self
                .namespaces
                .remove(&intent.netns_path, &intent.container_id)
            {
                Ok(()) => report.netns_removed.push(intent.netns_path.clone()),
                Err(e) => report.errors.push(intent_error(intent, e)),
            }
            // the container holds nothing now (a shared rootless netns, a forwarder)
            report
                .errors
                .extend(self.release_backend(&intent.container_id));
        }
        report.intents_undone.push(intent.container_id.clone());
    }

    /// A teardown or disconnect that was killed after it started: the backend work is
    /// redone (idempotent, errors only logged) and the flow's remaining steps run.
    fn finish_forward(
        &self,
        intent: &Intent,
        record: Option<crate::ContainerRecord>,
        report: &mut ReconcileReport,
    ) {
        if self.namespaces.is_alive(&intent.netns_path) {
            if let Err(e) = self.backend.teardown(&intent.netns_path, &intent.options) {
                tracing::debug!(container = %intent.container_id, error = %e, "reconcile: teardown redone");
            }
        }
        let Some(mut record) = record else {
            if intent.kind == IntentKind::Teardown {
                if let Err(e) = self
                    .namespaces
                    .remove(&intent.netns_path, &intent.container_id)
                {
                    report.errors.push(intent_error(intent, e));
                }
            }
            let dropped = self.state.begin().and_then(|tx| {
                tx.delete_intent(&intent.container_id)?;
                tx.commit()
            });
            if let Err(e) = dropped {
                report.errors.push(intent_error(intent, e));
            }
            return;
        };
        if intent.kind == IntentKind::Teardown {
            // the backend is done; the rest of the teardown must not run it again
            let errors = self.teardown_after_backend(&mut record);
            report.errors.extend(errors);
            report.containers_stopped.push(record.id.clone());
        } else {
            for name in intent.options.networks.keys() {
                match self.networks.inspect(name) {
                    Ok(net) => match self.finish_disconnect(&mut record, &net) {
                        Ok(errors) => report.errors.extend(errors),
                        Err(e) => report.errors.push(intent_error(intent, e)),
                    },
                    Err(e) => report.errors.push(intent_error(intent, e)),
                }
            }
        }
        report.intents_finished.push(intent.container_id.clone());
    }

    fn stop_orphaned_running(&self, report: &mut ReconcileReport) -> Result<(), Error> {
        for mut record in self.state.list_containers()? {
            if record.running && !self.network_alive(&record) {
                let errors = self.teardown_unlocked(&mut record);
                report.errors.extend(errors);
                report.containers_stopped.push(record.id.clone());
            }
        }
        Ok(())
    }

    fn remove_stray_pins(&self, report: &mut ReconcileReport) -> Result<(), Error> {
        let known: BTreeSet<PathBuf> = self
            .state
            .list_containers()?
            .into_iter()
            .filter_map(|r| r.netns_path)
            .chain(self.state.list_intents()?.into_iter().map(|i| i.netns_path))
            .collect();
        let Ok(entries) = std::fs::read_dir(&self.config.netns_dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = entry.file_name().to_string_lossy().starts_with("podnet-");
            if ours && !known.contains(&path) {
                match self.namespaces.remove(&path, "-") {
                    Ok(()) => report.netns_removed.push(path),
                    Err(e) => report.errors.push(StepError::new(Step::Pins, e)),
                }
            }
        }
        Ok(())
    }

    fn release_stray_leases(&self, report: &mut ReconcileReport) -> Result<(), Error> {
        let holders: BTreeSet<String> = self
            .state
            .list_containers()?
            .into_iter()
            .map(|r| r.id)
            .chain(
                self.state
                    .list_intents()?
                    .into_iter()
                    .map(|i| i.container_id),
            )
            .collect();
        let stray: BTreeSet<String> = self
            .state
            .list_leases()?
            .into_iter()
            .filter(|l| !holders.contains(&l.container_id))
            .map(|l| l.container_id)
            .collect();
        if stray.is_empty() {
            return Ok(());
        }
        let tx = self.state.begin()?;
        for id in &stray {
            report.leases_released += tx.release_all_ips(id)?.len();
        }
        tx.commit()?;
        Ok(())
    }
}
