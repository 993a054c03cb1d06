//! `cargo xtask demo`: the main job, run on this machine.
//!
//! Part 1 shows the leaf crates on their own: what rootless-detect sees here, `-p` specs
//! parsed and merged, and a netavark result captured on this machine kind turned into
//! `podman inspect` JSON. Part 2 drives the `podnet` CLI through a container's network life.

use std::collections::BTreeMap;

use netstatus::{network_settings, Attachment, NetnsState, SettingsInput};

/// A real `netavark setup` result captured on this machine kind (see the netstatus test data).
const CAPTURED_SETUP: &str = include_str!("../../crates/netstatus/tests/data/setup-dualstack.json");

/// Installs what the demo needs, then runs both parts.
pub fn run() -> Result<(), String> {
    crate::setup::run(&crate::setup::Wanted { peers: false })?;
    leaf_crates()?;
    Ok(())
}

fn heading(text: &str) {
    println!("\n== {text}");
}

fn leaf_crates() -> Result<(), String> {
    heading("rootless-detect: what this process is");
    match rootless_detect::classify() {
        Ok(c) => println!("{c}"),
        Err(e) => println!("could not classify: {e}"),
    }
    match rootless_detect::runtime_dir() {
        Ok(dir) => println!("runtime dir: {}", dir.display()),
        Err(e) => println!("runtime dir: {e}"),
    }

    heading("portmap: -p specs parsed, then merged into netavark's ranges");
    let specs = [
        "8080:80/tcp",
        "8081:81",
        "127.0.0.1:5353:53/udp,tcp",
        "[::1]:9000-9001:9000-9001",
        "90000:80",
    ];
    let mut parsed = Vec::new();
    for spec in specs {
        match portmap::parse_publish(spec) {
            Ok(mapping) => {
                let json = serde_json::to_string(&mapping).map_err(|e| e.to_string())?;
                println!("-p {spec:<28} -> {json}");
                parsed.push(mapping);
            }
            Err(e) => println!("-p {spec:<28} -> error: {e}"),
        }
    }
    let canonical = portmap::canonicalize(&parsed).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&canonical).map_err(|e| e.to_string())?;
    println!("canonical form:\n{json}");

    heading("netstatus: a captured netavark result as `podman inspect` NetworkSettings");
    let status = netstatus::parse_setup_output("captured setup-dualstack.json", CAPTURED_SETUP)
        .map_err(|e| e.to_string())?;
    let networks: Vec<Attachment> = status
        .keys()
        .map(|name| Attachment {
            name: name.clone(),
            id: None,
            aliases: vec!["demo".into()],
        })
        .collect();
    let exposed = BTreeMap::new();
    let settings = network_settings(&SettingsInput {
        netns: NetnsState::Own("/run/netns/netns-demo"),
        network_mode: "bridge",
        network_mode_id: None,
        networks: &networks,
        status: &status,
        default_network: "podman",
        port_mappings: &canonical,
        exposed: &exposed,
    })
    .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string_pretty(&settings).map_err(|e| e.to_string())?
    );
    Ok(())
}
