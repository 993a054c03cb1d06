//! Unit tests for `basic_config` and `link_local_ipv6` on hand-written status JSON.

use super::*;

fn status(json: &str) -> StatusBlock {
    serde_json::from_str(json).unwrap()
}

#[test]
fn primary_and_secondary_per_family_in_sorted_interface_order() {
    // eth1 listed first in the JSON but eth0 sorts first.
    let s = status(
        r#"{"interfaces":{
          "eth1":{"mac_address":"AA:BB:CC:00:00:01","subnets":[
             {"ipnet":"10.2.0.5/16","gateway":"10.2.0.1"},
             {"ipnet":"fd00:2::5/64","gateway":"fd00:2::1"}]},
          "eth0":{"mac_address":"aa:bb:cc:00:00:00","subnets":[
             {"ipnet":"10.1.0.5/24","gateway":"10.1.0.1"},
             {"ipnet":"10.1.1.5/25"},
             {"ipnet":"fd00:1::5/80"}]}}}"#,
    );
    let c = basic_config(&s);
    assert_eq!(c.ip_address, "10.1.0.5");
    assert_eq!(c.ip_prefix_len, 24);
    assert_eq!(c.gateway, "10.1.0.1");
    assert_eq!(
        c.secondary_ip_addresses,
        vec![
            Address {
                addr: "10.1.1.5".into(),
                prefix_length: 25
            },
            Address {
                addr: "10.2.0.5".into(),
                prefix_length: 16
            }
        ]
    );
    assert_eq!(c.global_ipv6_address, "fd00:1::5");
    assert_eq!(c.global_ipv6_prefix_len, 80);
    // The primary IPv6 address had no gateway: "" even though eth1's has one.
    assert_eq!(c.ipv6_gateway, "");
    assert_eq!(
        c.secondary_ipv6_addresses,
        vec![Address {
            addr: "fd00:2::5".into(),
            prefix_length: 64
        }]
    );
    assert_eq!(c.mac_address, "aa:bb:cc:00:00:00");
    // Upper case normalised as Go's HardwareAddr.String() prints it.
    assert_eq!(c.additional_mac_addresses, vec!["aa:bb:cc:00:00:01"]);
    assert_eq!(c.endpoint_id, "");
}

#[test]
fn address_without_gateway_gives_empty_gateway() {
    let c = basic_config(&status(
        r#"{"interfaces":{"eth0":{"mac_address":"aa:bb:cc:dd:ee:ff","subnets":[{"ipnet":"10.0.0.2/24","gateway":null}]}}}"#,
    ));
    assert_eq!(c.ip_address, "10.0.0.2");
    assert_eq!(c.gateway, "");
}

#[test]
fn link_local_ipv6_is_not_global() {
    let s = status(
        r#"{"interfaces":{"eth0":{"mac_address":"aa:bb:cc:dd:ee:ff","subnets":[
            {"ipnet":"fe80::1:2/64"},
            {"ipnet":"febf::9/64"},
            {"ipnet":"fd00::7/64","gateway":"fd00::1"}]}}}"#,
    );
    let c = basic_config(&s);
    assert_eq!(c.global_ipv6_address, "fd00::7");
    assert_eq!(c.ipv6_gateway, "fd00::1");
    assert!(c.secondary_ipv6_addresses.is_empty());
    assert_eq!(
        link_local_ipv6(&s),
        Some(Address {
            addr: "fe80::1:2".into(),
            prefix_length: 64
        })
    );
    // fec0:: is outside fe80::/10: global (site-local, deprecated).
    let s = status(r#"{"interfaces":{"eth0":{"subnets":[{"ipnet":"fec0::1/64"}]}}}"#);
    assert_eq!(basic_config(&s).global_ipv6_address, "fec0::1");
    assert_eq!(link_local_ipv6(&s), None);
}

#[test]
fn ipv4_mapped_ipv6_stays_ipv6() {
    let c = basic_config(&status(
        r#"{"interfaces":{"eth0":{"subnets":[{"ipnet":"::ffff:10.0.0.9/120"}]}}}"#,
    ));
    assert_eq!(c.ip_address, "");
    assert_eq!(c.global_ipv6_address, "::ffff:10.0.0.9");
    assert_eq!(c.global_ipv6_prefix_len, 120);
}

#[test]
fn empty_status_gives_empty_config() {
    assert_eq!(
        basic_config(&StatusBlock::default()),
        InspectBasicNetworkConfig::default()
    );
}

#[test]
fn mac_formats() {
    assert_eq!(normalize_mac("AA-BB-CC-DD-EE-0F"), "aa:bb:cc:dd:ee:0f");
    assert_eq!(normalize_mac(""), "");
    assert_eq!(normalize_mac("not-a-mac"), "not-a-mac");
    assert_eq!(normalize_mac("0a:58:0a:59:fb:05"), "0a:58:0a:59:fb:05");
    assert_eq!(normalize_mac("0a:58:0a:59:fb:0G"), "0a:58:0a:59:fb:0G");
    assert_eq!(normalize_mac("0A:58:0a:59:fb:05"), "0a:58:0a:59:fb:05");
    // 20-byte InfiniBand addresses too.
    let ib = "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:01:23:45";
    assert_eq!(normalize_mac(&ib.to_uppercase()), ib);
}
