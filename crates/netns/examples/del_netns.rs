//! Remove a pinned network namespace, and sweep stale pins from a directory.
//!
//! Equivalent: `ip netns del NAME` (detach-unmount, then unlink).
//! Run: `sudo cargo run -p podnet-netns --example del_netns -- /run/netns/NAME`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: del_netns PIN")?;
    netns::remove(&path)?;
    if let Some(dir) = std::path::Path::new(&path).parent() {
        for stale in netns::sweep(dir)? {
            println!("swept {}", stale.display());
        }
    }
    Ok(())
}
