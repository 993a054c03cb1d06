//! The containerd-CRI-style pod flow of `examples/cri_userns_pod.rs`, run with the real
//! reference plugins in a throwaway network namespace standing for the node: each pod's
//! network namespace is owned by its own pinned user namespace (`netns::NetNs::create_with_userns`),
//! the `cni` crate adds it to a bridge network, and a process of pod A, root only in A's user
//! namespace, mounts sysfs for A's network namespace and pings pod B; StopPodSandbox leaves no
//! veth, lease, cache entry or pin. Needs root.
#![allow(clippy::unwrap_used)]

mod cni_support;
mod flows_support;

#[allow(dead_code, reason = "the example's main is not called here")]
#[path = "../../podnet/examples/cri_userns_pod.rs"]
mod example;

use std::os::fd::AsFd;
use std::process::Stdio;

use cni_support::{can_run, CniHost, PLUGIN_DIR};
use example::{in_pod, pod_id_map, pod_ip, run_pod_sandbox, stop_pod_sandbox, Pod};

/// Removes the pods' pins a failed test left (a passing one removed them itself), then the
/// pin directory's own bind mount (made as `ip netns` makes /run/netns one).
struct PinGuard(std::path::PathBuf);

impl Drop for PinGuard {
    fn drop(&mut self) {
        for pin in std::fs::read_dir(&self.0).into_iter().flatten().flatten() {
            let _ = netns::remove(pin.path());
        }
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// The inode of a namespace file.
fn inode(fd: impl AsFd) -> u64 {
    nix::sys::stat::fstat(fd).unwrap().st_ino
}

#[test]
fn a_userns_owned_pod_joins_a_cni_network_mounts_its_sysfs_and_reaches_another_pod() {
    if !can_run("a_userns_owned_pod_joins_a_cni_network") {
        return;
    }
    let h = CniHost::new();
    let name = format!("pntccri{}", std::process::id());
    std::fs::create_dir_all(&h.conf).unwrap();
    let conflist = h.conf.join(format!("{name}.conflist"));
    std::fs::write(
        &conflist,
        format!(
            r#"{{"cniVersion": "1.0.0", "name": "{name}", "plugins": [
                {{"type": "bridge", "bridge": "pntcribr0", "isGateway": true, "ipMasq": true,
                  "ipam": {{"type": "host-local", "dataDir": "{}",
                            "ranges": [[{{"subnet": "10.89.244.0/24"}}]]}}}},
                {{"type": "firewall", "backend": "iptables"}}]}}"#,
            h.data.display()
        ),
    )
    .unwrap();
    let network = cni::NetworkConfigList::from_file(&conflist).unwrap();
    let cni = cni::Runtime::new([PLUGIN_DIR]).with_cache_dir(&h.cache);
    let pins = h.host.root.path().join("pods");
    let node = netns::NetNs::open(h.host.netns_path()).unwrap();
    let _pins = PinGuard(pins.clone());

    // RunPodSandbox for two pods, the plugins running in the node's network namespace
    let sandbox = |id: &str, index: u32| -> Pod {
        node.run_in(|| run_pod_sandbox(&cni, &network, &pins, id, pod_id_map(300_000, index)))
            .unwrap()
            .map_err(|e| e.to_string())
            .unwrap()
    };
    let a = sandbox("pod-a", 0);
    let b = sandbox("pod-b", 1);
    let init_userns = std::fs::File::open("/proc/self/ns/user").unwrap();
    let owner_a = a.netns.owner_userns().unwrap();
    assert_ne!(
        inode(&owner_a),
        inode(&init_userns),
        "pod-a's netns is the node's userns'"
    );
    assert_ne!(inode(&owner_a), inode(b.netns.owner_userns().unwrap()));
    let ip_b = pod_ip(&b).unwrap().to_string();
    assert!(ip_b.starts_with("10.89.244."), "{ip_b}");
    let mac_a = a
        .result
        .interfaces
        .iter()
        .find(|i| !i.sandbox.is_empty())
        .map(|i| i.mac.clone())
        .unwrap();

    let out = in_pod(&a.netns, "/bin/busybox")
        .unwrap()
        .args([
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map; ls /sys/class/net; \
             cat /sys/class/net/eth0/address; busybox ping -c 1 -W 2 \"$0\"",
        ])
        .arg(&ip_b)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    // root of the pod's user namespace, which is the first id of its range outside
    assert_eq!(lines[0], "0", "{text}");
    let map: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(map, ["0", "300000", "65536"], "{text}");
    // the sysfs it mounted is the pod's network namespace's: its eth0, with CNI's MAC
    assert_eq!(&lines[2..4], ["eth0", "lo"], "{text}");
    assert_eq!(lines[4], mac_a, "{text}");
    assert!(text.contains("1 packets received"), "{text}");

    // StopPodSandbox: DEL from libcni's cache, then the pins
    for pod in [a, b] {
        node.run_in(|| stop_pod_sandbox(&cni, &name, pod))
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(
        !h.host.links().iter().any(|l| l.starts_with("veth")),
        "{:?}",
        h.host.links()
    );
    assert!(
        h.host_local_leases().is_empty(),
        "{:?}",
        h.host_local_leases()
    );
    assert!(h.cache_entries().is_empty(), "{:?}", h.cache_entries());
    let left: Vec<_> = std::fs::read_dir(&pins).unwrap().flatten().collect();
    assert!(left.is_empty(), "pins left: {left:?}");
}
