//! Lists the containers holding addresses on one network in podman's IPAM database
//! (what `podman network inspect` does not show: the allocations themselves).
//!
//! Run: `cargo run -p podnet-bbolt --example ipam_holders -- /run/containers/networks/ipam.db podman`

fn main() -> Result<(), bbolt::podman_ipam::IpamError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, network] = args.as_slice() else {
        eprintln!("usage: ipam_holders IPAM_DB NETWORK");
        std::process::exit(2);
    };
    let db = bbolt::Db::open_read_only(path)?;
    for holder in db.view(|tx| bbolt::podman_ipam::holders(tx, network))? {
        let ips: Vec<String> = holder.ips.iter().map(ToString::to_string).collect();
        println!("{} {}", holder.container_id, ips.join(" "));
    }
    Ok(())
}
