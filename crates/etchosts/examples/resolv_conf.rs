//! Write a container resolv.conf from the host's, then add and remove the DNS server of
//! a network, as podman does for networks with DNS enabled.
//!
//! podman equivalent: `podman run --dns-option ndots:2 ...` writes the file;
//! `podman network connect` with aardvark-dns puts the network's gateway in front.
//!
//! Run: `cargo run -p podnet-etchosts --example resolv_conf -- /tmp/demo-resolv.conf` (no root).

use etchosts::resolvconf::{self, ResolvParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/etchosts-demo-resolv.conf".into());
    let mut params = ResolvParams::new(&target);
    params.options = vec!["ndots:2".into()];
    resolvconf::new(&params)?;
    println!("== new\n{}", std::fs::read_to_string(&target)?);

    let gateway = "10.89.0.1".parse()?;
    resolvconf::add_nameservers(&target, &[gateway])?;
    println!("== connect\n{}", std::fs::read_to_string(&target)?);

    resolvconf::remove_nameservers(&target, &[gateway])?;
    println!("== disconnect\n{}", std::fs::read_to_string(&target)?);
    Ok(())
}
