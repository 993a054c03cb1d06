//! Port reservation: while a rootful container runs, its published TCP and UDP host ports
//! are held bound by a long-lived podnet process, as podman 4.3 holds them through
//! conmon, so any other program, podman included, gets "address already in use" instead
//! of silently sharing the port with a DNAT rule. SCTP is not held (as in podman).
//!
//! A holder is a port forwarder that forwards nothing (`rootless/forwarder.rs`, started
//! and stopped by `rootless/ports.rs`), recorded as `port-holders/ports/<container id>`
//! next to the runtime lock (`/run/podnet`). It is started once the ports are checked
//! free, before anything else of the setup, and kept only if the container ends up
//! running; the teardown stops it; `reconcile` restarts the missing holders of running
//! containers (after a crash of the holder) and stops those of stopped ones.
//!
//! Off when [`RuntimeConfig::port_holder`](super::RuntimeConfig::port_holder) is `None`:
//! containers.conf's `[engine] enable_port_reservation = false`, a rootless runtime
//! (its forwarders hold the ports anyway), or no program to run.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;

use super::{Step, StepError};
use crate::backend::Backend;
use crate::rootless::ports;
use crate::rootless::{forwards_for, PortForward};
use crate::{ContainerRecord, Error};

use super::{ReconcileReport, Runtime, RuntimeConfig};

fn holders_dir(config: &RuntimeConfig) -> PathBuf {
    config.lock_file.with_file_name("port-holders")
}

/// The sockets a holder binds for `mappings`: every TCP and UDP host port.
fn held_ports(mappings: &[portmap::PortMapping]) -> Vec<PortForward> {
    forwards_for(mappings, IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Stops the container's holder when dropped, unless the container ended up running.
pub(super) struct PortClaim<'a, B: Backend> {
    rt: &'a Runtime<B>,
    container_id: Option<String>,
}

impl<B: Backend> Drop for PortClaim<'_, B> {
    fn drop(&mut self) {
        let Some(id) = self.container_id.take() else {
            return;
        };
        let running = matches!(self.rt.state.get_container(&id), Ok(Some(c)) if c.running);
        if !running {
            self.rt.stop_port_holder(&id);
        }
    }
}

impl<B: Backend> Runtime<B> {
    /// Starts the holder of `record`'s published ports (when reservation is on).
    pub(super) fn claim_ports(&self, record: &ContainerRecord) -> Result<PortClaim<'_, B>, Error> {
        let mut claim = PortClaim {
            rt: self,
            container_id: None,
        };
        let Some(program) = &self.config.port_holder else {
            return Ok(claim);
        };
        let held = held_ports(&record.port_mappings);
        if held.is_empty() {
            return Ok(claim);
        }
        ports::start_holder(
            &holders_dir(&self.config),
            &record.id,
            Command::new(program),
            &held,
        )?;
        claim.container_id = Some(record.id.clone());
        tracing::debug!(container = %record.name, ports = held.len(), "host ports held");
        Ok(claim)
    }

    /// Stops the container's holder, if any (logged on failure).
    pub(super) fn stop_port_holder(&self, container_id: &str) {
        if self.config.port_holder.is_none() {
            return;
        }
        if let Err(e) = ports::stop(&holders_dir(&self.config), container_id) {
            tracing::warn!(container_id, error = %e, "cannot stop the port holder");
        }
    }

    /// Restarts the missing holders of running containers and stops those of stopped
    /// ones.
    pub(super) fn restore_port_holders(&self, report: &mut ReconcileReport) -> Result<(), Error> {
        let Some(program) = &self.config.port_holder else {
            return Ok(());
        };
        let dir = holders_dir(&self.config);
        for record in self.state.list_containers()? {
            let held = held_ports(&record.port_mappings);
            let live = ports::live(&dir, &record.id).is_some();
            if record.running && !held.is_empty() && !live {
                match ports::start_holder(&dir, &record.id, Command::new(program), &held) {
                    Ok(_) => report.port_holders_restored.push(record.id.clone()),
                    Err(e) => report
                        .errors
                        .push(StepError::new(Step::Container(record.id.clone()), e)),
                }
            } else if !record.running && live {
                self.stop_port_holder(&record.id);
            }
        }
        Ok(())
    }
}
