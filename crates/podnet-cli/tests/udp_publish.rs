//! A rootful UDP published port end to end: the real `podnet` binary and netavark in a
//! throwaway host namespace; a UDP echo inside the container, datagrams sent from the host
//! (to 127.0.0.1 and to the host's own address) reach it through netavark's DNAT and the
//! replies come back; after a stop nothing answers, after a restart it answers again, and
//! after removal no rule is left. The subnets and the host port are chosen free at run
//! time. Needs root.
//!
//! The echo is a UDP socket opened inside the container's network namespace and served
//! from a thread of this test: Debian's busybox-static (1.35) `nc` has no `-u`.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use flows_support::Host;
use ipnet::IpNet;
use paths_support::{assert_clean, can_run, first_host, in_netns, uplink};

const CONTAINER_PORT: u16 = 5353;

/// A UDP echo on `CONTAINER_PORT` in the netns at `netns`, served from a thread of this
/// process: answers `count` datagrams with "echo: " and the datagram, then returns how
/// many it answered (fewer when none came for ten seconds).
fn udp_echo(netns: &Path, count: usize) -> std::thread::JoinHandle<usize> {
    let sock = in_netns(netns, || {
        UdpSocket::bind((Ipv4Addr::UNSPECIFIED, CONTAINER_PORT)).unwrap()
    });
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        for served in 0..count {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                return served;
            };
            let mut reply = b"echo: ".to_vec();
            reply.extend_from_slice(&buf[..n]);
            sock.send_to(&reply, from).unwrap();
        }
        count
    })
}

/// Sends `text` from the fake host to `to` and returns the reply, or None when none came
/// within two seconds.
fn ask_udp(host: &Host, to: SocketAddr, text: &str) -> Option<String> {
    let any: IpAddr = if to.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        std::net::Ipv6Addr::UNSPECIFIED.into()
    };
    let sock = in_netns(&host.netns_path(), || UdpSocket::bind((any, 0)).unwrap());
    // connected: only a datagram from `to` itself (the un-NATed reply) is read
    sock.connect(to).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    sock.send(text.as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[test]
fn a_udp_published_port_echoes_a_datagram_from_the_host() {
    if !can_run("a_udp_published_port_echoes_a_datagram_from_the_host") {
        return;
    }
    let host = Host::new();
    let subnet = IpNet::V4(testkit::free_subnet_v4());
    let host_side = first_host(IpNet::V4(testkit::free_subnet_v4()));
    uplink(&host, "pntup0", "pntup1", &[host_side]);
    let port = testkit::free_port(testkit::Protocol::Udp);

    host.podnet(&[
        "network",
        "create",
        "--subnet",
        &subnet.to_string(),
        "pntudp",
    ]);
    let created = host.create_json(&[
        "u",
        "--network",
        "pntudp",
        "-p",
        &format!("{port}:{CONTAINER_PORT}/udp"),
    ]);
    assert_eq!(created["Ports"][0]["protocol"], "udp", "{created}");
    let started = host.start_json("u");
    let netns = PathBuf::from(started["NetNS"].as_str().unwrap());
    let echo = udp_echo(&netns, 2);

    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let own = SocketAddr::from((host_side.addr(), port));
    assert_eq!(
        ask_udp(&host, loopback, "one").as_deref(),
        Some("echo: one"),
        "no reply through 127.0.0.1:{port}"
    );
    assert_eq!(
        ask_udp(&host, own, "two").as_deref(),
        Some("echo: two"),
        "no reply through {own}"
    );
    // the TCP side of the same port is not published
    let tcp = host.run(&["busybox", "nc", "-w", "1", "127.0.0.1", &port.to_string()]);
    assert!(!tcp.status.success(), "a TCP connection was accepted");
    assert_eq!(
        echo.join().unwrap(),
        2,
        "the echo did not answer both datagrams"
    );

    // stopped: nothing answers; started again: published again, to the new netns
    host.podnet(&["stop", "u"]);
    assert!(!netns.exists(), "the netns pin is left after stop");
    assert_eq!(ask_udp(&host, loopback, "three"), None);
    let restarted = host.start_json("u");
    let echo = udp_echo(Path::new(restarted["NetNS"].as_str().unwrap()), 1);
    assert_eq!(
        ask_udp(&host, loopback, "four").as_deref(),
        Some("echo: four"),
        "no reply after a restart"
    );
    assert_eq!(echo.join().unwrap(), 1);
    host.podnet(&["rm", "-f", "u"]);
    host.podnet(&["network", "rm", "pntudp"]);
    let needles = [subnet.trunc().addr().to_string(), format!("dport {port}")];
    assert_clean(&host, &["pntup0", "pntup1"], &needles);
}
