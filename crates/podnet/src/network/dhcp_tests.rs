//! Unit tests of `--ipam-driver dhcp` in the network store: the file podman 5 writes for
//! a macvlan network, and the refusals of containers/common 0.58 (podman 5), each naming
//! the input and writing nothing. Podman 4.3 (containers/common 0.50) refuses every dhcp
//! network ("dhcp ipam driver is not yet supported with netavark"), so the reference is
//! containers/common's `createIpvlanOrMacvlan` and `validateIPAMDriver`.

#![allow(clippy::unwrap_used)]

use std::fs;

use super::tests::store;
use super::*;

fn dhcp(name: &str, driver: &str) -> Network {
    let mut n = Network {
        name: name.into(),
        driver: driver.into(),
        network_interface: "eth0".into(),
        // the CLI's default; podman 5 turns it off for macvlan
        dns_enabled: true,
        ..Default::default()
    };
    n.ipam_options.insert("driver".into(), "dhcp".into());
    n
}

#[test]
fn macvlan_dhcp_writes_podman_5s_file() {
    let tmp = tempfile::tempdir().unwrap();
    let n = store(tmp.path()).create(dhcp("pntdh", "macvlan")).unwrap();
    let written = fs::read_to_string(tmp.path().join("networks/pntdh.json")).unwrap();
    // `podman network create -d macvlan -o parent=eth0 --ipam-driver dhcp pntdh`, podman 5:
    // no subnets (Go omits the empty slice), DNS off, the driver kept
    let expected = format!(
        r#"{{
     "name": "pntdh",
     "id": "{}",
     "driver": "macvlan",
     "network_interface": "eth0",
     "created": "{}",
     "ipv6_enabled": false,
     "internal": false,
     "dns_enabled": false,
     "ipam_options": {{
          "driver": "dhcp"
     }}
}}
"#,
        n.id, n.created
    );
    assert_eq!(written, expected);
    assert_eq!(n.ipam_driver(), DHCP_IPAM);
    assert!(!n.requires_ipam(), "no lease for a dhcp network");
}

fn assert_refused(tmp: &std::path::Path, net: Network, needle: &str) {
    let name = net.name.clone();
    let err = store(tmp).create(net).unwrap_err().to_string();
    assert!(err.contains(needle), "{err}");
    assert!(err.contains(&name), "names the network: {err}");
    assert!(
        !tmp.join("networks").join(format!("{name}.json")).exists(),
        "nothing written for {name}"
    );
}

#[test]
fn dhcp_refused_on_bridge_ipvlan_and_with_subnets() {
    let tmp = tempfile::tempdir().unwrap();
    assert_refused(
        tmp.path(),
        dhcp("pntdhbr", "bridge"),
        "ipam driver dhcp is not supported with the bridge driver, only with macvlan",
    );
    assert_refused(
        tmp.path(),
        dhcp("pntdhiv", "ipvlan"),
        "ipam driver dhcp is not supported with the ipvlan driver",
    );
    let mut with_subnet = dhcp("pntdhsub", "macvlan");
    with_subnet
        .subnets
        .push(Subnet::new("192.168.52.0/24".parse().unwrap()));
    assert_refused(
        tmp.path(),
        with_subnet,
        "ipam driver dhcp is set but subnets are given",
    );
    let mut with_dns = dhcp("pntdhdns", "macvlan");
    with_dns
        .network_dns_servers
        .push("192.168.52.1".parse().unwrap());
    assert_refused(
        tmp.path(),
        with_dns,
        "cannot set DNS servers if DNS is not enabled",
    );
}

#[test]
fn unknown_ipam_driver_names_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let mut n = dhcp("pntdhx", "macvlan");
    n.ipam_options.insert("driver".into(), "static".into());
    let err = store(tmp.path()).create(n).unwrap_err().to_string();
    assert_eq!(
        err,
        r#"unsupported ipam driver "static": the ipam drivers are host-local, none and dhcp"#
    );
}
