//! Create a network namespace owned by a new user namespace with several id ranges.
//!
//! Equivalent (no single `ip` command): `unshare -U --map-users=... -n sleep inf &` then
//! `ip netns attach NAME $!`. Run as root:
//! `sudo cargo run -p podnet-netns --example userns_netns -- DIR NAME`.

use netns::{IdMapping, NetNs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: userns_netns DIR NAME")?;
    let name = args.next().ok_or("usage: userns_netns DIR NAME")?;
    let maps = [
        IdMapping {
            container_id: 0,
            host_id: 100_000,
            size: 1000,
        },
        IdMapping {
            container_id: 1000,
            host_id: 200_000,
            size: 64_536,
        },
    ];
    let ns = NetNs::create_with_userns(dir, &name, &maps, &maps)?;
    let owner = ns.owner_userns()?;
    let ino = nix::sys::stat::fstat(&owner)?.st_ino;
    println!("{} owned by user:[{ino}]", ns.path().display());
    Ok(())
}
