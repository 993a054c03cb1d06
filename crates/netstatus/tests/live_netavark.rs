//! Privileged test (root, run by `cargo xtask integration`): the installed
//! netavark's live `setup` output, parsed and converted by netstatus, agrees
//! with what the kernel shows in the container namespace (`ip -j addr`).
//! Everything happens in two throwaway network namespaces.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use netstatus::{basic_config, parse_setup_output};

const NETAVARK: &str = "/usr/lib/podman/netavark";

fn skip(reason: &str) {
    testkit::skip("live_setup_output_matches_kernel_state", reason);
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn ok(cmd: &mut Command, stdin: Option<&str>) -> String {
    let out = run(cmd, stdin);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Two namespaces (fake host, container) plus netavark's config dir;
/// tears down and deletes them on drop, also when the test fails.
struct Lab {
    host: String,
    ctr: String,
    config: tempfile::TempDir,
    input: String,
}

impl Lab {
    fn ctr_path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.ctr)
    }

    fn netavark(&self, verb: &str) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.host, NETAVARK, "--config"])
            .arg(self.config.path())
            .arg(verb)
            .arg(self.ctr_path());
        run(&mut cmd, Some(&self.input))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let out = self.netavark("teardown");
        if !out.status.success() {
            eprintln!("teardown: {}", String::from_utf8_lossy(&out.stderr));
        }
        for ns in [&self.ctr, &self.host] {
            let _ = Command::new("ip").args(["netns", "delete", ns]).status();
        }
    }
}

#[test]
fn live_setup_output_matches_kernel_state() {
    if nix::unistd::geteuid().as_raw() != 0 {
        return skip("needs root (run by cargo xtask integration)");
    }
    if !Path::new(NETAVARK).exists() {
        return skip(&format!("{NETAVARK} not installed (cargo xtask setup)"));
    }
    let pid = std::process::id();
    let bridge = format!("pntns{}", pid % 1_000_000);
    let input = serde_json::json!({
        "container_id": format!("{:064x}", pid),
        "container_name": "pntns-live",
        "port_mappings": [
            {"host_ip": "", "container_port": 80, "host_port": 18080, "range": 1, "protocol": "tcp"}
        ],
        "networks": {"pntlive": {"interface_name": "eth0", "static_ips": ["10.89.249.2", "fd00:249::2"]}},
        "network_info": {"pntlive": {
            "name": "pntlive", "id": format!("{:064x}", pid + 1), "driver": "bridge",
            "network_interface": bridge,
            "subnets": [
                {"subnet": "10.89.249.0/24", "gateway": "10.89.249.1"},
                {"subnet": "fd00:249::/64", "gateway": "fd00:249::1"}
            ],
            "ipv6_enabled": true, "internal": false, "dns_enabled": false,
            "ipam_options": {"driver": "host-local"}
        }}
    })
    .to_string();
    let lab = Lab {
        host: format!("pntns-{pid}-h"),
        ctr: format!("pntns-{pid}-c"),
        config: tempfile::tempdir().unwrap(),
        input,
    };
    for ns in [&lab.host, &lab.ctr] {
        ok(Command::new("ip").args(["netns", "add", ns]), None);
    }
    ok(
        Command::new("ip").args(["-n", &lab.host, "link", "set", "lo", "up"]),
        None,
    );

    let out = lab.netavark("setup");
    assert!(
        out.status.success(),
        "netavark setup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = parse_setup_output("netavark setup", &String::from_utf8_lossy(&out.stdout))
        .expect("parse live netavark output");
    let block = &status["pntlive"];
    let config = basic_config(block);

    // The oracle: what the kernel has on eth0 inside the container namespace.
    let addr_json = ok(
        Command::new("ip").args(["-n", &lab.ctr, "-j", "addr", "show", "eth0"]),
        None,
    );
    let link: serde_json::Value = serde_json::from_str(&addr_json).unwrap();
    let link = &link[0];
    assert_eq!(config.mac_address, link["address"].as_str().unwrap());
    let addrs = link["addr_info"].as_array().unwrap();
    let find = |family: &str, scope: &str| {
        addrs
            .iter()
            .find(|a| a["family"] == family && a["scope"] == scope)
            .map(|a| {
                (
                    a["local"].as_str().unwrap().to_string(),
                    a["prefixlen"].as_u64().unwrap(),
                )
            })
    };
    let (v4, v4len) = find("inet", "global").expect("kernel has an IPv4 address");
    assert_eq!(
        (config.ip_address.as_str(), u64::from(config.ip_prefix_len)),
        (v4.as_str(), v4len)
    );
    let (v6, v6len) = find("inet6", "global").expect("kernel has a global IPv6 address");
    assert_eq!(
        (
            config.global_ipv6_address.as_str(),
            u64::from(config.global_ipv6_prefix_len)
        ),
        (v6.as_str(), v6len)
    );
    assert_eq!(config.gateway, "10.89.249.1");
    assert_eq!(config.ipv6_gateway, "fd00:249::1");
    // The kernel also gave eth0 a link-local address, which netavark does
    // not report: neither the global nor the secondary fields show it.
    assert!(config.secondary_ipv6_addresses.is_empty());
    assert!(!config.global_ipv6_address.starts_with("fe80"));
    assert!(config.secondary_ip_addresses.is_empty());
    assert!(config.additional_mac_addresses.is_empty());
}
