//! The netavark backend against the real netavark binary (root): two
//! containers on a hand-written bridge network reach each other, a published
//! port answers on the host's 127.0.0.1, teardown leaves nothing behind, and a
//! bad network gives netavark's own message as a typed error.
//!
//! Everything happens inside a throwaway "host" network namespace, so the
//! bridge, the veths and the iptables rules never touch the machine's own.
#![allow(clippy::unwrap_used)]

mod netavark_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use netavark_support::{bridge_network, can_run, firewall, netavark, run, Netns};
use podnet::{Backend, BackendError, NetworkOptions, PerNetworkOptions};
use portmap::PortMapping;

fn container(id: &str, name: &str, network: &podnet::Network, ip: &str) -> NetworkOptions {
    let mut opts = NetworkOptions::new(format!("{id:0<64}"), name);
    let per = {
        let mut v = PerNetworkOptions::new("eth0");
        v.static_ips = vec![ip.parse().unwrap()];
        v
    };
    opts.add_network(network, per);
    opts
}

#[test]
fn two_containers_ping_publish_and_teardown_clean() {
    if !can_run("two_containers_ping_publish_and_teardown_clean") {
        return;
    }
    let pid = std::process::id();
    let host = Netns::new(format!("pntnv-{pid}-h"));
    let a = Netns::new(format!("pntnv-{pid}-a"));
    let b = Netns::new(format!("pntnv-{pid}-b"));
    let config = tempfile::tempdir().unwrap();
    let nv = netavark(&config, false, &host);
    let bridge = format!("pntnv{pid}");
    let network = bridge_network("pntnv", &bridge, "10.89.251.0/24", "10.89.251.1", false);

    let mut opts_a = container("a1", "pntnv-a", &network, "10.89.251.10");
    opts_a
        .port_mappings
        .push(PortMapping::new(8080).with_host_port(18080));
    let opts_b = container("b2", "pntnv-b", &network, "10.89.251.11");

    let status_a = nv.setup(&a.path(), &opts_a).unwrap();
    let status_b = nv.setup(&b.path(), &opts_b).unwrap();

    let eth0 = &status_a["pntnv"].interfaces["eth0"];
    assert_eq!(eth0.subnets.len(), 1);
    assert_eq!(eth0.subnets[0].ipnet.to_string(), "10.89.251.10/24");
    assert_eq!(eth0.subnets[0].gateway.unwrap().to_string(), "10.89.251.1");
    assert_eq!(eth0.mac_address.len(), 17);
    assert_eq!(
        status_b["pntnv"].interfaces["eth0"].subnets[0]
            .ipnet
            .to_string(),
        "10.89.251.11/24"
    );
    // The kernel agrees with the status block.
    let addr = run(&["ip", "-n", &a.name, "-o", "-4", "addr", "show", "eth0"]);
    assert!(addr.contains("inet 10.89.251.10/24"), "{addr}");
    let mac = run(&["ip", "-n", &a.name, "link", "show", "eth0"]);
    assert!(mac.contains(&eth0.mac_address), "{mac}");

    // B reaches A over the bridge.
    let ping = b.exec(&["busybox", "ping", "-c1", "-W2", "10.89.251.10"]);
    assert!(
        ping.status.success(),
        "ping: {}",
        String::from_utf8_lossy(&ping.stdout)
    );

    // A listener in A answers on the host's 127.0.0.1:18080 (netavark's DNAT
    // plus route_localnet on the bridge).
    let listener = a.run_in(|| TcpListener::bind("0.0.0.0:8080").unwrap());
    let server = std::thread::spawn(move || {
        let (mut conn, peer) = listener.accept().unwrap();
        let mut buf = [0u8; 5];
        conn.read_exact(&mut buf).unwrap();
        conn.write_all(b"pong!").unwrap();
        (buf, peer)
    });
    let reply = host.run_in(|| {
        let mut s =
            TcpStream::connect_timeout(&"127.0.0.1:18080".parse().unwrap(), Duration::from_secs(3))
                .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.write_all(b"ping!").unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        buf
    });
    let (got, peer) = server.join().unwrap();
    assert_eq!(&got, b"ping!");
    assert_eq!(&reply, b"pong!");
    // Masqueraded to the bridge address, as netavark's HOSTPORT-MASQ does.
    assert_eq!(peer.ip().to_string(), "10.89.251.1");

    let rules = firewall(&host);
    assert!(
        rules.contains("10.89.251.10:8080"),
        "no DNAT rule:\n{rules}"
    );

    nv.teardown(&a.path(), &opts_a).unwrap();
    nv.teardown(&b.path(), &opts_b).unwrap();
    let link = host.exec(&["ip", "link", "show", &bridge]);
    assert!(!link.status.success(), "bridge {bridge} still there");
    let links = run(&["ip", "-n", &host.name, "-o", "link"]);
    assert_eq!(links.lines().count(), 1, "only lo is left: {links}");
    assert!(!run(&["ip", "-n", &a.name, "-o", "link"]).contains("eth0"));
    let left = host.run_in(|| testkit::firewall_leftovers("10.89.251."));
    assert!(left.is_empty(), "rules left: {left:#?}");
}

#[test]
fn unknown_driver_gives_netavarks_message() {
    if !can_run("unknown_driver_gives_netavarks_message") {
        return;
    }
    let pid = std::process::id();
    let host = Netns::new(format!("pntnv-{pid}-eh"));
    let c = Netns::new(format!("pntnv-{pid}-ec"));
    let config = tempfile::tempdir().unwrap();
    let nv = netavark(&config, false, &host);
    let mut network = bridge_network(
        "pntnv-bad",
        &format!("pntnve{pid}"),
        "10.89.250.0/24",
        "10.89.250.1",
        false,
    );
    network.driver = "nosuchdriver".into();
    let opts = container("e3", "pntnv-e", &network, "10.89.250.5");
    let err = nv.setup(&c.path(), &opts).unwrap_err();
    match &err {
        BackendError::Netavark {
            command,
            exit_code,
            message,
            ..
        } => {
            assert_eq!(*command, "setup");
            assert_eq!(*exit_code, Some(1));
            // netavark 2.x quotes the name
            let known = [
                "unknown network driver nosuchdriver",
                "unknown network driver \"nosuchdriver\"",
            ];
            assert!(known.contains(&message.as_str()), "{message}");
            assert_eq!(
                err.to_string(),
                format!("netavark setup failed (exit code 1): {message}")
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(!run(&["ip", "-n", &c.name, "-o", "link"]).contains("eth0"));
}
