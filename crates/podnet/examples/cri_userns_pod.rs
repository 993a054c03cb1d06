//! A containerd-CRI-style pod network with a pod-level user namespace (Kubernetes
//! `hostUsers: false`), done with podnet's leaf crates: `netns` creates the pod's network
//! namespace owned by a new, pinned user namespace (as containerd does before it calls CNI),
//! `cni` adds it to a network with the cluster's conflist (`RunPodSandbox`) and deletes it
//! again from libcni's cache (`StopPodSandbox`), and a process of the pod, root in its user
//! namespace only, mounts sysfs for the pod's network namespace and reaches the other pod.
//!
//! Equivalent by hand: `unshare -U --map-users=0:100000:65536 -n sleep inf &`,
//! `ip netns attach pod-a $!`, `cnitool add NETWORK /run/netns/pod-a`, then
//! `nsenter -U -n -m --preserve-credentials ...` with a new mount namespace.
//!
//! Run as root, with the reference plugins (Debian: containernetworking-plugins) and busybox:
//!
//! ```sh
//! sudo cargo run -p podnet --example cri_userns_pod -- my.conflist /tmp/pods
//! ```
//!
//! Plugins come from `CNI_PATH` (default `/usr/lib/cni`), libcni's cache is
//! `/tmp/pods/cache`. The bridge, veths and rules go to the network namespace it runs in:
//! start it under `ip netns exec` to keep them off the host. `tests/cni_cri_pod.rs` runs this
//! program's functions with the real plugins.

use std::error::Error;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use cni::{CniResult, NetworkConfigList, RuntimeConf};
use netns::{IdMapping, NetNs};
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::unistd::{Gid, Uid};

/// Any failure, sendable across threads (the plugins may run on a thread in another netns).
pub type BoxError = Box<dyn Error + Send + Sync>;

/// How many ids each pod's user namespace maps (containerd's default for a pod).
pub const POD_IDS: u32 = 65_536;

/// A pod sandbox: its network namespace (owned by its own user namespace), the id CNI knows
/// it by, and what the plugins set up.
pub struct Pod {
    /// The pinned network namespace.
    pub netns: NetNs,
    /// The sandbox id (`CNI_CONTAINERID`).
    pub id: String,
    /// The ADD result (addresses, interfaces).
    pub result: CniResult,
}

/// The id map of pod number `index`: ids 0..65536 inside onto a range of its own outside,
/// from `first_host_id` on (no two pods share a host id).
pub fn pod_id_map(first_host_id: u32, index: u32) -> IdMapping {
    IdMapping {
        container_id: 0,
        host_id: first_host_id + index * POD_IDS,
        size: POD_IDS,
    }
}

/// containerd's `RunPodSandbox` network part: the pod's network namespace owned by a new
/// user namespace mapped by `map`, pinned at `pin_dir/<id>`, then the conflist's ADD with the
/// arguments the CRI plugin passes. On a failed ADD the namespace is removed again.
pub fn run_pod_sandbox(
    cni: &cni::Runtime,
    network: &NetworkConfigList,
    pin_dir: &Path,
    id: &str,
    map: IdMapping,
) -> Result<Pod, BoxError> {
    let netns = NetNs::create_with_userns(pin_dir, id, &[map], &[map])?;
    match cni.add(network, &pod_conf(id, netns.path())) {
        Ok(result) => Ok(Pod {
            netns,
            id: id.to_string(),
            result,
        }),
        Err(e) => {
            if let Err(undo) = netns.remove() {
                eprintln!("removing the pod's netns after a failed ADD: {undo}");
            }
            Err(e.into())
        }
    }
}

/// containerd's `StopPodSandbox` and `RemovePodSandbox` network part: DEL (everything from
/// libcni's cache, as after a restart of the runtime), then the namespace's pin.
pub fn stop_pod_sandbox(cni: &cni::Runtime, network: &str, pod: Pod) -> Result<(), BoxError> {
    cni.del_cached(network, &pod_conf(&pod.id, pod.netns.path()))?;
    pod.netns.remove()?;
    Ok(())
}

/// The runtime conf the CRI plugin builds for a pod (its `K8S_POD_*` arguments).
fn pod_conf(id: &str, netns: &Path) -> RuntimeConf {
    RuntimeConf::new(id, netns, "eth0")
        .with_arg("IgnoreUnknown", "1")
        .with_arg("K8S_POD_NAMESPACE", "default")
        .with_arg("K8S_POD_NAME", id)
        .with_arg("K8S_POD_INFRA_CONTAINER_ID", id)
}

/// `program` run as a process of the pod: in its user namespace as its root (uid and gid 0
/// inside, the first id of its map outside), in its network namespace, and in a new mount
/// namespace where `/sys` is a sysfs of the pod's network namespace (which only a process
/// of the owning user namespace may mount: the point of owning it).
pub fn in_pod(pod: &NetNs, program: &str) -> Result<Command, BoxError> {
    let userns: OwnedFd = pod.owner_userns()?;
    let netns: OwnedFd = std::fs::File::open(pod.path())?.into();
    let mut cmd = Command::new(program);
    // SAFETY: runs between fork and exec in the single-threaded child; only raw syscalls on
    // values prepared before the fork (fds, C string literals), no allocation.
    unsafe {
        cmd.pre_exec(move || {
            nix::sched::setns(&userns, CloneFlags::CLONE_NEWUSER)?;
            nix::sched::setns(&netns, CloneFlags::CLONE_NEWNET)?;
            nix::sched::unshare(CloneFlags::CLONE_NEWNS)?;
            nix::mount::mount(
                None::<&std::ffi::CStr>,
                c"/",
                None::<&std::ffi::CStr>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&std::ffi::CStr>,
            )?;
            nix::mount::mount(
                Some(c"sysfs"),
                c"/sys",
                Some(c"sysfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&std::ffi::CStr>,
            )?;
            // the pod's root: keeps its capabilities across exec (the kernel's rule)
            nix::unistd::setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))?;
            nix::unistd::setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))?;
            Ok(())
        });
    }
    Ok(cmd)
}

/// The pod's first address, without its prefix length.
pub fn pod_ip(pod: &Pod) -> Option<std::net::IpAddr> {
    pod.result.ips.first().map(|ip| ip.address.addr())
}

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: cri_userns_pod CONFLIST WORK_DIR";
    let conflist = PathBuf::from(args.next().ok_or(usage)?);
    let work = PathBuf::from(args.next().ok_or(usage)?);
    let network = NetworkConfigList::from_file(&conflist)?;
    let plugin_dirs = std::env::var_os("CNI_PATH")
        .map(|p| cni::split_path_list(&p))
        .unwrap_or_else(|| vec![PathBuf::from("/usr/lib/cni")]);
    let cni = cni::Runtime::new(plugin_dirs).with_cache_dir(work.join("cache"));
    let pins = work.join("pods");

    let a = run_pod_sandbox(&cni, &network, &pins, "pod-a", pod_id_map(100_000, 0))?;
    let b = run_pod_sandbox(&cni, &network, &pins, "pod-b", pod_id_map(100_000, 1))?;
    let ip_b = pod_ip(&b).ok_or("pod-b got no address")?.to_string();
    let status = in_pod(&a.netns, "/bin/busybox")?
        .args([
            "sh",
            "-c",
            "ls /sys/class/net && busybox ping -c 1 -W 2 \"$0\"",
        ])
        .arg(&ip_b)
        .status()?;
    println!("pod-a -> pod-b ({ip_b}): {status}");
    stop_pod_sandbox(&cni, network.name(), a)?;
    stop_pod_sandbox(&cni, network.name(), b)?;
    if status.success() {
        Ok(())
    } else {
        Err("pod-a did not reach pod-b".into())
    }
}
