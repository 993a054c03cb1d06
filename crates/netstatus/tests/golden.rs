//! Golden tests: real netavark output (tests/data/setup-*.json, captured by
//! tests/data/capture.sh) converted to podman inspect JSON, compared byte
//! for byte with hand-written expectations (tests/data/inspect-*.json).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netstatus::{
    network_settings, parse_setup_output, Attachment, NetnsState, PortMapping, SettingsInput,
    StatusBlock,
};

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Port mappings of the capture input, read independently of the crate.
fn input_ports(name: &str) -> Vec<PortMapping> {
    let input: serde_json::Value = serde_json::from_str(&data(name)).unwrap();
    serde_json::from_value(input["port_mappings"].clone()).unwrap_or_default()
}

fn settings_json(
    setup: &str,
    input: &str,
    networks: &[Attachment],
    default_network: &str,
) -> String {
    let status = parse_setup_output(setup, &data(setup)).unwrap();
    let ports = input_ports(input);
    let settings = network_settings(
        &SettingsInput::new(NetnsState::Own(Path::new("/run/netns/pntcap-ctr")))
            .with_networks(networks, &status)
            .with_default_network(default_network)
            .with_port_mappings(&ports),
    )
    .unwrap();
    serde_json::to_string(&settings).unwrap()
}

#[test]
fn dualstack_default_network_matches_podman_shape() {
    let networks = [Attachment::new(
        "pntcap",
        Some("3f1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a".into()),
        vec!["web".into()],
    )];
    let got = settings_json(
        "setup-dualstack.json",
        "input-dualstack.json",
        &networks,
        "pntcap",
    );
    assert_eq!(got, data("inspect-dualstack.json").trim());
}

#[test]
fn two_networks_with_null_gateway_match_podman_shape() {
    let networks = [
        Attachment::new(
            "pntcap-a",
            Some("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90".into()),
            vec![],
        ),
        Attachment::new(
            "pntcap-internal",
            Some("b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90".into()),
            vec![],
        ),
    ];
    let got = settings_json(
        "setup-two-networks.json",
        "input-two-networks.json",
        &networks,
        "podman",
    );
    assert_eq!(got, data("inspect-two-networks.json").trim());
}

#[test]
fn captured_status_round_trips_through_netavark_shape() {
    // What we write is what netavark wrote (field order and nulls included).
    for name in ["setup-dualstack.json", "setup-two-networks.json"] {
        let text = data(name);
        let parsed: BTreeMap<String, StatusBlock> = parse_setup_output(name, &text).unwrap();
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            text.trim(),
            "{name}"
        );
    }
}

#[test]
fn captured_inspect_json_reads_back() {
    for name in ["inspect-dualstack.json", "inspect-two-networks.json"] {
        let text = data(name);
        let parsed: netstatus::InspectNetworkSettings = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            text.trim(),
            "{name}"
        );
    }
}
