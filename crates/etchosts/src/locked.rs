//! `LockedFile`: the target opened without following symlinks, holding an open file
//! description write lock (`F_OFD_SETLKW`) for as long as the value lives, with the one
//! read and the crash-safe in-place write that every edit is made of.
//!
//! Why OFD locks: podman (containers/storage) takes classic POSIX `fcntl` write locks on
//! files it edits; OFD locks conflict with those (flock would not), and unlike POSIX
//! locks they are not dropped when some other descriptor of the file is closed in this
//! process. The lock goes away when the guard's descriptor is closed (on drop).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};

use crate::journal::Journal;
use crate::Error;

/// An exclusively locked target file; the lock is released when this is dropped.
pub(crate) struct LockedFile {
    file: File,
    path: PathBuf,
    journal: Journal,
    dev: u64,
    ino: u64,
}

/// How often the path may be found replaced between open and lock before giving up.
const REOPEN_ATTEMPTS: usize = 16;

impl LockedFile {
    /// Opens (or with `create`, creates with mode 0644) the regular file at `path`,
    /// refusing symlinks and directories, waits for the exclusive lock, and finishes an
    /// interrupted earlier edit if its journal is there.
    pub(crate) fn open(path: &Path, create: bool) -> Result<Self, Error> {
        for _ in 0..REOPEN_ATTEMPTS {
            let file = open_regular(path, create)?;
            lock(&file, path)?;
            let meta = file.metadata().map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
            // The path may have been replaced while we waited: lock what it names now.
            match std::fs::symlink_metadata(path) {
                Ok(now) if now.dev() == meta.dev() && now.ino() == meta.ino() => {}
                Ok(_) => {
                    tracing::debug!(path = %path.display(), "target replaced while locking; retrying");
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => continue,
                Err(source) => {
                    return Err(Error::Open {
                        path: path.to_path_buf(),
                        source,
                    })
                }
            }
            let mut locked = Self {
                file,
                path: path.to_path_buf(),
                journal: Journal::for_target(path),
                dev: meta.dev(),
                ino: meta.ino(),
            };
            locked.recover()?;
            return Ok(locked);
        }
        Err(Error::Open {
            path: path.to_path_buf(),
            source: io::Error::other("file keeps being replaced while locking it"),
        })
    }

    /// Completes an edit that was interrupted after its journal was written.
    fn recover(&mut self) -> Result<(), Error> {
        if let Some(content) = self.journal.pending(self.dev, self.ino)? {
            tracing::warn!(
                path = %self.path.display(),
                journal = %self.journal.path().display(),
                "finishing an interrupted edit from its journal"
            );
            self.overwrite(&content)?;
            self.journal.remove()?;
        }
        Ok(())
    }

    /// The whole current content, read in one pass from offset 0.
    pub(crate) fn read(&self) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::new();
        let err = |source| Error::Read {
            path: self.path.clone(),
            source,
        };
        let len = self.file.metadata().map_err(err)?.len();
        buf.reserve(usize::try_from(len).unwrap_or(0).saturating_add(1));
        let mut off = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match self.file.read_at(&mut chunk, off) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    off += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(err(e)),
            }
        }
        Ok(buf)
    }

    /// Makes `content` the file's content: journal first, then in place (write from
    /// offset 0, truncate, fsync), then the journal goes. The inode never changes.
    pub(crate) fn replace(&mut self, content: &[u8]) -> Result<(), Error> {
        self.journal.write(self.dev, self.ino, content)?;
        crate::failpoint::hit("after-journal");
        self.overwrite(content)?;
        crate::failpoint::hit("after-sync");
        self.journal.remove()?;
        tracing::debug!(path = %self.path.display(), len = content.len(), "file rewritten in place");
        Ok(())
    }

    fn overwrite(&mut self, content: &[u8]) -> Result<(), Error> {
        let err = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        crate::failpoint::partial_write(&self.file, content);
        self.file.write_all_at(content, 0).map_err(err)?;
        crate::failpoint::hit("before-truncate");
        self.file.set_len(content.len() as u64).map_err(err)?;
        self.file.sync_all().map_err(err)
    }
}

/// Gives the file at `path` exactly `content`: a missing file is created complete (written
/// to a temp file, fsync'd, then hard-linked into place, so nobody ever sees it empty);
/// an existing one is locked and rewritten in place (unless it already holds `content`).
pub(crate) fn write_whole(path: &Path, content: &[u8]) -> Result<(), Error> {
    if let Err(e) = std::fs::symlink_metadata(path) {
        if e.kind() == io::ErrorKind::NotFound && create_complete(path, content)? {
            tracing::debug!(path = %path.display(), "file created complete");
            return Ok(());
        }
    }
    let mut file = LockedFile::open(path, true)?;
    if file.read()? != content {
        file.replace(content)?;
    }
    Ok(())
}

/// Creates `path` with `content` if it does not exist; `false` when someone else did.
fn create_complete(path: &Path, content: &[u8]) -> Result<bool, Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    name.push(format!(".etchosts-new.{}.{seq}", std::process::id()));
    let tmp = dir.join(name);
    let f = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
    {
        Ok(f) => f,
        // A leftover of a crashed process that had our pid: not ours to remove.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(err(e)),
    };
    let made = (|| -> io::Result<bool> {
        f.write_all_at(content, 0)?;
        f.sync_all()?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => {
                File::open(dir)?.sync_all()?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    })();
    if let Err(e) = std::fs::remove_file(&tmp) {
        tracing::warn!(tmp = %tmp.display(), error = %e, "cannot remove temp file");
    }
    made.map_err(err)
}

fn open_regular(path: &Path, create: bool) -> Result<File, Error> {
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(not_regular(path, "symlink"));
        }
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => {
            return Err(not_regular(path, "directory"));
        }
        Err(source) => {
            return Err(Error::Open {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let ft = file
        .metadata()
        .map_err(|source| Error::Open {
            path: path.to_path_buf(),
            source,
        })?
        .file_type();
    if !ft.is_file() {
        return Err(not_regular(
            path,
            if ft.is_dir() {
                "directory"
            } else {
                "special file"
            },
        ));
    }
    Ok(file)
}

fn not_regular(path: &Path, kind: &'static str) -> Error {
    Error::NotRegularFile {
        path: path.to_path_buf(),
        kind,
    }
}

/// Blocks until this open file description holds a write lock on the whole file.
fn lock(file: &File, path: &Path) -> Result<(), Error> {
    let whole = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    loop {
        match fcntl(file, FcntlArg::F_OFD_SETLKW(&whole)) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(source) => {
                return Err(Error::Lock {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
}
