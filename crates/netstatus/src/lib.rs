//! Network backend results and what `podman inspect` makes of them.
//!
//! [`StatusBlock`] is what netavark prints after `setup` (one per network);
//! [`basic_config`], [`port_bindings`] and [`network_settings`] turn those
//! results plus a container's port mappings into the `NetworkSettings`
//! object of `podman inspect`, with the same JSON field names and omission
//! rules ([`InspectNetworkSettings`]). Two podman defects are fixed:
//! link-local IPv6 addresses go to `LinkLocalIPv6Address`, not to the
//! global fields, and IPv4-mapped IPv6 addresses stay IPv6.
//!
//! Requires: nothing (pure data conversion, no privileges, no system calls).
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use netstatus::{network_settings, parse_setup_output, Attachment, NetnsState, SettingsInput};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let out = std::fs::read_to_string("setup.json")?; // `netavark setup` stdout
//! let status = parse_setup_output("setup.json", &out)?;
//! let networks = [Attachment { name: "podman".into(), id: None, aliases: vec![] }];
//! let settings = network_settings(&SettingsInput {
//!     netns: NetnsState::Own("/run/netns/netns-1234"),
//!     network_mode: "bridge",
//!     network_mode_id: None,
//!     networks: &networks,
//!     status: &status,
//!     default_network: "podman",
//!     port_mappings: &[],
//!     exposed: &BTreeMap::new(),
//! })?;
//! println!("{}", serde_json::to_string_pretty(&settings)?);
//! # Ok(())
//! # }
//! ```

mod basic;
mod error;
mod inspect;
mod nulls;
mod ports;
mod settings;
mod status;

pub use basic::{basic_config, link_local_ipv6};
pub use error::Error;
pub use inspect::{
    Address, InspectAdditionalNetwork, InspectBasicNetworkConfig, InspectHostPort,
    InspectNetworkSettings, PortBindings,
};
pub use ipnet;
pub use portmap::PortMapping;
pub use ports::port_bindings;
pub use settings::{network_settings, Attachment, NetnsState, SettingsInput};
pub use status::{parse_setup_output, NetAddress, NetInterface, StatusBlock};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
