//! Network namespaces owned by a new user namespace (containerd's pinned-userns design).
//!
//! `unshare(CLONE_NEWUSER)` fails with EINVAL in a multithreaded process, so a forked,
//! single-threaded child makes both namespaces while the parent drives it over two pipes:
//!
//! ```text
//! parent                                   child (raw syscalls only, no allocation)
//! fork, pidfd_open(child)          ──────▶ unshare(CLONE_NEWUSER); report errno
//! write uid_map/gid_map (directly as
//!   root, else newuidmap/newgidmap)
//! "go"                             ──────▶ unshare(CLONE_NEWNET); report errno
//! open /proc/PID/ns/{user,net};            wait for the pipe to close
//! pidfd still alive => they are the child's
//! bind /proc/self/fd/NETFD onto the pin
//! close pipe, reap                 ──────▶ _exit(0)
//! ```
//!
//! The network namespace holds a reference to its owning user namespace, so the one pin
//! keeps both alive; [`NetNs::owner_userns`] gets the user namespace back.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, geteuid, pipe2, ForkResult, Pid};
use rootless_detect::IdMapping;

use crate::{create, name, pindir, Error, NetNs};

/// The child side of the handshake; the parent drives it and reaps it on drop.
struct Child {
    pid: Pid,
    pidfd: OwnedFd,
    to_child: Option<OwnedFd>,
    from_child: OwnedFd,
}

impl Child {
    /// Reads the child's report of one step: 0, or the errno it failed with.
    fn step(&self, path: &Path, step: &'static str) -> Result<(), Error> {
        let mut buf = [0u8; 4];
        let mut got = 0;
        while got < buf.len() {
            match nix::unistd::read(&self.from_child, &mut buf[got..]) {
                Ok(0) => {
                    return Err(Error::UsernsChild {
                        path: path.to_path_buf(),
                        step,
                        source: Errno::ECHILD,
                    })
                }
                Ok(n) => got += n,
                Err(Errno::EINTR) => {}
                Err(source) => {
                    return Err(Error::UsernsChild {
                        path: path.to_path_buf(),
                        step,
                        source,
                    })
                }
            }
        }
        match i32::from_ne_bytes(buf) {
            0 => Ok(()),
            errno => Err(Error::UsernsChild {
                path: path.to_path_buf(),
                step,
                source: Errno::from_raw(errno),
            }),
        }
    }

    fn go(&self, path: &Path) -> Result<(), Error> {
        let fd = self.to_child.as_ref().ok_or(Errno::EBADF);
        fd.and_then(|fd| nix::unistd::write(fd, b"g"))
            .map(drop)
            .map_err(|source| Error::UsernsChild {
                path: path.to_path_buf(),
                step: "signal the child",
                source,
            })
    }

    /// True while the child has not exited (pidfd not readable): the PID is still ours.
    fn alive(&self) -> bool {
        let mut fds = [PollFd::new(self.pidfd.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(0))
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // closing the pipe lets a waiting child exit; SIGKILL covers every other state.
        // Both the signal and the wait go through the pidfd, so they can never reach
        // another process that reused the PID.
        self.to_child = None;
        let fd = self.pidfd.as_raw_fd();
        // SAFETY: pidfd_send_signal with a pidfd we own, a signal number, no siginfo.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
        // SAFETY: waitid(P_PIDFD) on a pidfd we own, into a writable siginfo buffer.
        unsafe {
            libc::waitid(
                libc::P_PIDFD,
                fd as libc::id_t,
                info.as_mut_ptr(),
                libc::WEXITED | libc::__WALL,
            )
        };
    }
}

fn report(fd: RawFd, result: nix::Result<()>) -> bool {
    let code: i32 = match result {
        Ok(()) => 0,
        Err(e) => e as i32,
    };
    let bytes = code.to_ne_bytes();
    // SAFETY: writes 4 bytes from a live stack buffer to an fd this process holds.
    let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    n == 4 && code == 0
}

/// The child between fork and `_exit`: async-signal-safe syscalls only.
fn child_main(to_parent: RawFd, from_parent: RawFd) -> ! {
    // SAFETY: prctl with integer arguments; dies with the parent instead of lingering.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    let mut byte = 0u8;
    let ok = report(to_parent, unshare(CloneFlags::CLONE_NEWUSER))
        // SAFETY: reads one byte into a live stack variable.
        && unsafe { libc::read(from_parent, (&raw mut byte).cast(), 1) } == 1
        && report(to_parent, unshare(CloneFlags::CLONE_NEWNET));
    if ok {
        // SAFETY: as above; returns 0 when the parent closes its end.
        while unsafe { libc::read(from_parent, (&raw mut byte).cast(), 1) } > 0 {}
    }
    // SAFETY: _exit ends the child without running the parent's atexit handlers.
    unsafe { libc::_exit(i32::from(!ok)) }
}

fn spawn_child(path: &Path) -> Result<Child, Error> {
    let err = |step, source| Error::UsernsChild {
        path: path.to_path_buf(),
        step,
        source,
    };
    let (from_child, child_out) = pipe2(OFlag::O_CLOEXEC).map_err(|e| err("pipe", e))?;
    let (child_in, to_child) = pipe2(OFlag::O_CLOEXEC).map_err(|e| err("pipe", e))?;
    let (out_raw, in_raw) = (child_out.as_raw_fd(), child_in.as_raw_fd());
    // SAFETY: the child runs only `child_main`, which makes raw async-signal-safe syscalls
    // (no allocation, no locks) and ends in _exit, as required after fork in a
    // multithreaded process.
    let pid = match unsafe { fork() }.map_err(|e| err("fork", e))? {
        ForkResult::Child => child_main(out_raw, in_raw),
        ForkResult::Parent { child } => child,
    };
    drop((child_out, child_in));
    // SAFETY: pidfd_open takes a pid and flags; the child is unreaped, so the pid is its.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    let pidfd = if raw < 0 {
        let e = Errno::last();
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
        return Err(err("pidfd_open", e));
    } else {
        // SAFETY: a fresh fd from the kernel, owned by nobody else.
        unsafe { OwnedFd::from_raw_fd(raw as RawFd) }
    };
    Ok(Child {
        pid,
        pidfd,
        to_child: Some(to_child),
        from_child,
    })
}

/// `inside host size` lines, the kernel's map format.
fn map_text(maps: &[IdMapping]) -> String {
    let mut s = String::new();
    for m in maps {
        let _ = writeln!(s, "{} {} {}", m.container_id, m.host_id, m.size);
    }
    s
}

fn write_map(pid: Pid, which: &'static str, maps: &[IdMapping], path: &Path) -> Result<(), Error> {
    let fail = |detail: String| Error::IdMap {
        path: path.to_path_buf(),
        which,
        detail,
    };
    if maps.is_empty() {
        return Err(fail("no ranges given".into()));
    }
    if geteuid().is_root() {
        let file = format!("/proc/{pid}/{which}");
        // one write(2) with every line: the kernel accepts a map only once
        let text = map_text(maps);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .map_err(|e| fail(format!("{file}: {e}")))?;
        return f
            .write_all(text.as_bytes())
            .map_err(|e| fail(format!("{file} <- {:?}: {e}", text.trim_end())));
    }
    let tool = if which == "uid_map" {
        "newuidmap"
    } else {
        "newgidmap"
    };
    let mut cmd = Command::new(tool);
    cmd.arg(pid.to_string());
    for m in maps {
        cmd.args([
            m.container_id.to_string(),
            m.host_id.to_string(),
            m.size.to_string(),
        ]);
    }
    let out = cmd
        .output()
        .map_err(|e| fail(format!("cannot run {tool} (package uidmap): {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(fail(format!(
            "{tool} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl NetNs {
    /// Creates a user namespace with the given id maps (several ranges allowed) and a
    /// network namespace owned by it, pinned at `dir/name`.
    ///
    /// As root the maps are written directly; otherwise through `newuidmap`/`newgidmap`,
    /// which check them against `/etc/subuid` and `/etc/subgid`. The pin keeps both
    /// namespaces alive; [`NetNs::owner_userns`] returns the user namespace. A process in
    /// that user namespace has CAP_SYS_ADMIN over this network namespace (it can, say,
    /// mount sysfs for it), which it never has over one owned by the initial namespace.
    ///
    /// Equivalent (no `ip` command does it): `unshare -U --map-users=... -n sleep inf &`
    /// then `ip netns attach NAME $!`.
    pub fn create_with_userns(
        dir: impl AsRef<Path>,
        name: &str,
        uid_maps: &[IdMapping],
        gid_maps: &[IdMapping],
    ) -> Result<NetNs, Error> {
        name::validate(name)?;
        // dropped in reverse order on failure: child, pin, then the directory's set-up
        let prepared = pindir::prepare(dir.as_ref())?;
        let mut undo = create::pin_file_in(&prepared.path, Some(name))?;
        let path: PathBuf = undo.path.clone();
        let child = spawn_child(&path)?;
        tracing::debug!(path = %path.display(), pid = child.pid.as_raw(), "userns child started");
        child.step(&path, "unshare(CLONE_NEWUSER) in the child")?;
        write_map(child.pid, "uid_map", uid_maps, &path)?;
        write_map(child.pid, "gid_map", gid_maps, &path)?;
        child.go(&path)?;
        child.step(&path, "unshare(CLONE_NEWNET) in the child")?;
        let open = |kind: &str| {
            let p = PathBuf::from(format!("/proc/{}/ns/{kind}", child.pid));
            std::fs::File::open(&p)
                .map(OwnedFd::from)
                .map_err(|source| Error::Open { path: p, source })
        };
        let userns = open("user")?;
        let netns = open("net")?;
        if !child.alive() {
            return Err(Error::UsernsChild {
                path,
                step: "the child exited before its namespaces were pinned",
                source: Errno::ESRCH,
            });
        }
        let source = PathBuf::from(format!("/proc/self/fd/{}", netns.as_raw_fd()));
        create::bind_onto(&source, &path)?;
        undo.mounted = true;
        drop(child);
        drop(userns);
        let path = undo.keep();
        prepared.keep();
        tracing::debug!(path = %path.display(), "userns-owned network namespace pinned");
        Ok(NetNs::from_parts(netns, path))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn map_text_has_one_line_per_range() {
        let maps = [
            IdMapping {
                container_id: 0,
                host_id: 1000,
                size: 1,
            },
            IdMapping {
                container_id: 1,
                host_id: 200_000,
                size: 65_536,
            },
        ];
        assert_eq!(map_text(&maps), "0 1000 1\n1 200000 65536\n");
    }

    #[test]
    fn empty_maps_are_refused_before_any_write() {
        let err = write_map(Pid::from_raw(1), "uid_map", &[], Path::new("/x/p")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot write the uid_map of the user namespace for /x/p: no ranges given"
        );
    }
}
