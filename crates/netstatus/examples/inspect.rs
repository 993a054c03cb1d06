//! Turns `netavark setup` output into the `NetworkSettings` that
//! `podman inspect` would print for a container on those networks.
//!
//! podman equivalent: `podman inspect --format '{{json .NetworkSettings}}' CTR`.
//!
//! Run: `cargo run -p podnet-netstatus --example inspect -- SETUP.json [DEFAULT_NETWORK]`
//! e.g. with `crates/netstatus/tests/data/setup-dualstack.json pntcap`.

use std::path::Path;

use netstatus::{network_settings, parse_setup_output, Attachment, NetnsState, SettingsInput};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: inspect SETUP.json [DEFAULT_NETWORK]")?;
    let default_network = args.next().unwrap_or_else(|| "podman".to_string());
    let text = std::fs::read_to_string(&path)?;
    let status = parse_setup_output(&path, &text)?;
    let networks: Vec<Attachment> = status
        .keys()
        .map(|name| Attachment::new(name.clone(), None, Vec::new()))
        .collect();
    let settings = network_settings(
        &SettingsInput::new(NetnsState::Own(Path::new("/run/netns/example")))
            .with_networks(&networks, &status)
            .with_default_network(&default_network),
    )?;
    println!("{}", serde_json::to_string_pretty(&settings)?);
    Ok(())
}
