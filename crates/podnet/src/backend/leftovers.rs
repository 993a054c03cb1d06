//! What a failed netavark setup can leave after netavark's own teardown, and its removal.
//!
//! netavark 1.4 rolls back the networks it finished when a later one fails, but not the
//! one that failed: a /31 network fails on "add default route" after the container's veth
//! and the bridge were made. Its teardown removes the container interface first and the
//! bridge (with the network's firewall chains) only when that succeeded and nothing else
//! is attached; a setup that failed before the veth existed leaves the bridge.
//!
//! Ownership rule (what podnet removes itself):
//! - an interface inside the container's network namespace named by the options: podnet
//!   made that namespace and the flow chose the name (the runtime never reuses an
//!   interface name the container already has);
//! - a bridge only when it is in the intent's `new_bridges` (it did not exist when the
//!   flow started, so podnet's setup brought it up) AND no interface is attached to it: a
//!   veth of any other container, podman's included, keeps it. Firewall chains are left
//!   to netavark, which removes them with the bridge whenever its teardown gets that far.

use std::path::Path;

use netns::NetNs;

use super::links::{Link, Rtnl};
use super::NetworkOptions;

/// The bridge interface each bridge network of `options` uses.
pub(crate) fn bridge_names(options: &NetworkOptions) -> Vec<String> {
    options
        .network_info
        .values()
        .filter(|n| n.driver == crate::BRIDGE_DRIVER && !n.network_interface.is_empty())
        .map(|n| n.network_interface.clone())
        .collect()
}

/// Runs `f` in `host` (a thread that joins it), or on this thread when `None`.
pub(crate) fn in_host<T: Send>(
    host: Option<&NetNs>,
    f: impl FnOnce() -> std::io::Result<T> + Send,
) -> std::io::Result<T> {
    match host {
        Some(ns) => ns.run_in(f).map_err(std::io::Error::other)?,
        None => f(),
    }
}

/// The names among `bridges` that no link of the current namespace has.
pub(crate) fn missing(bridges: &[String]) -> std::io::Result<Vec<String>> {
    Ok(absent_from(bridges, &Rtnl::open()?.links()?))
}

fn absent_from(bridges: &[String], links: &[Link]) -> Vec<String> {
    bridges
        .iter()
        .filter(|b| !links.iter().any(|l| &l.name == *b))
        .cloned()
        .collect()
}

/// Pins the hardware address of each of `bridges` in the current namespace to the one it
/// has now. A Linux bridge whose address was never set takes the lowest address among its
/// ports, so it changes when a container whose veth has a lower address joins; containers
/// that still have the old address of their gateway cached then lose the gateway (DNS,
/// outbound, published ports) until their neighbour entry expires, for seconds. Setting the
/// address once makes the kernel keep it (moby's bridge driver does the same).
pub(crate) fn pin_bridge_addresses(bridges: &[String]) -> std::io::Result<()> {
    let mut rtnl = Rtnl::open()?;
    let links = rtnl.links()?;
    for bridge in bridges {
        if let Some(link) = links
            .iter()
            .find(|l| &l.name == bridge && !l.address.is_empty())
        {
            rtnl.set_address(link.index, &link.address)?;
        }
    }
    Ok(())
}

/// [`missing`], from the same one dump of the links, after pinning (as
/// [`pin_bridge_addresses`] does) each existing one of `bridges` whose address is the
/// lowest of its ports': the mark of a bridge whose address was never set (podman's
/// netavark 1.4 leaves its bridges so).
///
/// Called before a container joins, so its veth cannot take the address of a bridge other
/// tools' containers use as their gateway. A pinned bridge whose address happens to be its
/// lowest port's is pinned again, which changes nothing but a flush of the bridge's
/// neighbour entries. A pin that fails is a warning: the setup can go on without it.
pub(crate) fn missing_pinning_the_rest(bridges: &[String]) -> std::io::Result<Vec<String>> {
    let mut rtnl = Rtnl::open()?;
    let links = rtnl.links()?;
    let mut pinned = Vec::new();
    for bridge in links.iter().filter(|l| bridges.contains(&l.name)) {
        let lowest_port = links
            .iter()
            .filter(|l| l.master == Some(bridge.index) && !l.address.is_empty())
            .map(|l| &l.address)
            .min();
        if bridge.address.is_empty() || lowest_port != Some(&bridge.address) {
            continue;
        }
        match rtnl.set_address(bridge.index, &bridge.address) {
            Ok(()) => pinned.push(bridge.name.as_str()),
            Err(e) => {
                tracing::warn!(bridge = %bridge.name, error = %e, "could not pin the bridge's address: containers may lose their gateway for seconds when another joins");
            }
        }
    }
    if !pinned.is_empty() {
        tracing::info!(bridges = ?pinned, "pinned the address of bridges another tool left unpinned");
    }
    Ok(absent_from(bridges, &links))
}

/// Removes the options' interfaces still in `netns`; what could not be removed.
pub(crate) fn remove_interfaces(netns: &Path, options: &NetworkOptions) -> Vec<String> {
    let ns = match NetNs::open(netns) {
        Ok(ns) => ns,
        // the namespace is gone, and every interface in it with it
        Err(_) if !netns::is_netns(netns) => return Vec::new(),
        Err(e) => return vec![format!("open {}: {e}", netns.display())],
    };
    let names: Vec<String> = options
        .networks
        .values()
        .map(|p| p.interface_name.clone())
        .collect();
    let removed = ns.run_in(|| -> std::io::Result<Vec<String>> {
        let mut rtnl = Rtnl::open()?;
        let mut left = Vec::new();
        for name in &names {
            if let Some(link) = rtnl.find(name)? {
                // netavark's known leftover, repaired: the failure itself is the caller's
                // error line, so this is no warning of its own
                tracing::info!(netns = %netns.display(), interface = %name, container_id = %options.container_id, "undo: netavark left the container interface; removing it");
                if let Err(e) = rtnl.delete(link.index) {
                    left.push(format!("interface {name} in {}: {e}", netns.display()));
                }
            }
        }
        Ok(left)
    });
    match removed {
        Ok(Ok(left)) => left,
        Ok(Err(e)) => vec![format!("interfaces in {}: {e}", netns.display())],
        Err(e) => vec![format!("enter {}: {e}", netns.display())],
    }
}

/// Removes each of `bridges` that exists with nothing attached (current namespace); what
/// could not be removed. A bridge in use is kept without complaint.
pub(crate) fn remove_idle_bridges(bridges: &[String]) -> std::io::Result<Vec<String>> {
    let mut rtnl = Rtnl::open()?;
    let mut left = Vec::new();
    for name in bridges {
        let Some(bridge) = rtnl.find(name)? else {
            continue;
        };
        let ports = rtnl.ports(bridge.index)?;
        if !ports.is_empty() {
            tracing::debug!(bridge = %name, ports = ports.len(), "undo: bridge in use, kept");
            continue;
        }
        tracing::info!(bridge = %name, "undo: netavark left the bridge this setup brought up; removing it");
        if let Err(e) = rtnl.delete(bridge.index) {
            left.push(format!("bridge {name}: {e}"));
        }
    }
    Ok(left)
}
