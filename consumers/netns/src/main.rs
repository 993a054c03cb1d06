//! A consumer of podnet-netns: opens this thread's network namespace and lists its links
//! through a NETLINK_ROUTE socket opened inside it (no privileges needed for either).

fn main() -> Result<(), netns::Error> {
    let here = netns::NetNs::current_thread()?;
    let links = here.route_socket()?.links()?;
    assert!(links.iter().any(|l| l.name == "lo"), "no lo in {links:?}");
    println!("netns: {} links in {}", links.len(), here.path().display());
    println!("netns: pins live in {}", netns::run_dir()?.display());
    Ok(())
}
