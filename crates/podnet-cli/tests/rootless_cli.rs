//! The `podnet` CLI as an unprivileged user (run by `cargo xtask integration` as `podnet-ci`):
//! the binary re-executes itself in the user's namespaces, runs netavark in the rootless
//! network namespace (pasta outbound), and publishes ports with forwarder processes. Two
//! containers reach each other by name, a client on the host's loopback reaches a published
//! port, connect and disconnect work, and nothing of the user's is left afterwards.
#![allow(clippy::unwrap_used)]

mod rootless_cli_support;

use std::time::{Duration, Instant};

use rootless_cli_support::{
    assert_rootless_clean, can_run, fetch, in_rootless_netns, live_processes, pins, prefix_of,
    rootless_ruleset, Cli,
};

#[test]
fn rootless_cli_containers_by_name_published_port_connect_and_clean_up() {
    if !can_run("rootless_cli") {
        return;
    }
    let cli = Cli::new();
    let root = cli.root.path().to_path_buf();
    let (net1, net2) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
    let port = testkit::free_port(testkit::Protocol::Tcp);
    cli.ok(&["network", "create", "--subnet", &net1.to_string(), "pntrl1"]);
    cli.ok(&["network", "create", "--subnet", &net2.to_string(), "pntrl2"]);
    let publish = format!("127.0.0.1:{port}:8080");
    cli.ok(&["create", "rla", "--network", "pntrl1", "-p", &publish]);
    cli.ok(&["create", "rlb", "--network", "pntrl1"]);
    cli.ok(&["start", "rla"]);
    cli.ok(&["start", "rlb"]);

    let ping = cli.ping("rlb", "rla");
    assert!(ping.contains("1 packets received"), "{ping}");

    let mut l = cli.listen("rla", 8080, "hello-rootless");
    assert_eq!(fetch(port).as_deref(), Some("hello-rootless"));
    let _ = l.wait();

    let connected = cli.ok(&["connect", "pntrl2", "rla"]);
    let eth1 = format!("eth1 {}2/24", prefix_of(net2));
    assert!(connected.contains(&eth1), "{connected}");
    // the published port follows the container through connect and disconnect
    let mut l = cli.listen("rla", 8080, "still-here");
    assert_eq!(fetch(port).as_deref(), Some("still-here"));
    let _ = l.wait();
    cli.ok(&["disconnect", "pntrl2", "rla"]);
    let addrs = cli.ok(&["exec", "rla", "--", "ip", "-o", "-4", "addr", "show"]);
    assert!(!addrs.contains("eth1"), "{addrs}");

    cli.ok(&["rm", "-f", "rla"]);
    cli.ok(&["rm", "-f", "rlb"]);
    cli.ok(&["network", "rm", "pntrl1", "pntrl2"]);
    assert_eq!(fetch(port), None, "the port is still published");
    assert!(
        pins(&root.join("netns")).is_empty(),
        "pins left: {:?}",
        pins(&root.join("netns"))
    );
    let root_text = root.to_string_lossy().into_owned();
    // no pasta, forwarder or aardvark of this root outlives its last container
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = live_processes(&root_text);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "processes left: {left:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn rootless_kill_at_any_point_of_a_flow_is_repaired_by_reconcile() {
    if !can_run("rootless_kill_at_any_point_of_a_flow_is_repaired_by_reconcile") {
        return;
    }
    let cli = Cli::new();
    let root = cli.root.path().to_path_buf();
    let (net1, net2) = (testkit::free_subnet_v4(), testkit::free_subnet_v4());
    let (first, second) = (prefix_of(net1), prefix_of(net2));
    let port = testkit::free_port(testkit::Protocol::Tcp);
    cli.ok(&["network", "create", "--subnet", &net1.to_string(), "pntrl3"]);
    cli.ok(&["network", "create", "--subnet", &net2.to_string(), "pntrl4"]);
    let publish = format!("127.0.0.1:{port}:8080");
    cli.ok(&["create", "rla", "--network", "pntrl3", "-p", &publish]);
    let crash = |point: &str, args: &[&str]| cli.crash(point, args);

    // every point the sources define (podnet::testing::FAILPOINTS is checked against them), each
    // from a stopped, clean container, back to one
    for &point in podnet::testing::FAILPOINTS {
        let flow = point.split(':').next().unwrap();
        match flow {
            "setup" => {
                crash(point, &["start", "rla"]);
                assert_rootless_clean(&root, point);
                cli.ok(&["start", "rla"]);
            }
            "connect" => {
                cli.ok(&["start", "rla"]);
                crash(point, &["connect", "pntrl4", "rla"]);
            }
            "disconnect" => {
                cli.ok(&["start", "rla"]);
                cli.ok(&["connect", "pntrl4", "rla"]);
                crash(point, &["disconnect", "pntrl4", "rla"]);
            }
            "reload" => {
                cli.ok(&["start", "rla"]);
                let report = crash(point, &["reload", "rla"]);
                assert!(report.contains("\"reloads_redone\": [\n"), "{report}");
            }
            "teardown" => {
                cli.ok(&["start", "rla"]);
                crash(point, &["stop", "rla"]);
                let ps = cli.ok(&["ps", "--format", "json"]);
                assert!(ps.contains("\"Running\": false"), "{point}: {ps}");
                assert_rootless_clean(&root, point);
                continue;
            }
            // podman's ipam.db is shared only with a real podman: tests/shared_host.rs
            // crashes there and checks the database and the reconcile
            "shared-ipam" => continue,
            other => panic!("{point}: no crash scenario for the flow {other:?}; add one"),
        }
        // running on the first network only, reachable through its published port
        let addrs = cli.ok(&["exec", "rla", "--", "ip", "-o", "-4", "addr", "show"]);
        assert!(
            addrs.contains(&first) && !addrs.contains(&second),
            "{point}: {addrs}"
        );
        let rules = rootless_ruleset(&root);
        assert!(!rules.contains(&second), "{point}: rules left:\n{rules}");
        let mut l = cli.listen("rla", 8080, point);
        assert_eq!(fetch(port).as_deref(), Some(point), "{point}");
        let _ = l.wait();
        cli.ok(&["stop", "rla"]);
        assert_rootless_clean(&root, point);
    }
    cli.ok(&["rm", "rla"]);
    cli.ok(&["network", "rm", "pntrl3", "pntrl4"]);
}

#[test]
fn rootless_reload_after_a_firewall_flush_restores_port_and_names() {
    if !can_run("rootless_reload_after_a_firewall_flush_restores_port_and_names") {
        return;
    }
    let cli = Cli::new();
    let root = cli.root.path().to_path_buf();
    let net = testkit::free_subnet_v4();
    let prefix = prefix_of(net);
    let port = testkit::free_port(testkit::Protocol::Tcp);
    cli.ok(&["network", "create", "--subnet", &net.to_string(), "pntrl5"]);
    let publish = format!("127.0.0.1:{port}:8080");
    cli.ok(&["create", "rla", "--network", "pntrl5", "-p", &publish]);
    cli.ok(&["create", "rlb", "--network", "pntrl5"]);
    cli.ok(&["start", "rla"]);
    cli.ok(&["start", "rlb"]);
    assert!(rootless_ruleset(&root).contains(&prefix));

    for flush in [
        &["/usr/sbin/nft", "flush", "ruleset"][..],
        &["/usr/sbin/iptables", "-t", "nat", "-F"][..],
    ] {
        let out = in_rootless_netns(&root, flush);
        assert!(out.status.success(), "{flush:?}: {out:?}");
        // the flush took netavark's NAT rules (the masquerade of the subnet) away
        let rules = rootless_ruleset(&root).to_lowercase();
        assert!(!rules.contains("masquerade"), "{flush:?} left:\n{rules}");
        cli.ok(&["reload", "--all"]);
        let rules = rootless_ruleset(&root).to_lowercase();
        assert!(
            rules.contains(&prefix) && rules.contains("masquerade"),
            "after reload:\n{rules}"
        );
        // the published port and name resolution work again
        let mut l = cli.listen("rla", 8080, "after-reload");
        assert_eq!(fetch(port).as_deref(), Some("after-reload"), "{flush:?}");
        let _ = l.wait();
        let ping = cli.ping("rlb", "rla");
        assert!(ping.contains("1 packets received"), "{flush:?}: {ping}");
    }
    cli.ok(&["rm", "-f", "rla"]);
    cli.ok(&["rm", "-f", "rlb"]);
    cli.ok(&["network", "rm", "pntrl5"]);
    assert_rootless_clean(&root, "after rm");
}

/// containers.conf's `default_rootless_network_cmd` and `pasta_options` choose and shape
/// the program that gives the rootless netns its outbound connectivity, as in podman.
#[test]
fn containers_conf_chooses_the_rootless_network_program() {
    if !can_run("containers_conf_chooses_the_rootless_network_program") {
        return;
    }
    for (conf, program, needle) in [
        (
            "[network]\ndefault_rootless_network_cmd = \"slirp4netns\"\n",
            "slirp4netns",
            "slirp4netns",
        ),
        (
            "[network]\ndefault_rootless_network_cmd = \"pasta\"\npasta_options = [\"--mtu\", \"1420\"]\n",
            "pasta",
            "--mtu 1420",
        ),
    ] {
        let cli = Cli::new();
        let root = cli.root.path().to_path_buf();
        // not under the root: the user's namespace holder, started by the first command of
        // the suite, keeps its environment (and this path) for its whole life
        let conf_dir = tempfile::tempdir().unwrap();
        let conf_file = conf_dir.path().join("containers.conf");
        std::fs::write(&conf_file, conf).unwrap();
        let run = |args: &[&str]| {
            let out = cli
                .command(args)
                .env("CONTAINERS_CONF", &conf_file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "podnet {args:?} with {conf:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let net = testkit::free_subnet_v4();
        run(&["network", "create", "--subnet", &net.to_string(), "pntrlconf"]);
        run(&["create", "rlconf", "--network", "pntrlconf"]);
        run(&["start", "rlconf"]);
        let helpers: Vec<String> = live_processes(&root.display().to_string())
            .into_iter()
            .filter(|p| p.contains("pasta") || p.contains("slirp4netns"))
            .collect();
        assert_eq!(helpers.len(), 1, "{conf:?}: {helpers:?}");
        assert!(
            helpers[0].starts_with(program) || helpers[0].contains(&format!("/{program} ")),
            "{conf:?}: {helpers:?}"
        );
        assert!(helpers[0].contains(needle), "{conf:?}: {helpers:?}");
        run(&["rm", "-f", "rlconf"]);
        run(&["network", "rm", "pntrlconf"]);
        assert_rootless_clean(&root, program);
    }
}
