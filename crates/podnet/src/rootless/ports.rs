//! Starting and stopping the per-container port forwarder processes.
//!
//! Layout, in the rootless netns state directory:
//!
//! ```text
//! ports/<container id>       "PID STARTTIME" of the container's forwarder
//! ports/<container id>.log   its stderr
//! ```

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::error::RootlessError;
use super::forwarder::{ForwarderSpec, PortForward, PORT_FORWARDER_ENV};
use super::holder::create_private_dir;
use super::members::validate_id;
use super::process::{cloexec_pipe, install_as_fd3, ProcessRecord};

/// How long a forwarder may take to bind its ports.
const READY_TIMEOUT_MS: u16 = 10_000;

fn record_path(dir: &Path, container_id: &str) -> PathBuf {
    dir.join("ports").join(container_id)
}

/// The live forwarder of `container_id`, if any.
pub(crate) fn live(dir: &Path, container_id: &str) -> Option<ProcessRecord> {
    let record = ProcessRecord::read(&record_path(dir, container_id))?;
    record.open_live().map(|_| record)
}

/// Stops `container_id`'s forwarder; false if none was running.
pub(crate) fn stop(dir: &Path, container_id: &str) -> Result<bool, RootlessError> {
    validate_id(container_id)?;
    let path = record_path(dir, container_id);
    let mut stopped = false;
    if let Some(pidfd) = ProcessRecord::read(&path).and_then(|r| r.open_live()) {
        tracing::debug!(container_id, pid = pidfd.pid(), "stopping port forwarder");
        pidfd.terminate(Duration::from_secs(2))?;
        stopped = true;
    }
    for p in [path.clone(), path.with_extension("log")] {
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(RootlessError::File {
                    action: "remove",
                    path: p,
                    source,
                })
            }
        }
    }
    Ok(stopped)
}

/// Stops every forwarder recorded under `dir`.
pub(crate) fn stop_all(dir: &Path) -> Result<(), RootlessError> {
    let Ok(entries) = std::fs::read_dir(dir.join("ports")) else {
        return Ok(());
    };
    let mut first = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name.to_str().filter(|n| !n.ends_with(".log")) else {
            continue;
        };
        if let Err(e) = stop(dir, id) {
            tracing::warn!(container_id = id, error = %e, "cannot stop port forwarder");
            first.get_or_insert(e);
        }
    }
    let _ = std::fs::remove_dir(dir.join("ports"));
    first.map_or(Ok(()), Err)
}

/// Replaces `container_id`'s forwarder with one serving `ports` (none: just stops it).
/// `cmd` is the forwarder program (a program whose entry point calls
/// [`super::run_port_forwarder`]); it gets the spec in its environment and fd 3 for
/// readiness.
pub(crate) fn start(
    dir: &Path,
    container_id: &str,
    netns: &Path,
    cmd: Command,
    ports: &[PortForward],
) -> Result<Option<ProcessRecord>, RootlessError> {
    let spec = ForwarderSpec {
        netns: netns.to_path_buf(),
        ports: ports.to_vec(),
        hold_only: false,
    };
    start_spec(dir, container_id, cmd, &spec)
}

/// Replaces `container_id`'s port holder with one holding `ports` bound and forwarding
/// nothing (none: just stops it); same layout and program as a forwarder.
pub(crate) fn start_holder(
    dir: &Path,
    container_id: &str,
    cmd: Command,
    ports: &[PortForward],
) -> Result<Option<ProcessRecord>, RootlessError> {
    let spec = ForwarderSpec {
        netns: PathBuf::new(),
        ports: ports.to_vec(),
        hold_only: true,
    };
    start_spec(dir, container_id, cmd, &spec)
}

fn start_spec(
    dir: &Path,
    container_id: &str,
    mut cmd: Command,
    spec: &ForwarderSpec,
) -> Result<Option<ProcessRecord>, RootlessError> {
    let ports = &spec.ports;
    stop(dir, container_id)?;
    if ports.is_empty() {
        return Ok(None);
    }
    create_private_dir(&dir.join("ports"))?;
    let path = record_path(dir, container_id);
    let log_path = path.with_extension("log");
    let spec = serde_json::to_string(spec).map_err(|e| start_err(container_id, e.to_string()))?;
    let log = File::create(&log_path).map_err(|source| RootlessError::File {
        action: "create",
        path: log_path.clone(),
        source,
    })?;
    let (ready_r, ready_w) = cloexec_pipe().map_err(|e| start_err(container_id, e.to_string()))?;
    let ready_w_raw = ready_w.as_raw_fd();
    cmd.env(PORT_FORWARDER_ENV, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // SAFETY: between fork and exec; raw syscalls only (setsid, dup2/fcntl) on an fd that
    // was inherited across the fork.
    unsafe {
        cmd.pre_exec(move || {
            let _ = nix::unistd::setsid();
            install_as_fd3(ready_w_raw)?;
            super::process::cloexec_from(4);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|source| RootlessError::Spawn {
        program: format!("{:?}", cmd.get_program()),
        source,
    })?;
    drop(ready_w);
    if !wait_ready(&ready_r) {
        let _ = child.kill();
        let status = child
            .wait()
            .map_or_else(|e| e.to_string(), |s| s.to_string());
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        return Err(start_err(container_id, format!("{status}: {}", log.trim())));
    }
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    let record = ProcessRecord::of(pid)
        .ok_or_else(|| start_err(container_id, format!("{pid} exited after binding")))?;
    record.write(&path)?;
    tracing::debug!(
        container_id,
        pid,
        ports = ports.len(),
        "port forwarder running"
    );
    Ok(Some(record))
}

fn start_err(container_id: &str, detail: String) -> RootlessError {
    RootlessError::ForwarderStart {
        container_id: container_id.to_string(),
        detail,
    }
}

fn wait_ready(fd: &OwnedFd) -> bool {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    if !matches!(poll(&mut fds, PollTimeout::from(READY_TIMEOUT_MS)), Ok(n) if n > 0) {
        return false;
    }
    let Ok(dup) = fd.try_clone() else {
        return false;
    };
    let mut byte = [0u8; 1];
    matches!(File::from(dup).read(&mut byte), Ok(1))
}
