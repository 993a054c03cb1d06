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

use std::fs::{DirBuilder, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use fs2::FileExt;
use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::{mountinfo, Error};

/// An exclusive lock on a pin directory, released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    _dir: File,
}

/// Opens `dir` (creating it 0755 when missing) and locks it exclusively.
pub(crate) fn lock(dir: &Path) -> Result<DirLock, Error> {
    let file = match File::open(dir) {
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
            File::open(dir).map_err(|source| Error::PinDir {
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
    Ok(DirLock { _dir: file })
}

/// Locks `dir` and makes sure it is a mount point with shared propagation.
pub(crate) fn prepare(dir: &Path) -> Result<(DirLock, PathBuf), Error> {
    let guard = lock(dir)?;
    let dir = std::fs::canonicalize(dir).map_err(|source| Error::PinDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    ensure_shared(&dir)?;
    Ok((guard, dir))
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
/// unless `/proc/self/mountinfo` shows it already is a shared mount.
fn ensure_shared(dir: &Path) -> Result<(), Error> {
    let path = Path::new("/proc/self/mountinfo");
    let text = std::fs::read_to_string(path).map_err(|source| Error::Mountinfo {
        path: path.to_path_buf(),
        source,
    })?;
    let mounts = mountinfo::parse(&text);
    let mut bound = false;
    match mountinfo::top_mount_at(&mounts, dir) {
        Some(m) if m.shared => {
            tracing::trace!(dir = %dir.display(), "pin directory is already a shared mount");
            return Ok(());
        }
        Some(_) => {}
        None => {
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
    })
}
