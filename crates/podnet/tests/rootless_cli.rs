//! The `podnet` CLI as an unprivileged user (run by `cargo xtask integration` as `podnet-ci`):
//! the binary re-executes itself in the user's namespaces, runs netavark in the rootless
//! network namespace (pasta outbound), and publishes ports with forwarder processes. Two
//! containers reach each other by name, a client on the host's loopback reaches a published
//! port, connect and disconnect work, and nothing of the user's is left afterwards.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn podnet_bin() -> PathBuf {
    // xtask copies the binary next to this test for the unprivileged user
    std::env::var_os("PODNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_podnet")))
}

fn can_run(test: &str) -> bool {
    let reason = if nix::unistd::geteuid().is_root() {
        Some("runs as an unprivileged user (cargo xtask integration runs it as podnet-ci)")
    } else if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        Some("needs XDG_RUNTIME_DIR")
    } else {
        None
    };
    match reason {
        None => true,
        Some(r) => {
            testkit::skip(test, r);
            false
        }
    }
}

struct Cli {
    root: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli {
            root: tempfile::Builder::new()
                .prefix("pntrlcli")
                .tempdir()
                .unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(podnet_bin());
        c.arg("--root")
            .arg(self.root.path())
            .args(args)
            .stdin(Stdio::null());
        c
    }

    fn out(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.out(args);
        assert!(
            out.status.success(),
            "podnet {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `busybox ping` of `to` by name from container `from`; its output, or "" when all three
    /// tries failed (aardvark-dns 1.4 can stall right after a SIGHUP).
    fn ping(&self, from: &str, to: &str) -> String {
        (0..3)
            .map(|_| {
                self.out(&[
                    "exec", from, "--", "busybox", "ping", "-c", "1", "-W", "2", to,
                ])
            })
            .find(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    fn listen(&self, container: &str, port: u16, text: &str) -> Child {
        let p = port.to_string();
        let mut child = self
            .command(&[
                "exec", container, "--", "busybox", "nc", "-l", "-p", &p, "-e", "echo", text,
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let netstat = self.ok(&["exec", container, "--", "busybox", "netstat", "-ltn"]);
            if netstat.contains(&format!(":{port} ")) {
                return child;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("no listener on {port} in {container}");
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        for name in ["rla", "rlb"] {
            let _ = self.out(&["rm", "-f", name]);
        }
    }
}

fn fetch(port: u16) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// Live (not zombie) processes of ours whose command line mentions `needle`.
fn live_processes(needle: &str) -> Vec<String> {
    let me = nix::unistd::getuid().as_raw();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let dir = entry.path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next());
        if state == Some("Z") {
            continue;
        }
        let owner = std::fs::read_to_string(dir.join("status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u32>().ok())
            });
        // forwarders carry their spec (with the netns path) in the environment
        let mut text = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        text.extend(std::fs::read(dir.join("environ")).unwrap_or_default());
        let cmdline = String::from_utf8_lossy(&text).replace('\0', " ");
        if owner == Some(me) && cmdline.contains(needle) {
            found.push(cmdline);
        }
    }
    found
}

fn pins(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

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

/// The first three octets and a dot: what every address and rule of the /24 contains.
fn prefix_of(net: ipnet::Ipv4Net) -> String {
    let o = net.network().octets();
    format!("{}.{}.{}.", o[0], o[1], o[2])
}

/// Runs `args` inside the rootless netns of `root` (the CLI keeps it in `ROOT/rootless-netns`,
/// pinned under `ROOT/netns` in the user's namespace holder's mount namespace).
fn in_rootless_netns(root: &Path, args: &[&str]) -> Output {
    let pin = podnet::RootlessNetNsConfig::new(root.join("rootless-netns"), root.join("netns"))
        .pin_path();
    let holder = podnet::UserNamespace::ensure().unwrap();
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--net={}", pin.display()))
        .arg("--")
        .args(args)
        .stdin(Stdio::null());
    holder.join(&mut cmd).unwrap();
    cmd.output().unwrap()
}

/// The rootless netns' nftables ruleset (iptables-nft rules included).
fn rootless_ruleset(root: &Path) -> String {
    let out = in_rootless_netns(root, &["nft", "list", "ruleset"]);
    assert!(out.status.success(), "nft list ruleset: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Nothing of `root` is left: no pin (so no rootless netns, and none of its interfaces or
/// rules), no pasta, forwarder or aardvark-dns process, no lease.
fn assert_rootless_clean(root: &Path, point: &str) {
    assert!(
        pins(&root.join("netns")).is_empty(),
        "{point}: pins {:?}",
        pins(&root.join("netns"))
    );
    let root_text = root.to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !live_processes(&root_text).is_empty() {
        assert!(
            Instant::now() < deadline,
            "{point}: left {:#?}",
            live_processes(&root_text)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let leases = podnet::StateStore::open(root.join("state.db"))
        .unwrap()
        .list_leases()
        .unwrap();
    assert!(leases.is_empty(), "{point}: leases {leases:?}");
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
    let crash = |point: &str, args: &[&str]| {
        let out = cli
            .command(args)
            .env("PODNET_FAILPOINT", point)
            .output()
            .unwrap();
        // the re-executed copy inside the user namespace was killed; the outer one says so
        assert_eq!(out.status.code(), Some(128 + 9), "{point}: {out:?}");
        let report = cli.ok(&["reconcile"]);
        assert!(report.contains("\"errors\": []"), "{point}: {report}");
        report
    };

    // every point the sources define (podnet::FAILPOINTS is checked against them), each
    // from a stopped, clean container, back to one
    for &point in podnet::FAILPOINTS {
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
                let ps = cli.ok(&["ps"]);
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
        &["nft", "flush", "ruleset"][..],
        &["iptables", "-t", "nat", "-F"][..],
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
