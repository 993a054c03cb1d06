//! Identifying and watching long-lived helper processes across podnet invocations.
//!
//! A process is recorded as `PID STARTTIME` (the start time in clock ticks from
//! `/proc/PID/stat`), so a recycled pid is never mistaken for the recorded process.
//! Liveness and signals go through a pidfd opened *before* the start time is checked,
//! which pins the identity: once the pidfd matches, signals cannot reach another process.
//! A process that exited but was not reaped yet (a zombie: init reaps orphans slowly on
//! some machines) counts as dead.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use super::error::RootlessError;

/// A process as recorded on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcessRecord {
    pub pid: u32,
    pub start_time: u64,
}

/// The fields of `/proc/PID/stat` we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcStat {
    pub state: char,
    pub start_time: u64,
}

/// Parses the text of `/proc/PID/stat`. The command name (field 2) may contain spaces
/// and parentheses, so fields are counted after the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); starttime is field 22.
    let state = fields.first()?.chars().next()?;
    let start_time = fields.get(19)?.parse().ok()?;
    Some(ProcStat { state, start_time })
}

/// Reads `/proc/PID/stat`; `None` if the process does not exist.
pub(crate) fn read_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

impl ProcessRecord {
    /// Records a running process by pid.
    pub fn of(pid: u32) -> Option<Self> {
        let stat = read_stat(pid)?;
        Some(Self {
            pid,
            start_time: stat.start_time,
        })
    }

    /// Parses `PID STARTTIME`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut it = text.split_whitespace();
        let pid = it.next()?.parse().ok()?;
        let start_time = it.next()?.parse().ok()?;
        (pid > 0).then_some(Self { pid, start_time })
    }

    /// Reads a record file; `None` if it is missing or malformed.
    pub fn read(path: &Path) -> Option<Self> {
        Self::parse(&std::fs::read_to_string(path).ok()?)
    }

    /// Writes the record atomically (temp file + rename).
    pub fn write(&self, path: &Path) -> Result<(), RootlessError> {
        write_atomic(
            path,
            format!("{} {}\n", self.pid, self.start_time).as_bytes(),
        )
    }

    /// Opens a pidfd for the recorded process if it is still that process and alive.
    pub fn open_live(&self) -> Option<PidFd> {
        let pidfd = PidFd::open(self.pid).ok()?;
        let stat = read_stat(self.pid)?;
        if stat.start_time != self.start_time || matches!(stat.state, 'Z' | 'X') {
            return None;
        }
        (!pidfd.exited()).then_some(pidfd)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RootlessError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        RootlessError::File {
            action: "write",
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Between fork and exec: makes the inherited fd `raw` the child's fd 3, open across the
/// exec (raw syscalls only: dup2, or fcntl when it already is fd 3).
pub(crate) fn install_as_fd3(raw: std::os::fd::RawFd) -> std::io::Result<()> {
    // SAFETY: plain fd syscalls on integers; async-signal-safe.
    let ret = unsafe {
        if raw == 3 {
            libc::fcntl(3, libc::F_SETFD, 0)
        } else {
            libc::dup2(raw, 3)
        }
    };
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Between fork and exec: marks every descriptor from `first` up close-on-exec, so a
/// long-lived helper (the namespace holder, pasta, slirp4netns, a forwarder) keeps none of
/// the descriptors its caller inherited without `O_CLOEXEC`: the lock fd of a
/// `flock LOCK podnet ...`, a pipe of the caller's caller. Kept open there, such a fd would
/// hold the caller's lock for the helper's whole life. Best effort (close_range's
/// `CLOSE_RANGE_CLOEXEC` needs Linux 5.11); one raw syscall, async-signal-safe.
pub(crate) fn cloexec_from(first: u32) {
    // SAFETY: close_range only sets the close-on-exec flag of descriptors; no memory is
    // touched and nothing is allocated.
    let _ = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
}

/// A pipe whose both ends close on exec (the child gets its end through
/// [`install_as_fd3`]).
pub(crate) fn cloexec_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(std::io::Error::from)
}

/// A pidfd: a handle on one process that survives pid reuse.
#[derive(Debug)]
pub(crate) struct PidFd {
    pid: u32,
    fd: OwnedFd,
}

impl PidFd {
    /// `pidfd_open(pid, 0)`.
    pub fn open(pid: u32) -> std::io::Result<Self> {
        let raw_pid = libc::pid_t::try_from(pid)
            .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; nix has no
        // wrapper for it.
        let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, raw_pid, 0) };
        if ret < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let raw = i32::try_from(ret).map_err(|_| std::io::Error::from_raw_os_error(libc::EBADF))?;
        // SAFETY: the syscall succeeded, so `raw` is a fresh fd that we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Self { pid, fd })
    }

    /// The pid this handle refers to.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// True once the process has exited (readable pidfd), or is a zombie.
    pub fn exited(&self) -> bool {
        if self.wait_readable(Duration::ZERO) {
            return true;
        }
        read_stat(self.pid).is_none_or(|s| matches!(s.state, 'Z' | 'X'))
    }

    fn wait_readable(&self, timeout: Duration) -> bool {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0)
    }

    /// Sends `signal` through the pidfd (never to a recycled pid).
    pub fn signal(&self, signal: Signal) -> Result<(), RootlessError> {
        // SAFETY: pidfd_send_signal(fd, sig, NULL, 0) reads nothing from userspace; the fd
        // is valid for the lifetime of `self`. nix has no wrapper for it.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal as libc::c_int,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if ret < 0 {
            let source = std::io::Error::last_os_error();
            if source.raw_os_error() == Some(libc::ESRCH) {
                return Ok(());
            }
            return Err(RootlessError::Process {
                action: "signal",
                pid: self.pid,
                source,
            });
        }
        Ok(())
    }

    /// Waits until the process exited (or became a zombie), up to `timeout`.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.exited() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // Poll in short steps: a zombie's pidfd is readable, but an exit noticed only
            // through /proc must be re-checked.
            self.wait_readable(left.min(Duration::from_millis(50)));
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; returns once the process is gone or a zombie.
    pub fn terminate(&self, grace: Duration) -> Result<(), RootlessError> {
        self.signal(Signal::SIGTERM)?;
        if self.wait_exit(grace) {
            return Ok(());
        }
        tracing::warn!(pid = self.pid, "process ignored SIGTERM; sending SIGKILL");
        self.signal(Signal::SIGKILL)?;
        if self.wait_exit(Duration::from_secs(5)) {
            Ok(())
        } else {
            Err(RootlessError::Process {
                action: "kill",
                pid: self.pid,
                source: std::io::Error::from_raw_os_error(libc::ETIMEDOUT),
            })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The fds a child lists in /proc/self/fd, spawned with or without `cloexec_from(3)`.
    fn fds_of_child(cloexec: bool) -> Vec<i32> {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new("ls");
        cmd.arg("/proc/self/fd");
        if cloexec {
            // SAFETY: one raw syscall between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    cloexec_from(3);
                    Ok(())
                });
            }
        }
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|fd| fd.parse().ok())
            .collect()
    }

    #[test]
    fn helpers_keep_no_inherited_descriptor() {
        // an fd without O_CLOEXEC, as `flock LOCK podnet ...` hands its lock fd down
        let file = File::open("/proc/self/status").unwrap();
        let inherited = nix::unistd::dup(&file).unwrap();
        let raw = inherited.as_raw_fd();
        assert!(
            fds_of_child(false).contains(&raw),
            "control: {raw} is inherited"
        );
        assert!(
            !fds_of_child(true).contains(&raw),
            "{raw} survived cloexec_from(3)"
        );
    }

    #[test]
    fn parses_stat_with_spaces_and_parens_in_comm() {
        let text =
            "4242 (a b) c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(
            parse_stat(text),
            Some(ProcStat {
                state: 'S',
                start_time: 987654
            })
        );
        assert_eq!(parse_stat("12 (x) Z 1"), None);
    }

    #[test]
    fn record_round_trip_and_rejects_garbage() {
        assert_eq!(
            ProcessRecord::parse("12 345\n"),
            Some(ProcessRecord {
                pid: 12,
                start_time: 345
            })
        );
        assert_eq!(ProcessRecord::parse("0 345"), None);
        assert_eq!(ProcessRecord::parse("12"), None);
        assert_eq!(ProcessRecord::parse("x 1"), None);
    }

    #[test]
    fn own_process_is_live_and_wrong_start_time_is_not() {
        let me = ProcessRecord::of(std::process::id()).unwrap();
        assert!(me.open_live().is_some());
        let other = ProcessRecord {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(other.open_live().is_none());
    }

    #[test]
    fn exited_child_is_dead_even_unreaped() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pidfd = PidFd::open(child.id()).unwrap();
        assert!(pidfd.wait_exit(Duration::from_secs(5)));
        // Still a zombie here: not reaped yet.
        assert!(pidfd.exited());
        child.wait().unwrap();
    }

    #[test]
    fn terminate_stops_a_sleeping_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pidfd = PidFd::open(child.id()).unwrap();
        assert!(!pidfd.exited());
        pidfd.terminate(Duration::from_secs(2)).unwrap();
        assert!(!child.wait().unwrap().success());
    }

    #[test]
    fn write_atomic_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec");
        ProcessRecord {
            pid: 1,
            start_time: 2,
        }
        .write(&path)
        .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1 2\n");
        assert_eq!(
            ProcessRecord::read(&path),
            Some(ProcessRecord {
                pid: 1,
                start_time: 2
            })
        );
    }
}
