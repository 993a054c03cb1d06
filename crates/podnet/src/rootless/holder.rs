//! The holder of the user's user namespace and mount namespace (podman's pause process).
//!
//! On-disk layout, in the holder directory (default `<runtime dir>/podnet`):
//!
//! ```text
//! pause.lock   flock held while looking for, or creating, the holder
//! pause.pid    "PID STARTTIME" of the holder process
//! ```
//!
//! The holder is a `sleep infinity` (argv[0] `podnet-pause`) started in a fresh user
//! namespace and mount namespace (`unshare` between fork and exec), whose uid and gid maps
//! the parent then writes with `newuidmap`/`newgidmap`: the user's own id becomes 0 and
//! the user's subordinate ranges follow from 1. Every later podnet invocation of the user
//! joins the same namespaces with `setns` in a freshly forked child (a user namespace can
//! only be joined by a single-threaded process).

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fs2::FileExt;
use nix::sched::CloneFlags;

use super::error::RootlessError;
use super::ids;
use super::process::{PidFd, ProcessRecord};

/// Environment marker set for processes started inside the holder's namespaces; its value
/// is the holder's pid.
pub const USERNS_ENV: &str = "_PODNET_USERNS_CONFIGURED";

const PID_FILE: &str = "pause.pid";
const LOCK_FILE: &str = "pause.lock";

/// A live holder of the user's user namespace and mount namespace.
///
/// Holds a pidfd and open handles on both namespaces, so a value stays valid even if the
/// pid file is rewritten; [`UserNamespace::join`] prepares commands that run inside.
#[derive(Debug)]
pub struct UserNamespace {
    dir: PathBuf,
    pidfd: PidFd,
    user_ns: OwnedFd,
    mnt_ns: OwnedFd,
}

impl UserNamespace {
    /// The default holder directory: `<runtime dir>/podnet`.
    pub fn default_dir() -> Result<PathBuf, RootlessError> {
        Ok(ids::runtime_dir()?.join("podnet"))
    }

    /// Finds the user's live holder, or creates it (in [`UserNamespace::default_dir`]).
    pub fn ensure() -> Result<Self, RootlessError> {
        Self::ensure_in(&Self::default_dir()?)
    }

    /// Finds the live holder recorded in `dir`, or creates one, under `dir`'s lock so
    /// concurrent invocations agree on one holder.
    pub fn ensure_in(dir: &Path) -> Result<Self, RootlessError> {
        create_private_dir(dir)?;
        let _lock = lock(&dir.join(LOCK_FILE))?;
        if let Some(holder) = Self::find_in(dir)? {
            tracing::debug!(pid = holder.pid(), "joining existing user namespace holder");
            return Ok(holder);
        }
        Self::create(dir)
    }

    /// The live holder recorded in `dir`, if any. A recorded process that is gone, a
    /// zombie, a different process with a recycled pid, or one not in a user namespace of
    /// its own with a written uid map, is not a holder.
    pub fn find_in(dir: &Path) -> Result<Option<Self>, RootlessError> {
        let Some(record) = ProcessRecord::read(&dir.join(PID_FILE)) else {
            return Ok(None);
        };
        let Some(pidfd) = record.open_live() else {
            tracing::debug!(pid = record.pid, "recorded namespace holder is gone");
            return Ok(None);
        };
        let pid = record.pid;
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let Ok(theirs) = std::fs::metadata(proc_dir.join("ns/user")) else {
            return Ok(None);
        };
        let ours = std::fs::metadata("/proc/self/ns/user").map_err(|source| {
            RootlessError::OpenNamespace {
                path: PathBuf::from("/proc/self/ns/user"),
                source,
            }
        })?;
        if (theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino()) {
            tracing::warn!(
                pid,
                "recorded holder shares our user namespace; ignoring it"
            );
            return Ok(None);
        }
        let mapped =
            std::fs::read_to_string(proc_dir.join("uid_map")).is_ok_and(|m| !m.trim().is_empty());
        if !mapped {
            tracing::warn!(
                pid,
                "recorded holder has no uid map (creator died?); ignoring it"
            );
            return Ok(None);
        }
        let user_ns = open_ns(&proc_dir.join("ns/user"))?;
        let mnt_ns = open_ns(&proc_dir.join("ns/mnt"))?;
        // The handles were opened by pid: make sure it was still our process.
        if pidfd.exited() {
            return Ok(None);
        }
        Ok(Some(Self {
            dir: dir.to_path_buf(),
            pidfd,
            user_ns,
            mnt_ns,
        }))
    }

    fn create(dir: &Path) -> Result<Self, RootlessError> {
        let uid = ids::host_uid();
        let gid = nix::unistd::getegid().as_raw();
        let user = ids::user_name(uid)?;
        let (uid_ranges, gid_ranges) = ids::subordinate_ranges(&user, uid)?;
        let newuidmap = find_program("newuidmap")
            .ok_or(RootlessError::IdMapToolMissing { tool: "newuidmap" })?;
        let newgidmap = find_program("newgidmap")
            .ok_or(RootlessError::IdMapToolMissing { tool: "newgidmap" })?;

        let sleep = find_program("sleep").ok_or_else(|| RootlessError::Spawn {
            program: "sleep".to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not in PATH nor /usr/bin"),
        })?;
        let mut cmd = Command::new(sleep);
        cmd.arg0("podnet-pause")
            .arg("infinity")
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: the closure runs between fork and exec and makes raw syscalls only
        // (setsid, close_range, unshare): no allocation, no locks.
        unsafe {
            cmd.pre_exec(|| {
                // Leave the caller's session: a terminal's ^C must not kill the holder.
                let _ = nix::unistd::setsid();
                super::process::cloexec_from(3);
                nix::sched::unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)?;
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| RootlessError::Spawn {
            program: "sleep (user namespace holder)".to_string(),
            source,
        })?;
        let pid = child.id();
        tracing::debug!(pid, "started user namespace holder; writing id maps");
        let mapped = run_id_map(
            &newuidmap,
            "newuidmap",
            pid,
            &ids::map_args(uid, &uid_ranges),
        )
        .and_then(|()| {
            run_id_map(
                &newgidmap,
                "newgidmap",
                pid,
                &ids::map_args(gid, &gid_ranges),
            )
        });
        let record = mapped.and_then(|()| {
            let record = ProcessRecord::of(pid).ok_or(RootlessError::HolderDied { pid })?;
            record.write(&dir.join(PID_FILE))?;
            Ok(record)
        });
        if let Err(e) = record {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        // Reap the holder if it ever exits while this process lives.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Self::find_in(dir)?.ok_or(RootlessError::HolderDied { pid })
    }

    /// The holder's pid.
    pub fn pid(&self) -> u32 {
        self.pidfd.pid()
    }

    /// The directory holding the pid and lock files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Prepares `cmd` to run inside the holder's user and mount namespaces, as uid 0 there
    /// with full capabilities over them, in the caller's working directory. Sets
    /// a marker variable and `_CONTAINERS_ROOTLESS_UID` (the user's host uid) for the child.
    pub fn join<'c>(&self, cmd: &'c mut Command) -> Result<&'c mut Command, RootlessError> {
        let dup = |fd: &OwnedFd| {
            fd.try_clone()
                .map_err(|source| RootlessError::OpenNamespace {
                    path: PathBuf::from(format!("/proc/{}/ns", self.pid())),
                    source,
                })
        };
        let user_ns = dup(&self.user_ns)?;
        let mnt_ns = dup(&self.mnt_ns)?;
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|d| CString::new(d.as_os_str().as_bytes()).ok());
        cmd.env(USERNS_ENV, self.pid().to_string())
            .env(ids::ROOTLESS_UID_ENV, ids::host_uid().to_string());
        // SAFETY: the closure runs between fork and exec in the single-threaded child and
        // makes raw syscalls only (setns, chdir) on values prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                nix::sched::setns(&user_ns, CloneFlags::CLONE_NEWUSER)?;
                nix::sched::setns(&mnt_ns, CloneFlags::CLONE_NEWNS)?;
                // setns(CLONE_NEWNS) moved us to the namespace's root directory.
                if let Some(cwd) = &cwd {
                    let _ = nix::unistd::chdir(cwd.as_c_str());
                }
                Ok(())
            });
        }
        Ok(cmd)
    }

    /// Stops the holder (SIGTERM, then SIGKILL) and removes its pid file. Everything that
    /// lives only in its namespaces (netns pins, mounts) goes with it once no other
    /// process is inside.
    pub fn stop(self) -> Result<(), RootlessError> {
        tracing::debug!(pid = self.pid(), "stopping user namespace holder");
        self.pidfd.terminate(Duration::from_secs(2))?;
        let pid_file = self.dir.join(PID_FILE);
        if ProcessRecord::read(&pid_file).is_some_and(|r| r.pid == self.pid()) {
            let _ = std::fs::remove_file(&pid_file);
        }
        Ok(())
    }

    /// The holder's user namespace, e.g. for `pasta --userns` or to compare with
    /// `/proc/self/ns/user`.
    pub fn user_ns_fd(&self) -> &OwnedFd {
        &self.user_ns
    }
}

fn run_id_map(
    tool: &Path,
    name: &'static str,
    pid: u32,
    args: &[String],
) -> Result<(), RootlessError> {
    let out = Command::new(tool)
        .arg(pid.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| RootlessError::Spawn {
            program: tool.display().to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(RootlessError::IdMapTool {
            tool: name,
            args: format!("{pid} {}", args.join(" ")),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Finds an executable in `$PATH`, then in the sbin/bin directories.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        })
}

fn open_ns(path: &Path) -> Result<OwnedFd, RootlessError> {
    File::open(path)
        .map(OwnedFd::from)
        .map_err(|source| RootlessError::OpenNamespace {
            path: path.to_path_buf(),
            source,
        })
}

/// Creates `dir` (and parents) with mode 0700 for the last component.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), RootlessError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| RootlessError::File {
            action: "create directory",
            path: dir.to_path_buf(),
            source,
        })
}

/// An exclusive flock on a lock file, released when dropped.
#[derive(Debug)]
pub(crate) struct LockGuard {
    _file: File,
}

/// Opens (creating) and exclusively locks `path`.
pub(crate) fn lock(path: &Path) -> Result<LockGuard, RootlessError> {
    let err = |source| RootlessError::Lock {
        path: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(err)?;
    file.lock_exclusive().map_err(err)?;
    Ok(LockGuard { _file: file })
}

/// True when this process is uid 0 inside a user namespace that maps 0 to another host
/// uid: the state after [`UserNamespace::join`] or [`super::reexec_in_user_namespace`].
pub fn in_user_namespace() -> bool {
    if !nix::unistd::geteuid().is_root() {
        return false;
    }
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        map.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.first() == Some(&"0") && f.get(1).is_some_and(|h| *h != "0")
        })
    })
}
