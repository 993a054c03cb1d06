//! Creating and pinning: pin file with O_EXCL, a namespace made on a throwaway thread,
//! bind-mounted onto the pin; any failure removes what the call made.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::Mode;

use crate::{name, pindir, Error, NetNs};

/// How many random names are tried before giving up (a clash is astronomically rare).
const RANDOM_ATTEMPTS: u32 = 16;

/// Stack size of the short-lived creation thread (it only makes a few syscalls).
const CREATE_STACK: usize = 64 * 1024;

/// A pin file this call created; unmounted (when mounted) and unlinked on drop unless kept.
pub(crate) struct PinUndo {
    pub path: PathBuf,
    pub mounted: bool,
    keep: bool,
}

impl PinUndo {
    /// The pin is complete: leave it in place.
    pub(crate) fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for PinUndo {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if self.mounted {
            if let Err(e) = umount2(&self.path, MntFlags::MNT_DETACH) {
                tracing::warn!(path = %self.path.display(), error = %e, "undo: cannot unmount pin");
            }
        }
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "undo: cannot remove pin file");
        } else {
            tracing::debug!(path = %self.path.display(), "undo: removed pin file");
        }
    }
}

/// Creates the empty pin file `dir/name` with O_EXCL|O_CLOEXEC, mode 0444.
fn create_pin_file(path: &Path) -> Result<PinUndo, Errno> {
    let fd = open(
        path,
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o444),
    )?;
    drop(fd);
    Ok(PinUndo {
        path: path.to_path_buf(),
        mounted: false,
        keep: false,
    })
}

fn pin_error(path: &Path, source: Errno) -> Error {
    match source {
        e @ Errno::EPERM => Error::NotPermitted {
            op: "create the pin file",
            path: path.to_path_buf(),
            source: e,
        },
        _ => Error::CreatePin {
            path: path.to_path_buf(),
            source: source.into(),
        },
    }
}

/// Creates `dir/name` (or a random free name) under the directory lock.
pub(crate) fn create_in(dir: &Path, name: Option<&str>) -> Result<NetNs, Error> {
    if let Some(n) = name {
        name::validate(n)?;
    }
    // dropped in reverse order on failure: the pin first, then the directory's set-up
    let prepared = pindir::prepare(dir)?;
    let mut undo = pin_file_in(&prepared.path, name)?;
    tracing::debug!(path = %undo.path.display(), "pin file created");
    let fd = new_netns_onto(&undo.path)?;
    undo.mounted = true;
    let path = undo.keep();
    prepared.keep();
    tracing::debug!(path = %path.display(), "network namespace pinned");
    Ok(NetNs::from_parts(fd, path))
}

/// Creates the pin file: the given name, or random names retried on EEXIST.
pub(crate) fn pin_file_in(dir: &Path, name: Option<&str>) -> Result<PinUndo, Error> {
    if let Some(n) = name {
        let path = dir.join(n);
        return create_pin_file(&path).map_err(|e| pin_error(&path, e));
    }
    for _ in 0..RANDOM_ATTEMPTS {
        let path = dir.join(name::random());
        match create_pin_file(&path) {
            Ok(undo) => return Ok(undo),
            Err(Errno::EEXIST) => {
                tracing::debug!(path = %path.display(), "random name taken, retrying");
            }
            Err(e) => return Err(pin_error(&path, e)),
        }
    }
    Err(Error::NoFreeName {
        dir: dir.to_path_buf(),
        attempts: RANDOM_ATTEMPTS,
    })
}

/// On a fresh thread: unshare a network namespace, open it, bind it onto `pin`; the
/// thread then exits, so no thread of the process stays in the new namespace.
fn new_netns_onto(pin: &Path) -> Result<OwnedFd, Error> {
    let thread_pin = pin.to_path_buf();
    let handle = std::thread::Builder::new()
        .stack_size(CREATE_STACK)
        .spawn(move || -> Result<OwnedFd, Error> {
            let pin = thread_pin;
            unshare(CloneFlags::CLONE_NEWNET).map_err(|e| match e {
                Errno::EPERM => Error::NotPermitted {
                    op: "unshare(CLONE_NEWNET)",
                    path: pin.clone(),
                    source: e,
                },
                _ => Error::Unshare {
                    path: pin.clone(),
                    source: e,
                },
            })?;
            let own = Path::new("/proc/thread-self/ns/net");
            let fd: OwnedFd = std::fs::File::open(own)
                .map_err(|source| Error::Open {
                    path: own.to_path_buf(),
                    source,
                })?
                .into();
            bind_onto(own, &pin)?;
            Ok(fd)
        })
        .map_err(|source| Error::Thread {
            path: pin.to_path_buf(),
            source,
        })?;
    handle.join().map_err(|_| Error::Panicked {
        path: pin.to_path_buf(),
        message: "the namespace creation thread panicked".into(),
    })?
}

/// Bind-mounts the namespace file `source` onto the pin file `pin`.
pub(crate) fn bind_onto(source: &Path, pin: &Path) -> Result<(), Error> {
    mount(
        Some(source),
        pin,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| match e {
        Errno::EPERM | Errno::EACCES => Error::NotPermitted {
            op: "bind-mount the namespace onto its pin",
            path: pin.to_path_buf(),
            source: e,
        },
        _ => Error::BindMount {
            path: pin.to_path_buf(),
            source: e,
        },
    })
}
