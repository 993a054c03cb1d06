//! Pinning the rootless network namespace to a file (a bind mount of the nsfs inode).
//!
//! Kept to three small functions so they can be switched to the `netns` crate.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;

use super::error::RootlessError;

/// `NSFS_MAGIC` from `linux/magic.h`.
const NSFS_MAGIC: i64 = 0x6e73_6673;

/// True when `path` is a mounted namespace file (a live pin).
pub(crate) fn is_pinned(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .is_ok_and(|s| i64::from(s.filesystem_type().0 as u32) == NSFS_MAGIC)
}

/// Creates a new network namespace and pins it at `path` (which must not be pinned yet).
/// The namespace is created on a dedicated thread that exits afterwards. On failure
/// nothing is left at `path`.
pub(crate) fn create(path: &Path) -> Result<(), RootlessError> {
    let err = |source: std::io::Error| RootlessError::CreateNetNs {
        path: path.to_path_buf(),
        source,
    };
    File::create(path).map_err(err)?;
    let target = path.to_path_buf();
    let result = std::thread::spawn(move || -> nix::Result<()> {
        nix::sched::unshare(CloneFlags::CLONE_NEWNET)?;
        nix::mount::mount(
            Some("/proc/thread-self/ns/net"),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    })
    .join();
    let result = match result {
        Ok(r) => r.map_err(std::io::Error::from),
        Err(_) => Err(std::io::Error::other("netns creation thread panicked")),
    };
    if let Err(e) = result {
        let _ = std::fs::remove_file(path);
        return Err(err(e));
    }
    Ok(())
}

/// Opens a pinned namespace.
pub(crate) fn open(path: &Path) -> Result<OwnedFd, RootlessError> {
    File::open(path)
        .map(OwnedFd::from)
        .map_err(|source| RootlessError::OpenNamespace {
            path: path.to_path_buf(),
            source,
        })
}

/// Unmounts (detached) and unlinks a pin; a missing or unmounted pin is fine.
pub(crate) fn remove(path: &Path) -> Result<(), RootlessError> {
    let err = |source: std::io::Error| RootlessError::RemoveNetNs {
        path: path.to_path_buf(),
        source,
    };
    match nix::mount::umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(err(e.into())),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(err(e)),
    }
}
