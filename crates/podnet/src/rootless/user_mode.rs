//! Per-container user-mode networking: podman's `--network pasta` (podman 5's rootless
//! default) and `--network slirp4netns`, one helper process per container attached to the
//! container's own namespace, started through the same [`helper`](super::helper) code as
//! the shared rootless netns' helper.
//!
//! pasta gets the arguments podman 5's `libnetwork/pasta` passes: `--config-net`,
//! `--dns-forward 169.254.1.1`, `-t`/`-u` per published port (`[IP/]HOST-RANGE:CTR-RANGE`,
//! `none` for a protocol without), `-T none -U none`, `--no-map-gw` unless the user's
//! options say `--map-gw` (podman's word, removed before pasta sees it), `--quiet`, the user's options, `--netns PIN`. Debian 12's pasta
//! (2023-03) lacks what newer podman adds: `--map-guest-addr` (podman 5.3: an address that
//! reaches the host, named `host.containers.internal`) and `--map-host-loopback`; podnet
//! passes neither, so `host.containers.internal` names the host's own address.
//!
//! slirp4netns gets `--configure --netns-type=path --mtu=MTU` (65520 by default),
//! `--disable-host-loopback` unless `allow_host_loopback=true`, `--cidr`, `--enable-ipv6`,
//! `--outbound-addr(6)` from the options, and an API socket. The container is the CIDR's
//! address 100 (10.0.2.100), DNS its address 3. Published ports go through slirp4netns's
//! API (`add_hostfwd`) with `port_handler=slirp4netns`, else (podman's default,
//! `rootlesskit`) through podnet's port forwarder process, which plays rootlesskit's part.
//!
//! In the container's directory:
//!
//! ```text
//! <containers_dir>/<id>/
//!   net-helper                "PID STARTTIME" of the pasta daemon or slirp4netns
//!   pasta.log | slirp4netns.log, pasta.pid, slirp4netns.sock
//!   ports/<id>                the forwarder's record (rootlesskit port handler)
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ipnet::Ipv4Net;
use portmap::{PortMapping, Protocol};

use super::error::RootlessError;
use super::forwarder::{forwards_for, ForwardProtocol};
use super::helper::{self, RootlessNetHelper};
use super::process::ProcessRecord;
use crate::mode::{NetworkMode, PortHandler, SlirpOptions};

/// The record of the container's helper process.
const HELPER_RECORD: &str = "net-helper";

/// slirp4netns's default network (podman's too).
const SLIRP_CIDR: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 2, 0), 24);

/// What [`start`] needs.
#[derive(Debug)]
pub(crate) struct UserModeStart<'a> {
    pub container_id: &'a str,
    /// [`NetworkMode::Pasta`] or [`NetworkMode::Slirp4netns`].
    pub mode: &'a NetworkMode,
    pub netns: &'a Path,
    /// The container's own directory.
    pub dir: &'a Path,
    pub ports: &'a [PortMapping],
    /// The port forwarder program (slirp4netns with the rootlesskit port handler).
    pub forwarder: Option<&'a Path>,
    /// containers.conf's `pasta_options`, put before the container's own `pasta:` options
    /// as podman does.
    pub pasta_options: &'a [String],
}

/// What the helper gave the container, for its hosts and resolv.conf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserModeNet {
    /// The container's address.
    pub address: Option<IpAddr>,
    /// The helper's DNS forwarder.
    pub nameserver: IpAddr,
}

/// Starts the container's helper (and port publishing) for `s.netns`; on failure nothing
/// it started is left running.
pub(crate) fn start(s: &UserModeStart<'_>) -> Result<UserModeNet, RootlessError> {
    std::fs::create_dir_all(s.dir).map_err(|source| RootlessError::File {
        action: "create",
        path: s.dir.to_path_buf(),
        source,
    })?;
    let started = match s.mode {
        NetworkMode::Pasta(opts) => {
            let args: Vec<String> = s.pasta_options.iter().chain(&opts.args).cloned().collect();
            start_pasta(s, &args)
        }
        NetworkMode::Slirp4netns(opts) => start_slirp(s, opts),
        other => Err(RootlessError::Helper {
            program: "pasta",
            netns: s.netns.to_path_buf(),
            detail: format!("network mode {other} has no user-mode helper"),
        }),
    };
    if started.is_err() {
        for e in stop(s.dir, s.container_id) {
            tracing::warn!(container_id = s.container_id, error = %e, "undo: stopping the network helper");
        }
    }
    started
}

fn start_pasta(s: &UserModeStart<'_>, args: &[String]) -> Result<UserModeNet, RootlessError> {
    let port_args = pasta_port_args(s.ports)?;
    // `--map-gw` is podman's word, not pasta's: it only drops `--no-map-gw`
    let map_gw = args.iter().any(|a| a == "--map-gw");
    let args: Vec<String> = args.iter().filter(|a| *a != "--map-gw").cloned().collect();
    let record = helper::start(&helper::Start {
        helper: RootlessNetHelper::Pasta,
        netns: s.netns,
        dir: s.dir,
        host_loopback: map_gw,
        extra_args: &args,
        port_args: &port_args,
        mtu: None,
    })?;
    record.write(&s.dir.join(HELPER_RECORD))?;
    Ok(UserModeNet {
        address: first_address(s.netns),
        nameserver: IpAddr::V4(
            RootlessNetHelper::Pasta
                .dns_forwarder()
                .parse()
                .unwrap_or(Ipv4Addr::new(169, 254, 1, 1)),
        ),
    })
}

/// podman's pasta port arguments: `-t`/`-u` with `[IP/]HOST-HOSTEND:CTR-CTREND` per
/// mapping and protocol, `none` for a protocol without ports.
pub(crate) fn pasta_port_args(ports: &[PortMapping]) -> Result<Vec<String>, RootlessError> {
    let mut args = Vec::new();
    let (mut tcp, mut udp) = (false, false);
    for p in ports {
        let range = p.range.max(1);
        let addr = p.host_ip.map(|ip| format!("{ip}/")).unwrap_or_default();
        let spec = format!(
            "{addr}{}-{}:{}-{}",
            p.host_port,
            p.host_port + (range - 1),
            p.container_port,
            p.container_port + (range - 1)
        );
        for proto in p.protocol.iter() {
            let flag = match proto {
                Protocol::Tcp => {
                    tcp = true;
                    "-t"
                }
                Protocol::Udp => {
                    udp = true;
                    "-u"
                }
                other @ Protocol::Sctp => {
                    return Err(RootlessError::Helper {
                        program: "pasta",
                        netns: PathBuf::new(),
                        detail: format!("pasta cannot forward protocol {other} (port {spec})"),
                    })
                }
            };
            args.extend([flag.to_string(), spec.clone()]);
        }
    }
    if !tcp {
        args.extend(["-t".to_string(), "none".to_string()]);
    }
    if !udp {
        args.extend(["-u".to_string(), "none".to_string()]);
    }
    Ok(args)
}

fn start_slirp(s: &UserModeStart<'_>, opts: &SlirpOptions) -> Result<UserModeNet, RootlessError> {
    let cidr = opts.cidr.unwrap_or(SLIRP_CIDR);
    let mut extra = Vec::new();
    if let Some(cidr) = opts.cidr {
        extra.push(format!("--cidr={cidr}"));
    }
    if opts.enable_ipv6 == Some(true) {
        extra.push("--enable-ipv6".to_string());
    }
    if let Some(addr) = &opts.outbound_addr {
        extra.push(format!("--outbound-addr={addr}"));
    }
    if let Some(addr) = &opts.outbound_addr6 {
        extra.push(format!("--outbound-addr6={addr}"));
    }
    let record = helper::start(&helper::Start {
        helper: RootlessNetHelper::Slirp4netns,
        netns: s.netns,
        dir: s.dir,
        host_loopback: opts.allow_host_loopback == Some(true),
        extra_args: &extra,
        port_args: &[],
        mtu: opts.mtu,
    })?;
    record.write(&s.dir.join(HELPER_RECORD))?;
    let nth = |n: u32| IpAddr::V4(Ipv4Addr::from(u32::from(cidr.network()) + n));
    let address = nth(100);
    if !s.ports.is_empty() {
        match opts.port_handler.unwrap_or(PortHandler::Rootlesskit) {
            PortHandler::Slirp4netns => add_hostfwds(s, address)?,
            PortHandler::Rootlesskit => {
                let program = s.forwarder.ok_or_else(|| RootlessError::Helper {
                    program: "slirp4netns",
                    netns: s.netns.to_path_buf(),
                    detail: "no port forwarder program for port_handler=rootlesskit".into(),
                })?;
                let forwards = forwards_for(s.ports, address);
                super::ports::start(
                    s.dir,
                    s.container_id,
                    s.netns,
                    Command::new(program),
                    &forwards,
                )?;
            }
        }
    }
    Ok(UserModeNet {
        address: Some(address),
        nameserver: nth(3),
    })
}

/// slirp4netns's own forwarding: one `add_hostfwd` per port through its API socket.
fn add_hostfwds(s: &UserModeStart<'_>, guest: IpAddr) -> Result<(), RootlessError> {
    // through an fd of the directory: its path may not fit sun_path's 108 bytes
    let dir = std::fs::File::open(s.dir).map_err(|source| RootlessError::File {
        action: "open",
        path: s.dir.to_path_buf(),
        source,
    })?;
    let socket = format!(
        "/proc/self/fd/{}/slirp4netns.sock",
        std::os::fd::AsRawFd::as_raw_fd(&dir)
    );
    for f in forwards_for(s.ports, guest) {
        let request = serde_json::json!({
            "execute": "add_hostfwd",
            "arguments": {
                "proto": match f.protocol { ForwardProtocol::Tcp => "tcp", ForwardProtocol::Udp => "udp" },
                "host_addr": f.host_ip.to_string(),
                "host_port": f.host_port,
                "guest_addr": guest.to_string(),
                "guest_port": f.container_port,
            }
        });
        let fail = |detail: String| RootlessError::Helper {
            program: "slirp4netns",
            netns: s.netns.to_path_buf(),
            detail: format!("add_hostfwd {}:{}: {detail}", f.host_ip, f.host_port),
        };
        let mut stream = UnixStream::connect(&socket).map_err(|e| fail(e.to_string()))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| fail(e.to_string()))?;
        stream
            .write_all(request.to_string().as_bytes())
            .and_then(|()| stream.shutdown(std::net::Shutdown::Write))
            .map_err(|e| fail(e.to_string()))?;
        let mut reply = String::new();
        BufReader::new(&stream)
            .read_line(&mut reply)
            .map_err(|e| fail(e.to_string()))?;
        let reply: serde_json::Value = serde_json::from_str(reply.trim())
            .map_err(|e| fail(format!("reply {reply:?}: {e}")))?;
        if let Some(err) = reply.get("error") {
            return Err(fail(err.to_string()));
        }
    }
    Ok(())
}

/// The first global IPv4 address in the namespace (pasta copies the host's), else IPv6.
fn first_address(netns: &Path) -> Option<IpAddr> {
    let ns = netns::NetNs::open(netns).ok()?;
    let addrs: Vec<IpAddr> = ns
        .run_in(|| {
            nix::ifaddrs::getifaddrs()
                .map(|it| {
                    it.filter_map(|ifa| {
                        let a = ifa.address?;
                        a.as_sockaddr_in()
                            .map(|v4| IpAddr::V4(v4.ip()))
                            .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
                    })
                    .collect()
                })
                .unwrap_or_default()
        })
        .ok()?;
    let global = |ip: &&IpAddr| match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local(),
        IpAddr::V6(v6) => !v6.is_loopback() && (v6.segments()[0] & 0xffc0) != 0xfe80,
    };
    let v4 = addrs.iter().filter(global).find(|ip| ip.is_ipv4());
    v4.or_else(|| addrs.iter().find(|ip| global(ip))).copied()
}

/// True while the container's recorded helper runs; `None` without a record.
pub(crate) fn helper_alive(dir: &Path) -> Option<bool> {
    ProcessRecord::read(&dir.join(HELPER_RECORD)).map(|r| r.open_live().is_some())
}

/// Stops the container's port forwarder and helper and forgets them; the errors (already
/// gone is success).
pub(crate) fn stop(dir: &Path, container_id: &str) -> Vec<RootlessError> {
    let mut errors = Vec::new();
    if let Err(e) = super::ports::stop(dir, container_id) {
        errors.push(e);
    }
    let record = dir.join(HELPER_RECORD);
    if let Some(live) = ProcessRecord::read(&record).and_then(|r| r.open_live()) {
        if let Err(e) = live.terminate(Duration::from_secs(2)) {
            errors.push(e);
        }
    }
    match std::fs::remove_file(&record) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
            errors.push(RootlessError::File {
                action: "remove",
                path: record,
                source,
            })
        }
        _ => {}
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pasta_port_args_are_podmans() {
        let ports: Vec<PortMapping> = ["127.0.0.1:8080:80", "9000-9001:7000-7001/udp"]
            .iter()
            .map(|p| portmap::parse_publish(p).unwrap())
            .collect();
        assert_eq!(
            pasta_port_args(&ports).unwrap(),
            [
                "-t",
                "127.0.0.1/8080-8080:80-80",
                "-u",
                "9000-9001:7000-7001"
            ]
        );
        assert_eq!(pasta_port_args(&[]).unwrap(), ["-t", "none", "-u", "none"]);
    }

    #[test]
    fn forwards_expand_ranges_to_the_container_address() {
        let ports = [portmap::parse_publish("8080-8081:80-81").unwrap()];
        let ip: IpAddr = "10.0.2.100".parse().unwrap();
        let f = forwards_for(&ports, ip);
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[1].host_port, f[1].container_port, f[1].container_ip),
            (8081, 81, ip)
        );
    }
}
