//! Running one plugin process with a time limit, without helper threads: stdin is written and
//! stdout/stderr are read through one `poll` loop that also watches a pidfd for the exit.
//!
//! The plugin leads its own process group, so at the time limit the whole group (a script
//! and the `sleep` it waits on, iptables called by a plugin) is killed with SIGKILL. The child
//! is reaped only after the kill, so its group id cannot have been reused.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How one run ended, short of success.
#[derive(Debug)]
pub enum RunFailure {
    /// The process could not be started, or talking to it failed.
    Io(io::Error),
    /// The time limit passed; the process group was killed.
    TimedOut,
}

/// What a finished process left.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// How often a spawn failing with "text file busy" (a plugin being replaced) is retried, as
/// libcni does, and how long to wait in between.
const BUSY_RETRIES: u32 = 5;
const BUSY_WAIT: Duration = Duration::from_millis(200);

/// Runs `program` with `env` added to this process's environment, feeding `stdin`.
pub fn run<'a>(
    program: &Path,
    stdin: &[u8],
    env: impl IntoIterator<Item = (&'a str, &'a OsStr)> + Clone,
    limit: Duration,
) -> Result<Finished, RunFailure> {
    let deadline = Instant::now() + limit;
    let mut child = spawn(program, env)?;
    let pidfd = match pidfd_open(&child) {
        Ok(fd) => fd,
        Err(e) => {
            kill_group(&child);
            let _ = child.wait();
            return Err(RunFailure::Io(e));
        }
    };
    let pipes = Pipes::take(&mut child).map_err(RunFailure::Io)?;
    match pump(pipes, stdin, &pidfd, deadline) {
        Ok((stdout, stderr)) => {
            let status = child.wait().map_err(RunFailure::Io)?;
            Ok(Finished {
                status,
                stdout,
                stderr,
            })
        }
        Err(failure) => {
            kill_group(&child);
            let _ = child.wait();
            Err(failure)
        }
    }
}

fn spawn<'a>(
    program: &Path,
    env: impl IntoIterator<Item = (&'a str, &'a OsStr)> + Clone,
) -> Result<Child, RunFailure> {
    let mut attempt = 0;
    loop {
        let spawned = std::process::Command::new(program)
            .envs(env.clone())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn();
        match spawned {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && attempt < BUSY_RETRIES => {
                attempt += 1;
                std::thread::sleep(BUSY_WAIT);
            }
            other => return other.map_err(RunFailure::Io),
        }
    }
}

fn pidfd_open(child: &Child) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is shared.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(io::Error::other)?;
    // SAFETY: the syscall succeeded, so `fd` is a new open descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn kill_group(child: &Child) {
    let Ok(pid) = i32::try_from(child.id()) else {
        return;
    };
    // the child is not reaped yet, so its pid is still its group id
    if let Err(e) = killpg(Pid::from_raw(pid), Signal::SIGKILL) {
        tracing::debug!(pid, error = %e, "killing the plugin's process group");
    }
}

struct Pipes {
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
}

impl Pipes {
    fn take(child: &mut Child) -> io::Result<Self> {
        let pipes = Pipes {
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: child.stderr.take(),
        };
        for fd in [
            pipes.stdin.as_ref().map(|p| p.as_fd()),
            pipes.stdout.as_ref().map(|p| p.as_fd()),
            pipes.stderr.as_ref().map(|p| p.as_fd()),
        ]
        .into_iter()
        .flatten()
        {
            fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(io::Error::from)?;
        }
        Ok(pipes)
    }
}

/// Reads `from` until it would block; `false` at end of file.
fn drain(from: &mut impl Read, into: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Feeds stdin and collects stdout and stderr until the process has exited and both pipes are
/// closed, or the deadline passes.
fn pump(
    mut pipes: Pipes,
    input: &[u8],
    pidfd: &OwnedFd,
    deadline: Instant,
) -> Result<(Vec<u8>, Vec<u8>), RunFailure> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut written = 0;
    let mut exited = false;
    if input.is_empty() {
        pipes.stdin = None;
    }
    loop {
        if exited && pipes.stdout.is_none() && pipes.stderr.is_none() {
            return Ok((out, err));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RunFailure::TimedOut);
        }
        // round up so that less than a millisecond left does not spin
        let timeout =
            PollTimeout::try_from(left + Duration::from_micros(999)).unwrap_or(PollTimeout::MAX);
        let (stdin_fd, stdout_fd, stderr_fd) = (
            pipes.stdin.as_ref().map(|p| p.as_raw_fd()),
            pipes.stdout.as_ref().map(|p| p.as_raw_fd()),
            pipes.stderr.as_ref().map(|p| p.as_raw_fd()),
        );
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(4);
        if let Some(p) = &pipes.stdin {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLOUT));
        }
        if let Some(p) = &pipes.stdout {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        if let Some(p) = &pipes.stderr {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        if !exited {
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(RunFailure::Io(e.into())),
        }
        let ready: Vec<(i32, bool)> = fds
            .iter()
            .map(|fd| {
                let raw = fd.as_fd().as_raw_fd();
                (raw, fd.any().unwrap_or(true))
            })
            .collect();
        drop(fds);
        for (raw, is_ready) in ready {
            if !is_ready {
                continue;
            }
            if Some(raw) == stdin_fd {
                if let Some(pipe) = pipes.stdin.as_mut() {
                    match pipe.write(&input[written..]) {
                        Ok(n) => written += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        // the plugin closed its stdin without reading it all: its choice
                        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => written = input.len(),
                        Err(e) => return Err(RunFailure::Io(e)),
                    }
                    if written == input.len() {
                        pipes.stdin = None;
                    }
                }
            } else if Some(raw) == stdout_fd {
                if let Some(pipe) = pipes.stdout.as_mut() {
                    if !drain(pipe, &mut out).map_err(RunFailure::Io)? {
                        pipes.stdout = None;
                    }
                }
            } else if Some(raw) == stderr_fd {
                if let Some(pipe) = pipes.stderr.as_mut() {
                    if !drain(pipe, &mut err).map_err(RunFailure::Io)? {
                        pipes.stderr = None;
                    }
                }
            } else {
                exited = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_stdin_is_echoed_back_whole() {
        let big: Vec<u8> = (0..300_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let done = run(Path::new("/bin/cat"), &big, [], Duration::from_secs(30))
            .map_err(|e| format!("{e:?}"))
            .expect("cat");
        assert!(done.status.success());
        assert_eq!(done.stdout, big);
    }

    #[test]
    fn stderr_and_exit_status_are_kept_and_env_is_passed() {
        let env: [(&str, &OsStr); 1] = [("CNI_COMMAND", OsStr::new("ADD"))];
        let done = run(
            Path::new("/bin/sh"),
            b"echo \"$CNI_COMMAND\"; echo oops >&2; exit 3",
            env,
            Duration::from_secs(30),
        )
        .map_err(|e| format!("{e:?}"))
        .expect("sh");
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(done.stdout, b"ADD\n");
        assert_eq!(done.stderr, b"oops\n");
    }

    #[test]
    fn a_hanging_process_group_is_killed_at_the_limit() {
        // the shell waits on a background sleep that holds stdout: both must die
        let marker = tempfile::NamedTempFile::new().expect("tmp");
        let script = format!("sleep 600 & echo $! > {}; wait", marker.path().display());
        let failure = run(
            Path::new("/bin/sh"),
            script.as_bytes(),
            [],
            Duration::from_millis(300),
        )
        .expect_err("must time out");
        assert!(matches!(failure, RunFailure::TimedOut), "{failure:?}");
        let pid: i32 = std::fs::read_to_string(marker.path())
            .expect("pid")
            .trim()
            .parse()
            .expect("number");
        // the sleep was in the killed group; once it is reaped by init it is gone
        let gone = (0..200).any(|_| {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie_or_gone = state.is_empty() || state.split(' ').nth(2) == Some("Z");
            if !zombie_or_gone {
                std::thread::sleep(Duration::from_millis(10));
            }
            zombie_or_gone
        });
        assert!(gone, "the background sleep {pid} survived the kill");
    }

    #[test]
    fn a_missing_program_is_an_io_failure() {
        let failure = run(
            Path::new("/nonexistent/plugin"),
            b"{}",
            [],
            Duration::from_secs(1),
        )
        .expect_err("missing");
        assert!(
            matches!(failure, RunFailure::Io(ref e) if e.kind() == io::ErrorKind::NotFound),
            "{failure:?}"
        );
    }
}
