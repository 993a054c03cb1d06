//! Helpers shared by the rootless integration suites (`rootless_*.rs`): skip logic,
//! throwaway directories, the outer/inner re-run inside a user namespace holder, and
//! small network probes run from inside namespaces.
#![allow(
    dead_code,
    reason = "each rootless suite is its own binary and uses a subset of the helpers"
)]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use podnet::{in_user_namespace, RootlessNetNs, RootlessNetNsConfig, UserNamespace};

pub const DIR_ENV: &str = "PODNET_TEST_ROOTLESS_DIR";

/// Why this machine or user cannot run the suite, if it cannot.
pub fn cannot_run() -> Option<String> {
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

/// True (after saying why, through the one skip path) when `test` cannot run here.
pub fn skip_if_cannot_run(test: &str) -> bool {
    let Some(reason) = cannot_run() else {
        return false;
    };
    testkit::skip(test, &reason);
    true
}

/// True (after saying why) when `test`, which makes its own holder, was started inside a
/// user namespace already, where it cannot do that.
pub fn skip_if_inside_user_namespace(test: &str) -> bool {
    if !in_user_namespace() {
        return false;
    }
    testkit::skip(
        test,
        "started inside a user namespace: it creates the holder itself and must start outside",
    );
    true
}

/// A throwaway directory under the runtime dir, removed on drop, with every helper
/// process it recorded stopped.
pub struct TestDir(pub PathBuf);

impl TestDir {
    pub fn new(tag: &str) -> Self {
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
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next());
        !matches!(state, Some("Z") | Some("X"))
    })
}

pub fn wait_dead(pid: u32) -> bool {
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
pub fn inside(name: &str) -> Option<PathBuf> {
    if in_user_namespace() {
        return Some(PathBuf::from(std::env::var_os(DIR_ENV).unwrap()));
    }
    let dir = TestDir::new("ns");
    let holder = UserNamespace::ensure_in(&dir.0.join("holder")).unwrap();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(DIR_ENV, &dir.0);
    holder.join(&mut cmd).unwrap();
    let out = output_via_files(&mut cmd, &dir.0);
    // Whatever the inner run left behind (pasta, forwarders, aardvark-dns after a
    // failure) lives in the holder's user namespace: stop all of it with the holder.
    let leftovers = kill_user_namespace(holder.pid());
    holder.stop().unwrap();
    testkit::assert_child_ran(name, &out);
    assert_eq!(
        leftovers,
        Vec::<u32>::new(),
        "processes left in the user namespace"
    );
    None
}

/// Runs `cmd` to its end with stdout and stderr in files under `dir`, not pipes (a helper
/// the child leaves running, pasta or aardvark-dns, would hold a pipe open), and returns
/// what it printed.
pub fn output_via_files(cmd: &mut Command, dir: &Path) -> std::process::Output {
    let (out_path, err_path) = (dir.join("child-stdout"), dir.join("child-stderr"));
    let status = cmd
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .status()
        .unwrap();
    std::process::Output {
        status,
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// SIGKILLs every process (but the holder) in the user namespace of `holder_pid`;
/// returns their pids.
pub fn kill_user_namespace(holder_pid: u32) -> Vec<u32> {
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

/// Answers every connection to a host loopback listener with "pong <n>".
pub fn loopback_server() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            if let Ok(mut conn) = conn {
                // one write, one segment: Debian 12's pasta can repeat the pieces of a
                // reply written in several (see the README's pasta entry)
                let _ = conn.write_all(format!("pong {n}\n").as_bytes());
            }
        }
    });
    port
}

/// The server's first line (with its newline), or what it sent before closing.
///
/// Not read to the end: Debian 12's pasta does not always pass a server's close on to the
/// guest within seconds, and can send pieces of a reply again after it (see the README's
/// pasta entry); the servers here answer one line.
fn first_line(conn: TcpStream) -> std::io::Result<String> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reply = String::new();
    std::io::BufReader::new(conn).read_line(&mut reply)?;
    Ok(reply)
}

/// Connects from inside the netns pinned at `netns` to `port` on the netns' default
/// gateway (which pasta maps to the host's loopback) and returns what the server said.
pub fn via_gateway(netns: &Path, port: u16) -> std::io::Result<String> {
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
        let conn =
            TcpStream::connect_timeout(&SocketAddr::from((gw, port)), Duration::from_secs(5))?;
        first_line(conn)
    })
    .join()
    .unwrap()
}

pub fn config(dir: &Path) -> RootlessNetNsConfig {
    RootlessNetNsConfig::new(dir.join("state"), dir.join("pins"))
}

pub const NETAVARK: &str = "/usr/lib/podman/netavark";

/// netavark's JSON options for container `id` on a bridge network `10.89.<octet>.0/24`
/// (bridge `pntrl<octet>`) with the given static address.
pub fn netavark_options(id: &str, name: &str, octet: u8, host: u8, dns: bool) -> String {
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
pub fn run_netavark(
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
    // the PATH podman gives netavark (the user's login PATH has no sbin directory)
    cmd.env(
        "PATH",
        podnet::netavark_path(std::env::var_os("PATH").as_deref()),
    );
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
pub fn default_gateway(netns: &Path) -> Ipv4Addr {
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
pub fn connect_from(netns: &Path, addr: SocketAddr) -> std::io::Result<String> {
    let ns = std::fs::File::open(netns)?;
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
        let conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        first_line(conn)
    })
    .join()
    .unwrap()
}

/// Asks the DNS server at `server` (from inside `netns`) for the A record of `name`.
pub fn resolve_a(netns: &Path, server: Ipv4Addr, name: &str) -> Option<Ipv4Addr> {
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
pub fn listen_in(netns: &Path, tag: &'static str) {
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

pub fn forwarder_command() -> Command {
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
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn ask(addr: SocketAddr) -> std::io::Result<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply)?;
    Ok(reply)
}
