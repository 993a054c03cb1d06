//! ipvlan networks end to end, rootful, through the `podnet` binary: the parent is one end
//! of a veth pair inside a throwaway host namespace (the kernel here has no `dummy`
//! driver), the network is made with `network create -d ipvlan -o parent=...`.
//!
//! Debian's netavark 1.4 has no ipvlan: podnet refuses the network in one line naming the
//! version needed and writes nothing. netavark 2.x (the newest `cargo xtask setup` built
//! into the tools directory, or the one the second pass names, see `test_backend::current`)
//! makes it; two containers on it get ipvlan interfaces and ping each other. This test does
//! not depend on the pass it runs in: it needs 2.x in both, and skips loudly without it.
//! On a kernel built without ipvlan (`CONFIG_IPVLAN`, as this VM's) the start must fail in
//! one line naming the kernel's refusal and leave nothing; the packets are then a skip,
//! declared for such kernels in xtask's expected skips. Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;

use std::path::PathBuf;
use std::process::Output;

use flows_support::{refused, test_backend, Host};
use ipnet::IpNet;
use paths_support::{
    assert_clean, can_run, exec_ok, host_with_parent, kernel_addresses, ping_once,
};

const PARENT: &str = "pntiv0";
const PARENT_PEER: &str = "pntiv1";
/// `-o parent=PARENT`, as podman's CLI takes the parent of a macvlan or ipvlan network.
const PARENT_OPT: &str = "parent=pntiv0";

/// netavark 2.x and its aardvark-dns, which a test's podnet commands run.
struct Current {
    netavark: PathBuf,
    aardvark: PathBuf,
}

impl Current {
    fn out(&self, host: &Host, args: &[&str]) -> Output {
        host.podnet_using(&self.netavark, &self.aardvark, args)
    }

    fn ok(&self, host: &Host, args: &[&str]) -> String {
        host.podnet_using_ok(&self.netavark, &self.aardvark, args)
    }
}

/// The fake host with the parent, and netavark 2.x; `None` after a loud skip when the test
/// cannot run here (2.x missing: `cargo xtask setup` builds it).
fn prepare(test: &str) -> Option<(Host, Current)> {
    if !can_run(test) {
        return None;
    }
    match test_backend::current() {
        Ok((netavark, aardvark)) => Some((
            host_with_parent(PARENT, PARENT_PEER),
            Current { netavark, aardvark },
        )),
        Err(why) => {
            testkit::skip(test, &why);
            None
        }
    }
}

fn create_args(subnet: &str) -> [&str; 9] {
    [
        "network", "create", "-d", "ipvlan", "-o", PARENT_OPT, "--subnet", subnet, "pntiv",
    ]
}

#[test]
fn ipvlan_is_refused_by_netavark_1_4_and_made_by_2_x() {
    let Some((host, current)) = prepare("ipvlan_is_refused_by_netavark_1_4_and_made_by_2_x") else {
        return;
    };
    let debian = podnet::find_helper_binary("netavark", None).unwrap();
    let debian_aardvark = podnet::find_helper_binary("aardvark-dns", None).unwrap();
    let version = String::from_utf8(
        std::process::Command::new(&debian)
            .arg("--version")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        version.trim(),
        "netavark 1.4.0",
        "Debian 12's netavark is the one refused here"
    );
    let subnet = testkit::free_subnet_v4().to_string();

    let err = refused(
        &host.podnet_using(&debian, &debian_aardvark, &create_args(&subnet)),
        125,
    );
    assert!(
        err.contains(&format!(
            "ipvlan needs netavark 1.5 or later; {} is 1.4.0",
            debian.display()
        )),
        "{err}"
    );
    let exists = host.podnet_using(&debian, &debian_aardvark, &["network", "exists", "pntiv"]);
    assert_eq!(exists.status.code(), Some(1), "nothing written");

    assert_eq!(current.ok(&host, &create_args(&subnet)), "pntiv\n");
    let inspect = current.ok(&host, &["network", "inspect", "pntiv"]);
    let net: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(net[0]["driver"], "ipvlan", "{net}");
    // `-o parent=` is the parent interface, as podman's CLI reads it, not an option
    assert_eq!(net[0]["network_interface"], PARENT, "{net}");
    assert!(net[0]["options"].get("parent").is_none(), "{net}");
    current.ok(&host, &["network", "rm", "pntiv"]);
}

/// Whether this kernel makes an ipvlan link on `PARENT` in the fake host.
fn kernel_has_ipvlan(host: &Host) -> bool {
    let probe = "pntivprobe";
    let made = host.run(&[
        "ip", "link", "add", "link", PARENT, "name", probe, "type", "ipvlan", "mode", "l2",
    ]);
    if made.status.success() {
        host.sh(&["ip", "link", "del", probe]);
    }
    made.status.success()
}

#[test]
fn ipvlan_containers_ping_each_other_on_netavark_2_x() {
    const NAME: &str = "ipvlan_containers_ping_each_other_on_netavark_2_x";
    let Some((host, current)) = prepare(NAME) else {
        return;
    };
    let subnet: IpNet = testkit::free_subnet_v4().into();
    current.ok(&host, &create_args(&subnet.to_string()));
    for c in ["a", "b"] {
        current.ok(&host, &["create", c, "--network", "pntiv"]);
    }

    if !kernel_has_ipvlan(&host) {
        // netavark 2.x asks, the kernel refuses: one line naming it, nothing left
        let err = refused(&current.out(&host, &["start", "a"]), 125);
        assert!(
            err.contains("ipvlan") && err.contains("Operation not supported"),
            "{err}"
        );
        assert_eq!(host.container_json("a")["Running"], false);
        assert!(host.pins().is_empty(), "pins left: {:?}", host.pins());
        clean_up(&host, &current, subnet, &[]);
        testkit::skip(
            NAME,
            "this kernel has no ipvlan (CONFIG_IPVLAN): containers cannot get one",
        );
        return;
    }

    for c in ["a", "b"] {
        assert_eq!(current.ok(&host, &["start", c]), format!("{c}\n"));
    }
    let netns = |c: &str| PathBuf::from(host.container_json(c)["NetNS"].as_str().unwrap());
    let (a_addr, b_addr) = (
        kernel_addresses(&host, &netns("a"), "eth0"),
        kernel_addresses(&host, &netns("b"), "eth0"),
    );
    assert_eq!(
        (a_addr.len(), b_addr.len()),
        (1, 1),
        "{a_addr:?} {b_addr:?}"
    );
    assert!(subnet.contains(&a_addr[0].addr()) && subnet.contains(&b_addr[0].addr()));
    let detail = exec_ok(&host, "a", &["ip", "-d", "link", "show", "eth0"]);
    assert!(detail.contains("ipvlan"), "{detail}");
    let (ok, text) = ping_once(&host, "b", &[], &a_addr[0].addr().to_string());
    assert!(ok, "b cannot reach a over the ipvlan: {text}");
    let (ok, text) = ping_once(&host, "a", &[], &b_addr[0].addr().to_string());
    assert!(ok, "a cannot reach b over the ipvlan: {text}");
    clean_up(&host, &current, subnet, &[a_addr[0], b_addr[0]]);
}

/// Removes the containers and the network; the fake host keeps only its veth pair.
fn clean_up(host: &Host, current: &Current, subnet: IpNet, used: &[IpNet]) {
    assert_eq!(current.ok(host, &["rm", "-f", "a", "b"]), "a\nb\n");
    assert_eq!(current.ok(host, &["network", "rm", "pntiv"]), "pntiv\n");
    let needles: Vec<String> = std::iter::once(subnet.trunc())
        .chain(used.iter().copied())
        .map(|n| n.addr().to_string())
        .collect();
    assert_clean(host, &[PARENT, PARENT_PEER], &needles);
}
