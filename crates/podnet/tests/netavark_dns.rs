//! The zombie aardvark-dns trap, reproduced for real (root, real netavark and
//! aardvark-dns): netavark 1.4 signals the pid in `aardvark.pid` and starts no
//! new server while that signal succeeds, which it does for a zombie.
//!
//! This test process makes itself a child subreaper, so the aardvark-dns that
//! netavark daemonizes becomes its child; killed with SIGKILL and not reaped,
//! it stays a zombie for as long as the test wants. The raw netavark binary
//! then sets up a second container and DNS is dead; through `Netavark` the
//! stale pid file is found and removed first, a fresh server starts and names
//! resolve again. Its own binary: the subreaper setting is process-wide.
#![allow(clippy::unwrap_used)]

mod netavark_support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use netavark_support::{bridge_network, can_run, netavark, Netns};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use podnet::{Backend, Netavark, NetworkOptions, PerNetworkOptions};

/// Kills and reaps every aardvark-dns this test adopted, on drop.
struct Reaper(Vec<i32>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(*pid), None);
        }
    }
}

fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

fn ppid(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn aardvark_pid(nv: &Netavark) -> i32 {
    let text = std::fs::read_to_string(nv.config_dir().join("aardvark-dns/aardvark.pid")).unwrap();
    text.trim().parse().unwrap()
}

/// Asks the network's aardvark-dns, from inside `from`, for `name`.
fn resolve(from: &str, name: &str) -> String {
    let out = netavark_support::output(&[
        "ip",
        "netns",
        "exec",
        from,
        "timeout",
        "2",
        "busybox",
        "nslookup",
        name,
        "10.89.252.1",
    ]);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `check` on `name`'s answer from `from` holds within `secs`:
/// aardvark-dns binds a moment after netavark returns, and the raw netavark
/// 1.4 runs of this test do not pin the bridge's address, so a container
/// joining with a lower veth address changes it and a container that cached
/// the old one loses its gateway for seconds.
fn eventually(
    from: &str,
    name: &str,
    secs: u64,
    check: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let answer = resolve(from, name);
        if check(&answer) {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(secs) {
            return Err(answer);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn container(id: &str, name: &str, network: &podnet::Network, ip: &str) -> NetworkOptions {
    let mut opts = NetworkOptions::new(format!("{id:0<64}"), name);
    let per = {
        let mut v = PerNetworkOptions::new("eth0");
        v.static_ips = vec![ip.parse().unwrap()];
        v
    };
    opts.add_network(network, per);
    opts
}

/// Runs the netavark binary itself (no stale pid check), as a control.
fn raw_netavark(
    host: &Netns,
    nv: &Netavark,
    command: &str,
    netns: &Path,
    opts: &NetworkOptions,
) -> bool {
    let mut child = host
        .ns
        .command(nv.binary())
        .unwrap()
        .arg("--config")
        .arg(nv.config_dir())
        .arg("--rootless=false")
        .arg(format!(
            "--aardvark-binary={}",
            nv.aardvark_binary().unwrap().display()
        ))
        .arg(command)
        .arg(netns)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(opts).unwrap())
        .unwrap();
    child.wait().unwrap().success()
}

#[test]
fn zombie_aardvark_is_replaced_and_dns_keeps_working() {
    if !can_run("zombie_aardvark_is_replaced_and_dns_keeps_working") {
        return;
    }
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let me = std::process::id() as i32;
    let host = Netns::new(format!("pntnd-{me}-h"));
    let a = Netns::new(format!("pntnd-{me}-a"));
    let b = Netns::new(format!("pntnd-{me}-b"));
    let config = tempfile::tempdir().unwrap();
    let nv = netavark(&config, true, &host);
    let network = bridge_network(
        "pntnd",
        &format!("pntnd{me}"),
        "10.89.252.0/24",
        "10.89.252.1",
        true,
    );
    let opts_a = container("da", "pntnd-a", &network, "10.89.252.10");
    let opts_b = container("db", "pntnd-b", &network, "10.89.252.11");
    let mut reaper = Reaper(Vec::new());

    // The config dir does not exist yet: Netavark creates it (netavark 1.4 fails otherwise).
    assert!(!nv.config_dir().exists());
    let status = nv.setup(&a.path(), &opts_a).unwrap();
    assert_eq!(
        status["pntnd"].dns_server_ips,
        ["10.89.252.1".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(status["pntnd"].dns_search_domains, ["dns.podman"]);
    let first = aardvark_pid(&nv);
    reaper.0.push(first);
    assert_eq!(
        ppid(first),
        Some(me),
        "aardvark-dns was adopted by this subreaper"
    );
    eventually(&a.name, "pntnd-a", 10, |a| a.contains("10.89.252.10")).expect("DNS works at first");

    // Kill it and keep it a zombie: it still takes signals.
    kill(Pid::from_raw(first), Signal::SIGKILL).unwrap();
    // we are its parent (subreaper): wait until it is a zombie, without reaping it
    nix::sys::wait::waitid(
        nix::sys::wait::Id::Pid(Pid::from_raw(first)),
        nix::sys::wait::WaitPidFlag::WEXITED | nix::sys::wait::WaitPidFlag::WNOWAIT,
    )
    .unwrap();
    assert_eq!(proc_state(first), Some('Z'), "aardvark-dns did not die");
    assert!(
        kill(Pid::from_raw(first), None).is_ok(),
        "a zombie accepts signals"
    );

    // Control: netavark alone believes the zombie runs and DNS is dead for B.
    let (ok, answer) = {
        let ok = raw_netavark(&host, &nv, "setup", &b.path(), &opts_b);
        let answer = eventually(&b.name, "pntnd-a", 2, |a| a.contains("10.89.252.10"));
        assert!(raw_netavark(&host, &nv, "teardown", &b.path(), &opts_b));
        (ok, answer)
    };
    assert!(ok, "raw netavark setup succeeded");
    assert!(answer.is_err(), "raw netavark left DNS dead");
    assert_eq!(
        aardvark_pid(&nv),
        first,
        "raw netavark kept the zombie's pid file"
    );

    // Through Netavark: stale pid file removed, fresh server, names resolve.
    nv.setup(&b.path(), &opts_b).unwrap();
    let second = aardvark_pid(&nv);
    reaper.0.push(second);
    assert_ne!(second, first);
    assert!(
        matches!(proc_state(second), Some(s) if s != 'Z'),
        "a live aardvark-dns"
    );
    eventually(&b.name, "pntnd-a", 10, |a| a.contains("10.89.252.10")).expect("A resolves from B");
    eventually(&a.name, "pntnd-b", 10, |a| a.contains("10.89.252.11")).expect("B resolves from A");

    nv.teardown(&b.path(), &opts_b).unwrap();
    let entries = std::fs::read_to_string(nv.config_dir().join("aardvark-dns/pntnd")).unwrap();
    assert!(
        entries.contains("10.89.252.10") && !entries.contains("10.89.252.11"),
        "{entries}"
    );
    eventually(&a.name, "pntnd-a", 20, |a| a.contains("10.89.252.10")).expect("A still resolves");
    nv.teardown(&a.path(), &opts_a).unwrap();
    let left = host.run_in(|| testkit::firewall_leftovers("10.89.252."));
    assert!(left.is_empty(), "rules left: {left:#?}");
}
