//! Rootless networking as an unprivileged user (run by `cargo xtask integration` as
//! `podnet-ci`): the user namespace holder, and the rootless netns with pasta.
//!
//! Tests that need the user namespace run twice: the outer run (the unprivileged test
//! process) creates a holder in a throwaway directory and re-runs the same test binary,
//! filtered to that one test, inside the holder's namespaces; the inner run does the work.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use podnet::{
    in_user_namespace, reexec_in_user_namespace, run_port_forwarder, PortForward, Reexec,
    RootlessNetHelper, RootlessNetNs, RootlessNetNsConfig, UserNamespace, USERNS_ENV,
};

const DIR_ENV: &str = "PODNET_TEST_ROOTLESS_DIR";

/// Why this machine or user cannot run the suite, if it cannot.
fn cannot_run() -> Option<String> {
    if in_user_namespace() {
        return None;
    }
    if nix::unistd::geteuid().is_root() {
        return Some(
            "must run as an unprivileged user (cargo xtask integration runs it as podnet-ci)"
                .into(),
        );
    }
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()?;
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if !text
            .lines()
            .any(|l| l.starts_with(&format!("{}:", user.name)))
        {
            return Some(format!("{} has no range in {file}", user.name));
        }
    }
    for tool in ["/usr/bin/newuidmap", "/usr/bin/newgidmap", "/usr/bin/pasta"] {
        if !Path::new(tool).exists() {
            return Some(format!("{tool} is not installed"));
        }
    }
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .is_err()
    {
        return Some(
            "/dev/net/tun is not usable by this user (cargo xtask setup makes it 0666)".into(),
        );
    }
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        return Some("XDG_RUNTIME_DIR is not set".into());
    }
    None
}

/// Prints why the test cannot run; fails when CI is set.
fn skip_if_cannot_run() -> bool {
    let Some(reason) = cannot_run() else {
        return false;
    };
    eprintln!("SKIPPED: {reason}");
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set: a skip is a failure: {reason}"
    );
    true
}

/// A throwaway directory under the runtime dir, removed on drop, with every helper
/// process it recorded stopped.
struct TestDir(PathBuf);

impl TestDir {
    fn new(tag: &str) -> Self {
        let rt = PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR").unwrap());
        let path = rt.join(format!(
            "pntrl-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir(&path).unwrap();
        Self(path)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        for record in ["state/helper", "holder/pause.pid"] {
            if let Some(pid) = std::fs::read_to_string(self.0.join(record))
                .ok()
                .and_then(|t| t.split_whitespace().next()?.parse::<i32>().ok())
            {
                if pid as u32 != std::process::id() && process_alive(pid as u32) {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// True while /proc/PID exists and is not a zombie.
fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next());
        !matches!(state, Some("Z") | Some("X"))
    })
}

fn wait_dead(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Outer run: creates a holder in a fresh directory and runs `name` inside it; returns
/// `None`. Inner run: returns the directory to work in.
fn inside(name: &str) -> Option<PathBuf> {
    if in_user_namespace() {
        return Some(PathBuf::from(std::env::var_os(DIR_ENV).unwrap()));
    }
    let dir = TestDir::new("ns");
    let holder = UserNamespace::ensure_in(&dir.0.join("holder")).unwrap();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(DIR_ENV, &dir.0);
    holder.join(&mut cmd).unwrap();
    let status = cmd.status().unwrap();
    // Whatever the inner run left behind (pasta, forwarders, aardvark-dns after a
    // failure) lives in the holder's user namespace: stop all of it with the holder.
    let leftovers = kill_user_namespace(holder.pid());
    holder.stop().unwrap();
    assert!(status.success(), "inner run of {name} failed: {status}");
    assert_eq!(
        leftovers,
        Vec::<u32>::new(),
        "processes left in the user namespace"
    );
    None
}

/// SIGKILLs every process (but the holder) in the user namespace of `holder_pid`;
/// returns their pids.
fn kill_user_namespace(holder_pid: u32) -> Vec<u32> {
    let Ok(userns) = std::fs::read_link(format!("/proc/{holder_pid}/ns/user")) else {
        return Vec::new();
    };
    let mut killed = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == holder_pid || !process_alive(pid) {
            continue;
        }
        if std::fs::read_link(entry.path().join("ns/user")).is_ok_and(|l| l == userns) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            killed.push(pid);
        }
    }
    killed
}

/// The user's lowest subordinate uid range, read from /etc/subuid by this test.
fn first_subuid_range() -> (u32, u32) {
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap();
    let uid = user.uid.to_string();
    let text = std::fs::read_to_string("/etc/subuid").unwrap();
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() == 3 && (f[0] == user.name || f[0] == uid))
        .map(|f| (f[1].parse().unwrap(), f[2].parse().unwrap()))
        .min()
        .unwrap()
}

#[test]
fn holder_is_created_once_and_reused() {
    if skip_if_cannot_run() || in_user_namespace() {
        return;
    }
    let dir = TestDir::new("holder");
    let holder_dir = dir.0.join("holder");
    let first = UserNamespace::ensure_in(&holder_dir).unwrap();
    let pid = first.pid();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        cmdline.starts_with(b"podnet-pause\0"),
        "{:?}",
        String::from_utf8_lossy(&cmdline)
    );
    drop(first);

    // A second invocation finds the same holder through the pid file.
    let second = UserNamespace::ensure_in(&holder_dir).unwrap();
    assert_eq!(second.pid(), pid);

    // A joined process is uid 0 in the holder's user namespace, mapped to the user and
    // the user's subordinate range.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "id -u; readlink /proc/self/ns/user /proc/self/ns/mnt; cat /proc/self/uid_map",
    ]);
    second.join(&mut cmd).unwrap();
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(
        lines[1],
        std::fs::read_link(format!("/proc/{pid}/ns/user"))
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(
        lines[2],
        std::fs::read_link(format!("/proc/{pid}/ns/mnt"))
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_ne!(
        lines[1],
        std::fs::read_link("/proc/self/ns/user")
            .unwrap()
            .to_str()
            .unwrap()
    );
    let maps: Vec<Vec<u64>> = lines[3..]
        .iter()
        .map(|l| l.split_whitespace().map(|f| f.parse().unwrap()).collect())
        .collect();
    let uid = u64::from(nix::unistd::geteuid().as_raw());
    assert_eq!(maps[0], vec![0, uid, 1]);
    let (start, count) = first_subuid_range();
    assert_eq!(maps[1], vec![1, u64::from(start), u64::from(count)]);

    // Stopped: the process is gone and the next invocation makes a new one.
    second.stop().unwrap();
    assert!(wait_dead(pid));
    assert!(!holder_dir.join("pause.pid").exists());
    let third = UserNamespace::ensure_in(&holder_dir).unwrap();
    assert_ne!(third.pid(), pid);

    // A pid file naming a live process that is not a holder (this test, with the right
    // pid but the wrong start time; then this test exactly) is not trusted.
    let third_pid = third.pid();
    third.stop().unwrap();
    assert!(wait_dead(third_pid));
    std::fs::write(
        holder_dir.join("pause.pid"),
        format!("{} 1\n", std::process::id()),
    )
    .unwrap();
    assert!(UserNamespace::find_in(&holder_dir).unwrap().is_none());
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let start_time = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap();
    std::fs::write(
        holder_dir.join("pause.pid"),
        format!("{} {start_time}\n", std::process::id()),
    )
    .unwrap();
    assert!(
        UserNamespace::find_in(&holder_dir).unwrap().is_none(),
        "own process taken for a holder"
    );
    std::fs::remove_file(holder_dir.join("pause.pid")).unwrap();
}

/// Answers every connection to a host loopback listener with "pong <n>".
fn loopback_server() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            if let Ok(mut conn) = conn {
                let _ = writeln!(conn, "pong {n}");
            }
        }
    });
    port
}

/// Connects from inside the netns pinned at `netns` to `port` on the netns' default
/// gateway (which pasta maps to the host's loopback) and returns what the server said.
fn via_gateway(netns: &Path, port: u16) -> std::io::Result<String> {
    let ns = std::fs::File::open(netns)?;
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
        let routes = std::fs::read_to_string("/proc/thread-self/net/route")?;
        let gw = routes
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.get(1) == Some(&"00000000"))
            .and_then(|f| u32::from_str_radix(f[2], 16).ok())
            .map(|raw| Ipv4Addr::from(u32::from_be(raw)))
            .ok_or_else(|| std::io::Error::other("no default route in the rootless netns"))?;
        let mut conn =
            TcpStream::connect_timeout(&SocketAddr::from((gw, port)), Duration::from_secs(5))?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reply = String::new();
        conn.read_to_string(&mut reply)?;
        Ok(reply)
    })
    .join()
    .unwrap()
}

fn config(dir: &Path) -> RootlessNetNsConfig {
    RootlessNetNsConfig::new(dir.join("state"), dir.join("pins"))
}

#[test]
fn rootless_netns_lifecycle_with_pasta() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("rootless_netns_lifecycle_with_pasta") else {
        return;
    };
    let port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let pin = ns.config().pin_path();

    let netns = ns.join("ctr-a").unwrap();
    assert_eq!(netns, pin);
    let status = ns.lock().unwrap().status().unwrap();
    let helper = status.helper_pid;
    let comm = std::fs::read_to_string(format!("/proc/{helper}/comm")).unwrap();
    assert!(comm.starts_with("pass"), "helper is {comm:?}");

    // Outbound: the netns reaches a listener on the host's loopback through pasta.
    assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));

    // Commands run in the netns with private /run and /var and the DNS forwarder.
    let probe = format!("pntrl-probe-{}", std::process::id());
    let script = format!(
        "readlink /proc/self/ns/net; cat /etc/resolv.conf; touch /run/{probe} /var/{probe}; \
         test -e {} && echo pin-reachable",
        pin.display()
    );
    let out = {
        let locked = ns.lock().unwrap();
        let mut cmd = locked.command("sh").unwrap();
        cmd.args(["-c", &script]).output().unwrap()
    };
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let ino = std::fs::metadata(&pin).unwrap().ino();
    assert_eq!(text.lines().next().unwrap(), format!("net:[{ino}]"));
    assert!(text.contains("nameserver 169.254.1.1\n"), "{text}");
    assert!(text.contains("pin-reachable"), "{text}");
    assert!(dir.join("state/run").join(&probe).exists());
    assert!(dir.join("state/var").join(&probe).exists());
    assert!(!Path::new("/run").join(&probe).exists());
    assert!(!Path::new("/var").join(&probe).exists());

    // Membership: idempotent add and remove; removed with the last member only.
    assert_eq!(ns.join("ctr-a").unwrap(), netns);
    ns.join("ctr-b").unwrap();
    let members: Vec<String> = ns.lock().unwrap().members().unwrap().into_iter().collect();
    assert_eq!(members, ["ctr-a", "ctr-b"]);
    assert!(!ns.leave("ctr-a").unwrap());
    assert!(!ns.leave("ctr-a").unwrap());
    assert_eq!(ns.lock().unwrap().status().unwrap().helper_pid, helper);
    assert!(ns.leave("ctr-b").unwrap());
    assert!(ns.lock().unwrap().status().is_none());
    assert!(!pin.exists(), "pin left behind");
    assert!(wait_dead(helper), "pasta {helper} still running");
    assert!(ns.leave("ctr-b").unwrap());
}

#[test]
fn killed_pasta_is_healed_on_next_operation() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("killed_pasta_is_healed_on_next_operation") else {
        return;
    };
    let port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let netns = ns.join("ctr-h").unwrap();
    let ino = std::fs::metadata(&netns).unwrap().ino();
    let first = ns.lock().unwrap().status().unwrap().helper_pid;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(wait_dead(first));
    assert!(
        ns.lock().unwrap().status().is_none(),
        "dead pasta not noticed"
    );
    assert!(
        via_gateway(&netns, port).is_err(),
        "reachable without pasta"
    );

    // The next operation restarts pasta in the same netns.
    assert_eq!(ns.join("ctr-h2").unwrap(), netns);
    assert_eq!(
        std::fs::metadata(&netns).unwrap().ino(),
        ino,
        "netns was recreated"
    );
    let second = ns.lock().unwrap().status().unwrap().helper_pid;
    assert_ne!(second, first);
    assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));

    assert!(!ns.leave("ctr-h").unwrap());
    assert!(ns.leave("ctr-h2").unwrap());
    assert!(wait_dead(second));
    assert!(!netns.exists());
}

#[test]
fn slirp4netns_helper_reaches_host_loopback() {
    if skip_if_cannot_run() {
        return;
    }
    if !Path::new("/usr/bin/slirp4netns").exists() {
        eprintln!("SKIPPED: slirp4netns is not installed");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set: a skip is a failure"
        );
        return;
    }
    let Some(dir) = inside("slirp4netns_helper_reaches_host_loopback") else {
        return;
    };
    let port = loopback_server();
    let mut cfg = config(&dir);
    cfg.helper = RootlessNetHelper::Slirp4netns;
    let ns = RootlessNetNs::new(cfg);
    let netns = ns.join("ctr-s").unwrap();
    let helper = ns.lock().unwrap().status().unwrap().helper_pid;
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{helper}/comm"))
            .unwrap()
            .trim(),
        "slirp4netns"
    );
    assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));
    assert!(ns.leave("ctr-s").unwrap());
    assert!(wait_dead(helper));
    assert!(!netns.exists());
}

#[test]
fn concurrent_callers_share_one_holder() {
    if skip_if_cannot_run() || in_user_namespace() {
        return;
    }
    let dir = TestDir::new("race");
    let holder_dir = dir.0.join("holder");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (barrier, holder_dir) = (barrier.clone(), holder_dir.clone());
            std::thread::spawn(move || {
                barrier.wait();
                UserNamespace::ensure_in(&holder_dir).unwrap().pid()
            })
        })
        .collect();
    let pids: std::collections::BTreeSet<u32> =
        threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(pids.len(), 1, "several holders: {pids:?}");
    let pid = *pids.first().unwrap();
    UserNamespace::find_in(&holder_dir)
        .unwrap()
        .unwrap()
        .stop()
        .unwrap();
    assert!(wait_dead(pid));
}

const REEXEC_ENV: &str = "PODNET_TEST_REEXEC";

#[test]
fn reexec_runs_the_program_again_inside_the_user_namespace() {
    if skip_if_cannot_run() {
        return;
    }
    let name = "reexec_runs_the_program_again_inside_the_user_namespace";
    if in_user_namespace() {
        // Third level: the re-executed copy, inside the namespaces, in the caller's cwd.
        assert!(std::env::var_os(USERNS_ENV).is_some());
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(cwd, PathBuf::from(std::env::var_os(DIR_ENV).unwrap()));
        std::fs::write(cwd.join("inner-ran"), "yes").unwrap();
        return;
    }
    if std::env::var_os(REEXEC_ENV).is_some() {
        // Second level: a process of its own (its arguments select only this test), as a
        // CLI's main would do it.
        match reexec_in_user_namespace().unwrap() {
            Reexec::Exited(status) => assert!(status.success(), "re-executed copy: {status}"),
            Reexec::NotNeeded => panic!("an unprivileged process needs the re-exec"),
        }
        return;
    }
    let dir = TestDir::new("reexec");
    let default_dir = UserNamespace::default_dir().unwrap();
    let had_holder = UserNamespace::find_in(&default_dir)
        .unwrap()
        .map(|h| h.pid());
    let status = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(REEXEC_ENV, "1")
        .env(DIR_ENV, &dir.0)
        .current_dir(&dir.0)
        .status()
        .unwrap();
    let holder = UserNamespace::find_in(&default_dir).unwrap();
    if had_holder.is_none() {
        if let Some(h) = holder {
            let pid = h.pid();
            h.stop().unwrap();
            assert!(wait_dead(pid));
        }
        for f in ["pause.lock", "pause.pid"] {
            let _ = std::fs::remove_file(default_dir.join(f));
        }
        let _ = std::fs::remove_dir(&default_dir);
    }
    assert!(status.success(), "{status}");
    assert_eq!(
        std::fs::read_to_string(dir.0.join("inner-ran")).unwrap(),
        "yes"
    );
}

#[test]
fn concurrent_teardown_of_the_last_two_members_leaves_nothing() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("concurrent_teardown_of_the_last_two_members_leaves_nothing") else {
        return;
    };
    let ns = RootlessNetNs::new(config(&dir));
    let netns = ns.join("ctr-x").unwrap();
    ns.join("ctr-y").unwrap();
    let helper = ns.lock().unwrap().status().unwrap().helper_pid;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let threads: Vec<_> = ["ctr-x", "ctr-y"]
        .into_iter()
        .map(|id| {
            let (ns, barrier) = (ns.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                ns.leave(id).unwrap()
            })
        })
        .collect();
    let torn_down: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(torn_down.iter().filter(|t| **t).count(), 1, "{torn_down:?}");
    assert!(wait_dead(helper), "pasta {helper} still running");
    assert!(!netns.exists());
    assert!(ns.lock().unwrap().members().unwrap().is_empty());
}

const NETAVARK: &str = "/usr/lib/podman/netavark";

/// netavark's JSON options for container `id` on a bridge network `10.89.<octet>.0/24`
/// (bridge `pntrl<octet>`) with the given static address.
fn netavark_options(id: &str, name: &str, octet: u8, host: u8, dns: bool) -> String {
    serde_json::json!({
        "container_id": id,
        "container_name": name,
        "networks": {
            "pntrl": {"interface_name": "eth0", "static_ips": [format!("10.89.{octet}.{host}")]}
        },
        "network_info": {
            "pntrl": {
                "name": "pntrl",
                "id": format!("{:064x}", u64::from(octet)),
                "driver": "bridge",
                "network_interface": format!("pntrl{octet}"),
                "subnets": [{"subnet": format!("10.89.{octet}.0/24"), "gateway": format!("10.89.{octet}.1")}],
                "ipv6_enabled": false,
                "internal": false,
                "dns_enabled": dns,
                "ipam_options": {"driver": "host-local"}
            }
        }
    })
    .to_string()
}

/// Runs `netavark --config DIR --rootless=true COMMAND NETNS` inside the rootless netns.
/// Output goes to files, not pipes: an aardvark-dns started by netavark would hold a pipe.
fn run_netavark(
    ns: &RootlessNetNs,
    dir: &Path,
    command: &str,
    netns: &Path,
    options: &str,
) -> String {
    let input = dir.join("netavark-in.json");
    let output = dir.join("netavark-out.json");
    std::fs::write(&input, options).unwrap();
    std::fs::create_dir_all(dir.join("netavark")).unwrap();
    let locked = ns.lock().unwrap();
    let mut cmd = locked.command(NETAVARK).unwrap();
    let status = cmd
        .arg("--config")
        .arg(dir.join("netavark"))
        .args([
            "--rootless=true",
            "--aardvark-binary=/usr/lib/podman/aardvark-dns",
            command,
        ])
        .arg(netns)
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::fs::File::create(&output).unwrap())
        .stderr(std::fs::File::create(dir.join("netavark-err.log")).unwrap())
        .status()
        .unwrap();
    let out = std::fs::read_to_string(&output).unwrap();
    let err = std::fs::read_to_string(dir.join("netavark-err.log")).unwrap();
    assert!(
        status.success(),
        "netavark {command}: {status}: {out} {err}"
    );
    out
}

/// The default IPv4 gateway of the netns pinned at `netns`.
fn default_gateway(netns: &Path) -> Ipv4Addr {
    let ns = std::fs::File::open(netns).unwrap();
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let routes = std::fs::read_to_string("/proc/thread-self/net/route").unwrap();
        routes
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.get(1) == Some(&"00000000"))
            .and_then(|f| u32::from_str_radix(f[2], 16).ok())
            .map(|raw| Ipv4Addr::from(u32::from_be(raw)))
            .unwrap()
    })
    .join()
    .unwrap()
}

/// Connects from inside `netns` to `addr` and returns what the server said.
fn connect_from(netns: &Path, addr: SocketAddr) -> std::io::Result<String> {
    let ns = std::fs::File::open(netns)?;
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
        let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reply = String::new();
        conn.read_to_string(&mut reply)?;
        Ok(reply)
    })
    .join()
    .unwrap()
}

#[test]
fn container_behind_netavark_in_the_rootless_netns_reaches_host_loopback() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("container_behind_netavark_in_the_rootless_netns_reaches_host_loopback")
    else {
        return;
    };
    if !Path::new(NETAVARK).exists() {
        eprintln!("SKIPPED: {NETAVARK} is not installed");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set: a skip is a failure"
        );
        return;
    }
    let port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let id = "c0ffee01";
    let rootless = ns.join(id).unwrap();
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-c1").unwrap();
    let options = netavark_options(id, "pntrl-c1", 77, 2, false);
    let out = run_netavark(&ns, &dir, "setup", container.path(), &options);
    assert!(out.contains("10.89.77.2"), "{out}");

    // container -> bridge in the rootless netns -> NAT -> pasta -> host loopback.
    let gw = default_gateway(&rootless);
    assert_eq!(
        default_gateway(container.path()),
        Ipv4Addr::new(10, 89, 77, 1)
    );
    let reply = connect_from(container.path(), SocketAddr::from((gw, port))).unwrap();
    assert!(reply.starts_with("pong"), "{reply}");

    // netavark's own files went to the private /run, not the user's namespace.
    assert!(
        !Path::new("/run/xtables.lock").exists() || dir.join("state/run/xtables.lock").exists()
    );

    run_netavark(&ns, &dir, "teardown", container.path(), &options);
    container.remove().unwrap();
    assert!(ns.leave(id).unwrap());
    assert!(!rootless.exists());
}

/// Asks the DNS server at `server` (from inside `netns`) for the A record of `name`.
fn resolve_a(netns: &Path, server: Ipv4Addr, name: &str) -> Option<Ipv4Addr> {
    let ns = std::fs::File::open(netns).unwrap();
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]);
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).ok()?;
        let sock = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
        sock.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        for _ in 0..10 {
            sock.send_to(&query, (server, 53)).ok()?;
            let mut buf = [0u8; 512];
            if let Ok(n) = sock.recv(&mut buf) {
                let answers = u16::from_be_bytes([buf[6], buf[7]]);
                // The last answer's RDATA: an A record ends the message with 4 bytes.
                return (answers > 0 && n >= 4)
                    .then(|| Ipv4Addr::new(buf[n - 4], buf[n - 3], buf[n - 2], buf[n - 1]));
            }
        }
        None
    })
    .join()
    .unwrap()
}

/// A listener inside `netns` on port 8080 answering "hello from <tag>".
fn listen_in(netns: &Path, tag: &'static str) {
    let ns = std::fs::File::open(netns).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 8080)).unwrap();
        tx.send(()).unwrap();
        for mut conn in listener.incoming().flatten() {
            let _ = writeln!(conn, "hello from {tag}");
        }
    });
    rx.recv().unwrap();
}

#[test]
fn two_rootless_containers_reach_each_other_by_name() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("two_rootless_containers_reach_each_other_by_name") else {
        return;
    };
    let ns = RootlessNetNs::new(config(&dir));
    let pins = dir.join("ctr-pins");
    let mut containers = Vec::new();
    for (id, name, host) in [("d00d0001", "pntrl-a", 2u8), ("d00d0002", "pntrl-b", 3)] {
        ns.join(id).unwrap();
        let netns = netns::NetNs::create_in(&pins, name).unwrap();
        let options = netavark_options(id, name, 78, host, true);
        run_netavark(&ns, &dir, "setup", netns.path(), &options);
        containers.push((id, netns, options));
    }
    listen_in(containers[1].1.path(), "b");
    let gw = Ipv4Addr::new(10, 89, 78, 1);
    let b = resolve_a(containers[0].1.path(), gw, "pntrl-b");
    assert_eq!(b, Some(Ipv4Addr::new(10, 89, 78, 3)));
    let reply = connect_from(containers[0].1.path(), SocketAddr::from((b.unwrap(), 8080))).unwrap();
    assert_eq!(reply, "hello from b\n");

    for (id, netns, options) in containers {
        run_netavark(&ns, &dir, "teardown", netns.path(), &options);
        netns.remove().unwrap();
        ns.leave(id).unwrap();
    }
    assert!(ns.lock().unwrap().status().is_none());
}

/// The port forwarder entry point, when this binary is started as one (as the CLI's
/// hidden subcommand would be); otherwise checks that a forwarder without its spec
/// refuses to start.
#[test]
fn port_forwarder_main() {
    if std::env::var_os(podnet::PORT_FORWARDER_ENV).is_some() {
        let err = run_port_forwarder().unwrap_err();
        panic!("port forwarder failed: {err}");
    }
    let err = run_port_forwarder().unwrap_err().to_string();
    assert!(err.contains("_PODNET_PORT_FORWARDER"), "{err}");
}

fn forwarder_command() -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "port_forwarder_main",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd
}

/// A free port on the host's loopback.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ask(addr: SocketAddr) -> std::io::Result<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply)?;
    Ok(reply)
}

#[test]
fn published_ports_reach_containers_and_change_independently() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("published_ports_reach_containers_and_change_independently") else {
        return;
    };
    if !Path::new(NETAVARK).exists() {
        eprintln!("SKIPPED: {NETAVARK} is not installed");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set: a skip is a failure"
        );
        return;
    }
    let ns = RootlessNetNs::new(config(&dir));
    let pins = dir.join("ctr-pins");
    let mut containers = Vec::new();
    for (id, name, host, tag) in [
        ("beef0001", "pntrl-p1", 2u8, "p1"),
        ("beef0002", "pntrl-p2", 3, "p2"),
    ] {
        ns.join(id).unwrap();
        let netns = netns::NetNs::create_in(&pins, name).unwrap();
        let options = netavark_options(id, name, 79, host, false);
        run_netavark(&ns, &dir, "setup", netns.path(), &options);
        listen_in(netns.path(), tag);
        containers.push((id, netns, options, host));
    }
    let port_of = |host: u8, host_port: u16| PortForward {
        host_ip: Ipv4Addr::LOCALHOST.into(),
        host_port,
        container_ip: Ipv4Addr::new(10, 89, 79, host).into(),
        container_port: 8080,
    };
    let (p1, p2) = (free_port(), free_port());
    let f1 = ns
        .lock()
        .unwrap()
        .forward_ports("beef0001", forwarder_command(), &[port_of(2, p1)])
        .unwrap()
        .unwrap();
    let f2 = ns
        .lock()
        .unwrap()
        .forward_ports("beef0002", forwarder_command(), &[port_of(3, p2)])
        .unwrap()
        .unwrap();
    let on = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    assert_eq!(ask(on(p1)).unwrap(), "hello from p1\n");
    assert_eq!(ask(on(p2)).unwrap(), "hello from p2\n");

    // Unpublishing p1 leaves p2's forwarder (same process) working.
    assert!(ns.lock().unwrap().unforward_ports("beef0001").unwrap());
    assert!(wait_dead(f1));
    assert!(ask(on(p1)).is_err(), "port {p1} still published");
    assert_eq!(ns.lock().unwrap().forwarder_pid("beef0002"), Some(f2));
    assert_eq!(ask(on(p2)).unwrap(), "hello from p2\n");

    // Teardown of the last member stops the remaining forwarder with everything else.
    for (id, netns, options, _) in containers {
        run_netavark(&ns, &dir, "teardown", netns.path(), &options);
        netns.remove().unwrap();
        ns.leave(id).unwrap();
    }
    assert!(wait_dead(f2));
    assert!(ask(on(p2)).is_err());
    assert!(!dir.join("state/ports").exists());
}

#[test]
fn reload_after_the_rootless_firewall_is_flushed_restores_everything() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("reload_after_the_rootless_firewall_is_flushed_restores_everything")
    else {
        return;
    };
    if !Path::new(NETAVARK).exists() {
        eprintln!("SKIPPED: {NETAVARK} is not installed");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set: a skip is a failure"
        );
        return;
    }
    let host_port = loopback_server();
    let ns = RootlessNetNs::new(config(&dir));
    let id = "f1a50001";
    let rootless = ns.join(id).unwrap();
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-r1").unwrap();
    let options = netavark_options(id, "pntrl-r1", 81, 2, false);
    run_netavark(&ns, &dir, "setup", container.path(), &options);
    listen_in(container.path(), "r1");
    let published = free_port();
    let forward = [PortForward {
        host_ip: Ipv4Addr::LOCALHOST.into(),
        host_port: published,
        container_ip: Ipv4Addr::new(10, 89, 81, 2).into(),
        container_port: 8080,
    }];
    let forwarder = ns
        .lock()
        .unwrap()
        .forward_ports(id, forwarder_command(), &forward)
        .unwrap()
        .unwrap();
    let on = SocketAddr::from((Ipv4Addr::LOCALHOST, published));
    let gw = SocketAddr::from((default_gateway(&rootless), host_port));

    // Flush every firewall rule of the rootless netns (what `nft flush ruleset` or a
    // firewalld reload inside it would do).
    let run_in_rootless = |args: &[&str]| {
        let locked = ns.lock().unwrap();
        let out = locked.command("nft").unwrap().args(args).output().unwrap();
        assert!(out.status.success(), "nft {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run_in_rootless(&["list", "ruleset"]).contains("NETAVARK"));
    run_in_rootless(&["flush", "ruleset"]);
    assert!(!run_in_rootless(&["list", "ruleset"]).contains("NETAVARK"));

    // Reload, as podman does it: teardown (errors ignored), setup with the same static
    // address (podman 4.3 fails here with "requested ip address ... is already
    // allocated"), then the ports again.
    let _ = {
        let locked = ns.lock().unwrap();
        let mut cmd = locked.command(NETAVARK).unwrap();
        std::fs::write(dir.join("netavark-in.json"), &options).unwrap();
        cmd.arg("--config")
            .arg(dir.join("netavark"))
            .args(["--rootless=true", "teardown"])
            .arg(container.path())
            .stdin(std::fs::File::open(dir.join("netavark-in.json")).unwrap())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
    };
    let out = run_netavark(&ns, &dir, "setup", container.path(), &options);
    assert!(out.contains("10.89.81.2"), "{out}");
    assert!(run_in_rootless(&["list", "ruleset"]).contains("NETAVARK"));
    let again = ns
        .lock()
        .unwrap()
        .forward_ports(id, forwarder_command(), &forward)
        .unwrap()
        .unwrap();
    assert!(wait_dead(forwarder));
    assert_ne!(again, forwarder);
    assert_eq!(ask(on).unwrap(), "hello from r1\n");
    assert!(connect_from(container.path(), gw)
        .unwrap()
        .starts_with("pong"));

    run_netavark(&ns, &dir, "teardown", container.path(), &options);
    container.remove().unwrap();
    assert!(ns.leave(id).unwrap());
    assert!(wait_dead(again));
}

#[test]
fn netavark_backend_runs_inside_the_rootless_netns_through_run() {
    if skip_if_cannot_run() {
        return;
    }
    let Some(dir) = inside("netavark_backend_runs_inside_the_rootless_netns_through_run") else {
        return;
    };
    if !Path::new(NETAVARK).exists() {
        eprintln!("SKIPPED: {NETAVARK} is not installed");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set: a skip is a failure"
        );
        return;
    }
    use podnet::Backend;
    let port = loopback_server();
    let backend = podnet::Netavark::with_binaries(
        NETAVARK,
        Some(PathBuf::from("/usr/lib/podman/aardvark-dns")),
        dir.join("netavark-config"),
    )
    .rootless(true);
    let ns = RootlessNetNs::new(config(&dir));
    let id = "0b0e0001";
    let container = netns::NetNs::create_in(dir.join("ctr-pins"), "pntrl-k1").unwrap();
    let options: podnet::NetworkOptions =
        serde_json::from_str(&netavark_options(id, "pntrl-k1", 82, 2, true)).unwrap();

    // What a rootless setup flow does: lock, ensure, backend inside, then membership.
    let rootless = {
        let mut locked = ns.lock().unwrap();
        let rootless = locked.ensure().unwrap();
        let status = locked
            .run(|| backend.setup(container.path(), &options))
            .unwrap()
            .unwrap();
        assert!(format!("{status:?}").contains("10.89.82.2"), "{status:?}");
        locked.add_member(id).unwrap();
        rootless
    };
    // The bridge is in the rootless netns, not in the user's (host) network namespace.
    assert!(!Path::new("/sys/class/net/pntrl82").exists());
    let gw = SocketAddr::from((default_gateway(&rootless), port));
    assert!(connect_from(container.path(), gw)
        .unwrap()
        .starts_with("pong"));
    // A panic inside `run` reaches the caller.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ns.lock().unwrap().run(|| panic!("inside")).unwrap();
    }));
    assert!(caught.is_err());

    {
        let mut locked = ns.lock().unwrap();
        locked
            .run(|| backend.teardown(container.path(), &options))
            .unwrap()
            .unwrap();
        locked.remove_member(id).unwrap();
        locked.teardown().unwrap();
    }
    container.remove().unwrap();
    assert!(!rootless.exists());
}

const PHASE_ENV: &str = "PODNET_TEST_PHASE";

#[test]
fn rootless_netns_is_recreated_after_the_holder_died() {
    if skip_if_cannot_run() {
        return;
    }
    let name = "rootless_netns_is_recreated_after_the_holder_died";
    if in_user_namespace() {
        let dir = PathBuf::from(std::env::var_os(DIR_ENV).unwrap());
        let ns = RootlessNetNs::new(config(&dir));
        let phase = std::env::var(PHASE_ENV).unwrap();
        if phase == "1" {
            ns.join("ctr-old").unwrap();
            let old = ns.lock().unwrap().status().unwrap().helper_pid;
            std::fs::write(dir.join("old-helper"), old.to_string()).unwrap();
            return;
        }
        // Phase 2, in a new holder: the pin is a plain file now (its mount died with the
        // old mount namespace) and the recorded pasta is gone.
        let pin = ns.config().pin_path();
        assert!(pin.exists() && !netns::is_netns(&pin));
        assert!(ns.lock().unwrap().status().is_none());
        let port = loopback_server();
        let netns = ns.join("ctr-new").unwrap();
        assert!(netns::is_netns(&netns));
        let helper = ns.lock().unwrap().status().unwrap().helper_pid;
        let old: u32 = std::fs::read_to_string(dir.join("old-helper"))
            .unwrap()
            .parse()
            .unwrap();
        assert_ne!(helper, old);
        assert!(via_gateway(&netns, port).unwrap().starts_with("pong"));
        // The old member is still recorded: the facade's teardown of it must be able to
        // leave, and only the last leave removes the netns.
        assert!(!ns.leave("ctr-old").unwrap());
        assert!(ns.leave("ctr-new").unwrap());
        assert!(wait_dead(helper));
        assert!(!netns.exists());
        return;
    }
    let dir = TestDir::new("crash");
    for phase in ["1", "2"] {
        let holder = UserNamespace::ensure_in(&dir.0.join("holder")).unwrap();
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(DIR_ENV, &dir.0)
            .env(PHASE_ENV, phase);
        holder.join(&mut cmd).unwrap();
        let status = cmd.status().unwrap();
        // Phase 1 leaves pasta running on purpose: the "crash" kills it with the holder.
        let leftovers = kill_user_namespace(holder.pid());
        holder.stop().unwrap();
        assert!(status.success(), "phase {phase}: {status}");
        if phase == "2" {
            assert_eq!(leftovers, Vec::<u32>::new());
        }
    }
}
