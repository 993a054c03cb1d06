//! The CNI suites' fake host: the flows' throwaway host netns and root, plus the test's own
//! CNI config, cache and host-local data directories under the root (never /etc/cni/net.d or
//! /var/lib/cni), the checks that nothing is left, and the dnsname cleanup of a failed test.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use crate::flows_support::{runs_unless, Host, PODNET};
use podnet::{
    CniBackend, Network, Runtime, RuntimeConfig, Subnet, HOST_LOCAL_IPAM, IPAM_DRIVER_KEY,
};

pub const PLUGIN_DIR: &str = "/usr/lib/cni";

/// False (after saying why) when the CNI flows cannot run here; a panic in CI.
pub fn can_run(test: &str) -> bool {
    let needs = [
        (
            "/usr/lib/cni/bridge",
            "the CNI plugins (apt-get install containernetworking-plugins)",
        ),
        ("/usr/bin/nsenter", "nsenter (util-linux)"),
        ("/bin/busybox", "busybox (apt-get install busybox-static)"),
    ];
    let reason = if !nix::unistd::geteuid().is_root() {
        Some("needs root".to_string())
    } else {
        needs
            .iter()
            .find(|(p, _)| !Path::new(p).exists())
            .map(|(_, what)| format!("needs {what}"))
    };
    runs_unless(test, reason)
}

pub fn has_dnsname() -> bool {
    Path::new(PLUGIN_DIR).join("dnsname").exists()
}

/// The runtime of a test root whose fake host is the network namespace at `host_netns`.
pub fn runtime_at(root: &Path, host_netns: &Path) -> Runtime<CniBackend> {
    let cni_dir = root.join("cni");
    let cni = podnet::cni::Runtime::new([PLUGIN_DIR]).with_cache_dir(cni_dir.join("cache"));
    let host_ns = netns::NetNs::open(host_netns).unwrap();
    let backend = CniBackend::new(cni_dir.join("net.d"), cni).host_netns(Arc::new(host_ns));
    let store = backend.network_store();
    Runtime::new(RuntimeConfig::under(root), backend)
        .unwrap()
        .with_network_store(store)
}

/// The fake host plus the test's CNI directories (under its root): conflists in
/// `<root>/cni/net.d`, libcni's cache in `<root>/cni/cache` (as `RuntimeConfig::under` puts
/// it), host-local's leases in `<root>/cni/host-local`.
pub struct CniHost {
    pub host: Host,
    pub conf: PathBuf,
    pub cache: PathBuf,
    pub data: PathBuf,
    pub networks: std::cell::RefCell<Vec<String>>,
}

/// Where the dnsname plugin keeps a network's dnsmasq (fixed by the plugin, as root).
const DNSNAME_RUN_DIR: &str = "/run/containers/cni/dnsname";

impl Drop for CniHost {
    /// A test that failed half way may leave its networks' dnsmasq running: stop it.
    fn drop(&mut self) {
        for net in self.networks.borrow().iter() {
            let dir = Path::new(DNSNAME_RUN_DIR).join(net);
            if let Some(pid) = std::fs::read_to_string(dir.join("pidfile"))
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok())
            {
                let pid = nix::unistd::Pid::from_raw(pid);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::SIGTERM);
            }
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl CniHost {
    pub fn new() -> CniHost {
        let host = Host::new();
        let cni = host.root.path().join("cni");
        CniHost {
            conf: cni.join("net.d"),
            cache: cni.join("cache"),
            data: cni.join("host-local"),
            networks: Default::default(),
            host,
        }
    }

    pub fn runtime(&self) -> Runtime<CniBackend> {
        runtime_at(self.host.root.path(), &self.host.netns_path())
    }

    /// A bridge network created by podnet's CNI store (podman 4.3's conflist), then given a
    /// host-local data directory of the test's own: the store and the backend read the
    /// edited file as it is.
    pub fn network(&self, rt: &Runtime<CniBackend>, name: &str, bridge: &str, subnet: &str) {
        let mut net = {
            let mut v = Network::default();
            v.name = name.into();
            v.network_interface = bridge.into();
            v.subnets = vec![Subnet::new(subnet.parse().unwrap())];
            v.dns_enabled = true;
            v
        };
        net.ipam_options
            .insert(IPAM_DRIVER_KEY.into(), HOST_LOCAL_IPAM.into());
        rt.networks().create(net).unwrap();
        self.own_data_dir(name);
        let listed = rt.networks().inspect(name).unwrap();
        assert_eq!(listed.subnets[0].subnet.to_string(), subnet);
        assert_eq!(listed.dns_enabled, has_dnsname());
    }

    /// Gives network `name`'s conflist (podman's, as created) the test's own host-local data
    /// directory, so no lease lands in /var/lib/cni; the store and the backend read the
    /// edited file as it is.
    pub fn own_data_dir(&self, name: &str) {
        self.networks.borrow_mut().push(name.to_string());
        let path = self.conf.join(format!("{name}.conflist"));
        let mut conf: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        conf["plugins"][0]["ipam"]["dataDir"] = self.data.display().to_string().into();
        std::fs::write(&path, serde_json::to_vec_pretty(&conf).unwrap()).unwrap();
    }

    /// `podnet exec` (it only enters the recorded netns with the container's files).
    pub fn exec(&self, container: &str, args: &[&str]) -> std::process::Output {
        self.host
            .command(PODNET)
            .arg("--root")
            .arg(self.host.root.path())
            .args(["exec", container, "--"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    pub fn exec_ok(&self, container: &str, args: &[&str]) -> String {
        let out = self.exec(container, args);
        assert!(
            out.status.success(),
            "{container}: {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every firewall rule of the fake host (iptables, ip6tables, nftables).
    pub fn firewall(&self) -> String {
        ["iptables-save", "ip6tables-save"]
            .iter()
            .map(|tool| self.host.sh(&[tool]))
            .chain([self.host.sh(&["nft", "list", "ruleset"])])
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Addresses host-local still holds (its lease files are named by address).
    pub fn host_local_leases(&self) -> Vec<String> {
        let Ok(nets) = std::fs::read_dir(&self.data) else {
            return Vec::new();
        };
        nets.flatten()
            .flat_map(|n| std::fs::read_dir(n.path()).into_iter().flatten().flatten())
            .map(|f| f.file_name().to_string_lossy().into_owned())
            .filter(|f| f.parse::<IpAddr>().is_ok())
            .collect()
    }

    pub fn cache_entries(&self) -> Vec<String> {
        std::fs::read_dir(self.cache.join("results"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| !name.contains("-f00d-"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Nothing of the containers `ids` is left: no veth, no rule naming the subnet or a
    /// container, no cache entry, no host-local lease, no pin.
    pub fn assert_clean(&self, subnet_prefix: &str, ids: &[&str]) {
        let links = self.host.links();
        assert!(
            !links.iter().any(|l| l.starts_with("veth")),
            "veths left: {links:?}"
        );
        let fw = self.firewall();
        assert!(!fw.contains(subnet_prefix), "rules left:\n{fw}");
        for id in ids {
            assert!(!fw.contains(id), "rules of {id} left:\n{fw}");
        }
        assert!(
            self.cache_entries().is_empty(),
            "{:?}",
            self.cache_entries()
        );
        assert!(
            self.host_local_leases().is_empty(),
            "{:?}",
            self.host_local_leases()
        );
        assert!(self.host.pins().is_empty(), "pins: {:?}", self.host.pins());
    }
}
