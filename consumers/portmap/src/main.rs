//! A consumer of podnet-portmap: parses podman `-p` specs, and shows a bad one's reason.

fn main() -> Result<(), portmap::Error> {
    let m = portmap::parse_publish("127.0.0.1:8080:80/tcp")?;
    assert_eq!((m.host_port, m.container_port), (8080, 80));
    assert_eq!(m.host_ip, Some(std::net::Ipv4Addr::LOCALHOST.into()));
    assert!(m.protocol.contains(portmap::Protocol::Tcp));
    let built = portmap::PortMapping::new(53)
        .with_host_port(5353)
        .with_protocols("udp,tcp".parse::<portmap::Protocols>().expect("a protocol list"));
    assert_eq!(built.to_string(), "5353:53/udp,tcp");
    println!("portmap: built {built}");
    println!("portmap: {m:?}");
    let bad = portmap::parse_publish("70000:80").expect_err("port 70000 is out of range");
    println!("portmap: -p 70000:80 -> {bad}");
    Ok(())
}
