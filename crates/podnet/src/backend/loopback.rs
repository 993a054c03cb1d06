//! Brings `lo` up in a container's network namespace before the CNI plugins run, as podman's
//! CNI backend does (`setupLoopback`): the reference plugins never touch it, and a container
//! without it cannot reach its own published ports or `localhost`.

use std::os::fd::AsRawFd;
use std::path::Path;

use netns::NetNs;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};

/// Sets `lo` up in the namespace at `netns`.
pub(crate) fn set_up(netns: &Path) -> Result<(), String> {
    let ns = NetNs::open(netns).map_err(|e| e.to_string())?;
    ns.run_in(set_lo_up)
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("set lo up in {}: {e}", netns.display()))
}

fn set_lo_up() -> nix::Result<()> {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data; all-zero is a valid (empty) request.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name and writes the flags of `req`, which outlives the
    // call; the socket is open.
    nix::errno::Errno::result(unsafe {
        libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req)
    })?;
    // SAFETY: after SIOCGIFFLAGS the union holds the flags.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads `req` (name and flags), valid for the call.
    nix::errno::Errno::result(unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) })?;
    Ok(())
}
