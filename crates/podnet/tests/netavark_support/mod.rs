//! Shared helpers of the netavark integration tests: the root/binary probe with
//! its loud skip, throwaway network namespaces, and running code inside one.
#![allow(dead_code, clippy::unwrap_used)]

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output};

use nix::sched::{setns, CloneFlags};
use podnet::{find_helper_binary, Netavark};
use serde_json::{json, Value};

/// Returns false (after saying why on stderr) when the test cannot run; in CI
/// (`CI` set) it panics instead, so a skip never passes silently there.
pub fn can_run(test: &str) -> bool {
    let reason = if !nix::unistd::geteuid().is_root() {
        Some("needs root".to_string())
    } else if let Err(err) = find_helper_binary("netavark", None) {
        Some(err.to_string())
    } else if Command::new("ip").arg("-V").output().is_err() {
        Some("needs iproute2's ip".to_string())
    } else {
        None
    };
    match reason {
        None => true,
        Some(reason) if std::env::var_os("CI").is_some() => {
            panic!("{test}: cannot run in CI: {reason}")
        }
        Some(reason) => {
            eprintln!("SKIPPED {test}: {reason}");
            false
        }
    }
}

/// A `Netavark` on the machine's binaries with a throwaway config directory.
pub fn netavark(config: &tempfile::TempDir, dns: bool) -> Netavark {
    let binary = find_helper_binary("netavark", None).unwrap();
    let aardvark = if dns {
        Some(find_helper_binary("aardvark-dns", None).unwrap())
    } else {
        None
    };
    Netavark::with_binaries(binary, aardvark, config.path().join("networks"))
}

/// A named network namespace made with `ip netns add`, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(name: String) -> Self {
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run(&["ip", "netns", "add", &name]);
        run(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Runs `f` on a fresh thread that entered this namespace; processes it
    /// spawns (netavark) live in it too.
    pub fn run_in<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let file = File::open(self.path()).unwrap();
        std::thread::spawn(move || {
            setns(&file, CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
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
        let out = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        if let Ok(out) = out {
            if !out.status.success() {
                eprintln!(
                    "cleanup: ip netns del {}: {}",
                    self.name,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
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

/// A bridge network definition in podman's JSON format, written by hand.
pub fn bridge_network(name: &str, bridge: &str, subnet: &str, gateway: &str, dns: bool) -> Value {
    json!({
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
    })
}
