//! Shared helpers of the netavark integration tests: the root/binary probe with
//! its loud skip, throwaway network namespaces, and running code inside one.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use netns::NetNs;
use podnet::Netavark;
use serde_json::json;

#[path = "../test_backend/mod.rs"]
pub mod test_backend;

/// Returns false (after saying why on stderr) when the test cannot run; in CI
/// (`CI` set) it panics instead, so a skip never passes silently there.
pub fn can_run(test: &str) -> bool {
    let reason = if !nix::unistd::geteuid().is_root() {
        Some("needs root".to_string())
    } else if let Err(err) = test_backend::netavark().and_then(|_| test_backend::aardvark()) {
        Some(err)
    } else if Command::new("ip").arg("-V").output().is_err() {
        Some("needs iproute2's ip".to_string())
    } else {
        None
    };
    match reason {
        None => true,
        Some(reason) => {
            testkit::skip(test, &reason);
            false
        }
    }
}

/// A `Netavark` on the binaries under test (see `test_backend`) with a throwaway config
/// directory, running netavark inside `host`.
pub fn netavark(config: &tempfile::TempDir, dns: bool, host: &Netns) -> Netavark {
    let binary = test_backend::netavark().unwrap();
    let aardvark = if dns {
        Some(test_backend::aardvark().unwrap())
    } else {
        None
    };
    Netavark::with_binaries(binary, aardvark, config.path().join("networks"))
        .host_netns(host.ns.clone())
}

/// A named network namespace pinned in /run/netns (the netns crate), removed on drop.
pub struct Netns {
    pub name: String,
    pub ns: Arc<NetNs>,
}

impl Netns {
    pub fn new(name: String) -> Self {
        let _ = netns::remove(Path::new("/run/netns").join(&name));
        let ns = Arc::new(NetNs::create_named(&name).unwrap());
        ns.command("ip")
            .unwrap()
            .args(["link", "set", "lo", "up"])
            .status()
            .unwrap();
        Netns { name, ns }
    }

    pub fn path(&self) -> PathBuf {
        self.ns.path().to_path_buf()
    }

    /// Runs `f` on a throwaway thread inside this namespace.
    pub fn run_in<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        self.ns.run_in(f).unwrap()
    }

    /// `ip netns exec NAME args...`
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        output(&all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(err) = netns::remove(self.ns.path()) {
            eprintln!("cleanup: remove netns {}: {err}", self.name);
        }
    }
}

/// `host`'s firewall rules: iptables (all tables; netavark 1.x) and nftables (netavark
/// 2.x's `inet netavark` table), whichever driver netavark uses.
pub fn firewall(host: &Netns) -> String {
    let text = |args: &[&str]| {
        let out = host.exec(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    text(&["iptables-save"]) + &text(&["nft", "list", "ruleset"])
}

/// Runs a command and returns its output, whatever the exit status.
pub fn output(args: &[&str]) -> Output {
    Command::new(args[0]).args(&args[1..]).output().unwrap()
}

/// Runs a command that must succeed.
pub fn run(args: &[&str]) -> String {
    let out = output(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bridge network definition, read from podman's JSON format written by hand.
pub fn bridge_network(
    name: &str,
    bridge: &str,
    subnet: &str,
    gateway: &str,
    dns: bool,
) -> podnet::Network {
    serde_json::from_value(json!({
        "name": name,
        "id": format!("{:0>64}", format!("{:x}", std::process::id())),
        "driver": "bridge",
        "network_interface": bridge,
        "created": "2026-11-24T00:00:00Z",
        "subnets": [{"subnet": subnet, "gateway": gateway}],
        "ipv6_enabled": false,
        "internal": false,
        "dns_enabled": dns,
        "ipam_options": {"driver": "host-local"}
    }))
    .unwrap()
}
