//! The flows end to end: the real `podnet` binary and the real netavark and aardvark-dns, in
//! a throwaway network namespace standing for the host, with real packets (ping by name, a
//! TCP connection to a published port). Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;

use std::net::IpAddr;
use std::process::{Command, Output};

use flows_support::{can_run, crash_at, listen, test_backend, Host, PODNET};

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

/// Nothing of podnet's is left in the fake host: only `lo`, no rule naming the subnet
/// (iptables, ip6tables or nftables), no pin, no lease.
fn assert_clean(host: &Host, subnet_prefix: &str) {
    let links = host.links();
    assert_eq!(links, ["lo"], "interfaces left: {links:?}");
    let fw = host.firewall_leftovers(subnet_prefix);
    assert!(fw.is_empty(), "firewall rules left: {fw:#?}");
    assert!(host.pins().is_empty(), "pins left: {:?}", host.pins());
    assert!(leases(host).is_empty(), "leases left: {:?}", leases(host));
}

/// Pings `target` by name from `container`, once: `start` returns only when the name
/// answers, and the bridge keeps its address as containers join (see
/// `names_answer_as_soon_as_start_and_connect_return`), so no retry is needed.
fn ping_by_name(host: &Host, container: &str, target: &str) -> String {
    let out = host.podnet_out(&[
        "exec", container, "--", "busybox", "ping", "-c", "1", "-W", "2", target,
    ]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{container} cannot ping {target}: {text}"
    );
    text
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
    let a = host.create_json(&["a", "--network", "pntweb", "-p", "127.0.0.1:18181:8080"]);
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
    let auto = host.create_json(&["auto", "--network", "pntweb", "-p", "127.0.0.1::9090"]);
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
    let before = host.start_json("r");
    let mut l = listen(&host, "r", 8080, "before-flush");
    assert_eq!(
        fetch(&host, "127.0.0.1", 18184).as_deref(),
        Some("before-flush")
    );
    let _ = l.wait();

    // an iptables flush removes the iptables driver's rules; netavark 2.x's nftables
    // table is out of its reach, so there it is the `nft flush ruleset` below that counts
    if host.firewall_driver() == "iptables" {
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
    }

    // the same after `nft flush ruleset`, which also drops netavark's own chains
    host.sh(&["nft", "flush", "ruleset"]);
    let mut l = listen(&host, "r", 8080, "after-nft-flush");
    assert_eq!(
        fetch(&host, "127.0.0.1", 18184),
        None,
        "the port still works after nft flush"
    );
    let reloaded = host.podnet_json(&["reload", "r"]);
    assert_eq!(reloaded[0]["Addresses"], before["Addresses"]);
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
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../podnet/tests/data/pntfoo.json"
    );
    std::fs::copy(file, dir.join("pntfoo.json")).unwrap();
    host.podnet(&["create", "p", "--network", "pntfoo"]);
    let started = host.start_json("p");
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

/// `reconcile` with no error; returns its report.
fn reconcile(host: &Host, point: &str) -> serde_json::Value {
    let report = host.podnet_json(&["reconcile"]);
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "{point}: {report}"
    );
    report
}

/// The first three octets and a dot: what every address and rule of the /24 contains.
fn prefix_of(net: ipnet::Ipv4Net) -> String {
    let o = net.network().octets();
    format!("{}.{}.{}.", o[0], o[1], o[2])
}

/// Container `k` is running on the first network only: one lease, no address or rule of
/// the second network, the gateway answers, and the published port reaches it.
fn assert_only_on_first(host: &Host, point: &str, first: &str, second: &str, port: u16) {
    let addrs = exec_ok(host, "k", &["ip", "-o", "-4", "addr", "show"]);
    assert!(!addrs.contains(second), "{point}: {addrs}");
    assert!(addrs.contains(first), "{point}: {addrs}");
    exec_ok(
        host,
        "k",
        &[
            "busybox",
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            &format!("{first}1"),
        ],
    );
    assert_eq!(leases(host).len(), 1, "{point}: {:?}", leases(host));
    let left = host.firewall_leftovers(second);
    assert!(left.is_empty(), "{point}: rules left: {left:#?}");
    let mut l = listen(host, "k", 8080, point);
    assert_eq!(fetch(host, "127.0.0.1", port).as_deref(), Some(point));
    let _ = l.wait();
}

#[test]
fn a_kill_at_any_point_of_a_flow_is_repaired_by_reconcile() {
    if !can_run("a_kill_at_any_point_of_a_flow_is_repaired_by_reconcile") {
        return;
    }
    let host = Host::new();
    let (net1, net2) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
    let (first, second) = (prefix_of(net1), prefix_of(net2));
    let port = testkit::free_port(testkit::Protocol::Tcp);
    host.podnet(&["network", "create", "--subnet", &net1.to_string(), "pntcr"]);
    host.podnet(&["network", "create", "--subnet", &net2.to_string(), "pntcr2"]);
    let publish = format!("127.0.0.1:{port}:8080");
    host.podnet(&["create", "k", "--network", "pntcr", "-p", &publish]);

    // every point the sources define (podnet::testing::FAILPOINTS is checked against them), each
    // from a stopped, clean container, back to one
    for &point in podnet::testing::FAILPOINTS {
        let flow = point.split(':').next().unwrap();
        match flow {
            "setup" => {
                crash_at(&host, point, &["start", "k"]);
                reconcile(&host, point);
                assert_clean(&host, &first);
                // and it starts normally afterwards
                host.podnet(&["start", "k"]);
            }
            "connect" => {
                host.podnet(&["start", "k"]);
                crash_at(&host, point, &["connect", "pntcr2", "k"]);
                reconcile(&host, point);
            }
            "disconnect" => {
                host.podnet(&["start", "k"]);
                host.podnet(&["connect", "pntcr2", "k"]);
                crash_at(&host, point, &["disconnect", "pntcr2", "k"]);
                reconcile(&host, point);
                let inspect = host.podnet_json(&["inspect", "k"]);
                let nets = &inspect[0]["NetworkSettings"]["Networks"];
                assert!(
                    nets.get("pntcr").is_some() && nets.get("pntcr2").is_none(),
                    "{point}: {inspect}"
                );
            }
            "reload" => {
                host.podnet(&["start", "k"]);
                crash_at(&host, point, &["reload", "k"]);
                let report = reconcile(&host, point);
                assert_eq!(
                    report["reloads_redone"].as_array().unwrap().len(),
                    1,
                    "{report}"
                );
            }
            "teardown" => {
                host.podnet(&["start", "k"]);
                crash_at(&host, point, &["stop", "k"]);
                reconcile(&host, point);
                let ps = host.podnet_json(&["ps", "--format", "json"]);
                assert_eq!(ps[0]["Running"], false, "{ps}");
                assert_clean(&host, &first);
                continue;
            }
            // podman's ipam.db is shared only with a real podman: tests/shared_host.rs
            // crashes there and checks the database and the reconcile
            "shared-ipam" => continue,
            other => panic!("{point}: no crash scenario for the flow {other:?}; add one"),
        }
        assert_only_on_first(&host, point, &first, &second, port);
        host.podnet(&["stop", "k"]);
        assert_clean(&host, &first);
        assert_clean(&host, &second);
    }
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
    let out = host.podnet_out(&["network", "ls", "--format", "json"]);
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

/// netavark's version as `podnet info` prints it (`netavark 2.1.0`), and its major and
/// minor numbers.
fn netavark_release(info: &serde_json::Value) -> (String, (u32, u32)) {
    let version = info["networkBackendInfo"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let mut numbers = version
        .strip_prefix("netavark ")
        .unwrap_or_else(|| panic!("unreadable version {version}"))
        .split('.')
        .map(|n| n.parse::<u32>().unwrap());
    let release = (numbers.next().unwrap(), numbers.next().unwrap());
    (version, release)
}

/// Whether `from` reaches `ip` with one ping (no retries: a refusal is what is checked).
fn reaches(host: &Host, from: &str, ip: &str) -> bool {
    host.podnet_out(&[
        "exec", from, "--", "busybox", "ping", "-c", "1", "-W", "1", ip,
    ])
    .status
    .success()
}

#[test]
fn the_netavark_under_test_runs_and_isolates_networks_as_its_version_does() {
    if !can_run("the_netavark_under_test_runs") {
        return;
    }
    let host = Host::new();
    let info = host.podnet_json(&["info"]);
    let wanted = test_backend::netavark().unwrap();
    assert_eq!(
        info["networkBackendInfo"]["path"].as_str(),
        wanted.to_str(),
        "{info}"
    );
    let (version, (major, _)) = netavark_release(&info);

    // two networks with default options, and a third that opts out of isolation
    host.podnet(&["network", "create", "--subnet", "10.89.207.0/24", "pntiso1"]);
    host.podnet(&["network", "create", "--subnet", "10.89.208.0/24", "pntiso2"]);
    host.podnet(&[
        "network",
        "create",
        "--subnet",
        "10.89.209.0/24",
        "-o",
        "isolate=false",
        "pntiso3",
    ]);
    for (name, net) in [("i1", "pntiso1"), ("i2", "pntiso2"), ("i3", "pntiso3")] {
        host.podnet(&["create", name, "--network", net]);
        host.podnet(&["start", name]);
    }
    assert!(reaches(&host, "i1", "10.89.207.1"), "own gateway");
    // netavark 2.0 made isolate=strict the bridge default: networks no longer reach
    // each other unless they opt out; 1.x forwards between them
    assert_eq!(reaches(&host, "i1", "10.89.208.2"), major < 2, "{version}");
    if major >= 2 {
        assert!(
            host.firewall().contains("table inet netavark"),
            "netavark {version} keeps its rules in nftables"
        );
        // an opted-out network is reachable only from another opted-out one
        host.podnet(&[
            "network",
            "create",
            "--subnet",
            "10.89.210.0/24",
            "-o",
            "isolate=false",
            "pntiso4",
        ]);
        host.podnet(&["create", "i4", "--network", "pntiso4"]);
        host.podnet(&["start", "i4"]);
        assert!(
            reaches(&host, "i4", "10.89.209.2"),
            "{version}: false to false"
        );
        assert!(
            !reaches(&host, "i1", "10.89.209.2"),
            "{version}: strict to false"
        );
        host.podnet(&["rm", "-f", "i4"]);
        host.podnet(&["network", "rm", "pntiso4"]);
    }
    for name in ["i1", "i2", "i3"] {
        host.podnet(&["rm", "-f", name]);
    }
    host.podnet(&["network", "rm", "pntiso1", "pntiso2", "pntiso3"]);
    assert_clean(&host, "10.89.20");
}

#[test]
fn the_firewall_driver_flag_reaches_netavark_or_is_refused_by_version() {
    if !can_run("the_firewall_driver_flag") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.211.0/24", "pntfw"]);
    host.podnet(&["create", "f", "--network", "pntfw"]);
    let (version, release) = netavark_release(&host.podnet_json(&["info"]));
    let netavark = test_backend::netavark().unwrap();
    let out = host.podnet_out(&["--firewall-driver", "none", "start", "f"]);
    if release < (1, 10) {
        // before 1.10 netavark takes no --firewall-driver: one line, nothing started
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim(),
            format!(
                "podnet: error: --firewall-driver needs netavark 1.10 or later; {} is {}",
                netavark.display(),
                version.trim_start_matches("netavark ")
            )
        );
        assert!(host.pins().is_empty(), "{:?}", host.pins());
        assert_eq!(host.links(), ["lo"]);
    } else {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // the container is up, and netavark wrote no rule for its subnet
        assert!(exec_ok(&host, "f", &["ip", "-o", "-4", "addr", "show"]).contains("10.89.211."));
        let fw = host.firewall();
        assert!(!fw.contains("10.89.211."), "driver none wrote rules:\n{fw}");
        let none = host.podnet_json(&["--firewall-driver", "none", "info"]);
        assert_eq!(none["networkBackendInfo"]["firewallDriver"], "none");
        host.podnet(&["--firewall-driver", "none", "stop", "f"]);
    }
    host.podnet(&["rm", "-f", "f"]);
    host.podnet(&["network", "rm", "pntfw"]);
    assert_clean(&host, "10.89.211.");
}

#[test]
fn containers_conf_sets_the_default_network_and_a_bad_value_is_one_line() {
    if !can_run("containers_conf_sets_the_default_network") {
        return;
    }
    let host = Host::new();
    let conf = host.root.path().join("containers.conf");
    std::fs::write(
        &conf,
        "[network]\ndefault_network = \"pntcfg\"\ndefault_subnet = \"10.89.212.0/24\"\n",
    )
    .unwrap();
    let conf_env = [("CONTAINERS_CONF", conf.to_str().unwrap())];
    let run = |args: &[&str]| {
        let out = host.podnet_env(args, &conf_env);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // no --network: the configured default network, on the configured subnet
    run(&["create", "d"]);
    run(&["start", "d"]);
    let addrs = run(&["exec", "d", "--", "ip", "-o", "-4", "addr", "show", "eth0"]);
    assert!(addrs.contains("inet 10.89.212."), "{addrs}");
    let inspect: serde_json::Value = serde_json::from_str(&run(&["inspect", "d"])).unwrap();
    assert!(
        inspect[0]["NetworkSettings"]["Networks"]["pntcfg"].is_object(),
        "{inspect}"
    );
    run(&["rm", "-f", "d"]);

    std::fs::write(&conf, "[network]\ndefault_subnet = \"not-a-cidr\"\n").unwrap();
    let out = host.podnet_env(&["create", "e"], &conf_env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(conf.to_str().unwrap())
            && err.contains("default_subnet")
            && err.contains("not-a-cidr"),
        "{err}"
    );
    assert_eq!(host.podnet(&["ps", "--format", "json"]).trim(), "[]");
    assert_clean(&host, "10.89.212.");
}

/// One lookup of `name` from `container` at `server`, no retry: the answer's text.
fn lookup_once(host: &Host, container: &str, name: &str, server: &str) -> Output {
    host.podnet_out(&[
        "exec", container, "--", "timeout", "3", "busybox", "nslookup", "-type=a", name, server,
    ])
}

/// `start` and `connect` return only once the container's name answers, and a container
/// already running keeps reaching its gateway while others join: a single lookup right
/// after each, with no retry, finds the new container. (Before podnet pinned the bridge's
/// address, a new veth with a lower address changed the bridge's, and a container that
/// had the old one cached lost its gateway, DNS included, for seconds.)
#[test]
fn names_answer_as_soon_as_start_and_connect_return() {
    if !can_run("names_answer_as_soon_as_start_and_connect_return") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.212.0/24", "pntdns"]);
    host.podnet(&["network", "create", "--subnet", "10.89.213.0/24", "pntdns2"]);
    for name in ["a", "b", "c"] {
        host.podnet(&["create", name, "--network", "pntdns"]);
    }
    host.podnet(&["create", "d", "--network", "pntdns2"]);
    host.podnet(&["start", "a"]);
    let bridge_address = || {
        let net = host.podnet_json(&["network", "inspect", "pntdns"]);
        let net = if net.is_array() { net[0].clone() } else { net };
        let bridge = net["network_interface"].as_str().unwrap().to_string();
        let link = host.sh(&["ip", "-o", "link", "show", "dev", &bridge]);
        let mut ether = link.split_whitespace().skip_while(|w| *w != "link/ether");
        ether.nth(1).unwrap().to_string()
    };
    let first = bridge_address();
    for (new, asker) in [("b", "a"), ("c", "b")] {
        host.podnet(&["start", new]);
        let out = lookup_once(&host, asker, new, "10.89.212.1");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("10.89.212."),
            "{asker} asked for {new} right after its start: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(bridge_address(), first, "the bridge changed its address");
    host.podnet(&["start", "d"]);
    host.podnet(&["connect", "pntdns2", "a"]);
    let out = lookup_once(&host, "d", "a", "10.89.213.1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("10.89.213."),
        "d asked for a right after its connect: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["a", "b", "c", "d"] {
        host.podnet(&["rm", "-f", name]);
    }
    host.podnet(&["network", "rm", "pntdns"]);
    host.podnet(&["network", "rm", "pntdns2"]);
    assert_clean(&host, "10.89.212.");
    assert_clean(&host, "10.89.213.");
}
