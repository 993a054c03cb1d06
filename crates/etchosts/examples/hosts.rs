//! Write a container hosts file, then edit it as `podman network connect` and
//! `podman network disconnect` do.
//!
//! podman equivalent: `podman run --hostname web --add-host db:10.0.0.7 ...` writes the
//! file; `podman network connect net2 ctr` adds the container's new address.
//!
//! Run: `cargo run -p podnet-etchosts --example hosts -- /tmp/demo-hosts` (no root needed).

use std::net::IpAddr;

use etchosts::{hosts, HostEntry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/etchosts-demo-hosts".into());
    let first: IpAddr = "10.88.0.5".parse()?;
    let second: IpAddr = "10.89.0.9".parse()?;
    let me = |ip| HostEntry::new(ip, ["web", "abc123"]);

    hosts::new(&hosts::HostsParams {
        base_file: Some(hosts::DEFAULT_HOSTS_FILE.into()),
        extra_hosts: vec!["db:10.0.0.7".into()],
        container_ips: vec![me(first)],
        host_containers_internal_ip: Some("10.88.0.1".parse()?),
        target_file: target.clone().into(),
    })?;
    println!("== new\n{}", std::fs::read_to_string(&target)?);

    hosts::add_if_exists(&target, &[me(first)], &[me(second)])?;
    println!("== connect\n{}", std::fs::read_to_string(&target)?);

    hosts::remove(&target, &[me(second)])?;
    println!("== disconnect\n{}", std::fs::read_to_string(&target)?);
    Ok(())
}
