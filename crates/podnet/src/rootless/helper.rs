//! Starting the user-mode network stack that gives the rootless netns outbound
//! connectivity: pasta (default) or slirp4netns.
//!
//! pasta daemonizes once the namespace is configured: its foreground process exits 0
//! and the daemon's pid is in the `--pid` file. slirp4netns stays in the foreground and
//! writes `1` to `--ready-fd` when ready; it is detached with `setsid` and reaped by a
//! thread of this process while it lives. Either way the helper is then identified by a
//! [`ProcessRecord`] and watched through a pidfd.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::error::RootlessError;
use super::holder::find_program;
use super::process::{cloexec_pipe, install_as_fd3, ProcessRecord};

/// Which user-mode network stack connects the rootless netns to the outside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RootlessNetHelper {
    /// pasta (package `passt`): the default, as in podman 5.
    #[default]
    Pasta,
    /// slirp4netns: podman 4's default.
    Slirp4netns,
}

impl RootlessNetHelper {
    /// The program name.
    pub fn program(self) -> &'static str {
        match self {
            Self::Pasta => "pasta",
            Self::Slirp4netns => "slirp4netns",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Self::Pasta => "passt",
            Self::Slirp4netns => "slirp4netns",
        }
    }

    /// The DNS forwarder address the netns' resolv.conf names.
    pub fn dns_forwarder(self) -> &'static str {
        match self {
            Self::Pasta => PASTA_DNS,
            Self::Slirp4netns => "10.0.2.3",
        }
    }
}

/// The address pasta forwards DNS queries from (podman uses the same).
const PASTA_DNS: &str = "169.254.1.1";

/// The tun/tap device both helpers need.
const TUN: &str = "/dev/net/tun";

/// How long a helper may take to configure the namespace.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`start`] needs.
#[derive(Debug)]
pub(crate) struct Start<'a> {
    pub helper: RootlessNetHelper,
    pub netns: &'a Path,
    pub dir: &'a Path,
    pub host_loopback: bool,
    pub extra_args: &'a [String],
    /// pasta's port forwards (`-t SPEC`, `-u SPEC` pairs); none forwarded when empty.
    pub port_args: &'a [String],
    /// slirp4netns's MTU; 65520 (podman's default) when `None`.
    pub mtu: Option<u32>,
}

/// Starts the helper for `netns` and returns its record once the namespace is configured.
pub(crate) fn start(s: &Start<'_>) -> Result<ProcessRecord, RootlessError> {
    let program = s.helper.program();
    let path = find_program(program).ok_or(RootlessError::HelperMissing {
        program,
        package: s.helper.package(),
    })?;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(TUN)
        .map_err(|source| RootlessError::Tun { program, source })?;
    let log_path = s.dir.join(format!("{program}.log"));
    let log = File::create(&log_path).map_err(|source| RootlessError::File {
        action: "create",
        path: log_path.clone(),
        source,
    })?;
    match s.helper {
        RootlessNetHelper::Pasta => start_pasta(s, &path, log, &log_path),
        RootlessNetHelper::Slirp4netns => start_slirp(s, &path, log, &log_path),
    }
}

fn failure(s: &Start<'_>, log_path: &Path, what: String) -> RootlessError {
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let log: String = log
        .lines()
        .filter(|l| !l.starts_with("Failed to send") && !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    RootlessError::Helper {
        program: s.helper.program(),
        netns: s.netns.to_path_buf(),
        detail: if log.is_empty() {
            what
        } else {
            format!("{what}: {log}")
        },
    }
}

fn spawn_err(path: &Path) -> impl FnOnce(std::io::Error) -> RootlessError + '_ {
    move |source| RootlessError::Spawn {
        program: path.display().to_string(),
        source,
    }
}

fn start_pasta(
    s: &Start<'_>,
    path: &Path,
    log: File,
    log_path: &Path,
) -> Result<ProcessRecord, RootlessError> {
    let pid_file = s.dir.join("pasta.pid");
    let _ = std::fs::remove_file(&pid_file);
    let mut cmd = Command::new(path);
    cmd.arg("--config-net")
        .arg("--netns")
        .arg(s.netns)
        .arg("--pid")
        .arg(&pid_file)
        .args(["--quiet", "--dns-forward", PASTA_DNS])
        // no automatic forwarding from the namespace to the host
        .args(["-T", "none", "-U", "none"]);
    if s.port_args.is_empty() {
        // the shared netns' ports go through forwarders, not pasta's automatic scan
        cmd.args(["-t", "none", "-u", "none"]);
    } else {
        cmd.args(s.port_args);
    }
    if !s.host_loopback {
        cmd.arg("--no-map-gw");
    }
    cmd.args(s.extra_args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(spawn_err(path))?)
        .stderr(log);
    // SAFETY: between fork and exec; one raw syscall (close_range).
    unsafe {
        cmd.pre_exec(|| {
            super::process::cloexec_from(3);
            Ok(())
        });
    }
    tracing::debug!(netns = %s.netns.display(), "starting pasta");
    let status = cmd.status().map_err(spawn_err(path))?;
    if !status.success() {
        return Err(failure(s, log_path, format!("exited with {status}")));
    }
    let pid = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
        .ok_or_else(|| {
            failure(
                s,
                log_path,
                format!("wrote no pid to {}", pid_file.display()),
            )
        })?;
    ProcessRecord::of(pid).ok_or_else(|| failure(s, log_path, format!("daemon {pid} died")))
}

fn start_slirp(
    s: &Start<'_>,
    path: &Path,
    log: File,
    log_path: &Path,
) -> Result<ProcessRecord, RootlessError> {
    let (ready_r, ready_w) = cloexec_pipe().map_err(spawn_err(path))?;
    let api_socket: PathBuf = s.dir.join("slirp4netns.sock");
    let _ = std::fs::remove_file(&api_socket);
    let mut cmd = Command::new(path);
    cmd.args(["--configure", "--netns-type=path", "--ready-fd=3"])
        .arg(format!("--mtu={}", s.mtu.unwrap_or(65520)))
        // relative to its working directory, `dir`: a long `dir` would not fit
        // sun_path's 108 bytes
        .arg("--api-socket=slirp4netns.sock")
        .current_dir(s.dir);
    if !s.host_loopback {
        cmd.arg("--disable-host-loopback");
    }
    cmd.args(s.extra_args)
        .arg(s.netns)
        .arg("tap0")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(spawn_err(path))?)
        .stderr(log);
    let ready_w_raw = ready_w.as_raw_fd();
    // SAFETY: between fork and exec; raw syscalls only (setsid, dup2/fcntl) on an fd that
    // is open in the child (it was inherited across the fork).
    unsafe {
        cmd.pre_exec(move || {
            let _ = nix::unistd::setsid();
            install_as_fd3(ready_w_raw)?;
            super::process::cloexec_from(4);
            Ok(())
        });
    }
    tracing::debug!(netns = %s.netns.display(), "starting slirp4netns");
    let mut child = cmd.spawn().map_err(spawn_err(path))?;
    drop(ready_w);
    let ready = wait_ready(&ready_r);
    let pid = child.id();
    if !ready {
        let _ = child.kill();
        let status = child
            .wait()
            .map_or_else(|e| e.to_string(), |s| s.to_string());
        return Err(failure(s, log_path, format!("not ready ({status})")));
    }
    let record = ProcessRecord::of(pid);
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    record.ok_or_else(|| failure(s, log_path, format!("{pid} died")))
}

/// Waits for one byte on the ready pipe, up to [`READY_TIMEOUT`].
fn wait_ready(fd: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(std::os::fd::AsFd::as_fd(fd), PollFlags::POLLIN)];
    let ms = u16::try_from(READY_TIMEOUT.as_millis()).unwrap_or(u16::MAX);
    if !matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0) {
        return false;
    }
    let mut byte = [0u8; 1];
    let Ok(dup) = fd.try_clone() else {
        return false;
    };
    matches!(File::from(dup).read(&mut byte), Ok(1))
}
