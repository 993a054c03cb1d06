//! Per-container user-mode networking through the `podnet` CLI as an unprivileged user (run
//! by `cargo xtask integration` as `podnet-ci`), with real packets: a container with no
//! network named gets its own pasta (podman 5's rootless default) and publishes a port a
//! client on the host's loopback reaches; `pasta:--map-gw` reaches a server on the host's
//! loopback; slirp4netns publishes through its API (`port_handler=slirp4netns`) and through
//! podnet's forwarder (`rootlesskit`), honours `cidr`, `mtu` and `allow_host_loopback`; a
//! killed helper is found and restarted by `reconcile`; a kill -9 in a start leaves no
//! helper, pin or forwarder after `reconcile`. Nothing of the user's is left.
#![allow(clippy::unwrap_used)]

mod rootless_cli_support;

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rootless_cli_support::{can_run, fetch, live_processes, pins, Cli};

fn runs(test: &str) -> bool {
    if !can_run(test) {
        return false;
    }
    let missing = ["pasta", "slirp4netns"]
        .iter()
        .any(|p| !Path::new("/usr/bin").join(p).exists());
    if missing {
        testkit::skip(
            test,
            "needs pasta and slirp4netns (apt-get install passt slirp4netns)",
        );
    }
    !missing
}

/// The shared rootless CLI and the containers this suite made, removed on drop (twice: a
/// pod's owner goes only after its dependents).
struct Podnet {
    cli: Cli,
    made: Vec<String>,
}

impl std::ops::Deref for Podnet {
    type Target = Cli;

    fn deref(&self) -> &Cli {
        &self.cli
    }
}

impl Drop for Podnet {
    fn drop(&mut self) {
        for _ in 0..2 {
            for name in &self.made {
                let _ = self.cli.out(&["rm", "-f", name]);
            }
        }
    }
}

impl Podnet {
    fn new() -> Self {
        Podnet {
            cli: Cli::new(),
            made: Vec::new(),
        }
    }

    /// `podnet exec CONTAINER -- CMD...`.
    fn exec(&self, container: &str, cmd: &[&str]) -> Output {
        let mut args = vec!["exec", container, "--"];
        args.extend_from_slice(cmd);
        self.out(&args)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// `create NAME ARGS...` then `start NAME` (the record: [`Cli::summary`]).
    fn run(&mut self, name: &str, args: &[&str]) {
        let mut create = vec!["create", name];
        create.extend_from_slice(args);
        self.ok(&create);
        self.made.push(name.to_string());
        self.start(name);
    }

    /// `busybox nc` from inside `container` to `ip:port`: what it read, if anything.
    fn nc_from(&self, container: &str, ip: &str, port: u16) -> Option<String> {
        // nc's -w bounds the connect only, and Debian's pasta does not always pass the
        // server's close on a spliced loopback connection: what arrived in 3 s counts
        let port = port.to_string();
        let nc = [
            "busybox", "timeout", "3", "busybox", "nc", "-w", "2", ip, &port,
        ];
        let out = self.exec(container, &nc);
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// The container's directory of files (its helper's record is there).
    fn container_dir(&self, record: &serde_json::Value) -> PathBuf {
        self.root
            .path()
            .join("containers")
            .join(record["Id"].as_str().unwrap())
    }

    fn pins(&self) -> Vec<String> {
        pins(&self.root.path().join("netns"))
    }

    /// Live processes of ours (helpers, forwarders) naming this root.
    fn helpers(&self) -> Vec<String> {
        live_processes(&self.root.path().to_string_lossy())
    }
}

/// A server on the host's loopback answering `pong N` to its Nth connection.
struct LoopbackServer {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl LoopbackServer {
    fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                // one write, one segment: Debian 12's pasta repeats the pieces of a reply
                // sent in several (see `first_line`)
                let _ = conn.write_all(format!("pong {n}\n").as_bytes());
            }
        });
        Self { port, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// The first line a client received.
///
/// Debian 12's pasta (2023) can send the guest pieces of a tap-side connection's stream
/// again, at wrong offsets: the one connection the server accepted, answered `pong 1\n`,
/// reads `pong 1\nng 1\n1\nng 1\n...`, and a reply written in pieces (`pong `, `1`, `\n`)
/// reads `pong pong pong ... pong 1pong 1`. That is pasta's
/// (podman 5 passes it the same arguments). What podnet sets up is shown by the first line
/// and the server's count of connections.
fn first_line(text: Option<String>) -> Option<String> {
    text.and_then(|t| t.lines().next().map(str::to_string))
}

/// The default gateway inside the container, from `ip route`.
fn gateway(p: &Podnet, container: &str) -> String {
    let out = p.exec(container, &["ip", "route", "show", "default"]);
    let routes = String::from_utf8_lossy(&out.stdout).into_owned();
    routes
        .split_whitespace()
        .skip_while(|w| *w != "via")
        .nth(1)
        .unwrap_or_else(|| panic!("no default route in {container}: {routes}"))
        .to_string()
}

fn assert_clean(p: &Podnet, what: &str) {
    assert!(p.pins().is_empty(), "{what}: pins left: {:?}", p.pins());
    assert!(
        p.helpers().is_empty(),
        "{what}: processes left: {:?}",
        p.helpers()
    );
}

#[test]
fn rootless_pasta_is_the_default_publishes_a_port_and_reaches_the_host() {
    if !runs("rootless_pasta_is_the_default") {
        return;
    }
    let mut p = Podnet::new();
    let port = testkit::free_port(testkit::Protocol::Tcp);
    let publish = format!("127.0.0.1:{port}:8080");
    p.run("pm1", &["-p", &publish]);
    let rec = p.summary("pm1");
    assert_eq!(rec["NetworkMode"], "pasta", "{rec}");
    let pin = rec["NetNS"].as_str().unwrap().to_string();
    // pasta holds the container's namespace, with its port forward on the command line
    let helpers = p.helpers();
    assert!(
        helpers.iter().any(|h| h.contains("pasta")
            && h.contains(&pin)
            && h.contains(&format!("127.0.0.1/{port}-{port}:8080-8080"))),
        "{helpers:?}"
    );
    let mut l = p.listen("pm1", 8080, "hello-from-pasta");
    assert_eq!(fetch(port).as_deref(), Some("hello-from-pasta"));
    let _ = l.wait();
    let inspect = p.json(&["inspect", "pm1"]);
    assert_eq!(inspect[0]["NetworkSettings"]["SandboxKey"], pin.as_str());
    assert_eq!(
        inspect[0]["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"],
        port.to_string()
    );
    let resolv = p.exec("pm1", &["cat", "/etc/resolv.conf"]);
    let resolv = String::from_utf8_lossy(&resolv.stdout).into_owned();
    assert!(resolv.starts_with("nameserver 169.254.1.1"), "{resolv}");

    // a pod around a pasta container: one namespace, localhost shared
    p.run("pm3", &["--network", "container:pm1"]);
    let mut l = p.listen("pm3", 8081, "hello-from-the-pod");
    assert_eq!(
        p.nc_from("pm1", "127.0.0.1", 8081).as_deref(),
        Some("hello-from-the-pod")
    );
    let _ = l.wait();
    let err = p.out(&["rm", "-f", "pm1"]);
    assert!(
        String::from_utf8_lossy(&err.stderr).contains("has dependent containers"),
        "{err:?}"
    );
    p.ok(&["rm", "-f", "pm3"]);

    // --map-gw: the gateway is the host's loopback
    let server = LoopbackServer::start();
    p.run("pm2", &["--network", "pasta:--map-gw"]);
    let gw = gateway(&p, "pm2");
    let reply = first_line(p.nc_from("pm2", &gw, server.port));
    assert_eq!(reply.as_deref(), Some("pong 1"));
    assert_eq!(server.accepted(), 1);

    p.ok(&["rm", "-f", "pm1"]);
    p.ok(&["rm", "-f", "pm2"]);
    p.made.clear();
    assert!(fetch(port).is_none(), "the port is gone with its pasta");
    assert_clean(&p, "after rm");
}

#[test]
fn rootless_slirp4netns_publishes_with_either_port_handler_and_honours_its_options() {
    if !runs("rootless_slirp4netns_publishes") {
        return;
    }
    let mut p = Podnet::new();
    let server = LoopbackServer::start();
    let (port1, port2) = (
        testkit::free_port(testkit::Protocol::Tcp),
        testkit::free_port(testkit::Protocol::Tcp),
    );
    // slirp4netns's own forwarding, host loopback allowed at 10.0.2.2
    let p1 = format!("127.0.0.1:{port1}:8080");
    p.run(
        "sm1",
        &[
            "--network",
            "slirp4netns:allow_host_loopback=true,port_handler=slirp4netns",
            "-p",
            &p1,
        ],
    );
    let rec = p.summary("sm1");
    assert_eq!(
        rec["NetworkMode"],
        "slirp4netns:allow_host_loopback=true,port_handler=slirp4netns"
    );
    let addrs =
        String::from_utf8_lossy(&p.exec("sm1", &["ip", "-o", "-4", "addr"]).stdout).into_owned();
    assert!(addrs.contains("10.0.2.100/24"), "{addrs}");
    let mut l = p.listen("sm1", 8080, "hello-from-slirp");
    assert_eq!(fetch(port1).as_deref(), Some("hello-from-slirp"));
    let _ = l.wait();
    assert_eq!(
        p.nc_from("sm1", "10.0.2.2", server.port).as_deref(),
        Some("pong 1")
    );

    // podman's default port handler (podnet's forwarder), another cidr and mtu, and the
    // host's loopback closed by default
    let p2 = format!("127.0.0.1:{port2}:8080");
    p.run(
        "sm2",
        &[
            "--network",
            "slirp4netns:cidr=10.41.7.0/24,mtu=1500",
            "-p",
            &p2,
        ],
    );
    let link =
        String::from_utf8_lossy(&p.exec("sm2", &["ip", "-o", "addr", "show", "tap0"]).stdout)
            .into_owned();
    assert!(link.contains("10.41.7.100/24"), "{link}");
    let tap = String::from_utf8_lossy(&p.exec("sm2", &["ip", "-o", "link", "show", "tap0"]).stdout)
        .into_owned();
    assert!(tap.contains(" mtu 1500 "), "{tap}");
    let mut l = p.listen("sm2", 8080, "hello-via-forwarder");
    assert_eq!(fetch(port2).as_deref(), Some("hello-via-forwarder"));
    let _ = l.wait();
    assert_eq!(p.nc_from("sm2", "10.41.7.2", server.port), None);
    assert_eq!(
        server.accepted(),
        1,
        "the host's loopback was reached from sm2"
    );
    let hosts = String::from_utf8_lossy(&p.exec("sm2", &["cat", "/etc/hosts"]).stdout).into_owned();
    assert!(hosts.contains("10.41.7.100\t"), "{hosts}");

    p.ok(&["rm", "-f", "sm1"]);
    p.ok(&["rm", "-f", "sm2"]);
    p.made.clear();
    assert!(fetch(port1).is_none() && fetch(port2).is_none());
    assert_clean(&p, "after rm");
}

#[test]
fn rootless_a_killed_helper_is_restarted_and_a_crashed_start_is_cleaned_by_reconcile() {
    if !runs("rootless_a_killed_helper_is_restarted") {
        return;
    }
    let mut p = Podnet::new();
    let port = testkit::free_port(testkit::Protocol::Tcp);
    let publish = format!("127.0.0.1:{port}:8080");
    for mode in ["pasta", "slirp4netns"] {
        let name = format!("k-{mode}");
        p.run(&name, &["--network", mode, "-p", &publish]);
        let rec = p.summary(&name);
        let record = p.container_dir(&rec).join("net-helper");
        let pid: i32 = std::fs::read_to_string(&record)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL).unwrap();
        // SIGKILL is not instant: wait until it is dead (a zombie or gone)
        let dead = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
                s.rsplit(')')
                    .next()
                    .and_then(|r| r.split_whitespace().next())
                    == Some("Z")
            })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !dead() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(dead(), "{mode} {pid} survived SIGKILL");
        let report = p.json(&["reconcile"]);
        assert_eq!(
            report["helpers_restarted"],
            serde_json::json!([rec["Id"]]),
            "{mode}: {report}"
        );
        assert_eq!(report["errors"], serde_json::json!([]), "{mode}: {report}");
        let mut l = p.listen(&name, 8080, mode);
        assert_eq!(fetch(port).as_deref(), Some(mode), "{mode} after restart");
        let _ = l.wait();
        let again = p.json(&["reconcile"]);
        assert_eq!(again["helpers_restarted"], serde_json::json!([]), "{again}");
        p.ok(&["rm", "-f", &name]);
        p.made.clear();

        // killed after the helper started, before the record: nothing of it stays
        p.ok(&["create", &name, "--network", mode]);
        p.made.push(name.clone());
        let out = p
            .command(&["start", &name])
            .env("PODNET_FAILPOINT", "setup:backend-done")
            .output()
            .unwrap();
        // the re-executed copy inside the user namespace was killed; the outer one says so
        assert_eq!(out.status.code(), Some(128 + 9), "{mode}: {out:?}");
        assert_eq!(p.pins().len(), 1, "{mode}");
        let report = p.json(&["reconcile"]);
        assert_eq!(report["errors"], serde_json::json!([]), "{mode}: {report}");
        assert_eq!(
            report["netns_removed"].as_array().unwrap().len(),
            1,
            "{report}"
        );
        assert_clean(&p, mode);
        p.ok(&["rm", &name]);
        p.made.clear();
    }
}

/// Interface names in `ip -o link` output.
fn link_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(|n| n.trim().split('@').next().unwrap_or("").to_string())
        .collect()
}

/// Rootless `none` and `host`, as podman offers them to an unprivileged user: a `none`
/// container has only its loopback and reaches nothing of the host; a `host` container
/// sees the host's interfaces and reaches a server on the host's loopback.
#[test]
fn rootless_none_reaches_nothing_and_host_shares_the_hosts_network() {
    if !runs("rootless_none_and_host") {
        return;
    }
    let mut p = Podnet::new();
    let server = LoopbackServer::start();

    p.run("rnone", &["--network", "none"]);
    let links = p.exec("rnone", &["ip", "-o", "link"]);
    assert_eq!(
        link_names(&String::from_utf8_lossy(&links.stdout)),
        ["lo"],
        "{links:?}"
    );
    assert_eq!(
        p.nc_from("rnone", "127.0.0.1", server.port),
        None,
        "none reached the host"
    );
    assert_eq!(server.accepted(), 0, "none reached the host");

    p.run("rhost", &["--network", "host"]);
    let theirs = p.exec("rhost", &["ip", "-o", "link"]);
    let ours = std::process::Command::new("ip")
        .args(["-o", "link"])
        .output()
        .unwrap();
    assert_eq!(
        link_names(&String::from_utf8_lossy(&theirs.stdout)),
        link_names(&String::from_utf8_lossy(&ours.stdout)),
        "a host container sees the host's interfaces"
    );
    assert_eq!(
        p.nc_from("rhost", "127.0.0.1", server.port).as_deref(),
        Some("pong 1")
    );

    for name in ["rnone", "rhost"] {
        p.ok(&["rm", "-f", name]);
    }
    p.made.clear();
    assert_clean(&p, "none and host");
}

/// Rootless `ns:PATH`: a container joins a namespace of the user's own (here another
/// container's pin) and sees its interfaces; removing it leaves that namespace and its
/// owner working.
#[test]
fn rootless_ns_joins_the_users_namespace_and_leaves_it_standing() {
    if !runs("rootless_ns_joins") {
        return;
    }
    let mut p = Podnet::new();
    p.run("nsowner", &[]);
    let pin = p.summary("nsowner")["NetNS"].as_str().unwrap().to_string();
    p.run("nsjoin", &["--network", &format!("ns:{pin}")]);
    let addrs = |c: &str| {
        let out = p.exec(c, &["ip", "-o", "-4", "addr", "show", "eth0"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let owner = addrs("nsowner");
    assert!(
        owner.contains(" inet "),
        "the owner has an address: {owner}"
    );
    assert_eq!(addrs("nsjoin"), owner, "the joiner sees the owner's eth0");

    p.ok(&["rm", "-f", "nsjoin"]);
    assert!(
        Path::new(&pin).exists(),
        "the joined namespace is not podnet's to remove"
    );
    assert_eq!(addrs("nsowner"), owner, "the owner keeps its eth0");
    p.ok(&["rm", "-f", "nsowner"]);
    p.made.clear();
    assert_clean(&p, "ns:");
}
