//! Dropping every capability of the calling thread, for long-lived helpers that need none
//! once their sockets are bound (the port forwarder).
//!
//! Capabilities, the bounding set and `no_new_privs` are attributes of a *thread*: a thread
//! keeps what it had and passes it on to the threads it starts. So each thread that existed
//! before the drop does it itself, and threads started afterwards inherit the empty sets.
//! Order matters: the bounding set is emptied first (that needs `CAP_SETPCAP`, which the
//! last step removes), then the ambient set, then effective, permitted and inheritable.
//! With an empty bounding set and `no_new_privs`, not even an `execve` as uid 0 (inside a
//! user namespace) can give a capability back.

use std::io;

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets in two 32-bit halves.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Empties the calling thread's bounding, ambient, effective, permitted and inheritable
/// capability sets and sets `no_new_privs`. A bounding-set entry the thread may not drop
/// (no `CAP_SETPCAP`: it was never privileged) is skipped; every other failure is returned.
pub(crate) fn drop_all() -> io::Result<()> {
    for cap in 0..=last_cap() {
        // SAFETY: prctl(PR_CAPBSET_DROP, cap) takes plain integers.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if rc != 0 {
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EPERM) => break,
                Some(libc::EINVAL) => break, // beyond the kernel's last capability
                _ => return Err(err),
            }
        }
    }
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData::default(); 2];
    // SAFETY: capset(2) reads one header and two data structs, both valid for the call;
    // pid 0 is the calling thread.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The highest capability number this kernel knows.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(63)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn status_field(status: &str, key: &str) -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap()
            .trim()
            .to_string()
    }

    #[test]
    fn a_thread_that_drops_has_no_capability_left_and_its_children_neither() {
        let (own, child) = std::thread::spawn(|| {
            drop_all().unwrap();
            let own = std::fs::read_to_string("/proc/thread-self/status").unwrap();
            let child =
                std::thread::spawn(|| std::fs::read_to_string("/proc/thread-self/status").unwrap())
                    .join()
                    .unwrap();
            (own, child)
        })
        .join()
        .unwrap();
        for status in [own, child] {
            for key in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
                assert_eq!(status_field(&status, key), "0000000000000000", "{key}");
            }
            assert_eq!(status_field(&status, "NoNewPrivs:"), "1");
            if nix::unistd::geteuid().is_root() {
                assert_eq!(status_field(&status, "CapBnd:"), "0000000000000000");
            }
        }
    }
}
