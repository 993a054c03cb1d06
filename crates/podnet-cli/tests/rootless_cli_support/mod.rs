//! The `podnet` command line as an unprivileged user, for the rootless CLI suites
//! (`rootless_cli.rs`, `rootless_cni.rs`): the binary under test, a throwaway `--root`, a
//! client of published ports, and the checks that nothing of a root is left (pins,
//! processes, leases, rules in the rootless netns).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn podnet_bin() -> PathBuf {
    // xtask copies the binary next to this test for the unprivileged user
    std::env::var_os("PODNET_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_podnet")))
}

pub fn can_run(test: &str) -> bool {
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

pub struct Cli {
    pub root: tempfile::TempDir,
    /// Global options given to every command (`--network-backend cni`).
    global: Vec<String>,
}

impl Cli {
    pub fn new() -> Self {
        Self::with_options(&[])
    }

    /// A CLI whose every command gets `global` first (`--network-backend cni`).
    pub fn with_options(global: &[&str]) -> Self {
        Cli {
            root: tempfile::Builder::new()
                .prefix("pntrlcli")
                .tempdir()
                .unwrap(),
            global: global.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(podnet_bin());
        c.arg("--root")
            .arg(self.root.path())
            .args(&self.global)
            .args(args)
            .stdin(Stdio::null());
        c
    }

    pub fn out(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.out(args);
        assert!(
            out.status.success(),
            "podnet {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// [`Cli::start`], then [`Cli::summary`].
    pub fn start_json(&self, name: &str) -> serde_json::Value {
        self.start(name);
        self.summary(name)
    }

    /// `start NAME`, which prints NAME as podman does.
    pub fn start(&self, name: &str) {
        assert_eq!(self.ok(&["start", name]), format!("{name}\n"));
    }

    /// The container's summary, as `ps --format json` prints it.
    pub fn summary(&self, name: &str) -> serde_json::Value {
        let exact = format!("name=^{name}$");
        let list = self.ok(&["ps", "--format", "json", "--filter", &exact]);
        let list: serde_json::Value = serde_json::from_str(&list).unwrap();
        list[0].clone()
    }

    /// `args` killed at failpoint `point` (the re-executed copy inside the user namespace
    /// dies; the outer one says so), then `reconcile`, which must report no error; its report.
    pub fn crash(&self, point: &str, args: &[&str]) -> String {
        let out = self
            .command(args)
            .env("PODNET_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(128 + 9), "{point}: {out:?}");
        let report = self.ok(&["reconcile"]);
        assert!(report.contains("\"errors\": []"), "{point}: {report}");
        report
    }

    /// `busybox ping` of `to` by name from container `from`; its output, or "" when all three
    /// tries failed.
    pub fn ping(&self, from: &str, to: &str) -> String {
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

    pub fn listen(&self, container: &str, port: u16, text: &str) -> Child {
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

pub fn fetch(port: u16) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// Live (not zombie) processes of ours whose command line mentions `needle`.
pub fn live_processes(needle: &str) -> Vec<String> {
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

pub fn pins(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

/// The first three octets and a dot: what every address and rule of the /24 contains.
pub fn prefix_of(net: ipnet::Ipv4Net) -> String {
    let o = net.network().octets();
    format!("{}.{}.{}.", o[0], o[1], o[2])
}

/// Runs `args` inside the rootless netns of `root` (the CLI keeps it in `ROOT/rootless-netns`,
/// pinned under `ROOT/netns` in the user's namespace holder's mount namespace).
pub fn in_rootless_netns(root: &Path, args: &[&str]) -> Output {
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
pub fn rootless_ruleset(root: &Path) -> String {
    let out = in_rootless_netns(root, &["/usr/sbin/nft", "list", "ruleset"]);
    assert!(out.status.success(), "nft list ruleset: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Nothing of `root` is left: no pin (so no rootless netns, and none of its interfaces or
/// rules), no pasta, forwarder or aardvark-dns process, no lease.
pub fn assert_rootless_clean(root: &Path, point: &str) {
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
