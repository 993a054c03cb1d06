//! The rootless port forwarder process: listens on the host's addresses (it runs in the
//! host network namespace, inside the user namespace) and forwards each TCP connection
//! into the rootless netns, to the container's address.
//!
//! One forwarder runs per container, so publishing or unpublishing one container's ports
//! never restarts another's (pasta 2023-03 cannot add ports to a running instance).
//! Each connection is served by a fresh thread that enters the rootless netns, connects
//! to the container there and copies data; it dies with the connection. The container sees connections coming from the rootless netns (its bridge
//! gateway), not the client's address, as with podman's rootlessport.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use nix::sched::CloneFlags;
use serde::{Deserialize, Serialize};

use super::error::RootlessError;

/// Environment variable carrying a forwarder's [`ForwarderSpec`] as JSON.
pub const PORT_FORWARDER_ENV: &str = "_PODNET_PORT_FORWARDER";

/// The fd on which a forwarder reports readiness (one byte once every port is bound).
pub(crate) const READY_FD: i32 = 3;

/// How long connecting to the container may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// One published TCP port of a rootless container.
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
}

/// What a forwarder process serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ForwarderSpec {
    pub netns: PathBuf,
    pub ports: Vec<PortForward>,
}

fn failed(action: &'static str, source: std::io::Error) -> RootlessError {
    RootlessError::Forwarder { action, source }
}

/// The body of a port forwarder process, for a program's hidden subcommand: reads the
/// spec from [`PORT_FORWARDER_ENV`], binds every host port, reports readiness on fd 3
/// and forwards connections until killed. Returns only on a setup error.
pub fn run_port_forwarder() -> Result<std::convert::Infallible, RootlessError> {
    let text = std::env::var(PORT_FORWARDER_ENV).map_err(|e| {
        failed(
            "read its spec from _PODNET_PORT_FORWARDER",
            std::io::Error::other(e),
        )
    })?;
    let spec: ForwarderSpec = serde_json::from_str(&text)
        .map_err(|e| failed("parse its spec", std::io::Error::other(e)))?;
    let netns =
        std::fs::File::open(&spec.netns).map_err(|source| RootlessError::OpenNamespace {
            path: spec.netns.clone(),
            source,
        })?;
    let mut listeners = Vec::new();
    for port in &spec.ports {
        let addr = SocketAddr::new(port.host_ip, port.host_port);
        let listener = TcpListener::bind(addr).map_err(|e| failed("bind a host port", e))?;
        listeners.push((listener, *port));
    }
    let netns = std::sync::Arc::new(netns);
    // SAFETY: fd 3 was set up by the parent as the write end of the readiness pipe; it is
    // owned by this process from here on and closed when dropped.
    let ready = unsafe { OwnedFd::from_raw_fd(READY_FD) };
    let mut ready = std::fs::File::from(ready);
    let _ = ready.write_all(b"1");
    drop(ready);

    let mut threads = Vec::new();
    for (listener, port) in listeners {
        let netns = netns.clone();
        threads.push(std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let netns = netns.clone();
                std::thread::spawn(move || forward(client, port, &netns));
            }
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

/// Runs on a thread of its own that enters the rootless netns (and dies with the
/// connection): connects to the container there, then copies both ways.
fn forward(client: TcpStream, port: PortForward, netns: &std::fs::File) {
    let target = SocketAddr::new(port.container_ip, port.container_port);
    if let Err(e) = nix::sched::setns(netns, CloneFlags::CLONE_NEWNET) {
        tracing::warn!(error = %e, "cannot enter the rootless netns");
        return;
    }
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
