//! The flows end to end: the real `podnet` binary and the real netavark and aardvark-dns, in
//! a throwaway network namespace standing for the host, with real packets (ping by name, a
//! TCP connection to a published port). Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flows_support::{can_run, Host, PODNET};

/// Starts `busybox nc -l -p PORT -e echo TEXT` in the container and waits until it listens.
fn listen(host: &Host, container: &str, port: u16, text: &str) -> Child {
    let mut child = host
        .command(PODNET)
        .arg("--root")
        .arg(host.root.path())
        .args([
            "exec",
            container,
            "--",
            "busybox",
            "nc",
            "-l",
            "-p",
            &port.to_string(),
            "-e",
            "echo",
            text,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let out = host.podnet_out(&["exec", container, "--", "busybox", "netstat", "-ltn"]);
        if String::from_utf8_lossy(&out.stdout).contains(&format!(":{port} ")) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("listener on port {port} in {container} did not come up");
}

/// A TCP client in the fake host: what it read from `ip:port`, or None when it could not
/// connect.
fn fetch(host: &Host, ip: &str, port: u16) -> Option<String> {
    let out = host.run(&["busybox", "nc", "-w", "2", ip, &port.to_string()]);
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn leases(host: &Host) -> Vec<IpAddr> {
    podnet::StateStore::open(host.state_db())
        .unwrap()
        .list_leases()
        .unwrap()
        .into_iter()
        .map(|l| l.ip)
        .collect()
}

/// Nothing of podnet's is left in the fake host: only `lo`, no rule naming the subnet, no pin.
fn assert_clean(host: &Host, subnet_prefix: &str) {
    let links = host.links();
    assert_eq!(links, ["lo"], "interfaces left: {links:?}");
    let fw = host.firewall();
    assert!(!fw.contains(subnet_prefix), "firewall rules left:\n{fw}");
    assert!(host.pins().is_empty(), "pins left: {:?}", host.pins());
    assert!(leases(host).is_empty(), "leases left: {:?}", leases(host));
}

/// Pings `target` by name from `container`. aardvark-dns 1.4 can stall for seconds right
/// after the SIGHUP another container's setup sends it, so a name lookup gets three tries.
fn ping_by_name(host: &Host, container: &str, target: &str) -> String {
    let mut last = String::new();
    for _ in 0..3 {
        let out = host.podnet_out(&[
            "exec", container, "--", "busybox", "ping", "-c", "1", "-W", "2", target,
        ]);
        last = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return last;
        }
    }
    panic!("{container} cannot ping {target}: {last}");
}

fn exec_ok(host: &Host, container: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", container, "--"];
    args.extend_from_slice(cmd);
    host.podnet(&args)
}

#[test]
fn containers_reach_each_other_by_name_and_a_published_port_from_the_host() {
    if !can_run("containers_reach_each_other_by_name") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.201.0/24", "pntweb"]);
    let a = host.podnet_json(&[
        "create",
        "a",
        "--network",
        "pntweb",
        "-p",
        "127.0.0.1:18181:8080",
    ]);
    host.podnet(&["create", "b", "--network", "pntweb"]);
    host.podnet(&["start", "a"]);
    host.podnet(&["start", "b"]);

    let ping = ping_by_name(&host, "b", "a");
    assert!(ping.contains("1 packets received"), "{ping}");
    let short_id = &a["Id"].as_str().unwrap()[..12];
    let ping = ping_by_name(&host, "b", short_id);
    assert!(ping.contains("1 packets received"), "{ping}");

    let mut listener = listen(&host, "a", 8080, "hello-from-a");
    assert_eq!(
        fetch(&host, "127.0.0.1", 18181).as_deref(),
        Some("hello-from-a")
    );
    let _ = listener.wait();

    // no host port given: one is picked at create and published like any other
    let auto = host.podnet_json(&[
        "create",
        "auto",
        "--network",
        "pntweb",
        "-p",
        "127.0.0.1::9090",
    ]);
    let picked = auto["Ports"][0]["host_port"].as_u64().unwrap();
    assert_ne!(picked, 0, "{auto}");
    host.podnet(&["start", "auto"]);
    let mut listener = listen(&host, "auto", 9090, "hello-from-auto");
    assert_eq!(
        fetch(&host, "127.0.0.1", picked as u16).as_deref(),
        Some("hello-from-auto")
    );
    let _ = listener.wait();
    host.podnet(&["rm", "-f", "auto"]);

    host.podnet(&["rm", "-f", "a"]);
    host.podnet(&["rm", "-f", "b"]);
    host.podnet(&["network", "rm", "pntweb"]);
    assert_clean(&host, "10.89.201.");
}

#[test]
fn connect_and_disconnect_change_interfaces_hosts_and_resolv_conf() {
    if !can_run("connect_and_disconnect") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.202.0/24", "pntone"]);
    host.podnet(&["network", "create", "--subnet", "10.89.203.0/24", "pnttwo"]);
    host.podnet(&["create", "c", "--network", "pntone", "--hostname", "box"]);
    host.podnet(&["start", "c"]);
    let hosts_before = exec_ok(&host, "c", &["cat", "/etc/hosts"]);
    assert!(
        hosts_before.contains("10.89.202.2\tbox c\n"),
        "{hosts_before}"
    );

    host.podnet(&["connect", "pnttwo", "c"]);
    let addrs = exec_ok(&host, "c", &["ip", "-o", "-4", "addr", "show"]);
    assert!(
        addrs.contains("eth1") && addrs.contains("10.89.203.2/24"),
        "{addrs}"
    );
    let hosts = exec_ok(&host, "c", &["cat", "/etc/hosts"]);
    assert!(hosts.contains("10.89.203.2\tbox c\n"), "{hosts}");
    let resolv = exec_ok(&host, "c", &["cat", "/etc/resolv.conf"]);
    let first = resolv
        .lines()
        .find(|l| l.starts_with("nameserver"))
        .unwrap();
    assert_eq!(first, "nameserver 10.89.203.1", "{resolv}");
    let again = host.podnet_err(&["connect", "pnttwo", "c"]);
    assert!(again.contains("already connected"), "{again}");

    host.podnet(&["disconnect", "pnttwo", "c"]);
    let addrs = exec_ok(&host, "c", &["ip", "-o", "-4", "addr", "show"]);
    assert!(!addrs.contains("eth1"), "{addrs}");
    assert_eq!(exec_ok(&host, "c", &["cat", "/etc/hosts"]), hosts_before);
    let resolv = exec_ok(&host, "c", &["cat", "/etc/resolv.conf"]);
    assert!(!resolv.contains("10.89.203.1"), "{resolv}");
    assert_eq!(leases(&host).len(), 1);

    // stopped: only recorded, applied at the next start; a repeat is a no-op
    host.podnet(&["stop", "c"]);
    host.podnet(&["connect", "pnttwo", "c"]);
    host.podnet(&["connect", "pnttwo", "c"]);
    host.podnet(&["start", "c"]);
    let addrs = exec_ok(&host, "c", &["ip", "-o", "-4", "addr", "show"]);
    assert!(
        addrs.contains("eth1") && addrs.contains("10.89.203."),
        "{addrs}"
    );

    host.podnet(&["rm", "-f", "c"]);
    host.podnet(&["network", "rm", "pntone", "pnttwo"]);
    assert_clean(&host, "10.89.20");
}

#[test]
fn reload_after_a_firewall_flush_restores_the_published_port() {
    if !can_run("reload_after_a_firewall_flush") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.204.0/24", "pntrl"]);
    host.podnet(&[
        "create",
        "r",
        "--network",
        "pntrl",
        "-p",
        "127.0.0.1:18184:8080",
    ]);
    let before = host.podnet_json(&["start", "r"]);
    let mut l = listen(&host, "r", 8080, "before-flush");
    assert_eq!(
        fetch(&host, "127.0.0.1", 18184).as_deref(),
        Some("before-flush")
    );
    let _ = l.wait();

    host.sh(&["iptables", "-F"]);
    host.sh(&["iptables", "-t", "nat", "-F"]);
    // the same listener, unreachable until the rules are back
    let mut l = listen(&host, "r", 8080, "one-listener");
    assert_eq!(
        fetch(&host, "127.0.0.1", 18184),
        None,
        "the port still works after the flush"
    );

    let reloaded = host.podnet_json(&["reload", "--all"]);
    assert_eq!(reloaded[0]["Addresses"], before["Addresses"]);
    assert_eq!(
        fetch(&host, "127.0.0.1", 18184).as_deref(),
        Some("one-listener")
    );
    let _ = l.wait();

    // the same after `nft flush ruleset`, which also drops netavark's own chains
    host.sh(&["nft", "flush", "ruleset"]);
    let mut l = listen(&host, "r", 8080, "after-nft-flush");
    assert_eq!(
        fetch(&host, "127.0.0.1", 18184),
        None,
        "the port still works after nft flush"
    );
    host.podnet(&["reload", "r"]);
    assert_eq!(
        fetch(&host, "127.0.0.1", 18184).as_deref(),
        Some("after-nft-flush")
    );
    let _ = l.wait();

    host.podnet(&["rm", "-f", "r"]);
    host.podnet(&["network", "rm", "pntrl"]);
    assert_clean(&host, "10.89.204.");
}

#[test]
fn a_network_file_written_by_podman_is_used_as_it_is() {
    if !can_run("a_network_file_written_by_podman") {
        return;
    }
    let host = Host::new();
    let dir = host.root.path().join("networks");
    std::fs::create_dir_all(&dir).unwrap();
    // written by `podman network create --subnet 10.89.77.0/24 --ip-range ... -o mtu=1400
    // -o isolate=true --label ... pntfoo` (see tests/data)
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pntfoo.json");
    std::fs::copy(file, dir.join("pntfoo.json")).unwrap();
    host.podnet(&["create", "p", "--network", "pntfoo"]);
    let started = host.podnet_json(&["start", "p"]);
    // the lease range starts at .129
    assert_eq!(started["Addresses"]["pntfoo"][0], "eth0 10.89.77.129/24");
    let link = exec_ok(&host, "p", &["ip", "-o", "link", "show", "eth0"]);
    assert!(link.contains("mtu 1400"), "{link}");
    host.podnet(&["rm", "-f", "p"]);
    assert_clean(&host, "10.89.77.");
    // podnet did not rewrite podman's file
    assert_eq!(
        std::fs::read(dir.join("pntfoo.json")).unwrap(),
        std::fs::read(file).unwrap()
    );
}

/// Runs `podnet args` with a failpoint that SIGKILLs it; it must die by that signal.
fn crash_at(host: &Host, point: &str, args: &[&str]) {
    let out = host.podnet_env(args, &[("PODNET_FAILPOINT", point)]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(9),
        "{point}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_kill_at_any_point_of_a_flow_is_repaired_by_reconcile() {
    if !can_run("a_kill_at_any_point_of_a_flow") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.205.0/24", "pntcr"]);
    host.podnet(&["network", "create", "--subnet", "10.89.206.0/24", "pntcr2"]);
    host.podnet(&[
        "create",
        "k",
        "--network",
        "pntcr",
        "-p",
        "127.0.0.1:18185:8080",
    ]);

    for point in [
        "setup:netns-created",
        "setup:intent-committed",
        "setup:backend-done",
    ] {
        crash_at(&host, point, &["start", "k"]);
        let report = host.podnet_json(&["reconcile"]);
        assert!(
            report["errors"].as_array().unwrap().is_empty(),
            "{point}: {report}"
        );
        assert_clean(&host, "10.89.205.");
        // and it starts normally afterwards
        host.podnet(&["start", "k"]);
        exec_ok(
            &host,
            "k",
            &["busybox", "ping", "-c", "1", "-W", "2", "10.89.205.1"],
        );
        host.podnet(&["stop", "k"]);
    }

    // a connected container stays connected when a connect to another network is killed
    host.podnet(&["start", "k"]);
    for point in ["connect:intent-committed", "connect:backend-done"] {
        crash_at(&host, point, &["connect", "pntcr2", "k"]);
        host.podnet(&["reconcile"]);
        let addrs = exec_ok(&host, "k", &["ip", "-o", "-4", "addr", "show"]);
        assert!(!addrs.contains("10.89.206."), "{point}: {addrs}");
        exec_ok(
            &host,
            "k",
            &["busybox", "ping", "-c", "1", "-W", "2", "10.89.205.1"],
        );
        assert_eq!(leases(&host).len(), 1, "{point}");
        assert!(!host.firewall().contains("10.89.206."), "{point}");
    }
    // a killed reload is redone
    crash_at(&host, "reload:torn-down", &["reload", "k"]);
    let report = host.podnet_json(&["reconcile"]);
    assert_eq!(
        report["reloads_redone"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    exec_ok(
        &host,
        "k",
        &["busybox", "ping", "-c", "1", "-W", "2", "10.89.205.1"],
    );
    // a killed stop leaves a pin that reconcile removes
    crash_at(&host, "teardown:backend-done", &["stop", "k"]);
    host.podnet(&["reconcile"]);
    let ps = host.podnet_json(&["ps"]);
    assert_eq!(ps[0]["Running"], false, "{ps}");
    assert_clean(&host, "10.89.205.");
    host.podnet(&["rm", "k"]);
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    if !can_run("bad_input_gets_a_clear_error") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.207.0/24", "pntbad"]);
    host.podnet(&["create", "ok", "--network", "pntbad"]);
    let state_before = host.podnet(&["ps"]);

    let err = host.podnet_err(&["create", "x", "--network", "nosuchnet"]);
    assert!(err.contains("nosuchnet"), "{err}");
    let err = host.podnet_err(&["create", "ok", "--network", "pntbad"]);
    assert!(err.contains("ok"), "{err}");
    let err = host.podnet_err(&["create", "y", "--network", "pntbad:ip=10.99.0.5"]);
    assert!(err.contains("10.99.0.5"), "{err}");
    let err = host.podnet_err(&["create", "z", "-p", "8080:80", "-p", "8080:81"]);
    assert!(err.contains("8080"), "{err}");
    let err = host.podnet_err(&["create", "w", "-p", "70000:80"]);
    assert!(err.contains("70000"), "{err}");
    let err = host.podnet_err(&["connect", "nosuchnet", "ok"]);
    assert!(err.contains("nosuchnet"), "{err}");
    let err = host.podnet_err(&["start", "ghost"]);
    assert!(err.contains("ghost"), "{err}");
    assert!(err.lines().count() == 1, "one line: {err}");

    // a malformed network file is skipped with a warning, never a crash
    let broken = host.root.path().join("networks/broken.json");
    std::fs::write(&broken, "{ not json").unwrap();
    let out = host.podnet_out(&["network", "ls"]);
    assert!(out.status.success());
    let names: Vec<String> = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"pntbad".to_string()) && !names.contains(&"broken".to_string()));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("broken.json"),
        "no warning naming the file"
    );

    assert_eq!(host.podnet(&["ps"]), state_before);
    assert!(leases(&host).is_empty());
    assert!(host.pins().is_empty());
    host.podnet(&["rm", "ok"]);
    std::fs::remove_file(broken).unwrap();
    host.podnet(&["network", "rm", "pntbad"]);
}

#[test]
fn the_podnet_binary_is_the_one_under_test() {
    // guards the harness itself: the binary exists and answers
    let out = Command::new(PODNET).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("podnet "));
}
