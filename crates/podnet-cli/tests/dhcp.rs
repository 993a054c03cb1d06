//! macvlan networks with `--ipam-driver dhcp` end to end, rootful, through the `podnet`
//! binary and netavark 2.x's DHCP proxy, against a real DHCP server.
//!
//! The parent is one end of a veth pair in a throwaway host namespace; the other end sits
//! in a second throwaway namespace where busybox `udhcpd` serves a small pool of a free
//! test subnet. `netavark dhcp-proxy` is started by the test, as systemd's
//! `netavark-dhcp-proxy.socket` starts it for podman (podnet, like podman, does not start
//! it). netavark 2.1's setup and teardown reach the proxy only at the fixed
//! `/run/podman/nv-proxy.sock` (its `dhcp-proxy --uds` is parsed but unused; `--dir`
//! moves the proxy's socket, not the one setup dials). So the proxy listens in a
//! test-private directory (its lease cache with it), and the fixed path becomes a symlink
//! to that socket for the test's duration: the test refuses to run when anything is at
//! that path already (a podman user's proxy), and removes exactly the symlink (and
//! `/run/podman` when it made it).
//!
//! A running container is reloaded (its lease renewed under the same MAC) and another is
//! connected and disconnected (a lease of its own, released by the disconnect).
//!
//! Debian's netavark 1.4 has no DHCP proxy: the network is refused in one line naming
//! 1.6, nothing written. netavark 2.x (see `test_backend::current`) runs it; without it
//! the test skips loudly. Needs root.
#![allow(clippy::unwrap_used)]

mod flows_support;
mod paths_support;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use flows_support::{refused, test_backend, Host};
use ipnet::{IpNet, Ipv4Net};
use paths_support::{assert_clean, can_run, kernel_addresses, ping_once};

const PARENT: &str = "pntdh0";
/// The veth end in the DHCP server's namespace.
const SERVER_END: &str = "pntdh1";
const NETWORK: &str = "pntdh";
/// Where netavark 2.1's setup and teardown dial the DHCP proxy (`DEFAULT_UDS_PATH`).
const PROXY_SOCKET: &str = "/run/podman/nv-proxy.sock";
/// Hosts `POOL_START..POOL_START + POOL_SIZE` of the test subnet are the server's pool.
const POOL_START: u8 = 100;
const POOL_SIZE: u8 = 10;

/// netavark 2.x and its aardvark-dns, which a test's podnet commands run.
struct Current {
    netavark: PathBuf,
    aardvark: PathBuf,
}

impl Current {
    fn out(&self, host: &Host, args: &[&str]) -> std::process::Output {
        host.podnet_using(&self.netavark, &self.aardvark, args)
    }

    fn ok(&self, host: &Host, args: &[&str]) -> String {
        host.podnet_using_ok(&self.netavark, &self.aardvark, args)
    }
}

/// netavark 2.x; `None` after a loud skip when the test cannot run here.
fn current(test: &str) -> Option<Current> {
    if !can_run(test) {
        return None;
    }
    match test_backend::current() {
        Ok((netavark, aardvark)) => Some(Current { netavark, aardvark }),
        Err(why) => {
            testkit::skip(test, &why);
            None
        }
    }
}

fn create_args(parent: &str) -> Vec<String> {
    [
        "network",
        "create",
        "-d",
        "macvlan",
        "-o",
        &format!("parent={parent}"),
        "--ipam-driver",
        "dhcp",
        NETWORK,
    ]
    .map(String::from)
    .to_vec()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn dhcp_is_refused_by_netavark_1_4_and_on_a_bridge() {
    const NAME: &str = "dhcp_is_refused_by_netavark_1_4_and_on_a_bridge";
    let Some(current) = current(NAME) else {
        return;
    };
    let host = Host::new();
    host.sh(&[
        "ip", "link", "add", PARENT, "type", "veth", "peer", "name", SERVER_END,
    ]);
    let debian = podnet::find_helper_binary("netavark", None).unwrap();
    let debian_aardvark = podnet::find_helper_binary("aardvark-dns", None).unwrap();
    let create = create_args(PARENT);
    let err = refused(
        &host.podnet_using(&debian, &debian_aardvark, &strs(&create)),
        125,
    );
    assert!(
        err.contains(&format!(
            "the DHCP proxy needs netavark 1.6 or later; {} is 1.4.0",
            debian.display()
        )),
        "{err}"
    );
    // podman 5's default: a macvlan network with neither subnet nor IPAM driver is DHCP's,
    // so 1.4 refuses it the same way (podman 4.3 asked for a subnet instead)
    let implicit: Vec<String> = create
        .iter()
        .filter(|a| *a != "--ipam-driver" && *a != "dhcp")
        .cloned()
        .collect();
    let err = refused(
        &host.podnet_using(&debian, &debian_aardvark, &strs(&implicit)),
        125,
    );
    assert!(err.contains("the DHCP proxy needs netavark 1.6"), "{err}");
    // a bridge takes no DHCP (netavark 2.1 only on a bridge it does not manage)
    let err = refused(
        &current.out(
            &host,
            &["network", "create", "--ipam-driver", "dhcp", NETWORK],
        ),
        125,
    );
    assert_eq!(
        err,
        "podnet: error: network pntdh: ipam driver dhcp is not supported with the bridge \
         driver, only with macvlan\n"
    );
    for (netavark, aardvark) in [
        (&debian, &debian_aardvark),
        (&current.netavark, &current.aardvark),
    ] {
        let exists = host.podnet_using(netavark, aardvark, &["network", "exists", NETWORK]);
        assert_eq!(exists.status.code(), Some(1), "nothing written");
    }
}

/// busybox `udhcpd` in a namespace of its own, on the far end of the parent's veth;
/// killed, with its namespace, on drop.
struct DhcpServer {
    netns: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl DhcpServer {
    /// Moves `SERVER_END` into a new namespace, gives it the subnet's first host and
    /// serves the pool there.
    fn start(host: &Host, subnet: Ipv4Net) -> DhcpServer {
        let netns = format!("pntdhs-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &netns]).output();
        flows_support::sh(&["ip", "netns", "add", &netns]);
        let dir = tempfile::Builder::new().prefix("pntdhs").tempdir().unwrap();
        let server = |args: &[&str]| {
            flows_support::sh(&[&["ip", "-n", &netns][..], args].concat());
        };
        host.sh(&[
            "ip", "link", "add", PARENT, "type", "veth", "peer", "name", SERVER_END, "netns",
            &netns,
        ]);
        host.sh(&["ip", "link", "set", PARENT, "up"]);
        let gateway = pool_host(subnet, 1);
        server(&[
            "addr",
            "add",
            &format!("{gateway}/{}", subnet.prefix_len()),
            "dev",
            SERVER_END,
        ]);
        server(&["link", "set", SERVER_END, "up"]);
        let conf = dir.path().join("udhcpd.conf");
        let leases = dir.path().join("udhcpd.leases");
        std::fs::write(&leases, "").unwrap();
        std::fs::write(
            &conf,
            format!(
                "start {}\nend {}\ninterface {SERVER_END}\nlease_file {}\npidfile {}\n\
                 option subnet {}\noption router {gateway}\noption lease 600\n",
                pool_host(subnet, POOL_START),
                pool_host(subnet, POOL_START + POOL_SIZE - 1),
                leases.display(),
                dir.path().join("udhcpd.pid").display(),
                subnet.netmask(),
            ),
        )
        .unwrap();
        let child = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{netns}"))
            .args(["--", "busybox", "udhcpd", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        DhcpServer {
            netns,
            child,
            _dir: dir,
        }
    }
}

impl Drop for DhcpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
    }
}

/// A container's address and MAC on the DHCP network, as `inspect` shows them.
fn lease_of(current: &Current, host: &Host, container: &str) -> (IpAddr, String) {
    let inspect: serde_json::Value =
        serde_json::from_str(&current.ok(host, &["inspect", container])).unwrap();
    let on_net = &inspect[0]["NetworkSettings"]["Networks"][NETWORK];
    let ip = on_net["IPAddress"]
        .as_str()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or_else(|| panic!("{container} has no address on {NETWORK}: {inspect}"));
    (ip, on_net["MacAddress"].as_str().unwrap().to_string())
}

fn pool_host(subnet: Ipv4Net, n: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + u32::from(n))
}

/// `netavark dhcp-proxy` in the fake host, its socket and lease cache in a private
/// directory, reached through a symlink at [`PROXY_SOCKET`]; stopped (SIGTERM, on which
/// it removes its socket) and the symlink removed on drop.
struct Proxy {
    child: Child,
    dir: tempfile::TempDir,
    made_run_dir: bool,
}

impl Proxy {
    /// `Err` says why the test must not run: something is at [`PROXY_SOCKET`] already.
    fn free() -> Result<(), String> {
        match std::fs::symlink_metadata(PROXY_SOCKET) {
            Ok(_) => Err(format!(
                "{PROXY_SOCKET} exists (a DHCP proxy of this host's podman): the test does \
                 not touch it"
            )),
            Err(_) => Ok(()),
        }
    }

    fn start(host: &Host, netavark: &Path) -> Proxy {
        let dir = tempfile::Builder::new().prefix("pntdhp").tempdir().unwrap();
        let socket = dir.path().join("nv-proxy.sock");
        let child = host
            .command(netavark.to_str().unwrap())
            .arg("dhcp-proxy")
            .arg("--dir")
            .arg(dir.path())
            .args(["--activity-timeout", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let run_dir = Path::new(PROXY_SOCKET).parent().unwrap();
        let made_run_dir = !run_dir.exists();
        if made_run_dir {
            std::fs::create_dir(run_dir).unwrap();
        }
        std::os::unix::fs::symlink(&socket, PROXY_SOCKET).unwrap();
        let proxy = Proxy {
            child,
            dir,
            made_run_dir,
        };
        // the proxy binds its socket shortly after it starts
        for _ in 0..100 {
            if socket.exists() {
                return proxy;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("netavark dhcp-proxy made no socket at {}", socket.display());
    }

    /// The proxy's lease cache: MAC address to the leases it holds. The proxy truncates
    /// the file and writes at its old offset, so it may start with NULs.
    fn leases(&self) -> serde_json::Map<String, serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("nv-proxy.lease")).unwrap();
        let text = text.trim_start_matches('\0');
        if text.is_empty() {
            return serde_json::Map::new();
        }
        serde_json::from_str(text).unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap()),
            nix::sys::signal::SIGTERM,
        );
        let _ = self.child.wait();
        // only our symlink: a proxy started meanwhile by someone else keeps its socket
        if std::fs::read_link(PROXY_SOCKET).is_ok_and(|t| t.starts_with(self.dir.path())) {
            let _ = std::fs::remove_file(PROXY_SOCKET);
        }
        if self.made_run_dir {
            let _ = std::fs::remove_dir(Path::new(PROXY_SOCKET).parent().unwrap());
        }
    }
}

#[test]
fn dhcp_containers_lease_ping_and_release_on_netavark_2_x() {
    const NAME: &str = "dhcp_containers_lease_ping_and_release_on_netavark_2_x";
    let Some(current) = current(NAME) else {
        return;
    };
    if let Err(why) = Proxy::free() {
        testkit::skip(NAME, &why);
        return;
    }
    let host = Host::new();
    let subnet = testkit::free_subnet_v4();
    let _server = DhcpServer::start(&host, subnet);
    assert_eq!(current.ok(&host, &strs(&create_args(PARENT))), "pntdh\n");
    let net: serde_json::Value =
        serde_json::from_str(&current.ok(&host, &["network", "inspect", NETWORK])).unwrap();
    assert_eq!(net[0]["ipam_options"]["driver"], "dhcp", "{net}");
    assert!(net[0].get("subnets").is_none(), "{net}");
    for c in ["a", "b"] {
        current.ok(&host, &["create", c, "--network", NETWORK]);
    }

    // no proxy: one line, netavark's refusal naming the socket, and the start leaves
    // nothing (the undo's repair of netavark's leftover interface is no warning)
    let err = refused(&current.out(&host, &["start", "a"]), 125);
    assert!(err.contains(PROXY_SOCKET), "{err}");
    assert!(host.pins().is_empty(), "pins left: {:?}", host.pins());
    assert_eq!(
        host.links().len(),
        2,
        "only lo and the parent: {:?}",
        host.links()
    );

    let proxy = Proxy::start(&host, &current.netavark);
    for c in ["a", "b"] {
        assert_eq!(current.ok(&host, &["start", c]), format!("{c}\n"));
    }
    let pool: Vec<IpAddr> = (POOL_START..POOL_START + POOL_SIZE)
        .map(|n| IpAddr::V4(pool_host(subnet, n)))
        .collect();
    let mut leased = Vec::new();
    for c in ["a", "b"] {
        let inspect: serde_json::Value =
            serde_json::from_str(&current.ok(&host, &["inspect", c])).unwrap();
        let on_net = &inspect[0]["NetworkSettings"]["Networks"][NETWORK];
        let ip: IpAddr = on_net["IPAddress"].as_str().unwrap().parse().unwrap();
        assert!(
            pool.contains(&ip),
            "{c}: {ip} is not from the pool: {on_net}"
        );
        assert_eq!(on_net["IPPrefixLen"], 24, "{on_net}");
        assert_eq!(
            on_net["Gateway"],
            pool_host(subnet, 1).to_string(),
            "the server's router option: {on_net}"
        );
        // what the kernel has is what inspect shows
        let netns = PathBuf::from(host.container_json(c)["NetNS"].as_str().unwrap());
        let in_kernel = kernel_addresses(&host, &netns, "eth0");
        assert_eq!(
            in_kernel,
            [IpNet::new(ip, 24).unwrap()],
            "{c}: addresses of eth0"
        );
        let summary = host.container_json(c);
        assert_eq!(
            summary["Addresses"][NETWORK],
            serde_json::json!([format!("eth0 {ip}/24")]),
            "ps: {summary}"
        );
        let hosts_file = summary["HostsFile"].as_str().unwrap().to_string();
        let hosts = std::fs::read_to_string(hosts_file).unwrap();
        assert!(
            hosts
                .lines()
                .any(|l| l.starts_with(&format!("{ip}\t")) && l.ends_with(c)),
            "{c}: {hosts}"
        );
        // the proxy holds the lease under the container's MAC
        let mac = on_net["MacAddress"].as_str().unwrap().to_string();
        let held = proxy.leases();
        assert_eq!(
            held[&mac][0]["yiaddr"],
            ip.to_string(),
            "proxy leases: {held:?}"
        );
        leased.push(ip);
    }
    assert_ne!(leased[0], leased[1], "two leases");
    let (ok, text) = ping_once(&host, "a", &[], &leased[1].to_string());
    assert!(ok, "a cannot reach b over the macvlan: {text}");
    let (ok, text) = ping_once(&host, "b", &[], &leased[0].to_string());
    assert!(ok, "b cannot reach a over the macvlan: {text}");

    // reload: netavark sets a's network up again and the proxy renews a's one lease
    let a_mac = lease_of(&current, &host, "a").1;
    current.ok(&host, &["reload", "a"]);
    let (ip, mac) = lease_of(&current, &host, "a");
    assert!(pool.contains(&ip), "a after reload: {ip}");
    assert_eq!(mac, a_mac, "a's MAC is kept by reload");
    assert_eq!(proxy.leases()[&mac][0]["yiaddr"], ip.to_string());
    let (ok, text) = ping_once(&host, "b", &[], &ip.to_string());
    assert!(ok, "b cannot reach a after reload: {text}");

    // connect and disconnect a running container on a bridge: a lease of its own, released
    let bridge_subnet = testkit::free_subnet_v4().to_string();
    current.ok(
        &host,
        &["network", "create", "--subnet", &bridge_subnet, "pntdhb"],
    );
    current.ok(&host, &["create", "c", "--network", "pntdhb"]);
    current.ok(&host, &["start", "c"]);
    assert_eq!(current.ok(&host, &["network", "connect", NETWORK, "c"]), "");
    let (c_ip, c_mac) = lease_of(&current, &host, "c");
    assert!(pool.contains(&c_ip), "c on connect: {c_ip}");
    assert!(!leased.contains(&c_ip), "c's lease is its own: {c_ip}");
    assert_eq!(proxy.leases()[&c_mac][0]["yiaddr"], c_ip.to_string());
    let (ok, text) = ping_once(&host, "c", &[], &leased[1].to_string());
    assert!(ok, "c cannot reach b after connect: {text}");
    assert_eq!(
        current.ok(&host, &["network", "disconnect", NETWORK, "c"]),
        ""
    );
    assert!(
        !proxy.leases().contains_key(&c_mac),
        "c's lease outlived disconnect: {:?}",
        proxy.leases()
    );
    current.ok(&host, &["rm", "-f", "c"]);
    current.ok(&host, &["network", "rm", "pntdhb"]);

    // stop: netavark's teardown releases each lease through the proxy
    assert_eq!(current.ok(&host, &["stop", "a", "b"]), "a\nb\n");
    assert!(
        proxy.leases().is_empty(),
        "proxy leases: {:?}",
        proxy.leases()
    );
    assert!(host.pins().is_empty(), "pins left: {:?}", host.pins());
    let mut links = host.links();
    links.sort();
    assert_eq!(links, ["lo", PARENT], "no macvlan left");

    assert_eq!(current.ok(&host, &["rm", "a", "b"]), "a\nb\n");
    assert_eq!(current.ok(&host, &["network", "rm", NETWORK]), "pntdh\n");
    assert_clean(&host, &[PARENT], &[]);
}
