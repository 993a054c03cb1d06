//! A helper binary run with a time limit, in its own process group, dying with podnet.
//!
//! - The child leads a new process group, so on expiry the whole group (netavark and the
//!   `iptables`/`nft` it runs) is killed with one `killpg(SIGKILL)` and nothing of it is
//!   left holding locks.
//! - The child gets `PR_SET_PDEATHSIG(SIGKILL)`: when podnet is killed (even `kill -9`),
//!   the kernel kills netavark too. The signal follows the *thread* that forked the child,
//!   so the child is spawned and waited for on the same thread.
//! - aardvark-dns, which netavark starts and which podman's containers share, survives
//!   both: aardvark-dns 1.4 forks and its server calls `setsid()`, which moves it out of
//!   netavark's process group, and the parent-death signal is cleared for the child of a
//!   `fork` (prctl(2)), so the server never inherits it.
//!
//! - The child gets no file descriptor beyond stdio (`close_range(CLOSE_RANGE_CLOEXEC)`):
//!   a lock podnet's caller holds must not live on in a detached aardvark-dns.
//!
//! The wait is a `poll` on a pidfd with the remaining time, not a sleep loop.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::BackendError;

/// netavark's default time limit per call.
pub const DEFAULT_BACKEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `cmd` to completion, or kills its process group once `limit` has passed.
pub(crate) fn status(
    cmd: &mut Command,
    binary: &Path,
    command: &'static str,
    limit: Duration,
) -> Result<ExitStatus, BackendError> {
    let spawn_err = |source| BackendError::Spawn {
        binary: binary.to_path_buf(),
        command,
        source,
    };
    let parent = std::process::id() as libc::pid_t;
    cmd.process_group(0);
    // SAFETY: the closure makes raw syscalls only (no allocation, no locks), as required
    // between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // podnet died before the prctl took effect: no signal will come
            if libc::getppid() != parent {
                libc::_exit(137);
            }
            // no fd of ours beyond stdio reaches netavark, nor the aardvark-dns it starts
            // and that outlives us (a lock fd passed on would stay held for its lifetime)
            crate::rootless::cloexec_from(3);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(spawn_err)?;
    let pid = child.id() as libc::pid_t;
    let pidfd = pidfd_open(pid).map_err(spawn_err)?;
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let ms = u16::try_from(left.as_millis().min(60_000)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) => continue,
            Ok(_) => return child.wait().map_err(spawn_err),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(spawn_err(e.into())),
        }
    }
    tracing::warn!(binary = %binary.display(), command, limit_secs = limit.as_secs_f64(), "time limit reached: killing the process group");
    if let Err(e) = killpg(Pid::from_raw(pid), Signal::SIGKILL) {
        tracing::warn!(binary = %binary.display(), error = %e, "killing the process group failed");
    }
    // reaps netavark; the rest of its group is reaped by init or a subreaper
    let _ = child.wait();
    Err(BackendError::Timeout {
        binary: binary.to_path_buf(),
        command,
        limit,
    })
}

fn pidfd_open(pid: libc::pid_t) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) takes a pid and flags; the result is checked before use.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh fd returned by the kernel, owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(raw as i32) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn a_quick_command_returns_its_status() {
        let status = status(
            &mut sh("exit 3"),
            Path::new("/bin/sh"),
            "setup",
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(status.code(), Some(3));
    }

    #[test]
    fn the_child_leads_its_own_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let script = format!("echo $$ $(cut -d' ' -f5 /proc/$$/stat) > {}", out.display());
        status(
            &mut sh(&script),
            Path::new("/bin/sh"),
            "setup",
            Duration::from_secs(30),
        )
        .unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        let ids: Vec<i32> = text
            .split_whitespace()
            .map(|w| w.parse().unwrap())
            .collect();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0], ids[1], "pid and process group id: {text}");
        assert_ne!(ids[1], nix::unistd::getpgrp().as_raw());
    }

    #[test]
    fn no_inherited_descriptor_reaches_the_child() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::ffi::CString::new(dir.path().join("held").to_str().unwrap()).unwrap();
        // SAFETY: open(2) with a valid C string; the fd is closed below.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_CREAT | libc::O_RDWR, 0o600) };
        assert!(fd >= 3);
        // SAFETY: `fd` was just opened by this test and is owned by nothing else.
        let _owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let script = format!("if [ -e /proc/self/fd/{fd} ]; then exit 1; fi");
        let status = status(
            &mut sh(&script),
            Path::new("/bin/sh"),
            "setup",
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(status.code(), Some(0), "fd {fd} was inherited");
    }

    #[test]
    fn an_expired_limit_kills_the_whole_group_and_names_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // a grandchild in the same group, as netavark's iptables would be
        let script = format!(
            "sleep 600 & echo $! > {0}; echo $$ >> {0}; wait",
            pids.display()
        );
        let err = status(
            &mut sh(&script),
            Path::new("/usr/lib/podman/netavark"),
            "setup",
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "/usr/lib/podman/netavark setup did not finish within 300ms: its process group was killed"
        );
        let text = std::fs::read_to_string(&pids).unwrap();
        let grandchild: i32 = text.lines().next().unwrap().trim().parse().unwrap();
        // gone already, or its pidfd turns readable when it exits (a zombie counts as dead)
        if let Ok(fd) = pidfd_open(grandchild) {
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            let ready = poll(&mut fds, PollTimeout::from(10_000u16)).unwrap();
            assert_eq!(
                ready, 1,
                "sleep {grandchild} of the killed group still runs"
            );
        }
    }
}
