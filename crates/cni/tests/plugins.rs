//! The runtime with the real reference plugins (Debian's containernetworking-plugins 1.1.1 in
//! /usr/lib/cni) on real namespaces: a bridge + host-local + portmap + firewall + tuning chain
//! in podman 4.3's shape, run from a throwaway stand-in host netns (never the real host), with
//! this test's own config, cache and host-local data directories (never /etc/cni/net.d or
//! /var/lib/cni). Two containers ping each other by IP, a client in the stand-in host reaches
//! a port published through portmap, CHECK passes (and fails once an attachment is broken),
//! and DEL (one of them from the cache alone,
//! by a fresh runtime) leaves no veth, no per-container rule, no cache entry and no lease.
//! Also: a plugin's CNI error reaches the caller with its code, and a hanging plugin is
//! killed at the time limit.
//!
//! Needs root, iproute2, busybox-static and the plugins; run under the integration lock:
//! `flock /tmp/podnet-integration.lock cargo test -p podnet-cni --test plugins`.
#![allow(clippy::unwrap_used)]

use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use cni::{Capability, Error, NetworkConfigList, PortMapping, Runtime, RuntimeConf};
use serde_json::json;

const PLUGIN_DIR: &str = "/usr/lib/cni";

/// Whether the test can run; says why not (and fails under `CI`).
fn can_run(test: &str) -> bool {
    let reason = if !nix::unistd::geteuid().is_root() {
        Some("needs root".to_string())
    } else if !Path::new(PLUGIN_DIR).join("bridge").exists() {
        Some(format!(
            "no reference plugins in {PLUGIN_DIR} (containernetworking-plugins)"
        ))
    } else if !Path::new("/bin/busybox").exists() {
        Some("no /bin/busybox (busybox-static)".into())
    } else if Command::new("ip").arg("-V").output().is_err() {
        Some("no iproute2".into())
    } else {
        None
    };
    match reason {
        None => true,
        Some(why) => {
            testkit::skip(test, &why);
            false
        }
    }
}

fn output(args: &[&str]) -> Output {
    Command::new(args[0]).args(&args[1..]).output().unwrap()
}

fn run(args: &[&str]) -> String {
    let out = output(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A named netns (`ip netns add`) with lo up, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(name: String) -> Self {
        let _ = output(&["ip", "netns", "del", &name]);
        run(&["ip", "netns", "add", &name]);
        run(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    fn exec(&self, args: &[&str]) -> Output {
        let mut all = vec!["ip", "netns", "exec", &self.name];
        all.extend_from_slice(args);
        output(&all)
    }

    /// Runs `f` on a throwaway thread inside this netns: plugins started there do their
    /// host-side work (bridge, veth host ends, iptables) in this netns.
    fn run_in<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let file = std::fs::File::open(self.path()).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
                f()
            })
            .join()
            .unwrap()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = output(&["ip", "netns", "del", &self.name]);
        if !out.status.success() {
            eprintln!(
                "cleanup: ip netns del {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// podman 4.3's chain (as `podman network create --ipv6` writes it, see
/// tests/fixtures/podman43), dual-stack, with this test's bridge, subnets and host-local data
/// dir, and tuning declaring `mac`. Dual-stack because portmap 1.1.1's CHECK insists on an
/// IPv6 DNAT chain even for an IPv4-only container (containernetworking/plugins#819).
fn conflist(
    name: &str,
    bridge: &str,
    subnet: &str,
    gateway: &str,
    subnet6: &str,
    data_dir: &Path,
) -> NetworkConfigList {
    NetworkConfigList::from_value(json!({
        "args": {"podman_labels": {"test": "plugins"}},
        "cniVersion": "0.4.0",
        "name": name,
        "plugins": [
            {"type": "bridge", "bridge": bridge, "isGateway": true, "ipMasq": true,
             "hairpinMode": true,
             "ipam": {"type": "host-local", "dataDir": data_dir,
                      "routes": [{"dst": "0.0.0.0/0"}],
                      "ranges": [[{"subnet": subnet, "gateway": gateway}], [{"subnet": subnet6}]]},
             "capabilities": {"ips": true}},
            {"type": "portmap", "capabilities": {"portMappings": true}},
            {"type": "firewall", "backend": ""},
            {"type": "tuning", "capabilities": {"mac": true}}
        ]
    }))
    .unwrap()
}

/// The host netns's iptables and nft rule sets.
fn rules(host: &Netns) -> String {
    ["iptables-save", "ip6tables-save", "nft list ruleset"]
        .iter()
        .map(|cmd| {
            let args: Vec<&str> = cmd.split(' ').collect();
            let out = host.exec(&args);
            assert!(
                out.status.success(),
                "{cmd}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_podman_chain_connects_publishes_checks_and_deletes_without_leftovers() {
    if !can_run("a_podman_chain_connects_publishes_checks_and_deletes_without_leftovers") {
        return;
    }
    let pid = std::process::id();
    let tag = format!("pncni{}", pid % 100_000);
    let octet = pid % 200 + 20;
    let (subnet, gateway) = (format!("10.213.{octet}.0/24"), format!("10.213.{octet}.1"));
    let c1_ip = format!("10.213.{octet}.50");
    let host = Netns::new(format!("{tag}-host"));
    let c1 = Netns::new(format!("{tag}-c1"));
    let c2 = Netns::new(format!("{tag}-c2"));
    let dirs = tempfile::tempdir().unwrap();
    let (cache, data) = (dirs.path().join("cache"), dirs.path().join("ipam"));
    let net = format!("{tag}net");
    let subnet6 = format!("fd00:213:{octet}::/64");
    let list = conflist(
        &net,
        &format!("{tag}br"),
        &subnet,
        &gateway,
        &subnet6,
        &data,
    );
    let runtime = Runtime::new([PLUGIN_DIR]).with_cache_dir(&cache);

    let (id1, id2) = (format!("{tag}-ctr1"), format!("{tag}-ctr2"));
    let rt1 = RuntimeConf::new(&id1, c1.path(), "eth0")
        .with_arg("IgnoreUnknown", "1")
        .with_capability(Capability::Ips(vec![format!("{c1_ip}/24")
            .parse()
            .unwrap()]))
        .with_capability(Capability::Mac("02:42:ac:11:00:50".into()))
        .with_capability(Capability::PortMappings(vec![PortMapping {
            host_port: 18080,
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: String::new(),
        }]));
    let rt2 = RuntimeConf::new(&id2, c2.path(), "eth0");

    let (r1, r2) = host.run_in(|| (runtime.add(&list, &rt1), runtime.add(&list, &rt2)));
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    // runtimeConfig reached host-local (ips) and tuning (mac)
    assert_eq!(r1.ips[0].address.to_string(), format!("{c1_ip}/24"));
    let c1_link = String::from_utf8_lossy(&c1.exec(&["ip", "-o", "link", "show", "eth0"]).stdout)
        .into_owned();
    assert!(c1_link.contains("02:42:ac:11:00:50"), "{c1_link}");
    let ip2 = r2.ips[0].address.addr().to_string();
    let c1_ip6 = r1
        .ips
        .iter()
        .find(|ip| ip.address.addr().is_ipv6())
        .unwrap()
        .address
        .addr()
        .to_string();
    assert!(c1_ip6.starts_with(&format!("fd00:213:{octet}:")), "{r1:?}");
    assert_ne!(ip2, c1_ip);
    let c2_addr = String::from_utf8_lossy(&c2.exec(&["ip", "-o", "addr", "show", "eth0"]).stdout)
        .into_owned();
    assert!(c2_addr.contains(&format!("{ip2}/24")), "{c2_addr}");

    // two containers ping each other by IP
    for (from, to) in [(&c1, &ip2), (&c2, &c1_ip)] {
        let ping = from.exec(&["busybox", "ping", "-c1", "-W2", to]);
        assert!(
            ping.status.success(),
            "ping {to} from {}: {}",
            from.name,
            String::from_utf8_lossy(&ping.stdout)
        );
    }

    // a client in the stand-in host reaches the published port
    let mut server = Command::new("ip")
        .args([
            "netns",
            "exec",
            &c1.name,
            "busybox",
            "sh",
            "-c",
            "echo hello-from-c1 | busybox nc -l -p 80",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let reached = (0..50).any(|_| {
        let got = host.exec(&["busybox", "nc", "-w", "2", &gateway, "18080"]);
        let ok = String::from_utf8_lossy(&got.stdout).contains("hello-from-c1");
        if !ok {
            std::thread::sleep(Duration::from_millis(100));
        }
        ok
    });
    let _ = server.kill();
    let _ = server.wait();
    assert!(reached, "no answer through portmap at {gateway}:18080");

    // CHECK passes for the container without published ports; for the one with ports,
    // portmap 1.1.1 looks for its IPv4 rules in ip6tables too and fails
    // (containernetworking/plugins#819, fixed in 1.2.0): the plugin's own error comes back
    host.run_in(|| runtime.check(&list, &rt2)).unwrap();
    let err = host.run_in(|| runtime.check(&list, &rt1)).unwrap_err();
    match &err {
        Error::Plugin {
            plugin,
            command,
            code,
            msg,
            ..
        } => {
            assert_eq!(
                (plugin.as_str(), *command, *code),
                ("portmap", cni::Command::Check, 999),
                "{err}"
            );
            assert!(msg.starts_with("could not check ipv6 dnat"), "{err}");
        }
        other => panic!("not portmap's error: {other}"),
    }
    // and CHECK notices a broken attachment: c2's interface no longer has the cached MAC
    // (not its addresses: bridge 1.1.1's DEL finds the masquerade rules to remove by them)
    run(&[
        "ip",
        "-n",
        &c2.name,
        "link",
        "set",
        "eth0",
        "address",
        "02:00:00:00:00:99",
    ]);
    let err = host.run_in(|| runtime.check(&list, &rt2)).unwrap_err();
    assert!(
        matches!(&err, Error::Plugin { plugin, .. } if plugin == "bridge"),
        "{err}"
    );
    let leases = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir.join(&net))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(leases(&data).contains(&c1_ip), "{:?}", leases(&data));
    let during = rules(&host);
    assert!(
        during.contains(&id1) && during.contains("18080"),
        "{during}"
    );

    // DEL: c1 with the list in hand, c2 by a fresh runtime from the cache alone
    host.run_in(|| runtime.del(&list, &rt1)).unwrap();
    drop(runtime);
    let fresh = Runtime::new([PLUGIN_DIR]).with_cache_dir(&cache);
    host.run_in(|| fresh.del_cached(&net, &RuntimeConf::new(&id2, c2.path(), "eth0")))
        .unwrap();

    let veths = String::from_utf8_lossy(
        &host
            .exec(&["ip", "-o", "link", "show", "type", "veth"])
            .stdout,
    )
    .into_owned();
    assert!(
        veths.trim().is_empty(),
        "veths left in the host netns: {veths}"
    );
    let after = rules(&host);
    for gone in [
        id1.as_str(),
        id2.as_str(),
        c1_ip.as_str(),
        ip2.as_str(),
        c1_ip6.as_str(),
        "18080",
        "CNI-DN-",
    ] {
        assert!(!after.contains(gone), "rule with {gone} left:\n{after}");
    }
    let cached: Vec<_> = std::fs::read_dir(cache.join("results"))
        .unwrap()
        .flatten()
        .collect();
    assert!(cached.is_empty(), "cache entries left: {cached:?}");
    let left = leases(&data);
    assert!(
        left.iter().all(|f| f.parse::<std::net::IpAddr>().is_err()),
        "host-local leases left: {left:?}"
    );
}

/// Writes an executable script plugin into `dir`.
fn script_plugin(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn one_plugin_list(plugin: &str) -> NetworkConfigList {
    NetworkConfigList::from_value(json!({
        "cniVersion": "1.0.0", "name": "pncni-script", "plugins": [{"type": plugin}]
    }))
    .unwrap()
}

#[test]
fn a_plugin_error_is_reported_with_its_code_message_and_details() {
    let dir = tempfile::tempdir().unwrap();
    script_plugin(
        dir.path(),
        "refuser",
        r#"cat >/dev/null; echo '{"cniVersion":"1.0.0","code":11,"msg":"try again later","details":"busy"}'; exit 1"#,
    );
    let runtime = Runtime::new([dir.path()]).with_cache_dir(dir.path().join("cache"));
    let err = runtime
        .add(
            &one_plugin_list("refuser"),
            &RuntimeConf::new("pncni-err", "/run/netns/none", "eth0"),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin \"refuser\" of network \"pncni-script\" (ADD) failed with CNI error 11: try again later (busy)"
    );
    assert!(matches!(err, Error::Plugin { code: 11, .. }));
}

#[test]
fn a_real_plugin_error_keeps_the_plugins_code() {
    if !can_run("a_real_plugin_error_keeps_the_plugins_code") {
        return;
    }
    let dirs = tempfile::tempdir().unwrap();
    let list = NetworkConfigList::from_value(json!({
        "cniVersion": "0.4.0", "name": "pncni-realerr",
        "plugins": [{"type": "bridge", "bridge": "pncnierr0",
                     "ipam": {"type": "host-local", "dataDir": dirs.path(),
                              "ranges": [[{"subnet": "10.214.0.0/24"}]]}}]
    }))
    .unwrap();
    let missing = dirs.path().join("no-such-netns");
    let runtime = Runtime::new([PLUGIN_DIR]).with_cache_dir(dirs.path().join("cache"));
    let host = Netns::new(format!("pncni{}-errhost", std::process::id() % 100_000));
    let err = host
        .run_in(|| runtime.add(&list, &RuntimeConf::new("pncni-realerr", &missing, "eth0")))
        .unwrap_err();
    let Error::Plugin { code, msg, .. } = &err else {
        panic!("not a plugin error: {err}");
    };
    assert_ne!(*code, 0, "{err}");
    assert!(msg.contains("no-such-netns"), "{err}");
}

#[test]
fn a_hanging_plugin_is_killed_at_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    script_plugin(
        dir.path(),
        "hang",
        &format!("echo $$ > {}; exec sleep 600", pidfile.display()),
    );
    let runtime = Runtime::new([dir.path()])
        .with_cache_dir(dir.path().join("cache"))
        .with_time_limit(Duration::from_millis(500));
    let err = runtime
        .add(
            &one_plugin_list("hang"),
            &RuntimeConf::new("pncni-hang", "/run/netns/none", "eth0"),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin \"hang\" of network \"pncni-script\" (ADD) did not finish within 500ms and was killed"
    );
    // the rollback DEL ran into the same limit; both processes are gone
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.split(' ').nth(2) == Some("Z"),
        "plugin {pid} still runs: {stat}"
    );
    assert!(!dir
        .path()
        .join("cache/results/pncni-script-pncni-hang-eth0")
        .exists());
}

#[test]
fn version_and_validate_ask_the_real_plugins() {
    if !Path::new(PLUGIN_DIR).join("bridge").exists() {
        let why = format!("no reference plugins in {PLUGIN_DIR}");
        testkit::skip("version_and_validate_ask_the_real_plugins", &why);
        return;
    }
    let runtime = Runtime::new(["/nonexistent/podnet-cni", PLUGIN_DIR]);
    let info = runtime.version_info("bridge").unwrap();
    assert!(info.supports(cni::SpecVersion::V0_4_0), "{info:?}");
    assert!(info.supports(cni::SpecVersion::V1_0_0), "{info:?}");
    let data = tempfile::tempdir().unwrap();
    let list = conflist(
        "pncni-validate",
        "pncniv0",
        "10.216.0.0/24",
        "10.216.0.1",
        "fd00:216::/64",
        data.path(),
    );
    assert_eq!(
        runtime.validate(&list).unwrap(),
        ["ips", "mac", "portMappings"]
    );
    let err = runtime.version_info("no-such-plugin").unwrap_err();
    assert!(
        err.to_string()
            .contains("not found in /nonexistent/podnet-cni:/usr/lib/cni"),
        "{err}"
    );
}
