//! A consumer of podnet-etchosts: writes a container's hosts file in a temporary directory,
//! adds a connect's entry, and shows that a malformed extra host is refused.

use etchosts::{hosts, HostEntry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("consumer-etchosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let target = dir.join("hosts");
    let ip = |s: &str| s.parse::<std::net::IpAddr>();
    let mut params = hosts::HostsParams {
        base_file: None,
        extra_hosts: vec!["db;db.local:10.0.0.7".into()],
        container_ips: vec![HostEntry::new(ip("10.88.0.5")?, ["web"])],
        host_containers_internal_ip: Some(ip("10.88.0.1")?),
        target_file: target.clone(),
    };
    hosts::new(&params)?;
    hosts::add(&target, &[HostEntry::new(ip("10.89.0.9")?, ["cache"])])?;
    let text = std::fs::read_to_string(&target)?;
    assert!(text.contains("10.0.0.7\tdb db.local\n"), "{text}");
    assert!(text.contains("10.89.0.9\tcache\n"), "{text}");
    print!("etchosts: {}", text);
    params.extra_hosts = vec!["db:10.0.0.300".into()];
    let bad = hosts::new(&params).expect_err("a malformed extra host is refused");
    println!("etchosts: {bad}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
