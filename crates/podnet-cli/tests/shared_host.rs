//! podnet next to real podman 4.3 on one host and one network: one address authority
//! (podman's `ipam.db`), names resolved across the tools by the one aardvark-dns, a
//! crash of podnet in the middle of an allocation, and the host-port picker on a run
//! of every port.
//!
//! Isolation: each scenario runs on a thread with its own mount and network namespaces,
//! tmpfs over `/run/containers/networks` (rootful podman's fixed `ipam.db` and netavark
//! config directory) and `/run/netns`; podman runs with its own `--root`, `--runroot`,
//! `--tmpdir`, a `CONTAINERS_CONF` whose `network_config_dir` is the test's, and a
//! busybox `--rootfs`; podnet (the CLI) with its own `--root` for its state and podman's
//! network directory, `ipam.db` and netavark config directory. Processes spawned from the
//! thread inherit its namespaces, so the host's networks, firewall, containers and
//! `ipam.db` are untouched. podnet runs with a login shell's PATH (no sbin directory). Needs root, podman, netavark, busybox and Go (bbolt's
//! `tx.Check()`); run it under the integration lock.
#![allow(clippy::unwrap_used)]

#[path = "../../bbolt/tests/common/mod.rs"]
mod bbolt_common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bbolt::podman_ipam;

const IPAM_DB: &str = podman_ipam::ROOTFUL_PATH;
const NETAVARK_CONFIG: &str = "/run/containers/networks";
const LOGIN_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

fn ready(test: &str) -> bool {
    if !testkit::require_root(test) {
        return false;
    }
    for tool in [
        "podman",
        "/usr/lib/podman/netavark",
        "/usr/lib/podman/aardvark-dns",
        "/bin/busybox",
        "nsenter",
    ] {
        if testkit::require_binary(test, tool).is_none() {
            return false;
        }
    }
    true
}

/// podman and podnet sharing one network directory, in the test's namespaces.
struct Peers {
    base: PathBuf,
}

use testkit::stdout_of as check;

impl Peers {
    fn new(base: &Path) -> Peers {
        bbolt_common::podman_base(base);
        Peers {
            base: base.to_path_buf(),
        }
    }

    fn podman(&self) -> Command {
        bbolt_common::podman_command(&self.base)
    }

    fn podnet(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_podnet"));
        c.arg("--root")
            .arg(self.base.join("podnet"))
            .arg("--network-dir")
            .arg(self.base.join("networks"))
            .arg("--shared-ipam")
            .arg(IPAM_DB)
            .arg("--netavark-config")
            .arg(NETAVARK_CONFIG)
            .env_remove("PODNET_FAILPOINT")
            // a login shell's PATH (`su - USER` on Debian): no sbin directory, where
            // netavark's iptables lives
            .env("PATH", LOGIN_PATH);
        c
    }

    fn podman_ok(&self, args: &[&str]) -> String {
        check(
            &format!("podman {args:?}"),
            &self.podman().args(args).output().unwrap(),
        )
    }

    fn podnet_ok(&self, args: &[&str]) -> String {
        check(
            &format!("podnet {args:?}"),
            &self.podnet().args(args).output().unwrap(),
        )
    }

    /// `podman run` of a sleeping busybox on `network`, started in the background.
    fn spawn_podman(&self, name: &str, network: &str, extra: &[&str]) -> Child {
        let rootfs = self.base.join("rootfs");
        self.podman()
            .args(["run", "-d", "--name", name, "--network", network])
            .args(extra)
            .arg("--rootfs")
            .arg(rootfs)
            .args(["/bin/busybox", "sleep", "600"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `podnet create` then `podnet start`, in the background.
    fn spawn_podnet(&self, name: &str, network: &str, extra: &[&str]) -> Child {
        let create = self
            .podnet()
            .args(["create", name, "--network", network])
            .args(extra)
            .output()
            .unwrap();
        check(&format!("podnet create {name}"), &create);
        self.podnet()
            .args(["start", name])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// The addresses of a podman container on `network`.
    fn podman_addresses(&self, name: &str, network: &str) -> Vec<IpAddr> {
        let json = self.podman_ok(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", name]);
        let nets: serde_json::Value = serde_json::from_str(&json).unwrap();
        let net = &nets[network];
        ["IPAddress", "GlobalIPv6Address"]
            .iter()
            .filter_map(|k| net[k].as_str().filter(|s| !s.is_empty()))
            .map(|s| s.parse().unwrap())
            .collect()
    }

    fn podman_id(&self, name: &str) -> String {
        self.podman_ok(&["inspect", "-f", "{{.Id}}", name])
    }

    /// Every podnet container's summary (`podnet ps`).
    fn podnet_ps(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.podnet_ok(&["ps", "--format", "json"])).unwrap()
    }

    /// A podnet container's summary.
    fn podnet_inspect(&self, name: &str) -> serde_json::Value {
        self.podnet_ps()
            .into_iter()
            .find(|c| c["Name"] == name)
            .unwrap_or_else(|| panic!("no podnet container {name}"))
    }
}

/// The addresses in a podnet summary's `Addresses` on `network` ("eth0 10.0.0.2/24").
fn summary_addresses(summary: &serde_json::Value, network: &str) -> Vec<IpAddr> {
    summary["Addresses"][network]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let text = s.as_str().unwrap();
                    let cidr = text.split_whitespace().last().unwrap();
                    cidr.split('/').next().unwrap().parse().unwrap()
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for Peers {
    /// Removes the test's containers even when an assertion failed half-way.
    fn drop(&mut self) {
        let _ = self.podman().args(["rm", "-f", "-a", "-t", "0"]).output();
        let Ok(out) = self.podnet().args(["ps", "--format", "json"]).output() else {
            return;
        };
        let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        for c in list {
            if let Some(name) = c["Name"].as_str() {
                let _ = self.podnet().args(["rm", "-f", name]).output();
            }
        }
    }
}

/// Runs `scenario` in fresh namespaces on its own thread (they go away with it).
fn isolated(scenario: fn(&Peers)) {
    let base = tempfile::tempdir().unwrap();
    let path = base.path().to_path_buf();
    std::thread::spawn(move || {
        bbolt_common::isolate();
        let peers = Peers::new(&path);
        scenario(&peers);
    })
    .join()
    .unwrap();
}

/// Whether `f` holds within 20 s: podman's netavark 1.4 makes the bridge and does not pin
/// its address, so until podnet's first container joins (and pins it), a podman container
/// joining with a lower veth address changes it and the others lose their gateway (DNS
/// included) until their neighbour entry expires; podman's own `run` does not wait for
/// names either.
fn eventually(what: &str, f: impl Fn() -> Result<(), String>) {
    let start = Instant::now();
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if start.elapsed() > Duration::from_secs(20) => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn run_ok(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

fn shared_network(peers: &Peers, name: &str, v4: &str, v6: Option<&str>) {
    let mut args = vec!["network", "create", "--subnet", v4];
    if let Some(v6) = v6 {
        args.extend(["--subnet", v6]);
    }
    args.push(name);
    peers.podman_ok(&args);
}

/// Containers of both tools, started alternately in pairs that run at once, on one
/// network; every address once, `ipam.db` agreeing with what each tool reports.
fn alternate(peers: &Peers, network: &str, pairs: usize, dual: bool) -> (Vec<String>, Vec<String>) {
    let mut podman_names = Vec::new();
    let mut podnet_names = Vec::new();
    for i in 0..pairs {
        let pm = format!("{network}-pm{i}");
        let pn = format!("{network}-pn{i}");
        let a = peers.spawn_podman(&pm, network, &[]);
        let b = peers.spawn_podnet(&pn, network, &[]);
        check(&format!("podman run {pm}"), &a.wait_with_output().unwrap());
        check(
            &format!("podnet start {pn}"),
            &b.wait_with_output().unwrap(),
        );
        podman_names.push(pm);
        podnet_names.push(pn);
    }
    let per = if dual { 2 } else { 1 };
    let mut seen = BTreeSet::new();
    let mut by_id = Vec::new();
    for pm in &podman_names {
        let ips = peers.podman_addresses(pm, network);
        assert_eq!(ips.len(), per, "{pm}: {ips:?}");
        by_id.push((peers.podman_id(pm), ips));
    }
    for pn in &podnet_names {
        let summary = peers.podnet_inspect(pn);
        let ips = summary_addresses(&summary, network);
        assert_eq!(ips.len(), per, "{pn}: {summary}");
        by_id.push((summary["Id"].as_str().unwrap().to_string(), ips));
    }
    for (id, ips) in &by_id {
        for ip in ips {
            assert!(seen.insert(*ip), "{ip} handed out twice (again to {id})");
        }
    }
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    let holders = db.view(|tx| podman_ipam::holders(tx, network)).unwrap();
    drop(db);
    assert_eq!(holders.len(), by_id.len(), "{holders:?}");
    for (id, ips) in &by_id {
        let h = holders.iter().find(|h| &h.container_id == id).unwrap();
        let mut want = ips.clone();
        want.sort();
        let mut got = h.ips.clone();
        got.sort();
        assert_eq!(got, want, "ipam.db's record of {id}");
    }
    (podman_names, podnet_names)
}

fn gateway(peers: &Peers, network: &str) -> String {
    let file = peers.base.join("networks").join(format!("{network}.json"));
    let net: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    net["subnets"][0]["gateway"].as_str().unwrap().to_string()
}

/// podman's containers find podnet's by name and reach them, and the reverse.
fn names_across(peers: &Peers, network: &str, pm: &str, pn: &str) {
    let gw = gateway(peers, network);
    eventually(&format!("{pm} pings {pn} by name"), || {
        run_ok(
            peers
                .podman()
                .args(["exec", pm, "/bin/busybox", "ping", "-c1", "-W2", pn]),
        )
        .map(|_| ())
    });
    let netns = peers.podnet_inspect(pn)["NetNS"]
        .as_str()
        .unwrap()
        .to_string();
    eventually(&format!("{pn} resolves {pm}"), || {
        let answer = run_ok(Command::new("nsenter").arg(format!("--net={netns}")).args([
            "/bin/busybox",
            "nslookup",
            pm,
            &gw,
        ]))?;
        let ip = peers.podman_addresses(pm, network)[0].to_string();
        if answer.contains(&ip) {
            Ok(())
        } else {
            Err(answer)
        }
    });
    let ip = peers.podman_addresses(pm, network)[0].to_string();
    run_ok(Command::new("nsenter").arg(format!("--net={netns}")).args([
        "/bin/busybox",
        "ping",
        "-c1",
        "-W2",
        &ip,
    ]))
    .unwrap();
}

/// Pairs of containers (one of each tool) on each network: 40 containers.
const PAIRS: usize = 20;

fn ipv4_alternating(peers: &Peers) {
    shared_network(peers, "pnsh4", "10.214.1.0/24", None);
    let (pm, pn) = alternate(peers, "pnsh4", PAIRS, false);
    // every container reaches one of the other tool's by name, and is reached by one
    for i in 0..PAIRS {
        names_across(peers, "pnsh4", &pm[i], &pn[(i + 1) % PAIRS]);
    }
    // podnet's stop releases in ipam.db; podman's next container may take the address
    let freed = summary_addresses(&peers.podnet_inspect(&pn[0]), "pnsh4");
    peers.podnet_ok(&["stop", &pn[0]]);
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    let holders = db.view(|tx| podman_ipam::holders(tx, "pnsh4")).unwrap();
    drop(db);
    assert!(
        holders.iter().all(|h| !h.ips.contains(&freed[0])),
        "{holders:?}"
    );
    assert_eq!(holders.len(), 2 * PAIRS - 1);
    for name in &pn {
        peers.podnet_ok(&["rm", "-f", name]);
    }
    peers.podman_ok(&["rm", "-f", "-a", "-t", "0"]);
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    assert!(db
        .view(|tx| podman_ipam::holders(tx, "pnsh4"))
        .unwrap()
        .is_empty());
}

fn dual_stack_alternating(peers: &Peers) {
    shared_network(peers, "pnsh6", "10.214.2.0/24", Some("fd00:214:2::/64"));
    let (pm, pn) = alternate(peers, "pnsh6", PAIRS, true);
    for i in 0..PAIRS {
        names_across(peers, "pnsh6", &pm[i], &pn[(i + 3) % PAIRS]);
    }
    for name in &pn {
        peers.podnet_ok(&["rm", "-f", name]);
    }
    peers.podman_ok(&["rm", "-f", "-a", "-t", "0"]);
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    assert!(db
        .view(|tx| podman_ipam::holders(tx, "pnsh6"))
        .unwrap()
        .is_empty());
}

#[test]
fn podman_and_podnet_containers_get_distinct_addresses_and_find_each_other() {
    if ready("shared_host ipv4") {
        isolated(ipv4_alternating);
    }
}

#[test]
fn dual_stack_addresses_are_distinct_across_the_tools() {
    if ready("shared_host dual stack") {
        isolated(dual_stack_alternating);
    }
}

fn killed_during_allocation(peers: &Peers) {
    shared_network(peers, "pnshk", "10.214.3.0/24", None);
    let pm = peers.spawn_podman("pnshk-pm0", "pnshk", &[]);
    check("podman run", &pm.wait_with_output().unwrap());
    peers.podnet_ok(&["create", "pnshk-pn0", "--network", "pnshk"]);
    let killed = peers
        .podnet()
        .args(["start", "pnshk-pn0"])
        .env("PODNET_FAILPOINT", "shared-ipam:allocated")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(killed.status.signal(), Some(9), "{killed:?}");
    // the allocation is in ipam.db, podnet's transaction never committed
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    let holders = db.view(|tx| podman_ipam::holders(tx, "pnshk")).unwrap();
    drop(db);
    assert_eq!(holders.len(), 2, "{holders:?}");
    if let Some(peer) = bbolt_common::peer("shared_host") {
        bbolt_common::go_check(peer, Path::new(IPAM_DB));
    }
    let report: serde_json::Value = serde_json::from_str(&peers.podnet_ok(&["reconcile"])).unwrap();
    let id = peers.podnet_inspect("pnshk-pn0")["Id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        report["shared_ipam_released"],
        serde_json::json!([["pnshk", id]]),
        "{report}"
    );
    let podman_id = peers.podman_id("pnshk-pm0");
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    let holders = db.view(|tx| podman_ipam::holders(tx, "pnshk")).unwrap();
    drop(db);
    let ids: Vec<&str> = holders.iter().map(|h| h.container_id.as_str()).collect();
    assert_eq!(ids, [podman_id.as_str()], "podman's entry is kept");
    // started again, it gets an address podman does not hold
    assert_eq!(peers.podnet_ok(&["start", "pnshk-pn0"]), "pnshk-pn0");
    let summary = peers.podnet_inspect("pnshk-pn0");
    let ours = summary_addresses(&summary, "pnshk");
    assert_ne!(ours, peers.podman_addresses("pnshk-pm0", "pnshk"));
    peers.podnet_ok(&["rm", "-f", "pnshk-pn0"]);
    if let Some(peer) = bbolt_common::peer("shared_host") {
        bbolt_common::go_check(peer, Path::new(IPAM_DB));
    }
}

#[test]
fn podnet_killed_during_allocation_leaves_ipam_db_whole_and_reconcile_frees_it() {
    if ready("shared_host kill") {
        isolated(killed_during_allocation);
    }
}

fn every_port(peers: &Peers) {
    shared_network(peers, "pnshp", "10.214.4.0/24", None);
    // the one run of 65535 ports needs every port: one held makes it impossible
    let held = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let out = peers
        .podnet()
        .args(["create", "pnshp-all", "--network", "pnshp", "-p", "1-65535"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("failed to find an open port to expose container port")
            && stderr.contains("1-65535/tcp on the host"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // nothing was recorded
    assert!(peers.podnet_ps().is_empty());
    drop(held);
}

#[test]
fn a_run_of_every_port_is_a_clear_error() {
    if ready("shared_host every port") {
        isolated(every_port);
    }
}

fn owned_names_and_ports(peers: &Peers) {
    shared_network(peers, "pnsho", "10.214.5.0/24", None);
    let port = testkit::free_port(testkit::Protocol::Tcp).to_string();
    let publish = format!("{port}:80");
    let pm = peers.spawn_podman("pnsho-web", "pnsho", &["-p", &publish]);
    check("podman run", &pm.wait_with_output().unwrap());
    let podman_id = peers.podman_id("pnsho-web");

    // the name podman's container answers to in aardvark-dns
    peers.podnet_ok(&["create", "pnsho-web", "--network", "pnsho"]);
    let out = peers
        .podnet()
        .args(["start", "pnsho-web"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("container name pnsho-web is already answered by aardvark-dns")
            && stderr.contains(&podman_id),
        "{stderr}"
    );
    assert_eq!(peers.podnet_inspect("pnsho-web")["Running"], false);

    // the host port podman holds (through conmon)
    peers.podnet_ok(&["create", "pnsho-a", "--network", "pnsho", "-p", &publish]);
    let out = peers.podnet().args(["start", "pnsho-a"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("host port {port} is already used by conmon")),
        "{stderr}"
    );
    peers.podman_ok(&["rm", "-f", "-t", "0", "pnsho-web"]);

    // podnet's running container holds its port: podman's start is refused
    peers.podnet_ok(&["start", "pnsho-a"]);
    let refused = |peers: &Peers, name: &str| {
        let out = peers
            .spawn_podman(name, "pnsho", &["-p", &publish])
            .wait_with_output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("address already in use"), "{stderr}");
        peers.podman_ok(&["rm", "-f", "-t", "0", name]);
    };
    refused(peers, "pnsho-pm1");
    // a holder killed (a crash) is restored by reconcile
    let id = peers.podnet_inspect("pnsho-a")["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = peers.base.join("podnet/port-holders/ports").join(&id);
    let pid: i32 = std::fs::read_to_string(&record)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z")) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let report: serde_json::Value = serde_json::from_str(&peers.podnet_ok(&["reconcile"])).unwrap();
    assert_eq!(
        report["port_holders_restored"],
        serde_json::json!([id]),
        "{report}"
    );
    refused(peers, "pnsho-pm2");

    // between podnet containers: accepted at create, the second start refused
    peers.podnet_ok(&["create", "pnsho-b", "--network", "pnsho", "-p", &publish]);
    let out = peers.podnet().args(["start", "pnsho-b"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "host port {port} is already used by podnet container pnsho-a"
        )),
        "{stderr}"
    );
    // once the first stops, the second starts
    peers.podnet_ok(&["stop", "pnsho-a"]);
    peers.podnet_ok(&["start", "pnsho-b"]);
    for name in ["pnsho-a", "pnsho-b", "pnsho-web"] {
        peers.podnet_ok(&["rm", "-f", name]);
    }
}

#[test]
fn names_and_host_ports_owned_by_another_container_are_refused() {
    if ready("shared_host owned") {
        isolated(owned_names_and_ports);
    }
}

/// Removal by either tool under the other's running container: podnet's `network rm`
/// refuses while podman's container holds an address (naming it); podman's `network rm`
/// does not know podnet's container and removes the file, after which podnet's stop
/// still removes everything it made from the definition it recorded at start.
fn removal_by_either_tool(peers: &Peers) {
    shared_network(peers, "pnshrm", "10.214.4.0/24", None);
    let file = peers.base.join("networks").join("pnshrm.json");
    let net: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let bridge = net["network_interface"].as_str().unwrap().to_string();
    let pm = peers.spawn_podman("pnshrm-pm", "pnshrm", &[]);
    check("podman run", &pm.wait_with_output().unwrap());
    let podman_id = peers.podman_id("pnshrm-pm");

    let refused = peers
        .podnet()
        .args(["network", "rm", "pnshrm"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("another tool") && err.contains(&podman_id[..12]),
        "{err}"
    );
    assert!(
        file.exists(),
        "the refused removal changed the network directory"
    );
    // podman's container holds it: it does not dangle for podnet either
    let dangling = peers.podnet_ok(&[
        "network",
        "ls",
        "--filter",
        "dangling=1",
        "--format",
        "{{.Name}}",
    ]);
    assert!(!dangling.lines().any(|n| n == "pnshrm"), "{dangling}");
    let pn = peers.spawn_podnet("pnshrm-pn", "pnshrm", &[]);
    check("podnet start", &pn.wait_with_output().unwrap());

    peers.podman_ok(&["rm", "-f", "-t", "0", "pnshrm-pm"]);
    // podman 4.3 counts only its own containers
    peers.podman_ok(&["network", "rm", "pnshrm"]);
    assert!(!file.exists());
    peers.podnet_ok(&["stop", "pnshrm-pn"]);

    let links = check(
        "ip link",
        &Command::new("ip").args(["-o", "link"]).output().unwrap(),
    );
    assert!(
        !links.contains(&format!(" {bridge}:")),
        "bridge {bridge} left: {links}"
    );
    let rules = testkit::firewall_leftovers("10.214.4.");
    assert!(rules.is_empty(), "rules left: {rules:?}");
    let aardvark = Path::new(NETAVARK_CONFIG).join("aardvark-dns/pnshrm");
    let entries = std::fs::read_to_string(&aardvark).unwrap_or_default();
    assert!(
        !entries.contains("pnshrm-pn"),
        "aardvark entry left: {entries}"
    );
    let db = bbolt::Db::open_read_only(IPAM_DB).unwrap();
    let holders = db.view(|tx| podman_ipam::holders(tx, "pnshrm")).unwrap();
    drop(db);
    assert!(holders.is_empty(), "{holders:?}");

    let report: serde_json::Value = serde_json::from_str(&peers.podnet_ok(&["reconcile"])).unwrap();
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    peers.podnet_ok(&["rm", "pnshrm-pn"]);
}

#[test]
fn removal_by_either_tool_strands_nothing() {
    if ready("shared_host removal") {
        isolated(removal_by_either_tool);
    }
}

/// The hardware address of `link` in the test's namespace.
fn mac_of(link: &str) -> String {
    let out = check(
        &format!("ip link show {link}"),
        &Command::new("ip")
            .args(["-j", "link", "show", "dev", link])
            .output()
            .unwrap(),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    json[0]["address"].as_str().unwrap().to_string()
}

/// Adds a veth whose address is lower than any container's to `bridge` (its peer stays
/// down), returns the bridge's address then, and removes the veth again.
fn bridge_mac_with_a_lower_port(bridge: &str) -> String {
    let ip = |args: &[&str]| {
        check(
            &format!("ip {args:?}"),
            &Command::new("ip").args(args).output().unwrap(),
        )
    };
    ip(&[
        "link",
        "add",
        "pnshlow0",
        "address",
        "00:00:00:00:00:01",
        "type",
        "veth",
        "peer",
        "name",
        "pnshlow1",
    ]);
    ip(&["link", "set", "pnshlow0", "master", bridge]);
    let mac = mac_of(bridge);
    ip(&["link", "del", "pnshlow0"]);
    mac
}

fn podman_bridge_pinned(peers: &Peers) {
    shared_network(peers, "pnshpin", "10.214.6.0/24", None);
    let file = peers.base.join("networks").join("pnshpin.json");
    let net: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let bridge = net["network_interface"].as_str().unwrap().to_string();
    let pm = peers.spawn_podman("pnshpin-pm", "pnshpin", &[]);
    check("podman run", &pm.wait_with_output().unwrap());
    let podmans = mac_of(&bridge);
    // podman 4.3's netavark 1.4 leaves the bridge unpinned: a lower port takes it over
    // (what a podnet veth with a lower address would do to podman's containers' gateway)
    assert_eq!(
        bridge_mac_with_a_lower_port(&bridge),
        "00:00:00:00:00:01",
        "podman's bridge was pinned already: this check proves nothing here"
    );
    assert_eq!(mac_of(&bridge), podmans, "the kernel gave the address back");

    let pn = peers.spawn_podnet("pnshpin-pn", "pnshpin", &[]);
    check("podnet start", &pn.wait_with_output().unwrap());
    assert_eq!(
        mac_of(&bridge),
        podmans,
        "podnet's veth took the bridge's address"
    );
    assert_eq!(
        bridge_mac_with_a_lower_port(&bridge),
        podmans,
        "after podnet joined, the bridge keeps podman's containers' gateway address"
    );

    peers.podnet_ok(&["rm", "-f", "pnshpin-pn"]);
    peers.podman_ok(&["rm", "-f", "-t", "0", "pnshpin-pm"]);
    peers.podman_ok(&["network", "rm", "pnshpin"]);
}

/// podnet pins the address of a bridge podman left unpinned before its container joins,
/// so podman's containers keep their gateway.
#[test]
fn a_podman_bridge_keeps_its_address_when_podnet_joins() {
    if ready("shared_host bridge address") {
        isolated(podman_bridge_pinned);
    }
}
