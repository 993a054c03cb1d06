//! The pin directory: created on demand, locked, and made a shared mount.
//!
//! On-disk layout (`/run/netns` when root, `$XDG_RUNTIME_DIR/netns` rootless):
//!
//! ```text
//! /run/netns/                 mount point (bound onto itself if needed), propagation shared
//! ├── netns-1b2c...-...       empty 0444 file + bind mount of an nsfs inode (random name)
//! └── mynet                   same, named by the caller (`ip netns add mynet` does the same)
//! ```
//!
//! The directory inode is the lock: every creation, and `sweep`, holds `flock(LOCK_EX)` on
//! an fd of the directory itself from before the pin file exists until it is mounted, so a
//! sweep never sees a half-made pin as stale and two creators never bind the directory
//! onto itself twice. No extra lock file is needed (it would show up in `ip netns list`).

use std::ffi::CString;
use std::fs::{DirBuilder, File};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use fs2::FileExt;
use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::{mountinfo, Error};

/// An exclusive lock on a pin directory, released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    _dir: File,
}

/// Opens `dir` (creating it 0755 when missing) and locks it exclusively; also says
/// whether this call created it.
pub(crate) fn lock(dir: &Path) -> Result<(DirLock, bool), Error> {
    let mut created = false;
    let open_dir = |dir: &Path| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(dir)
    };
    let file = match open_dir(dir) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|source| Error::PinDir {
                    dir: dir.to_path_buf(),
                    source,
                })?;
            created = true;
            open_dir(dir).map_err(|source| Error::PinDir {
                dir: dir.to_path_buf(),
                source,
            })?
        }
        Err(source) => {
            return Err(Error::PinDir {
                dir: dir.to_path_buf(),
                source,
            })
        }
    };
    // fs2's name on purpose: std's same-named methods shadow the others (see ARCHITECTURE.md)
    file.lock_exclusive().map_err(|source| Error::Lock {
        dir: dir.to_path_buf(),
        source,
    })?;
    Ok((DirLock { _dir: file }, created))
}

/// Directories this process has seen as shared mounts: (path as given, canonical path,
/// mount id). A later creation that finds the same mount id at the same path (one `statx`)
/// skips reading `/proc/self/mountinfo`; anything else takes the full check again.
static SHARED_DIRS: Mutex<Vec<(PathBuf, PathBuf, u64)>> = Mutex::new(Vec::new());

/// What `statx` says about the mount at a path: its mount id, and whether the path is the
/// root of that mount (`None` when the kernel cannot tell, before Linux 5.8).
fn statx_mount(fd: Option<&File>, path: &Path) -> Option<(u64, Option<bool>)> {
    let (dirfd, c_path, flags) = match fd {
        Some(f) => (f.as_raw_fd(), CString::default(), libc::AT_EMPTY_PATH),
        None => (
            libc::AT_FDCWD,
            CString::new(path.as_os_str().as_bytes()).ok()?,
            0,
        ),
    };
    let mut buf = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: `c_path` is a valid NUL-terminated string, `buf` is a writable statx buffer
    // of the right size, and `dirfd` is an open fd or AT_FDCWD.
    let rc = unsafe {
        libc::statx(
            dirfd,
            c_path.as_ptr(),
            flags | libc::AT_STATX_SYNC_AS_STAT,
            libc::STATX_MNT_ID,
            buf.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: statx succeeded and filled the buffer (it was zeroed before, too).
    let st = unsafe { buf.assume_init() };
    if st.stx_mask & libc::STATX_MNT_ID == 0 {
        return None;
    }
    let root = libc::STATX_ATTR_MOUNT_ROOT as u64;
    let is_root = (st.stx_attributes_mask & root != 0).then_some(st.stx_attributes & root != 0);
    Some((st.stx_mnt_id, is_root))
}

/// The mount id of `path` (opened fd or path) when it is the root of its mount.
fn mount_root_id(fd: Option<&File>, path: &Path) -> Option<u64> {
    match statx_mount(fd, path) {
        Some((id, Some(true))) => Some(id),
        _ => None,
    }
}

/// A locked pin directory that is a shared mount. Dropped without [`PinDir::keep`], it
/// undoes what preparing it did: the self-bind, and the directory when it was made here.
#[derive(Debug)]
pub(crate) struct PinDir {
    /// The canonical directory path.
    pub path: PathBuf,
    given: PathBuf,
    bound: bool,
    created: bool,
    kept: bool,
    _lock: DirLock,
}

impl PinDir {
    /// The call succeeded: leave the directory set up.
    pub(crate) fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        if self.bound {
            if let Ok(mut known) = SHARED_DIRS.lock() {
                known.retain(|(p, _, _)| p != &self.given);
            }
            match umount2(&self.path, MntFlags::MNT_DETACH) {
                Ok(()) => tracing::debug!(dir = %self.path.display(), "undo: self-bind removed"),
                Err(e) => {
                    tracing::warn!(dir = %self.path.display(), error = %e, "undo: cannot unbind")
                }
            }
        }
        if self.created {
            match std::fs::remove_dir(&self.given) {
                Ok(()) => tracing::debug!(dir = %self.given.display(), "undo: directory removed"),
                Err(e) => {
                    tracing::warn!(dir = %self.given.display(), error = %e, "undo: cannot rmdir")
                }
            }
        }
    }
}

/// Locks `dir` and makes sure it is a mount point with shared propagation.
pub(crate) fn prepare(dir: &Path) -> Result<PinDir, Error> {
    let (lock, created) = lock(dir)?;
    let id = mount_root_id(Some(&lock._dir), dir);
    if let (Some(id), Ok(known)) = (id, SHARED_DIRS.lock()) {
        if let Some((_, canonical, _)) = known.iter().find(|(p, _, i)| p == dir && *i == id) {
            return Ok(PinDir {
                path: canonical.clone(),
                given: dir.to_path_buf(),
                bound: false,
                created,
                kept: false,
                _lock: lock,
            });
        }
    }
    let mut prepared = PinDir {
        path: PathBuf::new(),
        given: dir.to_path_buf(),
        bound: false,
        created,
        kept: false,
        _lock: lock,
    };
    prepared.path = std::fs::canonicalize(dir).map_err(|source| Error::PinDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    prepared.bound = ensure_shared(&prepared.path)?;
    if let (Some(id), Ok(mut known)) = (mount_root_id(None, &prepared.path), SHARED_DIRS.lock()) {
        known.retain(|(p, _, _)| p != dir);
        known.push((dir.to_path_buf(), prepared.path.clone(), id));
    }
    Ok(prepared)
}

fn map_mount_err(dir: &Path, op: &'static str, e: Errno) -> Error {
    match e {
        Errno::EPERM | Errno::EACCES => Error::NotPermitted {
            op,
            path: dir.to_path_buf(),
            source: e,
        },
        _ => Error::MakeShared {
            dir: dir.to_path_buf(),
            source: e,
        },
    }
}

/// Binds `dir` onto itself when it is not a mount point, then sets shared propagation,
/// unless `/proc/self/mountinfo` shows it already is a shared mount. Returns whether it
/// bound the directory.
fn ensure_shared(dir: &Path) -> Result<bool, Error> {
    let path = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(path).map_err(|source| Error::Mountinfo {
        path: path.to_path_buf(),
        source,
    })?;
    let mounts = mountinfo::parse(&text);
    // the mount that path lookup reaches (a mountinfo line with the same mount point may be
    // a shadowed one underneath another mount), by id when statx can tell
    let (is_mount, shared) = match statx_mount(None, dir) {
        Some((_, Some(false))) => (false, false),
        Some((id, Some(true))) => (true, mounts.iter().any(|m| m.id == id && m.shared)),
        _ => match mountinfo::top_mount_at(&mounts, dir) {
            Some(m) => (true, m.shared),
            None => (false, false),
        },
    };
    if shared {
        tracing::trace!(dir = %dir.display(), "pin directory is already a shared mount");
        return Ok(false);
    }
    let mut bound = false;
    if !is_mount {
        tracing::debug!(dir = %dir.display(), "binding the pin directory onto itself");
        mount(
            Some(dir),
            dir,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| map_mount_err(dir, "bind-mount the pin directory onto itself", e))?;
        bound = true;
    }
    tracing::debug!(dir = %dir.display(), "making the pin directory a shared mount");
    mount(
        None::<&str>,
        dir,
        None::<&str>,
        MsFlags::MS_SHARED | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| {
        if bound {
            // undo our own bind so a failure leaves no mount behind
            if let Err(undo) = umount2(dir, MntFlags::MNT_DETACH) {
                tracing::warn!(dir = %dir.display(), error = %undo, "cannot undo the self-bind");
            }
        }
        map_mount_err(dir, "make the pin directory a shared mount", e)
    })?;
    Ok(bound)
}
