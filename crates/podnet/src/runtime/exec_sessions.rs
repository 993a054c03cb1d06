//! Processes `podnet exec` starts in a container are the container's: recorded when
//! started (under the flow lock, so a concurrent `stop` either sees them or makes the exec
//! fail as not running) and ended, with their process group, by `stop` and `rm --force`
//! (`podman stop` ends a container's exec sessions with it). A record names the process by
//! PID and start time, so a PID reused by another process is never signalled.
//!
//! ```text
//! <containers_dir>/<id>/exec/<pid>     one file per live session: the process's start
//!                                       time (field 22 of /proc/<pid>/stat), removed by
//!                                       the session when it ends, or by the teardown
//! ```

use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::{files, FlowLock, Runtime, RuntimeError, Step, StepError};
use crate::backend::Backend;
use crate::{ContainerRecord, Error};

/// A running `exec` process of a container; [`ExecSession::wait`] waits for it and drops
/// its record.
#[derive(Debug)]
pub struct ExecSession {
    child: Child,
    record: PathBuf,
}

impl ExecSession {
    /// The process's PID.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end (by itself, or ended by the container's `stop`).
    pub fn wait(mut self) -> std::io::Result<ExitStatus> {
        self.child.wait()
    }
}

impl Drop for ExecSession {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.record) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %self.record.display(), error = %e, "removing an exec record");
            }
        }
    }
}

fn exec_dir(config: &super::RuntimeConfig, id: &str) -> PathBuf {
    files::container_dir(config, id).join("exec")
}

/// Field 22 (start time, clock ticks since boot) of `/proc/<pid>/stat`; `None` when the
/// process is gone.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name (field 2) may hold spaces and parentheses: fields after its `)`
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_owned)
}

impl<B: Backend> Runtime<B> {
    /// Starts an `exec` process in a running container and records it as the container's:
    /// `spawn` gets the record and starts the process (which must lead its own process
    /// group, so that ending the group ends what it started). Refused when the container
    /// is not running.
    pub fn start_exec(
        &self,
        name_or_id: &str,
        spawn: impl FnOnce(&ContainerRecord) -> Result<Child, Error>,
    ) -> Result<ExecSession, Error> {
        let _lock = FlowLock::acquire(&self.config)?;
        let record = self.container(name_or_id)?;
        if !record.running {
            return Err(RuntimeError::NotRunning(record.name).into());
        }
        let dir = exec_dir(&self.config, &record.id);
        std::fs::create_dir_all(&dir).map_err(|source| RuntimeError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut child = spawn(&record)?;
        let path = dir.join(child.id().to_string());
        let started = start_time(child.id()).unwrap_or_default();
        if let Err(source) = std::fs::write(&path, started) {
            // an untracked process must not outlive this call
            let _ = child.kill();
            let _ = child.wait();
            return Err(RuntimeError::Io { path, source }.into());
        }
        tracing::debug!(container = %record.name, pid = child.id(), "exec session started");
        Ok(ExecSession {
            child,
            record: path,
        })
    }

    /// Ends every recorded exec session of `record` (SIGKILL to its process group) and
    /// drops the records; a record whose process is gone or was replaced is just dropped.
    /// Best effort: returns what could not be done.
    pub(super) fn end_exec_sessions(&self, record: &ContainerRecord) -> Vec<StepError> {
        let dir = exec_dir(&self.config, &record.id);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if let Err(e) = end_one(&path) {
                errors.push(StepError::new(Step::ExecSession, e));
            }
        }
        errors
    }
}

fn end_one(path: &Path) -> Result<(), RuntimeError> {
    let io = |source: std::io::Error| RuntimeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let pid: i32 = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "an exec session record is named by its process ID",
            ))
        })?;
    let recorded = std::fs::read_to_string(path).map_err(io)?;
    match start_time(pid.unsigned_abs()) {
        Some(now) if now == recorded.trim() => {
            match killpg(Pid::from_raw(pid), Signal::SIGKILL) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(e) => return Err(io(std::io::Error::from(e))),
            }
            tracing::debug!(pid, "exec session ended");
        }
        _ => tracing::debug!(pid, "exec session already gone"),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
    }
}
