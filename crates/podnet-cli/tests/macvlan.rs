//! A macvlan network end to end, rootful: the parent is a veth that exists only inside a
//! throwaway host namespace, the network is made by podnet's own `NetworkStore` (which
//! checks the parent against that namespace's interfaces), two containers started by the
//! real `podnet` binary and netavark get macvlan interfaces on it and ping each other, and
//! teardown leaves nothing. The subnet is chosen free at run time. Needs root.
//!
//! The kernel here has no `dummy` driver (`ip link add X type dummy`: "Unknown device
//! type"), so the parent is one end of a veth pair, whose other end keeps it up.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;

use flows_support::Host;
use ipnet::IpNet;
use paths_support::{
    assert_clean, can_run, exec_ok, host_with_parent, in_netns, kernel_addresses, kernel_links,
    ping_once,
};
use podnet::{Network, NetworkError, NetworkStore, Subnet, MACVLAN_DRIVER};

const PARENT: &str = "pntmv0";
const PARENT_PEER: &str = "pntmv1";

fn macvlan(name: &str, parent: &str, subnet: IpNet) -> Network {
    {
        let mut v = Network::default();
        v.name = name.into();
        v.driver = MACVLAN_DRIVER.into();
        v.network_interface = parent.into();
        v.subnets = vec![Subnet::new(subnet)];
        v
    }
}

/// The network store of the fake host's podnet root, seeing the fake host's interfaces:
/// `f` runs on a thread inside its netns, where `/proc/thread-self/net` is that netns'.
fn with_store<T: Send>(host: &Host, f: impl FnOnce(&NetworkStore) -> T + Send) -> T {
    let dir = host.root.path().join("networks");
    in_netns(&host.netns_path(), move || {
        f(&NetworkStore::new(dir).with_proc_net_dir("/proc/thread-self/net"))
    })
}

#[test]
fn macvlan_on_a_parent_inside_the_test_namespace() {
    if !can_run("macvlan_on_a_parent_inside_the_test_namespace") {
        return;
    }
    let host = host_with_parent(PARENT, PARENT_PEER);
    let subnet = IpNet::V4(testkit::free_subnet_v4());

    // the parent exists only in the fake host: seen from the real host it is missing
    let outside = NetworkStore::new(host.root.path().join("networks"))
        .create(macvlan("pntmv", PARENT, subnet));
    assert!(
        matches!(outside, Err(NetworkError::ParentMissing { ref name }) if name == PARENT),
        "{outside:?}"
    );
    let made = with_store(&host, |store| {
        store.create(macvlan("pntmv", PARENT, subnet))
    })
    .unwrap();
    assert_eq!(made.driver, MACVLAN_DRIVER);
    assert_eq!(made.network_interface, PARENT);

    host.podnet(&["create", "a", "--network", "pntmv"]);
    host.podnet(&["create", "b", "--network", "pntmv"]);
    let a = host.start_json("a");
    let b = host.start_json("b");
    let netns = |c: &serde_json::Value| std::path::PathBuf::from(c["NetNS"].as_str().unwrap());
    let a_addr = kernel_addresses(&host, &netns(&a), "eth0");
    let b_addr = kernel_addresses(&host, &netns(&b), "eth0");
    assert_eq!(a_addr.len(), 1, "{a_addr:?}");
    assert_eq!(b_addr.len(), 1, "{b_addr:?}");
    assert!(subnet.contains(&a_addr[0].addr()) && subnet.contains(&b_addr[0].addr()));
    assert_ne!(a_addr[0].addr(), b_addr[0].addr());
    // eth0 is a macvlan whose parent is the veth in the fake host (no bridge, no veth pair)
    let detail = exec_ok(&host, "a", &["ip", "-d", "link", "show", "eth0"]);
    assert!(detail.contains("macvlan mode bridge"), "{detail}");
    assert_eq!(
        host.links().len(),
        3,
        "the fake host gained interfaces: {:?}",
        host.links()
    );

    let (ok, text) = ping_once(&host, "b", &[], &a_addr[0].addr().to_string());
    assert!(ok, "b cannot reach a over the macvlan: {text}");
    let (ok, text) = ping_once(&host, "a", &[], &b_addr[0].addr().to_string());
    assert!(ok, "a cannot reach b over the macvlan: {text}");

    host.podnet(&["stop", "a"]);
    assert!(
        !netns(&a).exists(),
        "a's netns pin is left after stop: {}",
        netns(&a).display()
    );
    // b still has its interface after a's teardown
    assert_eq!(kernel_links(&host, &netns(&b)), ["lo", "eth0"]);
    host.podnet(&["rm", "-f", "a"]);
    host.podnet(&["rm", "-f", "b"]);
    host.podnet(&["network", "rm", "pntmv"]);
    let needles = [subnet.trunc(), a_addr[0], b_addr[0]].map(|n| n.addr().to_string());
    assert_clean(&host, &[PARENT, PARENT_PEER], &needles);
}
