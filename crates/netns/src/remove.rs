//! Removal, liveness and recovery: `remove`, `is_netns`, `sweep`.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::mount::{umount2, MntFlags};
use nix::sys::statfs::{statfs, NSFS_MAGIC};
use nix::unistd::unlink;

use crate::error::Holders;
use crate::{mountinfo, pindir, Error};

/// Unlink attempts while the pin stays busy, and the first pause between them (doubling):
/// 1 + 2 + 4 + 8 + 16 + 32 + 64 ms, about an eighth of a second in all.
const UNLINK_ATTEMPTS: u32 = 8;
const FIRST_PAUSE: Duration = Duration::from_millis(1);

/// Stacked mounts taken off one path before giving up (duplicates from racing creators).
const MAX_STACKED: u32 = 64;

/// Whether `path` is a namespace file (its filesystem is nsfs): a mounted pin, or a
/// `/proc/PID/ns/*` link. A pin whose mount is gone (a stale file) is not.
///
/// Equivalent: the check `ip netns list` makes per entry.
pub fn is_netns(path: impl AsRef<Path>) -> bool {
    statfs(path.as_ref()).is_ok_and(|s| s.filesystem_type() == NSFS_MAGIC)
}

/// What sits at a path, as far as removal is concerned.
enum PinState {
    Gone,
    Mounted { ns_ino: u64 },
    Stale,
}

fn classify(path: &Path) -> Result<PinState, Error> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PinState::Gone),
        Err(e) => {
            return Err(Error::Stat {
                path: path.to_path_buf(),
                source: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            })
        }
    };
    let ft = meta.file_type();
    let what = if ft.is_symlink() {
        Some("a symbolic link")
    } else if ft.is_dir() {
        Some("a directory")
    } else if ft.is_block_device() || ft.is_char_device() || ft.is_fifo() || ft.is_socket() {
        Some("a special file")
    } else {
        None
    };
    if let Some(what) = what {
        return Err(Error::NotAPin {
            path: path.to_path_buf(),
            what,
        });
    }
    if is_netns(path) {
        return Ok(PinState::Mounted { ns_ino: meta.ino() });
    }
    if meta.len() == 0 {
        return Ok(PinState::Stale);
    }
    Err(Error::NotAPin {
        path: path.to_path_buf(),
        what: "a non-empty regular file",
    })
}

/// Takes every mount off `path` (MNT_DETACH, repeated for stacked duplicates).
fn unmount_all(path: &Path) -> Result<(), Error> {
    for _ in 0..MAX_STACKED {
        match umount2(path, MntFlags::MNT_DETACH) {
            Ok(()) => tracing::debug!(path = %path.display(), "detached pin mount"),
            Err(Errno::EINVAL | Errno::ENOENT) => return Ok(()), // not (or no longer) a mount
            Err(source @ Errno::EPERM) => {
                return Err(Error::NotPermitted {
                    op: "unmount the pin",
                    path: path.to_path_buf(),
                    source,
                })
            }
            Err(source) => {
                return Err(Error::Unmount {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
    Ok(())
}

/// Detach-unmounts and unlinks a namespace pin; a missing path is success.
///
/// Refuses anything that is not a pin (a mounted namespace file, or the empty file a
/// crashed creator left). While the unlink fails with EBUSY it retries briefly, then
/// returns [`Error::Busy`] naming the processes that still have it mounted.
///
/// Equivalent: `ip netns del NAME` (`umount2(MNT_DETACH)` + `unlink`).
pub fn remove(path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let ns_ino = match classify(path)? {
        PinState::Gone => {
            tracing::debug!(path = %path.display(), "pin already gone");
            return Ok(());
        }
        PinState::Mounted { ns_ino } => Some(ns_ino),
        PinState::Stale => None,
    };
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=UNLINK_ATTEMPTS {
        unmount_all(path)?;
        match unlink(path) {
            Ok(()) | Err(Errno::ENOENT) => {
                tracing::debug!(path = %path.display(), "pin removed");
                return Ok(());
            }
            Err(Errno::EBUSY) if attempt < UNLINK_ATTEMPTS => {
                tracing::debug!(path = %path.display(), attempt, "pin busy, retrying");
                std::thread::sleep(pause);
                pause *= 2;
            }
            Err(Errno::EBUSY) => break,
            Err(source) => {
                return Err(Error::Unlink {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
    // mountinfo shows canonical paths: resolve the directory part of what we were given
    let shown = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    let holders = Holders(mountinfo::find_holders(&shown, ns_ino));
    tracing::warn!(path = %path.display(), %holders, "pin still busy");
    Err(Error::Busy {
        path: path.to_path_buf(),
        attempts: UNLINK_ATTEMPTS,
        holders,
    })
}

/// Removes the pin files in `dir` that are not mounted namespaces (left by a process killed
/// between creating the file and mounting it) and returns their paths.
///
/// Holds the directory lock, so a creation in progress is never mistaken for a stale pin.
/// Files that are not empty, directories and links are left alone. A missing `dir` has
/// nothing to sweep.
pub fn sweep(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, Error> {
    let dir = dir.as_ref();
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let (_lock, _) = pindir::lock(dir)?;
    let entries = std::fs::read_dir(dir).map_err(|source| Error::ReadDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::ReadDir {
            dir: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if !matches!(classify(&path), Ok(PinState::Stale)) {
            continue;
        }
        match unlink(&path) {
            Ok(()) => {
                tracing::debug!(path = %path.display(), "swept stale pin");
                removed.push(path);
            }
            Err(Errno::ENOENT) => {}
            Err(source) => return Err(Error::Unlink { path, source }),
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn missing_path_is_already_removed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(remove(dir.path().join("gone")).is_ok());
    }

    #[test]
    fn refuses_what_is_not_a_pin_and_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::write(&data, b"not a pin").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/proc/self/ns/net", &link).unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        for (path, what) in [
            (&data, "a non-empty regular file"),
            (&link, "a symbolic link"),
            (&sub, "a directory"),
        ] {
            match remove(path) {
                Err(Error::NotAPin { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{}: {other:?}", path.display()),
            }
            assert!(std::fs::symlink_metadata(path).is_ok(), "left in place");
        }
    }

    #[test]
    fn empty_stale_pin_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join("netns-stale");
        std::fs::File::create(&stale).unwrap();
        remove(&stale).unwrap();
        assert!(!stale.exists());
    }

    #[test]
    fn is_netns_tells_nsfs_from_other_files() {
        assert!(is_netns("/proc/self/ns/net"));
        assert!(!is_netns("/proc/self/status"));
        assert!(!is_netns("/nonexistent"));
    }

    #[test]
    fn sweep_removes_only_empty_unmounted_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::File::create(&a).unwrap();
        std::fs::File::create(&b).unwrap();
        std::fs::write(dir.path().join("keep"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("subdir")).unwrap();
        assert_eq!(sweep(dir.path()).unwrap(), vec![a.clone(), b.clone()]);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["keep", "subdir"]);
        assert!(sweep(dir.path().join("missing")).unwrap().is_empty());
    }

    #[test]
    fn busy_error_lists_holders() {
        let err = Error::Busy {
            path: "/run/netns/x".into(),
            attempts: 8,
            holders: Holders(vec![crate::Holder {
                pid: 42,
                comm: "conmon".into(),
                mount_point: "/run/netns/x".into(),
            }]),
        };
        assert_eq!(
            err.to_string(),
            "/run/netns/x is still busy after 8 attempts; held by: pid 42 (conmon) at /run/netns/x"
        );
    }
}
