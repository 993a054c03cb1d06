//! A consumer of podnet-portmap: parses podman `-p` specs, and shows a bad one's reason.

fn main() -> Result<(), portmap::Error> {
    let m = portmap::parse_publish("127.0.0.1:8080:80/tcp")?;
    assert_eq!((m.host_port, m.container_port), (8080, 80));
    println!("portmap: {m:?}");
    let bad = portmap::parse_publish("70000:80").expect_err("port 70000 is out of range");
    println!("portmap: -p 70000:80 -> {bad}");
    Ok(())
}
