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
//! ```
//! use std::path::Path;
//! use netstatus::{network_settings, parse_setup_output, Attachment, NetnsState, SettingsInput};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // `netavark setup`'s stdout
//! let out = r#"{"podman":{"dns_search_domains":[],"dns_server_ips":[],
//!   "interfaces":{"eth0":{"mac_address":"2e:34:e1:11:a2:0c",
//!   "subnets":[{"gateway":"10.88.0.1","ipnet":"10.88.0.5/16"}]}}}}"#;
//! let status = parse_setup_output("netavark setup", out)?;
//! let networks = [Attachment::new("podman", None, vec![])];
//! let ports = ["8080:80".parse()?];
//! let settings = network_settings(
//!     &SettingsInput::new(NetnsState::Own(Path::new("/run/netns/netns-1234")))
//!         .with_networks(&networks, &status)
//!         .with_port_mappings(&ports),
//! )?;
//! assert_eq!(settings.basic.ip_address, "10.88.0.5");
//! assert_eq!(settings.sandbox_key, "/run/netns/netns-1234");
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
pub use portmap::{PortMapping, Protocol, Protocols};
pub use ports::port_bindings;
pub use settings::{network_settings, Attachment, ModeName, NetnsState, SettingsInput};
pub use status::{parse_setup_output, NetAddress, NetInterface, StatusBlock};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
