//! Create a named, pinned network namespace.
//!
//! Equivalent: `ip netns add NAME` (as root the pin lands in /run/netns, rootless in
//! `$XDG_RUNTIME_DIR/netns`). Run: `sudo cargo run -p podnet-netns --example add_netns -- NAME [DIR]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().ok_or("usage: add_netns NAME [DIR]")?;
    let ns = match args.next() {
        Some(dir) => netns::NetNs::create_in(dir, &name)?,
        None => netns::NetNs::create_named(&name)?,
    };
    println!("{}", ns.path().display());
    Ok(())
}
