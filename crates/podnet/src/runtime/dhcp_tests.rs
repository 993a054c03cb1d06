//! Unit tests of a container on a `--ipam-driver dhcp` macvlan network with the recording
//! fake backend, whose setup answers with a lease of its fake DHCP server as netavark does:
//! podnet leases nothing and passes no address (podman's `requiresIPAMAlloc` is false),
//! and the address the backend reports is what the status, the hosts file and inspect
//! show. `tests/dhcp.rs` (podnet-cli) runs it with netavark 2.x and a real DHCP server.

#![allow(clippy::unwrap_used)]

use super::tests::{fixture, read, spec};
use crate::backend::testing::BackendCall;
use crate::Network;

fn dhcp_network() -> Network {
    let mut net = Network {
        name: "pntdh".into(),
        driver: crate::MACVLAN_DRIVER.into(),
        ..Network::default()
    };
    net.ipam_options
        .insert(crate::IPAM_DRIVER_KEY.into(), crate::DHCP_IPAM.into());
    net
}

#[test]
fn dhcp_network_leases_nothing_and_records_the_backends_address() {
    let f = fixture();
    f.rt.create_network(dhcp_network()).unwrap();
    f.rt.create(&spec("c1", &["pntdh"])).unwrap();
    f.rt.create(&spec("c2", &["pntdh"])).unwrap();
    let c1 = f.rt.setup("c1").unwrap();
    let c2 = f.rt.setup("c2").unwrap();

    // no address chosen by podnet: none leased, none passed to the backend
    assert!(f.rt.state().list_leases().unwrap().is_empty());
    for call in f.rt.backend().calls() {
        let BackendCall::Setup { options, .. } = call else {
            panic!("only setups so far: {call:?}")
        };
        assert!(
            options.networks["pntdh"].static_ips.is_empty(),
            "{options:?}"
        );
    }

    // the fake DHCP server's leases (FAKE_DHCP_POOL, .100 then .101), as reported
    let eth0 = &c1.network_status["pntdh"].interfaces["eth0"];
    assert_eq!(eth0.subnets[0].ipnet.to_string(), "198.51.100.100/24");
    assert_eq!(
        c2.network_status["pntdh"].interfaces["eth0"].subnets[0]
            .ipnet
            .to_string(),
        "198.51.100.101/24"
    );
    let inspect = serde_json::to_value(f.rt.inspect("c1").unwrap()).unwrap();
    assert_eq!(inspect["Networks"]["pntdh"]["IPAddress"], "198.51.100.100");
    assert_eq!(inspect["Networks"]["pntdh"]["Gateway"], "198.51.100.1");
    let hosts = read(c1.hosts_path.as_ref().unwrap());
    assert!(
        hosts.contains(&format!("198.51.100.100\t{} c1\n", c1.hostname)),
        "{hosts}"
    );

    // stop: the backend releases the lease (netavark's teardown asks the proxy)
    f.rt.teardown("c1").unwrap();
    let calls = f.rt.backend().calls();
    assert!(
        matches!(calls.last(), Some(BackendCall::Teardown { .. })),
        "{calls:?}"
    );
    assert!(f.rt.state().list_leases().unwrap().is_empty());
}
