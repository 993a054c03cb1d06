//! Print which network backend, binary, version and firewall driver podnet would use,
//! from containers.conf and the installed netavark.
//!
//! podman equivalent: `podman info --format '{{json .Host.NetworkBackendInfo}}'`
//! (podman 5; podman 4.3 prints only `.Host.NetworkBackend`).
//!
//! Run: `cargo run -p podnet --example network_info` (no root needed).

use podnet::containers_conf::{load, Sources};
use podnet::{network_info, Netavark, ROOTFUL_CONFIG_DIR};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let uid = rootless_detect::rootless_uid();
    let conf = load(&Sources::system(uid))?;
    let netavark = Netavark::new(ROOTFUL_CONFIG_DIR)?;
    let info = network_info(&netavark, conf.network.firewall_driver)?;
    println!("{}", serde_json::to_string_pretty(&info)?);
    eprintln!("containers.conf files read: {:?}", conf.files);
    Ok(())
}
