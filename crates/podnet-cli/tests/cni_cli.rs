//! The `podnet` command line on podman 4's CNI backend, selected by containers.conf
//! (`network_backend = "cni"`, `cni_plugin_dirs`) or `--network-backend cni`, with the real
//! reference plugins (and dnsname when installed) in a throwaway network namespace standing
//! for the host: `network create/ls/inspect/rm` in podman's shape, two containers ping each
//! other by address and by name, a host client reaches a published port through portmap, and
//! stop and rm leave no veth, rule, cache entry, host-local lease or pin. The conflists and
//! libcni's cache live under the test's root (`--network-dir`, `--root`), never in
//! /etc/cni/net.d or /var/lib/cni. Needs root.
#![allow(clippy::unwrap_used)]

mod cni_support;
mod flows_support;

use std::path::PathBuf;

use cni_support::{can_run, has_dnsname, CniHost, PLUGIN_DIR};
use flows_support::{created_id, listed, listen};

/// The CLI with the test's containers.conf (CNI, the plugins' directory) and conflists.
struct Cli<'a> {
    h: &'a CniHost,
    conf: PathBuf,
}

impl Cli<'_> {
    fn new(h: &CniHost) -> Cli<'_> {
        let conf = h.host.root.path().join("containers.conf");
        std::fs::write(
            &conf,
            format!("[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"{PLUGIN_DIR}\"]\n"),
        )
        .unwrap();
        Cli { h, conf }
    }

    /// The stdout of a command that must succeed.
    fn ok(&self, args: &[&str]) -> String {
        self.with_env(args, |all, env| self.h.host.podnet_env_ok(all, env))
    }

    /// Runs `run` with the test's network directory before `args` and its containers.conf.
    fn with_env<T>(&self, args: &[&str], run: impl Fn(&[&str], &[(&str, &str)]) -> T) -> T {
        let dir = self.h.conf.display().to_string();
        let mut all = vec!["--network-dir", &dir];
        all.extend_from_slice(args);
        let conf = self.conf.display().to_string();
        run(&all, &[("CONTAINERS_CONF", conf.as_str())])
    }

    /// `create ARGS...`; the new container's ID.
    fn create_id(&self, args: &[&str]) -> String {
        let mut all = vec!["create"];
        all.extend_from_slice(args);
        created_id(&self.ok(&all))
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// `start NAME` (which prints NAME); the container's `ps --format json` summary.
    fn start(&self, name: &str) -> serde_json::Value {
        assert_eq!(self.ok(&["start", name]), format!("{name}\n"));
        listed(&self.ok(&["ps", "--format", "json"]), name)
    }

    /// `stop` and `rm` of each container, each printing the name given.
    fn stop_rm(&self, names: &[&str]) {
        for name in names {
            for command in ["stop", "rm"] {
                assert_eq!(self.ok(&[command, name]), format!("{name}\n"));
            }
        }
    }
}

/// The fake host with the test's CNI directories, unless the suite cannot run here.
fn host(test: &str) -> Option<CniHost> {
    can_run(test).then(CniHost::new)
}

/// The container's address on `network` as `podnet ps --format json` prints it ("eth0 10.x.y.z/24").
fn address(started: &serde_json::Value, network: &str) -> String {
    let line = started["Addresses"][network][0].as_str().unwrap();
    let cidr = line.split_whitespace().nth(1).unwrap();
    cidr.split('/').next().unwrap().to_string()
}

#[test]
fn the_cli_drives_cni_networks_and_containers_and_leaves_nothing() {
    let Some(h) = host("the_cli_drives_cni_networks") else {
        return;
    };
    let cli = Cli::new(&h);
    let net = format!("pntccli{}", std::process::id());

    // network create writes podman 4.3's conflist; ls and inspect show podman's shape
    let printed = cli.ok(&[
        "network",
        "create",
        &net,
        "--subnet",
        "10.89.241.0/24",
        "--interface-name",
        "pntclibr0",
    ]);
    assert_eq!(printed.trim(), net, "podman prints the name");
    let created = cli.json(&["network", "inspect", &net])[0].clone();
    assert_eq!(created["driver"], "bridge");
    assert_eq!(created["network_interface"], "pntclibr0");
    let file = h.conf.join(format!("{net}.conflist"));
    let conflist: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(conflist["cniVersion"], "0.4.0");
    let types: Vec<&str> = conflist["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    let mut want = vec!["bridge", "portmap", "firewall", "tuning"];
    if has_dnsname() {
        want.push("dnsname");
    }
    assert_eq!(types, want);
    h.own_data_dir(&net);
    let listed = cli.json(&["network", "ls", "--format", "json"]);
    let ours: Vec<&serde_json::Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["name"] == net.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{listed}");
    assert_eq!(ours[0]["subnets"][0]["subnet"], "10.89.241.0/24");
    assert_eq!(ours[0]["subnets"][0]["gateway"], "10.89.241.1");
    let inspected = cli.json(&["network", "inspect", &net]);
    assert_eq!(inspected[0]["id"], created["id"]);
    assert_eq!(inspected[0]["dns_enabled"], has_dnsname());

    // info names the backend in use, its plugins and dnsname, as podman info does
    let info = cli.json(&["info"]);
    assert_eq!(info["networkBackend"], "cni", "{info}");
    let backend = &info["networkBackendInfo"];
    assert_eq!(backend["path"], PLUGIN_DIR, "{info}");
    let package = backend["package"].as_str().unwrap();
    assert!(
        package.starts_with("containernetworking-plugins_"),
        "{info}"
    );
    assert_eq!(backend["dns"]["path"].is_string(), has_dnsname(), "{info}");

    // --network-backend cni selects the same backend without containers.conf's key
    let flag = h.host.podnet(&[
        "--network-backend",
        "cni",
        "--network-dir",
        &h.conf.display().to_string(),
        "network",
        "inspect",
        &net,
    ]);
    let flag: serde_json::Value = serde_json::from_str(&flag).unwrap();
    assert_eq!(flag[0]["id"], created["id"]);

    // two containers on it, one publishing a port
    let id_a = cli.create_id(&["a", "--network", &net, "-p", "18241:8080"]);
    let id_b = cli.create_id(&["b", "--network", &net]);
    let a = cli.start("a");
    let b = cli.start("b");
    let (ip_a, ip_b) = (address(&a, &net), address(&b, &net));
    assert!(ip_a.starts_with("10.89.241."), "{a}");
    assert_ne!(ip_a, ip_b);
    assert_eq!(h.host_local_leases().len(), 2);
    assert_eq!(h.cache_entries().len(), 2);
    let inspect_a = cli.json(&["inspect", "a"]);
    assert_eq!(
        inspect_a[0]["NetworkSettings"]["Networks"][&net]["IPAddress"],
        ip_a.as_str(),
        "{inspect_a}"
    );

    let ping = |from: &str, to: &str| {
        h.exec_ok(from, &["busybox", "ping", "-c", "1", "-W", "2", to]);
    };
    ping("a", &ip_b);
    ping("b", &ip_a);
    if has_dnsname() {
        ping("a", "b");
        ping("b", "a");
    }

    // a host client reaches a's published port on the bridge's address through portmap
    let mut server = listen(&h.host, "a", 8080, "hello-cni-cli");
    let got = h
        .host
        .run(&["busybox", "nc", "-w", "2", "10.89.241.1", "18241"]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "hello-cni-cli");

    cli.stop_rm(&["a", "b"]);
    // podman prints the name of each network removed
    let removed = cli.ok(&["network", "rm", &net]);
    assert_eq!(removed.trim(), net);
    assert!(!file.exists(), "network rm left {}", file.display());
    h.assert_clean("10.89.241.", &[&id_a, &id_b]);
}

/// A conflist podnet did not write, as a cluster's administrator would hand-write one: CNI
/// 1.0.0, a `ptp` chain (no bridge) with host-local, `tuning` setting a sysctl in the
/// container, `portmap` and `firewall`, with fields podman never writes.
fn hand_written(name: &str, data_dir: &std::path::Path) -> String {
    format!(
        r#"{{
  "cniVersion": "1.0.0",
  "name": "{name}",
  "disableCheck": true,
  "plugins": [
    {{
      "type": "ptp",
      "ipMasq": true,
      "mtu": 1400,
      "ipam": {{
        "type": "host-local",
        "dataDir": "{data}",
        "ranges": [[{{"subnet": "10.89.242.0/24", "rangeStart": "10.89.242.100"}}]],
        "routes": [{{"dst": "0.0.0.0/0"}}]
      }}
    }},
    {{"type": "tuning", "sysctl": {{"net.ipv4.conf.all.log_martians": "1"}}}},
    {{"type": "portmap", "capabilities": {{"portMappings": true}}, "snat": true}},
    {{"type": "firewall", "backend": "iptables"}}
  ]
}}
"#,
        data = data_dir.display()
    )
}

#[test]
fn a_hand_written_third_party_conflist_works_unchanged() {
    let Some(h) = host("a_hand_written_third_party_conflist") else {
        return;
    };
    let cli = Cli::new(&h);
    let net = format!("pntchand{}", std::process::id());
    h.networks.borrow_mut().push(net.clone());
    std::fs::create_dir_all(&h.conf).unwrap();
    let file = h.conf.join(format!("10-{net}.conflist"));
    let text = hand_written(&net, &h.data);
    std::fs::write(&file, &text).unwrap();

    // listed and inspected as podman 4.3 reads a conflist of another driver
    let inspected = cli.json(&["network", "inspect", &net]);
    assert_eq!(inspected[0]["name"], net.as_str(), "{inspected}");
    assert_eq!(inspected[0]["driver"], "ptp");

    let id_a = cli.create_id(&["a", "--network", &net, "-p", "18242:8080"]);
    let id_b = cli.create_id(&["b", "--network", &net]);
    let (ip_a, ip_b) = (
        address(&cli.start("a"), &net),
        address(&cli.start("b"), &net),
    );
    // host-local's range as written: from rangeStart on
    for ip in [&ip_a, &ip_b] {
        let last: u8 = ip.rsplit('.').next().unwrap().parse().unwrap();
        assert!(ip.starts_with("10.89.242.") && last >= 100, "{ip}");
    }
    // each plugin of the chain did its part: ptp's MTU, tuning's sysctl in the container
    let link = h.exec_ok("a", &["ip", "-o", "link", "show", "eth0"]);
    assert!(link.contains("mtu 1400"), "{link}");
    let sysctl = h.exec_ok("a", &["cat", "/proc/sys/net/ipv4/conf/all/log_martians"]);
    assert_eq!(sysctl.trim(), "1");
    h.exec_ok("a", &["busybox", "ping", "-c", "1", "-W", "2", &ip_b]);
    h.exec_ok("b", &["busybox", "ping", "-c", "1", "-W", "2", &ip_a]);

    // portmap publishes on the host (here: the host side's address of a's ptp link)
    let gateway = h.exec_ok("a", &["ip", "-o", "-4", "route", "show", "default"]);
    let gateway = gateway.split_whitespace().nth(2).unwrap().to_string();
    let mut server = listen(&h.host, "a", 8080, "hello-hand-written");
    let got = h.host.run(&["busybox", "nc", "-w", "2", &gateway, "18242"]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        String::from_utf8_lossy(&got.stdout).trim(),
        "hello-hand-written"
    );

    cli.stop_rm(&["a", "b"]);
    h.assert_clean("10.89.242.", &[&id_a, &id_b]);
    // podnet read the file and never wrote it
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}
