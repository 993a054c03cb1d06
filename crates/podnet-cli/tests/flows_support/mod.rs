//! A fake host for the flow tests: a throwaway network namespace standing for the machine
//! (bridges, veths, firewall rules and aardvark-dns all land in it, never on the real host)
//! and a temporary `--root` directory for podnet's files, both removed on drop.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

#[path = "../../../podnet/tests/test_backend/mod.rs"]
pub mod test_backend;

/// The podnet binary under test.
pub const PODNET: &str = env!("CARGO_BIN_EXE_podnet");

/// False (after saying why) when the flows cannot run here; a panic in CI.
pub fn can_run(test: &str) -> bool {
    let missing = [
        (
            "/usr/lib/podman/netavark",
            "netavark (apt-get install netavark)",
        ),
        (
            "/usr/lib/podman/aardvark-dns",
            "aardvark-dns (apt-get install aardvark-dns)",
        ),
        ("/usr/bin/nsenter", "nsenter (util-linux)"),
        ("/bin/busybox", "busybox (apt-get install busybox-static)"),
    ]
    .iter()
    .find(|(p, _)| !Path::new(p).exists())
    .map(|(_, what)| format!("needs {what}"));
    let reason = if !nix::unistd::geteuid().is_root() {
        Some("needs root".to_string())
    } else if let Err(err) = test_backend::netavark().and_then(|_| test_backend::aardvark()) {
        Some(err)
    } else {
        missing
    };
    runs_unless(test, reason)
}

/// True when there is no `reason` not to run; else false after saying why (a panic in CI).
pub fn runs_unless(test: &str, reason: Option<String>) -> bool {
    match reason {
        None => true,
        Some(reason) => {
            testkit::skip(test, &reason);
            false
        }
    }
}

/// A fake host and a throwaway podman 4.3 peer working in its netns, for a test comparing
/// the two; `None` (after saying why) when either cannot run here.
pub fn host_and_podman(test: &str) -> Option<(Host, testkit::Podman)> {
    let podman_missing = match Command::new("podman").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("podman 4.3 is not installed (/work/shared/tools/podman-peer.sh)".into()),
    };
    if !can_run(test) || !runs_unless(test, podman_missing) {
        return None;
    }
    let host = Host::new();
    let podman = testkit::Podman::new().in_netns(host.netns_path());
    Some((host, podman))
}

/// One `podnet: error:` line and exit `code`; the line.
pub fn refused(out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("podnet: error: "), "{err}");
    err
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// The fake host: its netns and podnet's root directory.
pub struct Host {
    pub netns: String,
    pub root: tempfile::TempDir,
}

impl Host {
    pub fn new() -> Host {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let netns = format!("pntfl-{}-{n}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &netns]).output();
        sh(&["ip", "netns", "add", &netns]);
        sh(&["ip", "-n", &netns, "link", "set", "lo", "up"]);
        let root = tempfile::Builder::new().prefix("pntfl").tempdir().unwrap();
        Host { netns, root }
    }

    pub fn netns_path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.netns)
    }

    /// A command that runs in the fake host's netns (mount namespace unchanged, so the
    /// pins podnet makes stay visible).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.arg(format!("--net={}", self.netns_path().display()))
            .arg("--")
            .arg(program);
        c
    }

    /// `podnet --root ROOT args...` in the fake host, with extra environment; with the
    /// netavark under test (`--netavark`) and its aardvark-dns (found first in
    /// `CONTAINERS_HELPER_BINARY_DIR`) when the suite overrides them.
    pub fn podnet_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let backend = test_backend::overridden().then(|| {
            (
                test_backend::netavark().unwrap(),
                test_backend::aardvark().unwrap(),
            )
        });
        self.podnet_with(
            backend.as_ref().map(|(n, a)| (n.as_path(), a.as_path())),
            args,
            env,
        )
    }

    /// `podnet --root ROOT --netavark NETAVARK args...` in the fake host, with that
    /// netavark's aardvark-dns, whatever the suite's own backend is.
    pub fn podnet_using(&self, netavark: &Path, aardvark: &Path, args: &[&str]) -> Output {
        self.podnet_with(Some((netavark, aardvark)), args, &[])
    }

    fn podnet_with(
        &self,
        backend: Option<(&Path, &Path)>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let mut c = self.command(PODNET);
        c.arg("--root").arg(self.root.path());
        if let Some((netavark, aardvark)) = backend {
            c.arg("--netavark")
                .arg(netavark)
                .env(podnet::HELPER_BINARY_DIR_ENV, aardvark.parent().unwrap());
        }
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(Stdio::null()).output().unwrap()
    }

    pub fn podnet_out(&self, args: &[&str]) -> Output {
        self.podnet_env(args, &[])
    }

    /// `podnet` that must succeed; returns stdout.
    pub fn podnet(&self, args: &[&str]) -> String {
        self.podnet_env_ok(args, &[])
    }

    /// `podnet` with extra environment that must succeed; returns stdout.
    pub fn podnet_env_ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        succeeded(args, &self.podnet_env(args, env))
    }

    /// [`Host::podnet_using`] that must succeed; returns stdout.
    pub fn podnet_using_ok(&self, netavark: &Path, aardvark: &Path, args: &[&str]) -> String {
        succeeded(args, &self.podnet_using(netavark, aardvark, args))
    }

    /// `podnet` that must fail; returns stderr.
    pub fn podnet_err(&self, args: &[&str]) -> String {
        let out = self.podnet_out(args);
        assert!(
            !out.status.success(),
            "podnet {args:?} should have failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn podnet_json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.podnet(args)).unwrap()
    }

    /// The container's summary (by name or full ID), as `podnet ps --format json` prints it.
    pub fn container_json(&self, container: &str) -> serde_json::Value {
        listed(&self.podnet(&["ps", "--format", "json"]), container)
    }

    /// `podnet create ARGS...`, which prints the new container's full ID as podman does;
    /// the container's summary.
    pub fn create_json(&self, args: &[&str]) -> serde_json::Value {
        let id = created_id(&self.podnet(&[&["create"][..], args].concat()));
        self.container_json(&id)
    }

    /// `podnet start NAME`, which prints NAME as podman does; the container's summary.
    pub fn start_json(&self, container: &str) -> serde_json::Value {
        assert_eq!(self.podnet(&["start", container]), format!("{container}\n"));
        self.container_json(container)
    }

    /// Runs a program in the fake host and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut c = self.command(args[0]);
        c.args(&args[1..]).stdin(Stdio::null());
        c.output().unwrap()
    }

    /// Runs a program in the fake host that must succeed; returns stdout.
    pub fn sh(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Interfaces of the fake host, by name.
    pub fn links(&self) -> Vec<String> {
        link_names(&self.sh(&["ip", "-o", "link", "show"]))
    }

    /// The fake host's firewall rules: iptables (all tables) and nftables (netavark 2.x's
    /// `inet netavark` table), whichever driver netavark uses.
    pub fn firewall(&self) -> String {
        self.sh(&["iptables-save"]) + &self.sh(&["nft", "list", "ruleset"])
    }

    /// The firewall driver netavark uses, as `podnet info` reports it.
    pub fn firewall_driver(&self) -> String {
        let info = self.podnet_json(&["info"]);
        info["networkBackendInfo"]["firewallDriver"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Lines of the fake host's iptables, ip6tables and nftables rulesets containing
    /// `needle` (the tools run in the fake host's netns).
    pub fn firewall_leftovers(&self, needle: &str) -> Vec<String> {
        let ns = std::fs::File::open(self.netns_path()).unwrap();
        let needle = needle.to_string();
        std::thread::spawn(move || {
            // a thread of its own: a child process inherits the forking thread's netns
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            testkit::firewall_leftovers(&needle)
        })
        .join()
        .unwrap()
    }

    /// Files in podnet's netns pin directory.
    pub fn pins(&self) -> Vec<String> {
        std::fs::read_dir(self.root.path().join("netns"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Leases podnet holds, read from its database by the CLI's `ps` (addresses).
    pub fn state_db(&self) -> PathBuf {
        self.root.path().join("state.db")
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // stop whatever is still running so no pin or aardvark outlives the test
        if let Ok(out) = Command::new("nsenter")
            .arg(format!("--net={}", self.netns_path().display()))
            .arg("--")
            .arg(PODNET)
            .arg("--root")
            .arg(self.root.path())
            .args(["ps", "--format", "json"])
            .output()
        {
            if let Ok(list) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
                // twice: a pod's owner is removed only after its dependents
                for _ in 0..2 {
                    for c in list.as_array().into_iter().flatten() {
                        if let Some(name) = c["Name"].as_str() {
                            let _ = self.podnet_out(&["rm", "-f", name]);
                        }
                    }
                }
            }
        }
        kill_aardvark(self.root.path());
        let pins = self.root.path().join("netns");
        for pin in self.pins() {
            let _ = nix::mount::umount2(&pins.join(&pin), nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = nix::mount::umount2(&pins, nix::mount::MntFlags::MNT_DETACH);
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
    }
}

/// aardvark-dns started for this root (netavark keeps its pid under the config dir).
fn kill_aardvark(root: &Path) {
    let pid_file = root.join("netavark/aardvark-dns/aardvark.pid");
    if let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
    }
}

/// Starts `busybox nc -l -p PORT -e echo TEXT` in the container and waits until it listens.
pub fn listen(host: &Host, container: &str, port: u16, text: &str) -> std::process::Child {
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
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        let out = host.podnet_out(&["exec", container, "--", "busybox", "netstat", "-ltn"]);
        if String::from_utf8_lossy(&out.stdout).contains(&format!(":{port} ")) {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("listener on port {port} in {container} did not come up");
}

/// Interface names in `ip -o link show` output, in its order.
pub fn link_names(ip_o_link: &str) -> Vec<String> {
    ip_o_link
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

/// Runs `podnet args` with a failpoint that SIGKILLs it; it must die by that signal.
pub fn crash_at(host: &Host, point: &str, args: &[&str]) {
    use std::os::unix::process::ExitStatusExt;
    let out = host.podnet_env(args, &[("PODNET_FAILPOINT", point)]);
    assert_eq!(
        out.status.signal(),
        Some(9),
        "{point}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command on the real host that must succeed.
pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The stdout of `podnet args...`, which must have succeeded.
fn succeeded(args: &[&str], out: &Output) -> String {
    assert!(
        out.status.success(),
        "podnet {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The container (by name or full ID) in `podnet ps --format json`'s output.
pub fn listed(ps_json: &str, container: &str) -> serde_json::Value {
    let list: serde_json::Value = serde_json::from_str(ps_json).unwrap();
    list.as_array()
        .into_iter()
        .flatten()
        .find(|c| c["Name"] == container || c["Id"] == container)
        .cloned()
        .unwrap_or_else(|| panic!("no container {container} in {list}"))
}

/// The ID `podnet create` printed: one line, 64 hex digits, as podman prints it.
pub fn created_id(stdout: &str) -> String {
    let id = stdout.strip_suffix('\n').unwrap_or(stdout);
    assert!(
        id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "create printed {stdout:?}, not a container ID"
    );
    id.to_string()
}
