//! A backend that fails, hangs or is killed part-way leaves nothing behind: the real
//! `podnet` binary and the real netavark and aardvark-dns in a throwaway network namespace
//! standing for the host (a fake netavark script only where netavark must hang). Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flows_support::{can_run, Host, PODNET};
use fs2::FileExt;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

fn leases(host: &Host) -> Vec<String> {
    podnet::StateStore::open(host.state_db())
        .unwrap()
        .list_leases()
        .unwrap()
        .into_iter()
        .map(|l| format!("{} {}", l.container_id, l.ip))
        .collect()
}

fn intents(host: &Host) -> usize {
    let store = podnet::StateStore::open(host.state_db()).unwrap();
    podnet::testing::intents(&store).unwrap().len()
}

/// The container's netns pin (empty when it has none), from `podnet inspect`.
fn sandbox(host: &Host, container: &str) -> String {
    let inspect = host.podnet_json(&["inspect", container]);
    inspect[0]["NetworkSettings"]["SandboxKey"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The links of a container's netns, by name.
fn container_links(host: &Host, container: &str) -> Vec<String> {
    let sandbox = sandbox(host, container);
    let out = Command::new("nsenter")
        .arg(format!("--net={sandbox}"))
        .args(["--", "ip", "-o", "link", "show"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

/// Every aardvark-dns entry file of this root, as text.
fn aardvark_entries(host: &Host) -> String {
    let dir = host.root.path().join("netavark/aardvark-dns");
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name() != "aardvark.pid" {
            text += &std::fs::read_to_string(entry.path()).unwrap_or_default();
        }
    }
    text
}

/// Nothing naming `subnet_prefix` in the fake host's iptables or nftables rules.
fn assert_no_rules(host: &Host, subnet_prefix: &str) {
    let ipt = host.firewall();
    assert!(!ipt.contains(subnet_prefix), "iptables rules left:\n{ipt}");
    let nft = host.sh(&["nft", "list", "ruleset"]);
    assert!(!nft.contains(subnet_prefix), "nftables rules left:\n{nft}");
}

/// The bridge a network uses, from `podnet network inspect`.
fn bridge_of(host: &Host, network: &str) -> String {
    let net = host.podnet_json(&["network", "inspect", network]);
    let net = if net.is_array() { net[0].clone() } else { net };
    net["network_interface"].as_str().unwrap().to_string()
}

fn pidfd(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open(2) with a pid and no flags; the result is checked.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    // SAFETY: a fresh fd returned by the kernel, owned by no one else.
    (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw as i32) })
}

/// True once `pid` has exited (a zombie counts as dead: init reaps slowly here); waits at
/// most `patience` for it.
fn exits(pid: i32, patience: Duration) -> bool {
    let Some(fd) = pidfd(pid) else {
        return true;
    };
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let ms = u16::try_from(patience.as_millis()).unwrap_or(u16::MAX);
    poll(&mut fds, PollTimeout::from(ms)).unwrap() == 1
}

/// The state letter of a process, `None` when it is gone.
fn state_of(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

fn aardvark_pid(host: &Host) -> i32 {
    let pid_file = host.root.path().join("netavark/aardvark-dns/aardvark.pid");
    std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_connect_that_fails_in_netavark_leaves_no_interface_bridge_rule_or_lease() {
    if !can_run("a_connect_that_fails_in_netavark_leaves_nothing") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.221.0/24", "pnbgood"]);
    host.podnet(&[
        "network",
        "create",
        "--subnet",
        "10.89.223.0/24",
        "pnbother",
    ]);
    // a /31: netavark makes the bridge and the veth, then fails on the default route.
    // (written as a file when podnet's own create refuses /31)
    let created = host.podnet_out(&["network", "create", "--subnet", "10.89.222.0/31", "pnb31"]);
    if !created.status.success() {
        write_network_31(&host, "pnb31", "10.89.222.0/31", "10.89.222.1", "pnbbr31");
    }
    let bridge31 = bridge_of(&host, "pnb31");
    host.podnet(&[
        "create",
        "c",
        "--network",
        "pnbgood",
        "-p",
        "127.0.0.1:18291:80",
    ]);
    host.podnet(&["start", "c"]);
    assert_eq!(leases(&host).len(), 1);

    let err = host.podnet_err(&["connect", "pnb31", "c"]);
    assert!(err.contains("add default route"), "{err}");
    // one error line; the other lines are the warning that the hand-written /31 file is
    // loaded although podnet's own create would refuse it
    let errors: Vec<&str> = err.lines().filter(|l| !l.contains("WARN")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].starts_with("podnet: error: "), "{err}");
    let links = container_links(&host, "c");
    assert!(!links.iter().any(|l| l == "eth1"), "eth1 left: {links:?}");
    assert!(!host.links().contains(&bridge31), "bridge {bridge31} left");
    assert_eq!(leases(&host).len(), 1, "{:?}", leases(&host));
    assert_eq!(intents(&host), 0);
    assert_no_rules(&host, "10.89.222.");

    // the interface name is free again: a later connect works
    host.podnet(&["connect", "pnbother", "c"]);
    assert!(container_links(&host, "c").contains(&"eth1".to_string()));
    assert_eq!(leases(&host).len(), 2);

    host.podnet(&["rm", "-f", "c"]);
    host.podnet(&["reconcile"]);
    assert_eq!(host.links(), ["lo"], "interfaces left");
    assert_no_rules(&host, "10.89.22");
    assert!(
        aardvark_entries(&host).is_empty(),
        "{}",
        aardvark_entries(&host)
    );
    assert!(leases(&host).is_empty());
    assert!(host.pins().is_empty(), "{:?}", host.pins());
}

/// Writes a podman network file as `podman network create` would for `subnet` (used when
/// podnet's own create refuses it: the point is the backend failing part-way).
fn write_network_31(host: &Host, name: &str, subnet: &str, gateway: &str, bridge: &str) {
    let json = serde_json::json!({
        "name": name,
        "id": format!("{:0>64}", name.bytes().map(|b| format!("{b:02x}")).collect::<String>()),
        "driver": "bridge",
        "network_interface": bridge,
        "created": "2026-01-01T00:00:00Z",
        "subnets": [{"subnet": subnet, "gateway": gateway}],
        "ipv6_enabled": false,
        "internal": false,
        "dns_enabled": true,
        "ipam_options": {"driver": "host-local"}
    });
    let dir = host.root.path().join("networks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.json")), json.to_string()).unwrap();
}

#[test]
fn a_failed_start_leaves_nothing_and_never_removes_a_link_it_did_not_make() {
    if !can_run("a_failed_start_leaves_nothing") {
        return;
    }
    let host = Host::new();
    let created = host.podnet_out(&["network", "create", "--subnet", "10.89.224.0/31", "pnb31s"]);
    if !created.status.success() {
        write_network_31(&host, "pnb31s", "10.89.224.0/31", "10.89.224.1", "pnbbr31s");
    }
    host.podnet(&[
        "create",
        "s",
        "--network",
        "pnb31s",
        "-p",
        "127.0.0.1:18292:80",
    ]);
    let err = host.podnet_err(&["start", "s"]);
    assert!(err.contains("add default route"), "{err}");
    assert_eq!(host.links(), ["lo"], "interfaces left");
    assert_no_rules(&host, "10.89.224.");
    assert!(leases(&host).is_empty() && intents(&host) == 0);
    assert!(host.pins().is_empty(), "{:?}", host.pins());
    assert!(aardvark_entries(&host).is_empty());

    // a network whose bridge name is taken by a link that is not a bridge: netavark fails
    // on the bridge, and the undo must leave that link alone (podnet did not make it)
    host.podnet(&[
        "network",
        "create",
        "--subnet",
        "10.89.225.0/24",
        "pnbtaken",
    ]);
    let taken = bridge_of(&host, "pnbtaken");
    host.sh(&[
        "ip", "link", "add", &taken, "type", "veth", "peer", "name", "pnbpeer0",
    ]);
    let before = host.links();
    assert_eq!(before.len(), 3, "{before:?}");
    host.podnet(&["create", "t", "--network", "pnbtaken"]);
    host.podnet_err(&["start", "t"]);
    assert_eq!(host.links(), before);
    assert!(leases(&host).is_empty() && intents(&host) == 0);
    assert!(host.pins().is_empty(), "{:?}", host.pins());
    host.podnet(&["reconcile"]);
    assert_eq!(host.links(), before);
}

#[test]
fn a_hanging_netavark_is_killed_with_its_group_at_the_limit_and_the_lock_is_free() {
    if !can_run("a_hanging_netavark_is_killed") {
        return;
    }
    let host = Host::new();
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let fake = dir.path().join("netavark");
    // a netavark that hangs, with a child in its process group (as iptables would be)
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nsleep 600 &\necho $! >> {0}\necho $$ >> {0}\nwait\n",
            pids.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = podnet::RuntimeConfig::under(host.root.path());
    let lock_file = config.lock_file.clone();
    let hostns = Arc::new(netns::NetNs::open(host.netns_path()).unwrap());
    let backend = podnet::Netavark::with_binaries(&fake, None, host.root.path().join("netavark"))
        .host_netns(hostns)
        .timeout(Duration::from_secs(1));
    let rt = podnet::Runtime::new(config, backend).unwrap();
    rt.networks()
        .create({
            let mut v = podnet::Network::default();
            v.name = "pnbhang".into();
            v.subnets = vec![podnet::Subnet {
                subnet: "10.89.226.0/24".parse().unwrap(),
                gateway: None,
                lease_range: None,
            }];
            v
        })
        .unwrap();
    rt.create(&{
        let mut v = podnet::ContainerSpec::new("h");
        v.networks = vec![podnet::NetworkRequest::new("pnbhang")];
        v
    })
    .unwrap();

    let err = rt.setup("h").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} setup did not finish within 1s: its process group was killed",
            fake.display()
        )
    );
    // setup and the undo's teardown each ran (and hung) once; every process of both
    // groups is dead
    let text = std::fs::read_to_string(&pids).unwrap();
    let all: Vec<i32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(all.len(), 4, "{text}");
    for pid in all {
        assert!(
            exits(pid, Duration::from_secs(10)),
            "process {pid} still runs"
        );
    }
    // the flow lock is free, and nothing of the failed start is left
    let lock = std::fs::File::options()
        .write(true)
        .open(&lock_file)
        .unwrap();
    lock.try_lock_exclusive()
        .expect("the runtime lock is still held after the time limit");
    drop(lock);
    assert!(leases(&host).is_empty() && intents(&host) == 0);
    assert!(host.pins().is_empty(), "{:?}", host.pins());
    assert!(!rt.container("h").unwrap().running);
}

/// The pid of a `netavark` process whose parent is `parent`, once there is one.
fn netavark_child_of(parent: i32) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let comm_ok = stat.contains("(netavark)");
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            if comm_ok && ppid == Some(parent) {
                return pid;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no netavark child of {parent} appeared");
}

#[test]
fn kill_9_of_podnet_kills_netavark_but_not_aardvark_dns() {
    if !can_run("kill_9_of_podnet_kills_netavark") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.227.0/24", "pnbkill"]);
    host.podnet(&["create", "a", "--network", "pnbkill"]);
    host.podnet(&["start", "a"]);
    let aardvark = aardvark_pid(&host);
    host.podnet(&["create", "b", "--network", "pnbkill"]);

    // netavark waits for this lock before it writes b's DNS entries: it hangs there
    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .open(host.root.path().join("netavark/aardvark.lock"))
        .unwrap();
    lock.lock_exclusive().unwrap();
    let mut podnet = host
        .command(PODNET)
        .arg("--root")
        .arg(host.root.path())
        .args(["start", "b"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let podnet_pid = podnet.id() as i32;
    let netavark = netavark_child_of(podnet_pid);
    podnet.kill().unwrap(); // SIGKILL
    podnet.wait().unwrap();
    assert!(
        exits(netavark, Duration::from_secs(10)),
        "netavark {netavark} outlived podnet"
    );
    drop(lock);
    assert!(
        matches!(state_of(aardvark), Some(s) if s != 'Z' && s != 'X'),
        "aardvark-dns {aardvark} died with podnet"
    );

    // reconcile undoes b's half-made setup; a keeps working
    let report = host.podnet_json(&["reconcile"]);
    assert_eq!(
        report["intents_undone"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert!(sandbox(&host, "b").is_empty());
    let entries = aardvark_entries(&host);
    assert_eq!(entries.lines().count(), 2, "only a's entry: {entries}");
    assert_eq!(leases(&host).len(), 1);
    assert_eq!(aardvark_pid(&host), aardvark);
}

#[test]
fn reconcile_removes_dns_entries_and_port_rules_of_containers_it_marks_stopped() {
    if !can_run("reconcile_removes_dns_entries") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.228.0/24", "pnbdns"]);
    let a = host.create_json(&["a", "--network", "pnbdns", "-p", "127.0.0.1:18293:80"]);
    let id = a["Id"].as_str().unwrap().to_string();
    host.podnet(&["create", "b", "--network", "pnbdns"]);
    host.podnet(&["start", "a"]);
    host.podnet(&["start", "b"]);
    assert!(aardvark_entries(&host).contains(&id));
    assert!(host.firewall().contains("18293"));

    // a's namespace vanishes behind podnet's back (its pin unmounted and removed)
    let sandbox = PathBuf::from(sandbox(&host, "a"));
    nix::mount::umount2(&sandbox, nix::mount::MntFlags::MNT_DETACH).unwrap();
    std::fs::remove_file(&sandbox).unwrap();

    let report = host.podnet_json(&["reconcile"]);
    assert_eq!(
        report["containers_stopped"],
        serde_json::json!([id]),
        "{report}"
    );
    let entries = aardvark_entries(&host);
    assert!(!entries.contains(&id), "a's DNS entry left: {entries}");
    assert!(!entries.is_empty(), "b's DNS entry went too");
    assert!(!host.firewall().contains("18293"), "a's port rule left");
    assert_eq!(leases(&host).len(), 1);
    assert!(!Path::new(&sandbox).exists());
}

/// A child killed and reaped when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `Cap*:` and `NoNewPrivs:` lines of every thread of `pid`.
fn privileges_of(pid: u32) -> Vec<String> {
    let mut lines = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        lines.extend(
            status
                .lines()
                .filter(|l| l.starts_with("Cap") || l.starts_with("NoNewPrivs:"))
                .map(|l| format!("{}: {l}", task.file_name().to_string_lossy())),
        );
    }
    lines
}

#[test]
fn the_port_forwarder_runs_without_any_capability_and_still_forwards() {
    if !can_run("the_port_forwarder_runs_without_any_capability") {
        return;
    }
    let host = Host::new();
    // the "container": a listener on the fake host's loopback
    let _listener = KillOnDrop(
        host.command("busybox")
            .args(["nc", "-l", "-p", "8080", "-e", "echo", "fwd-ok"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !host.sh(&["busybox", "netstat", "-ltn"]).contains(":8080 ") {
        assert!(Instant::now() < deadline, "the listener did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = serde_json::json!({
        "netns": host.netns_path(),
        "ports": [{"host_ip": "127.0.0.1", "host_port": port, "container_ip": "127.0.0.1",
                   "container_port": 8080, "protocol": "tcp"}]
    });
    // the forwarder reports readiness on fd 3 once its ports are bound and its
    // capabilities dropped (a connect alone could win the race against the drop)
    let (ready_r, ready_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    let ready_raw = std::os::fd::AsRawFd::as_raw_fd(&ready_w);
    let mut command = Command::new(PODNET);
    command
        .env(podnet::testing::PORT_FORWARDER_ENV, spec.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // SAFETY: dup2 is one raw syscall, safe between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            if libc::dup2(ready_raw, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let forwarder = KillOnDrop(command.spawn().unwrap());
    drop(ready_w);
    let mut byte = [0u8; 1];
    let n = std::io::Read::read(&mut std::fs::File::from(ready_r), &mut byte).unwrap();
    assert_eq!(n, 1, "the forwarder exited before it was ready");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let privileges = privileges_of(forwarder.0.id());
    let mut text = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    std::io::Read::read_to_string(&mut stream, &mut text).unwrap();

    assert_eq!(text.trim(), "fwd-ok", "forwarding broke");
    assert!(privileges.len() >= 12, "{privileges:?}");
    for line in &privileges {
        let value = line.rsplit(':').next().unwrap().trim();
        let want = if line.contains("NoNewPrivs") {
            "1"
        } else {
            "0000000000000000"
        };
        assert_eq!(value, want, "{line}");
    }
}

#[test]
fn reconcile_restarts_a_dead_aardvark_dns_that_still_has_entries() {
    if !can_run("reconcile_restarts_a_dead_aardvark_dns") {
        return;
    }
    let host = Host::new();
    host.podnet(&["network", "create", "--subnet", "10.89.229.0/24", "pnbdead"]);
    host.podnet(&["create", "a", "--network", "pnbdead"]);
    host.podnet(&["create", "b", "--network", "pnbdead"]);
    host.podnet(&["start", "a"]);
    host.podnet(&["start", "b"]);
    let old = aardvark_pid(&host);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(old), nix::sys::signal::SIGKILL).unwrap();
    assert!(exits(old, Duration::from_secs(10)));

    let report = host.podnet_json(&["reconcile"]);
    assert_eq!(
        report["dns_repaired"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    let new = aardvark_pid(&host);
    assert_ne!(new, old);
    let comm = std::fs::read_to_string(format!("/proc/{new}/comm")).unwrap();
    assert_eq!(comm.trim(), "aardvark-dns");
    assert!(matches!(state_of(new), Some(s) if s != 'Z'));
    // the new server answers for a (aardvark-dns 1.4 may stall right after a start)
    let mut last = String::new();
    let resolved = (0..3).any(|_| {
        let out = host.podnet_out(&["exec", "b", "--", "busybox", "nslookup", "a"]);
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        out.status.success() && last.contains("10.89.229.")
    });
    assert!(resolved, "b cannot resolve a: {last}");
    // a second run finds nothing to repair
    let again = host.podnet_json(&["reconcile"]);
    assert_eq!(again["dns_repaired"], serde_json::json!([]), "{again}");
}
