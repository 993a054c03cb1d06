//! The flows of the network modes netavark has no part in: `none`, `host`, `ns:PATH` and
//! `container:ID` (pods).
//!
//! | mode | start | stop | files |
//! |---|---|---|---|
//! | none | a new `podnet-` pin, `lo` up | the pin removed | own hosts (`127.0.0.1` with the container's names, as podman 5) and resolv.conf (the host's, loopback servers dropped) |
//! | host | nothing: the host's namespace | nothing | own hosts (the host's, no entry of its own, as podman) and resolv.conf (the host's, unfiltered) |
//! | `ns:PATH` | the path checked to be a namespace, joined | nothing: the namespace is not ours | own hosts and resolv.conf (`/etc/netns/NAME/resolv.conf` when it exists) |
//! | `container:ID` | the owner's namespace, hosts and resolv.conf | nothing of the owner's | the owner's |
//!
//! Dependencies follow libpod (`runtime_ctr.go` `removeContainer`, `container_internal.go`
//! `checkDependenciesAndHandleError`): a dependent starts only while its owner runs
//! (podnet starts nothing recursively, as `podman start` without a pod); an owner with
//! dependents, running or not, is not removed, even with force. Stopping an owner first
//! stops its running dependents: their namespace goes with the owner's pin (in podman the
//! processes would stay in a namespace whose interfaces are gone; podnet, which has no
//! processes, records them stopped instead of pointing at a removed pin).
//!
//! pasta and slirp4netns (rootless) get a pin like none plus their own helper process
//! (`rootless::user_mode`), recorded in the container's directory.
//!
//! No backend runs, so no intent is needed: a crash before the record commit leaves at
//! most a `podnet-` pin no record names (`reconcile` removes it), a recorded helper of a
//! stopped container (`reconcile` stops it) and files in the container's own directory,
//! rewritten at the next start.

use std::collections::BTreeMap;
use std::path::PathBuf;

use etchosts::resolvconf::NetnsMode;
use etchosts::HostEntry;
use netstatus::InspectNetworkSettings;

use super::{failpoint, files, ContainerSpec, Runtime, Step, StepError};
use crate::backend::Backend;
use crate::mode::{ModeError, NetworkMode, PastaOptions};
use crate::rootless::user_mode::{self, UserModeNet, UserModeStart};
use crate::{ContainerRecord, Error};

/// podman's hostname default: the host's in host mode (the UTS namespace is the host's
/// too), else the short ID.
pub(super) fn default_hostname(mode: &NetworkMode, id: &str) -> String {
    if *mode == NetworkMode::Host {
        // the UTS namespace's name, as uname(2) gives it
        if let Some(name) = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| crate::validate::hostname(h).is_ok())
        {
            return name;
        }
    }
    super::spec::short_id(id).to_string()
}

impl<B: Backend> Runtime<B> {
    /// The mode `create` records for `spec`: the default resolved, a `container:` owner
    /// looked up (by name, ID or prefix) and recorded by full ID, and the mode's rules on
    /// networks and ports checked.
    pub(super) fn resolve_mode(&self, spec: &ContainerSpec) -> Result<NetworkMode, Error> {
        let mode = match &spec.network_mode {
            // podman 5: rootless without a network named is per-container pasta
            None if crate::in_user_namespace() && spec.networks.is_empty() => {
                NetworkMode::Pasta(PastaOptions::default())
            }
            None => NetworkMode::Bridge,
            Some(NetworkMode::Container(owner)) => {
                let owner = self.container(owner)?;
                if owner.name == spec.name {
                    return Err(ModeError::OwnNamespace(spec.name.clone()).into());
                }
                NetworkMode::Container(owner.id)
            }
            Some(mode) => mode.clone(),
        };
        if matches!(mode, NetworkMode::Pasta(_) | NetworkMode::Slirp4netns(_))
            && !crate::in_user_namespace()
        {
            return Err(ModeError::RootlessOnly {
                container: spec.name.clone(),
                mode: mode.kind(),
            }
            .into());
        }
        if !mode.is_bridge() && !spec.networks.is_empty() {
            return Err(ModeError::NetworksWithMode {
                container: spec.name.clone(),
                mode: mode.kind(),
                networks: spec.networks.iter().map(|r| r.network.clone()).collect(),
            }
            .into());
        }
        if !mode.publishes_ports() && !spec.ports.is_empty() {
            return Err(ModeError::PortsWithMode {
                container: spec.name.clone(),
                mode: mode.kind(),
            }
            .into());
        }
        Ok(mode)
    }

    /// `setup` of a container whose mode has no netavark networks (the flow lock is held).
    pub(super) fn setup_mode(&self, mut record: ContainerRecord) -> Result<ContainerRecord, Error> {
        let mut own_pin = None;
        let mut user_net = None;
        match record.network_mode.clone() {
            NetworkMode::None | NetworkMode::Pasta(_) | NetworkMode::Slirp4netns(_) => {
                let pin = self.create_netns(&record)?;
                failpoint::hit("setup:netns-created");
                let net = self
                    .namespaces
                    .loopback_up(&pin, &record.name)
                    .map_err(Error::from)
                    .and_then(|()| self.start_user_mode(&record, &pin));
                match net {
                    Ok(net) => user_net = net,
                    Err(e) => {
                        self.remove_netns_logged(&record, &pin);
                        return Err(e);
                    }
                }
                record.netns_path = Some(pin.clone());
                own_pin = Some(pin);
            }
            NetworkMode::Host => record.netns_path = None,
            NetworkMode::Path(path) => {
                if !self.namespaces.is_alive(&path) {
                    return Err(ModeError::NotANamespace {
                        container: record.name,
                        path,
                    }
                    .into());
                }
                record.netns_path = Some(path);
            }
            NetworkMode::Container(owner_id) => {
                let owner = self.container(&owner_id)?;
                if !owner.running {
                    return Err(ModeError::OwnerNotRunning {
                        id: record.id,
                        owner: owner.id,
                    }
                    .into());
                }
                record.netns_path = owner.netns_path;
                record.hosts_path = owner.hosts_path;
                record.resolv_conf_path = owner.resolv_conf_path;
            }
            // the backend flow sets bridge mode up; reaching here is a bug, not a crash
            NetworkMode::Bridge => return Err(ModeError::BridgeIsNotAMode(record.name).into()),
        }
        let undo = |rt: &Self, record: &ContainerRecord| {
            if user_net.is_some() {
                rt.stop_user_mode(record);
            }
            if let Some(pin) = &own_pin {
                rt.remove_netns_logged(record, pin);
            }
        };
        if record.network_mode.owner().is_none() {
            match self.write_mode_files(&record, user_net) {
                Ok((hosts, resolv)) => {
                    record.hosts_path = hosts;
                    record.resolv_conf_path = Some(resolv);
                }
                Err(e) => {
                    undo(self, &record);
                    return Err(e);
                }
            }
        }
        record.running = true;
        record.network_status.clear();
        let committed = self.state.begin().and_then(|tx| {
            tx.put_container(&record)?;
            tx.commit()
        });
        if let Err(e) = committed {
            undo(self, &record);
            return Err(e.into());
        }
        tracing::debug!(container = %record.name, mode = %record.network_mode, "network mode set up");
        Ok(record)
    }

    /// hosts and resolv.conf of a none, host or `ns:` container (podman's `getHostsEntries`
    /// and resolv.conf rules per mode).
    fn write_mode_files(
        &self,
        record: &ContainerRecord,
        user_net: Option<UserModeNet>,
    ) -> Result<(Option<PathBuf>, PathBuf), Error> {
        let names = files::own_names(record);
        let own_ip = match (&record.network_mode, user_net) {
            (NetworkMode::None, _) => Some(std::net::Ipv4Addr::LOCALHOST.into()),
            (_, Some(net)) => net.address,
            _ => None,
        };
        let container_ips = own_ip
            .map(|ip| vec![HostEntry::new(ip, names.iter().copied())])
            .unwrap_or_default();
        let netns = match &record.network_mode {
            NetworkMode::Host => NetnsMode::Host,
            _ => NetnsMode::Private(record.netns_path.clone()),
        };
        let status = BTreeMap::new();
        let content = files::EtcContent {
            container_ips,
            host_internal: files::host_local_ip(),
            netns,
            nameservers: user_net.map(|n| n.nameserver).into_iter().collect(),
            status: &status,
        };
        Ok(files::write(&self.config, record, &content)?)
    }

    /// `teardown` of a container without netavark networks: its own pin removed (none),
    /// nothing of a namespace it joined; the record marked stopped. The errors.
    pub(super) fn teardown_mode(&self, record: &mut ContainerRecord) -> Vec<StepError> {
        let mut errors = self.stop_user_mode(record);
        if record.network_mode.owns_netns() {
            if let Some(pin) = &record.netns_path {
                if let Err(e) = self.namespaces.remove(pin, &record.name) {
                    errors.push(StepError::new(Step::Netns, e));
                }
            }
        }
        failpoint::hit("teardown:backend-done");
        if record.network_mode.owner().is_some() {
            // the owner's files, not ours to keep pointing at
            record.hosts_path = None;
            record.resolv_conf_path = None;
        }
        errors.extend(self.save_stopped(record));
        errors
    }

    /// Stops the running containers that share `record`'s namespace, before it goes.
    pub(super) fn stop_dependents(&self, record: &ContainerRecord) -> Vec<StepError> {
        let dependents = match self.state.dependents(&record.id) {
            Ok(d) => d,
            Err(e) => return vec![StepError::new(Step::State, e)],
        };
        let mut errors = Vec::new();
        for mut dependent in dependents.into_iter().filter(|d| d.running) {
            tracing::debug!(owner = %record.name, container = %dependent.name, "stopping a dependent with its owner");
            errors.extend(self.teardown_unlocked(&mut dependent));
        }
        errors
    }

    /// libpod's rule: an owner with dependents is not removed.
    pub(super) fn refuse_if_dependents(&self, record: &ContainerRecord) -> Result<(), Error> {
        let dependents = self.state.dependents(&record.id)?;
        if dependents.is_empty() {
            return Ok(());
        }
        Err(ModeError::HasDependents {
            id: record.id.clone(),
            dependents: dependents.into_iter().map(|d| d.id).collect(),
        }
        .into())
    }

    /// True while the container's network exists: host mode always, others while their
    /// namespace is alive.
    pub(super) fn network_alive(&self, record: &ContainerRecord) -> bool {
        match (&record.network_mode, &record.netns_path) {
            (NetworkMode::Host, _) => true,
            (NetworkMode::Container(_), None) => {
                // an owner in host mode: alive while the owner runs
                self.container(record.network_mode.owner().unwrap_or_default())
                    .is_ok_and(|owner| owner.running)
            }
            (_, Some(path)) => self.namespaces.is_alive(path),
            (_, None) => false,
        }
    }

    /// `inspect` of a container without netavark networks: podman 4.3's shape. none and
    /// host show only `Ports` (podman 4.3 leaves `SandboxKey` and `Networks` out; checked
    /// against podman 4.3 in `tests/modes.rs`); a running `ns:` container the addresses
    /// and MAC found in the joined namespace (libpod's `inspectJoinedNetworkNS`); a
    /// `container:` dependent its owner's settings, as podman does.
    pub(super) fn inspect_mode(
        &self,
        record: &ContainerRecord,
    ) -> Result<InspectNetworkSettings, Error> {
        if let Some(owner) = record.network_mode.owner() {
            return self.inspect(owner);
        }
        if let (NetworkMode::Path(path), true) = (&record.network_mode, record.running) {
            // podman 4.3 shows what it finds in the joined namespace
            let status = super::joined::status_of(path);
            let joined = netstatus::NetnsState::Joined {
                status: status.as_ref(),
            };
            let settings = netstatus::network_settings(
                &netstatus::SettingsInput::new(joined)
                    .with_network_mode(record.network_mode.name(), None)
                    .with_default_network(self.networks.default_network_name())
                    .with_port_mappings(&record.port_mappings),
            )
            .map_err(|source| crate::runtime::RuntimeError::Inspect {
                container: record.name.clone(),
                source,
            })?;
            return Ok(settings);
        }
        let user_mode = matches!(
            record.network_mode,
            NetworkMode::Pasta(_) | NetworkMode::Slirp4netns(_)
        );
        let sandbox_key = match (&record.netns_path, record.running && user_mode) {
            // podman 4.3's slirp4netns shape: the namespace, no addresses
            (Some(path), true) => path.to_string_lossy().into_owned(),
            _ => String::new(),
        };
        Ok(InspectNetworkSettings {
            ports: netstatus::port_bindings(&record.port_mappings, &BTreeMap::new()),
            sandbox_key,
            ..InspectNetworkSettings::default()
        })
    }

    /// Starts a pasta or slirp4netns container's own helper in `pin`; `None` for other
    /// modes.
    fn start_user_mode(
        &self,
        record: &ContainerRecord,
        pin: &std::path::Path,
    ) -> Result<Option<UserModeNet>, Error> {
        if !matches!(
            record.network_mode,
            NetworkMode::Pasta(_) | NetworkMode::Slirp4netns(_)
        ) {
            return Ok(None);
        }
        let dir = files::container_dir(&self.config, &record.id);
        let net = user_mode::start(&UserModeStart {
            container_id: &record.id,
            mode: &record.network_mode,
            netns: pin,
            dir: &dir,
            ports: &record.port_mappings,
            forwarder: self.config.port_forwarder.as_deref(),
            pasta_options: &self.config.pasta_options,
        })?;
        failpoint::hit("setup:backend-done");
        Ok(Some(net))
    }

    /// Stops a container's own pasta or slirp4netns and its port forwarder; the errors.
    fn stop_user_mode(&self, record: &ContainerRecord) -> Vec<StepError> {
        let dir = files::container_dir(&self.config, &record.id);
        user_mode::stop(&dir, &record.id)
            .into_iter()
            .map(|e| StepError::new(Step::NetworkHelper, e))
            .collect()
    }

    /// reconcile's part: a stopped pasta or slirp4netns container's helper left by a crash
    /// is stopped; a running one's dead helper (killed) is reported and started again in
    /// the container's namespace.
    pub(super) fn repair_user_mode(
        &self,
        report: &mut super::ReconcileReport,
    ) -> Result<(), Error> {
        for record in self.state.list_containers()? {
            if !matches!(
                record.network_mode,
                NetworkMode::Pasta(_) | NetworkMode::Slirp4netns(_)
            ) {
                continue;
            }
            let dir = files::container_dir(&self.config, &record.id);
            let alive = user_mode::helper_alive(&dir);
            match (&record.netns_path, record.running) {
                (Some(pin), true) if alive != Some(true) => {
                    report.errors.extend(self.stop_user_mode(&record));
                    match self.start_user_mode(&record, pin) {
                        Ok(_) => report.helpers_restarted.push(record.id.clone()),
                        Err(e) => report
                            .errors
                            .push(StepError::new(Step::Container(record.id.clone()), e)),
                    }
                }
                (_, false) if alive.is_some() => {
                    let errors = self.stop_user_mode(&record);
                    if errors.is_empty() {
                        report.helpers_stopped.push(record.id.clone());
                    }
                    report.errors.extend(errors);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The refusal for connect/disconnect on a container outside bridge mode.
    pub(super) fn require_bridge(&self, record: &ContainerRecord) -> Result<(), Error> {
        if record.network_mode.is_bridge() {
            return Ok(());
        }
        Err(ModeError::NotBridge {
            container: record.name.clone(),
            mode: record.network_mode.kind(),
        }
        .into())
    }
}

#[cfg(test)]
#[path = "modes_tests.rs"]
mod tests;
