//! The rootless port forwarder process: listens on the host's addresses (it runs in the
//! host network namespace, inside the user namespace) and forwards each TCP connection
//! into the rootless netns, to the container's address.
//!
//! One forwarder runs per container, so publishing or unpublishing one container's ports
//! never restarts another's (pasta 2023-03 cannot add ports to a running instance).
//! Each connection is served by a fresh thread in the rootless netns that connects to the
//! container there and copies data; it dies with the connection. The container sees
//! connections coming from the rootless netns (its bridge gateway), not the client's
//! address, as with podman's rootlessport.
//!
//! Least privilege: once every host port is bound, the forwarder needs no capability.
//! One thread enters the rootless netns at start (the only `setns`); the threads that
//! serve connections are started by it, so they begin in that netns without a `setns` of
//! their own. That thread and the main thread then drop every capability (bounding and
//! ambient sets included) and set `no_new_privs`, before any other thread exists, so
//! every thread of the process runs without privileges. A rootful container's port holder
//! (`hold_only`) binds host ports only: it enters no netns, then drops the same privileges.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use nix::sched::CloneFlags;
use serde::{Deserialize, Serialize};

use super::error::RootlessError;

/// Environment variable carrying a forwarder's spec (netns path and ports) as JSON.
pub const PORT_FORWARDER_ENV: &str = "_PODNET_PORT_FORWARDER";

/// Whether this process was started as a rootless container's port forwarder: then a
/// program built on podnet calls [`run_port_forwarder`] first thing in `main`, as the
/// `podnet` command does.
pub fn is_port_forwarder() -> bool {
    std::env::var_os(PORT_FORWARDER_ENV).is_some()
}

/// The fd on which a forwarder reports readiness (one byte once every port is bound).
pub(crate) const READY_FD: i32 = 3;

/// How long connecting to the container may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The transport protocol of a [`PortForward`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardProtocol {
    /// TCP: one upstream connection per accepted connection.
    #[default]
    Tcp,
    /// UDP: one upstream socket per client address, closed after [`UDP_IDLE`] idle.
    Udp,
}

impl ForwardProtocol {
    /// The forwarder's protocol for a published `protocol`; `None` for SCTP, which no
    /// forwarder serves (as podman's rootlessport).
    pub(crate) fn of(protocol: portmap::Protocol) -> Option<Self> {
        match protocol {
            portmap::Protocol::Tcp => Some(Self::Tcp),
            portmap::Protocol::Udp => Some(Self::Udp),
            portmap::Protocol::Sctp => None,
        }
    }
}

/// One forward per host port of each mapping's range and each of its TCP and UDP
/// protocols, to `container_ip`; no host IP listens on `0.0.0.0`. SCTP is skipped
/// (no forwarder serves it, nor holds it).
pub(crate) fn forwards_for(
    ports: &[portmap::PortMapping],
    container_ip: IpAddr,
) -> Vec<PortForward> {
    let mut out = Vec::new();
    for mapping in ports {
        let host_ip = mapping.host_ip.unwrap_or(IpAddr::from([0u8, 0, 0, 0]));
        for proto in mapping.protocol.iter() {
            let Some(protocol) = ForwardProtocol::of(proto) else {
                tracing::debug!(%mapping, "no forwarder for {proto}; port skipped");
                continue;
            };
            for i in 0..mapping.range.max(1) {
                out.push(PortForward {
                    host_ip,
                    host_port: mapping.host_port.saturating_add(i),
                    container_ip,
                    container_port: mapping.container_port.saturating_add(i),
                    protocol,
                });
            }
        }
    }
    out
}

/// How long a UDP client may stay silent (and unanswered) before its session closes.
pub const UDP_IDLE: Duration = Duration::from_secs(60);

/// One published port of a rootless container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortForward {
    /// Host address to listen on (e.g. 127.0.0.1, or 0.0.0.0 for all).
    pub host_ip: IpAddr,
    /// Host port.
    pub host_port: u16,
    /// The container's address in the rootless netns.
    pub container_ip: IpAddr,
    /// The container's port.
    pub container_port: u16,
    /// TCP or UDP.
    #[serde(default)]
    pub protocol: ForwardProtocol,
}

/// What a forwarder process serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ForwarderSpec {
    pub netns: PathBuf,
    pub ports: Vec<PortForward>,
    /// Bind the ports and hold them, forwarding nothing: a rootful container's port
    /// reservation (netavark's DNAT rules carry the traffic), as conmon holds podman's.
    #[serde(default)]
    pub hold_only: bool,
}

fn failed(action: &'static str, source: std::io::Error) -> RootlessError {
    RootlessError::Forwarder { action, source }
}

/// The body of a port forwarder process, for a program's hidden subcommand: reads the
/// spec from its environment variable (see [`is_port_forwarder`]), binds every host port,
/// reports readiness on fd 3 and forwards connections (or, a port holder, just holds the
/// ports) until killed. Returns only on a setup error.
pub fn run_port_forwarder() -> Result<std::convert::Infallible, RootlessError> {
    // Taken before this process opens anything, so fd 3 is the parent's readiness pipe and
    // not a file of ours (a manual start may provide none).
    // SAFETY: fcntl(F_GETFD) only queries the descriptor table.
    let ready = (unsafe { libc::fcntl(READY_FD, libc::F_GETFD) } >= 0).then(|| {
        // SAFETY: fd 3 is open (checked above), was handed to this process by its parent
        // as the write end of the readiness pipe, and nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(READY_FD) }
    });
    let text = std::env::var(PORT_FORWARDER_ENV).map_err(|e| {
        failed(
            "read its spec from _PODNET_PORT_FORWARDER",
            std::io::Error::other(e),
        )
    })?;
    let spec: ForwarderSpec = serde_json::from_str(&text)
        .map_err(|e| failed("parse its spec", std::io::Error::other(e)))?;
    // a port holder binds host ports only: it never enters the container's netns
    let netns = if spec.hold_only {
        None
    } else {
        Some(
            std::fs::File::open(&spec.netns).map_err(|source| RootlessError::OpenNamespace {
                path: spec.netns.clone(),
                source,
            })?,
        )
    };
    let mut listeners = Vec::new();
    let mut udp = Vec::new();
    for port in &spec.ports {
        let addr = SocketAddr::new(port.host_ip, port.host_port);
        match port.protocol {
            ForwardProtocol::Tcp => listeners.push((
                TcpListener::bind(addr).map_err(|e| failed("bind a host TCP port", e))?,
                *port,
            )),
            ForwardProtocol::Udp => udp.push((
                UdpSocket::bind(addr).map_err(|e| failed("bind a host UDP port", e))?,
                *port,
            )),
        }
    }
    let in_netns = netns.map(InNetns::start).transpose()?;
    super::privileges::drop_all().map_err(|e| failed("drop its capabilities", e))?;
    if let Some(ready) = ready {
        let _ = std::fs::File::from(ready).write_all(b"1");
    }
    let Some(in_netns) = in_netns else {
        hold(listeners, udp)
    };

    let mut threads = Vec::new();
    for (listener, port) in listeners {
        let in_netns = in_netns.clone();
        threads.push(std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                in_netns.spawn(move || forward(client, port));
            }
        }));
    }
    for (socket, port) in udp {
        let in_netns = in_netns.clone();
        threads.push(std::thread::spawn(move || {
            serve_udp(socket, port, in_netns)
        }));
    }
    for t in threads {
        let _ = t.join();
    }
    Err(failed(
        "keep listening",
        std::io::Error::other("all listeners stopped"),
    ))
}

/// A port holder's body: keeps the sockets bound for as long as this process lives. A
/// connection that reaches one (the DNAT rules were flushed) is closed at once rather
/// than left hanging in the backlog; datagrams are dropped.
fn hold(listeners: Vec<(TcpListener, PortForward)>, udp: Vec<(UdpSocket, PortForward)>) -> ! {
    let _udp = udp;
    let threads: Vec<_> = listeners
        .into_iter()
        .map(|(listener, _)| {
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    drop(client);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    loop {
        std::thread::park();
    }
}

/// A job run on a new thread inside the rootless netns.
type Job = Box<dyn FnOnce() + Send>;

/// Starts threads inside the rootless netns: jobs go to one thread that entered it (and
/// then dropped its capabilities), which starts a thread per job, in the same netns.
#[derive(Clone)]
struct InNetns {
    jobs: mpsc::Sender<Job>,
}

impl InNetns {
    fn start(netns: std::fs::File) -> Result<Self, RootlessError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::channel();
        std::thread::spawn(move || {
            let entered = nix::sched::setns(&netns, CloneFlags::CLONE_NEWNET)
                .map_err(|e| failed("enter the rootless netns", e.into()))
                .and_then(|()| {
                    super::privileges::drop_all().map_err(|e| failed("drop its capabilities", e))
                });
            let ok = entered.is_ok();
            let _ = ready_tx.send(entered);
            drop(netns);
            if ok {
                for job in queue {
                    std::thread::spawn(job);
                }
            }
        });
        ready
            .recv()
            .map_err(|e| failed("enter the rootless netns", std::io::Error::other(e)))??;
        Ok(Self { jobs })
    }

    fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        let _ = self.jobs.send(Box::new(job));
    }
}

/// Runs on a thread of its own in the rootless netns (and dies with the connection):
/// connects to the container there, then copies both ways.
fn forward(client: TcpStream, port: PortForward) {
    let target = SocketAddr::new(port.container_ip, port.container_port);
    let Ok(upstream) = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) else {
        tracing::debug!(%target, "forward target refused");
        return;
    };
    let (Ok(mut c_read), Ok(mut u_read)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let (mut c_write, mut u_write) = (client, upstream);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut u_write);
        let _ = u_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut u_read, &mut c_write);
    let _ = c_write.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

/// A UDP socket created inside the rootless netns (on a thread that dies afterwards) and
/// connected to `target`.
fn udp_upstream(in_netns: &InNetns, target: SocketAddr) -> Option<UdpSocket> {
    let (tx, rx) = mpsc::channel();
    in_netns.spawn(move || {
        let any: SocketAddr = if target.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(any)
            .and_then(|s| s.connect(target).map(|()| s))
            .ok();
        let _ = tx.send(socket);
    });
    rx.recv().ok().flatten()
}

/// Relays datagrams: each client address gets its own upstream socket in the netns and
/// a thread sending the container's replies back, until [`UDP_IDLE`] passes in silence.
fn serve_udp(socket: UdpSocket, port: PortForward, in_netns: InNetns) {
    let target = SocketAddr::new(port.container_ip, port.container_port);
    let socket = Arc::new(socket);
    let sessions: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let existing = sessions.lock().ok().and_then(|s| s.get(&client).cloned());
        let upstream = match existing {
            Some(u) => u,
            None => {
                let Some(u) = udp_upstream(&in_netns, target) else {
                    tracing::debug!(%target, "cannot open a UDP socket towards the container");
                    continue;
                };
                let u = Arc::new(u);
                if let Ok(mut s) = sessions.lock() {
                    s.insert(client, u.clone());
                }
                let (socket, sessions, reply) = (socket.clone(), sessions.clone(), u.clone());
                std::thread::spawn(move || {
                    let _ = reply.set_read_timeout(Some(UDP_IDLE));
                    let mut buf = vec![0u8; 65536];
                    while let Ok(n) = reply.recv(&mut buf) {
                        let _ = socket.send_to(&buf[..n], client);
                    }
                    if let Ok(mut s) = sessions.lock() {
                        s.remove(&client);
                    }
                });
                u
            }
        };
        let _ = upstream.send(&buf[..n]);
    }
}
