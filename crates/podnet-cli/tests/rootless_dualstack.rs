//! A dual-stack network end to end as an unprivileged user (`cargo xtask integration` runs
//! it as `podnet-ci`): the real `podnet` binary re-executes itself in the user's
//! namespaces and runs netavark and aardvark-dns in the rootless network namespace. Two
//! containers get an IPv4 and an IPv6 address each, one pings the other over IPv6 by name,
//! and a TCP client on the host's IPv6 loopback reaches a port published as
//! `-p [::1]:PORT:8080` through the container's forwarder. Nothing of the user's is left
//! afterwards. Subnets and the port are chosen free at run time.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;
#[path = "../../podnet/tests/rootless_support/mod.rs"]
mod rootless_support;

use std::io::Read;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use paths_support::{parse_ip_addr, serve_once};

/// The podnet binary: xtask copies it where the unprivileged user can run it.
fn podnet_bin() -> PathBuf {
    std::env::var_os("PODNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_podnet")))
}

/// `podnet --root ROOT` for one test, with everything it made removed on drop.
struct Rootless {
    root: tempfile::TempDir,
    containers: Vec<String>,
}

impl Rootless {
    fn run(&self, args: &[&str]) -> Output {
        self.podnet()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "podnet {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn podnet(&self) -> Command {
        let mut podnet = Command::new(podnet_bin());
        podnet.arg("--root").arg(self.root.path());
        podnet
    }

    /// The global addresses of the container's eth0, as the kernel has them.
    fn addresses(&self, container: &str) -> Vec<IpNet> {
        parse_ip_addr(&self.ok(&[
            "exec", container, "--", "ip", "-o", "addr", "show", "dev", "eth0", "scope", "global",
        ]))
    }

    /// `busybox nc -l` answering one connection with `text`, once it listens.
    fn serve(&self, container: &str, port: u16, text: &str) -> Child {
        serve_once(self.podnet(), container, port, text, || {
            self.ok(&["exec", container, "--", "busybox", "netstat", "-ltn"])
        })
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        for name in &self.containers {
            let _ = self.run(&["rm", "-f", name]);
        }
    }
}

/// What a TCP server at `addr` says, or None when it cannot be reached.
fn read_from(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// Live processes of this user whose command line or environment names `needle`.
fn processes_naming(needle: &str) -> Vec<String> {
    let me = nix::unistd::getuid().as_raw().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let dir = entry.path();
            let status = std::fs::read_to_string(dir.join("status")).ok()?;
            let field = |key: &str| {
                status
                    .lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_whitespace().nth(1).map(String::from))
            };
            if field("Uid:")? != me || field("State:")? == "Z" {
                return None;
            }
            let mut text = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            text.extend(std::fs::read(dir.join("environ")).unwrap_or_default());
            let text = String::from_utf8_lossy(&text).replace('\0', " ");
            text.contains(needle).then_some(text)
        })
        .collect()
}

/// A TCP port free on both loopbacks of the host.
fn free_loopback_port() -> u16 {
    loop {
        let port = testkit::free_port(testkit::Protocol::Tcp);
        if std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

#[test]
fn rootless_dual_stack_ping_by_name_over_ipv6_and_a_port_on_ipv6_loopback() {
    let test = "rootless_dual_stack_ping_by_name_over_ipv6_and_a_port_on_ipv6_loopback";
    if nix::unistd::geteuid().is_root() {
        testkit::skip(
            test,
            "runs as an unprivileged user (cargo xtask integration runs it as podnet-ci)",
        );
        return;
    }
    if let Some(reason) = rootless_support::cannot_run() {
        testkit::skip(test, &reason);
        return;
    }
    let v4 = IpNet::V4(testkit::free_subnet_v4());
    let v6 = IpNet::V6(testkit::free_subnet_v6());
    let port = free_loopback_port();
    let mut rl = Rootless {
        root: tempfile::Builder::new()
            .prefix("pntrlds")
            .tempdir()
            .unwrap(),
        containers: Vec::new(),
    };
    rl.ok(&[
        "network",
        "create",
        "--subnet",
        &v4.to_string(),
        "--subnet",
        &v6.to_string(),
        "pntrlds",
    ]);
    rl.containers = vec!["rda".into(), "rdb".into()];
    rl.ok(&[
        "create",
        "rda",
        "--network",
        "pntrlds",
        "-p",
        &format!("[::1]:{port}:8080"),
    ]);
    rl.ok(&["create", "rdb", "--network", "pntrlds"]);
    rl.ok(&["start", "rda"]);
    rl.ok(&["start", "rdb"]);

    let a = rl.addresses("rda");
    let b = rl.addresses("rdb");
    let a6 = a.iter().find(|n| n.addr().is_ipv6()).copied();
    let b6 = b.iter().find(|n| n.addr().is_ipv6()).copied();
    let (a6, b6) = (a6.expect("rda has no IPv6"), b6.expect("rdb has no IPv6"));
    assert!(
        v6.contains(&a6.addr()) && v6.contains(&b6.addr()),
        "{a:?} {b:?}"
    );
    assert!(a.iter().any(|n| v4.contains(&n.addr())), "{a:?}");

    // by name over IPv6: aardvark-dns 1.4 may stall right after a SIGHUP, so three tries
    let ping = (0..3)
        .map(|_| {
            rl.run(&[
                "exec", "rdb", "--", "busybox", "ping", "-6", "-c", "1", "-W", "2", "rda",
            ])
        })
        .find(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(ping.contains("1 packets received"), "{ping}");
    assert!(
        ping.starts_with(&format!("PING rda ({})", a6.addr())),
        "not rda's IPv6 address: {ping}"
    );

    let ipv6_loopback = SocketAddr::from((IpAddr::V6(Ipv6Addr::LOCALHOST), port));
    let mut listener = rl.serve("rda", 8080, "hello-rootless-ipv6");
    assert_eq!(
        read_from(ipv6_loopback).as_deref(),
        Some("hello-rootless-ipv6")
    );
    let _ = listener.wait();

    rl.ok(&["rm", "-f", "rda"]);
    rl.ok(&["rm", "-f", "rdb"]);
    rl.containers.clear();
    rl.ok(&["network", "rm", "pntrlds"]);
    assert_eq!(
        read_from(ipv6_loopback),
        None,
        "the port is still published"
    );
    let pins: Vec<_> = std::fs::read_dir(rl.root.path().join("netns"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        pins.iter().all(|p| p.to_string_lossy().starts_with('.')),
        "pins left: {pins:?}"
    );
    // no pasta, forwarder or aardvark-dns of this root outlives its last container
    let root = rl.root.path().to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_naming(&root).is_empty() {
        assert!(
            Instant::now() < deadline,
            "processes left: {:#?}",
            processes_naming(&root)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
