//! Unit tests for `network_settings`: each branch of podman's getContainerNetworkInfo.

use super::*;
use crate::InspectHostPort;
use std::path::Path;

fn status(ip: &str, mac: &str) -> StatusBlock {
    serde_json::from_str(&format!(
        r#"{{"interfaces":{{"eth0":{{"mac_address":"{mac}","subnets":[{{"ipnet":"{ip}","gateway":"10.88.0.1"}},{{"ipnet":"fe80::42/64"}}]}}}}}}"#
    ))
    .unwrap()
}

fn attach(name: &str, id: Option<&str>, aliases: &[&str]) -> Attachment {
    Attachment {
        name: name.into(),
        id: id.map(Into::into),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    }
}

struct Case {
    networks: Vec<Attachment>,
    status: BTreeMap<String, StatusBlock>,
    ports: Vec<PortMapping>,
    exposed: BTreeMap<u16, Protocols>,
}

impl Case {
    fn new(networks: Vec<Attachment>, status: &[(&str, StatusBlock)]) -> Self {
        Case {
            networks,
            status: status
                .iter()
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect(),
            ports: vec![PortMapping::new(80).with_host_port(8080)],
            exposed: BTreeMap::new(),
        }
    }

    fn run(&self, netns: NetnsState<'_>) -> Result<InspectNetworkSettings, Error> {
        network_settings(
            &SettingsInput::new(netns)
                .with_networks(&self.networks, &self.status)
                .with_port_mappings(&self.ports)
                .with_exposed(&self.exposed),
        )
    }
}

#[test]
fn default_network_alone_fills_container_wide_fields() {
    let case = Case::new(
        vec![attach("podman", Some("2f25"), &[])],
        &[("podman", status("10.88.0.5/16", "aa:aa:aa:aa:aa:01"))],
    );
    let s = case
        .run(NetnsState::Own(Path::new("/run/netns/netns-1")))
        .unwrap();
    assert_eq!(s.sandbox_key, "/run/netns/netns-1");
    assert_eq!(s.basic.ip_address, "10.88.0.5");
    assert_eq!(s.basic.gateway, "10.88.0.1");
    assert_eq!(s.link_local_ipv6_address, "fe80::42");
    assert_eq!(s.link_local_ipv6_prefix_len, 64);
    assert_eq!(s.basic.global_ipv6_address, "");
    assert_eq!(s.networks["podman"].network_id, "2f25");
    assert_eq!(s.networks["podman"].basic.ip_address, "10.88.0.5");
    assert_eq!(
        s.ports["80/tcp"],
        Some(vec![InspectHostPort {
            host_ip: "0.0.0.0".into(),
            host_port: "8080".into()
        }])
    );
}

#[test]
fn other_or_several_networks_leave_container_wide_fields_empty() {
    let case = Case::new(
        vec![
            attach("a", None, &["web"]),
            attach("podman", Some("2f25"), &[]),
        ],
        &[
            ("a", status("10.89.0.5/24", "aa:aa:aa:aa:aa:02")),
            ("podman", status("10.88.0.5/16", "aa:aa:aa:aa:aa:01")),
        ],
    );
    let s = case
        .run(NetnsState::Own(Path::new("/run/netns/x")))
        .unwrap();
    assert_eq!(s.basic, Default::default());
    assert_eq!(s.link_local_ipv6_address, "");
    assert_eq!(s.networks["a"].network_id, "a", "unknown id shows the name");
    assert_eq!(s.networks["a"].aliases, vec!["web"]);
    assert_eq!(s.networks["a"].basic.ip_address, "10.89.0.5");
    assert_eq!(s.networks["podman"].basic.mac_address, "aa:aa:aa:aa:aa:01");

    let case = Case::new(
        vec![attach("a", None, &[])],
        &[("a", status("10.89.0.5/24", "aa:aa:aa:aa:aa:02"))],
    );
    let s = case
        .run(NetnsState::Own(Path::new("/run/netns/x")))
        .unwrap();
    assert_eq!(s.basic.ip_address, "");
    assert_eq!(s.networks["a"].basic.ip_address, "10.89.0.5");
}

#[test]
fn not_running_lists_networks_without_addresses() {
    let case = Case::new(
        vec![attach("a", Some("abc"), &["x"])],
        &[("a", status("10.89.0.5/24", "aa:aa:aa:aa:aa:02"))],
    );
    let s = case.run(NetnsState::Down).unwrap();
    assert_eq!(s.sandbox_key, "");
    assert_eq!(s.networks.len(), 1);
    assert_eq!(s.networks["a"].network_id, "abc");
    assert_eq!(s.networks["a"].aliases, vec!["x"]);
    assert_eq!(s.networks["a"].basic, Default::default());
    assert!(s.ports.contains_key("80/tcp"));

    let s = Case::new(vec![], &[]).run(NetnsState::Down).unwrap();
    assert_eq!(s.networks.keys().collect::<Vec<_>>(), vec!["bridge"]);
    assert_eq!(s.networks["bridge"].network_id, "bridge");
}

#[test]
fn no_network_mode_shows_proc_sandbox_when_running() {
    let case = Case::new(vec![], &[]);
    let s = case.run(NetnsState::NoNetwork { pid: Some(4242) }).unwrap();
    assert_eq!(s.sandbox_key, "/proc/4242/ns/net");
    let s = case.run(NetnsState::NoNetwork { pid: None }).unwrap();
    assert_eq!(s.sandbox_key, "");
}

#[test]
fn joined_namespace_shows_its_addresses_only() {
    let joined = status("192.168.5.5/24", "aa:aa:aa:aa:aa:05");
    let case = Case::new(vec![], &[]);
    let s = case
        .run(NetnsState::Joined {
            status: Some(&joined),
        })
        .unwrap();
    assert_eq!(s.basic.ip_address, "192.168.5.5");
    assert!(s.networks.is_empty());
    assert_eq!(s.sandbox_key, "");
    let s = case.run(NetnsState::Joined { status: None }).unwrap();
    assert_eq!(s.basic, Default::default());
}

#[test]
fn no_status_with_namespace_gives_ports_and_sandbox_only() {
    // pasta / slirp4netns: a namespace but no backend status.
    let s = Case::new(vec![], &[])
        .run(NetnsState::Own(Path::new("/run/netns/p")))
        .unwrap();
    assert_eq!(s.sandbox_key, "/run/netns/p");
    assert!(s.networks.is_empty());
    assert!(s.ports.contains_key("80/tcp"));
}

#[test]
fn single_status_without_named_networks_fills_mode_entry() {
    let case = Case::new(
        vec![],
        &[("slirp", status("10.0.2.100/24", "aa:aa:aa:aa:aa:09"))],
    );
    let s = case
        .run(NetnsState::Own(Path::new("/run/netns/s")))
        .unwrap();
    assert_eq!(s.basic.ip_address, "10.0.2.100");
    assert_eq!(s.networks["bridge"].basic, Default::default());
}

#[test]
fn mismatch_and_too_many_are_errors_naming_the_networks() {
    let case = Case::new(
        vec![attach("a", None, &[])],
        &[("a", StatusBlock::default()), ("b", StatusBlock::default())],
    );
    let e = case
        .run(NetnsState::Own(Path::new("/run/netns/x")))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "network inspection mismatch: container joins 1 network(s) [\"a\"] but has status for 2 network(s)"
    );
    let case = Case::new(
        vec![],
        &[("a", StatusBlock::default()), ("b", StatusBlock::default())],
    );
    let e = case
        .run(NetnsState::Own(Path::new("/run/netns/x")))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected at most 1 network status without named networks, got 2: [\"a\", \"b\"]"
    );
}

/// The `Networks` key of a container on no named network is its mode as podman's
/// `c.NetworkMode()` prints it; the ID shown is the one given, else that name.
#[test]
fn mode_entry_is_named_as_podman_names_the_mode() {
    let status = BTreeMap::new();
    let path = Path::new("/run/netns/x");
    let cases = [
        (ModeName::Bridge, "bridge"),
        (ModeName::None, "none"),
        (ModeName::Host, "host"),
        (ModeName::Slirp4netns, "slirp4netns"),
        (ModeName::Pasta, "pasta"),
        (ModeName::Container("3f1c"), "container:3f1c"),
        (
            ModeName::Ns(Path::new("/run/netns/other")),
            "ns:/run/netns/other",
        ),
    ];
    for (mode, name) in cases {
        let input = SettingsInput::new(NetnsState::Down)
            .with_networks(&[], &status)
            .with_network_mode(mode, None);
        let s = network_settings(&input).unwrap();
        assert_eq!(s.networks.keys().collect::<Vec<_>>(), [name]);
        assert_eq!(s.networks[name].network_id, name);
    }
    let input = SettingsInput::new(NetnsState::Own(path))
        .with_network_mode(ModeName::Slirp4netns, Some("abc"));
    let s = network_settings(&input).unwrap();
    assert_eq!(s.sandbox_key, "/run/netns/x");
    assert!(s.networks.is_empty(), "no status: no entry");
    let s = network_settings(&input.with_netns(NetnsState::Down)).unwrap();
    assert_eq!(s.networks["slirp4netns"].network_id, "abc");
}

#[test]
fn default_input_is_a_stopped_bridge_container_with_nothing() {
    let s = network_settings(&SettingsInput::default()).unwrap();
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        serde_json::to_string(&InspectNetworkSettings {
            networks: BTreeMap::from([(
                "bridge".to_string(),
                InspectAdditionalNetwork {
                    network_id: "bridge".into(),
                    ..Default::default()
                }
            )]),
            ..Default::default()
        })
        .unwrap()
    );
}

#[test]
fn empty_own_path_counts_as_down() {
    let case = Case::new(
        vec![attach("a", None, &[])],
        &[("a", StatusBlock::default())],
    );
    let s = case.run(NetnsState::Own(Path::new(""))).unwrap();
    assert_eq!(s.sandbox_key, "");
    assert_eq!(s.networks["a"].basic, Default::default());
}
