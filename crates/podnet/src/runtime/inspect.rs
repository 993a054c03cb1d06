//! `inspect`: the container's `NetworkSettings`, as `podman inspect` prints them.

use netstatus::{network_settings, Attachment, InspectNetworkSettings, NetnsState, SettingsInput};

use super::{Runtime, RuntimeError};
use crate::backend::Backend;
use crate::Error;

impl<B: Backend> Runtime<B> {
    /// The container's network settings (podman's `getContainerNetworkInfo`): ports,
    /// sandbox key, per-network addresses, and the container-wide ones when it is on the
    /// default network only.
    pub fn inspect(&self, name_or_id: &str) -> Result<InspectNetworkSettings, Error> {
        let record = self.container(name_or_id)?;
        if !record.network_mode.is_bridge() {
            return self.inspect_mode(&record);
        }
        let found = self.lookup_networks(&record)?;
        let attachments: Vec<Attachment> = record
            .networks
            .iter()
            .zip(found)
            .map(|((name, per), net)| {
                Attachment::new(name.clone(), net.ok().map(|n| n.id), per.aliases.clone())
            })
            .collect();
        let netns = match (&record.netns_path, record.running) {
            (Some(path), true) => NetnsState::Own(path),
            _ => NetnsState::Down,
        };
        let settings = network_settings(
            &SettingsInput::new(netns)
                .with_network_mode(record.network_mode.name(), None)
                .with_networks(&attachments, &record.network_status)
                .with_default_network(self.networks.default_network_name())
                .with_port_mappings(&record.port_mappings),
        )
        .map_err(|source| RuntimeError::Inspect {
            container: record.name.clone(),
            source,
        })?;
        Ok(settings)
    }
}
