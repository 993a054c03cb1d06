//! `inspect`: the container's `NetworkSettings`, as `podman inspect` prints them.

use std::collections::BTreeMap;

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
            .map(|((name, per), net)| Attachment {
                name: name.clone(),
                id: net.ok().map(|n| n.id),
                aliases: per.aliases.clone(),
            })
            .collect();
        let netns_path = record
            .netns_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        let netns = match (&netns_path, record.running) {
            (Some(path), true) => NetnsState::Own(path),
            _ => NetnsState::Down,
        };
        let exposed = BTreeMap::new();
        let default_network = self.networks.default_network_name();
        let settings = network_settings(&SettingsInput {
            netns,
            network_mode: record.network_mode.kind(),
            network_mode_id: None,
            networks: &attachments,
            status: &record.network_status,
            default_network,
            port_mappings: &record.port_mappings,
            exposed: &exposed,
        })
        .map_err(|source| RuntimeError::Inspect {
            container: record.name.clone(),
            source,
        })?;
        Ok(settings)
    }
}
