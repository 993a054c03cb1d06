//! The journal that makes an in-place rewrite crash-safe.
//!
//! On-disk layout, beside the target `DIR/NAME`:
//!
//! ```text
//! DIR/NAME                          the target; its inode never changes
//! DIR/.NAME.etchosts-journal        complete intended content of an edit in flight
//! DIR/.NAME.etchosts-journal.tmp    the journal while it is being written
//!
//! journal = "etchosts-journal 1 <st_dev> <st_ino> <len>\n" <len bytes of content>
//! ```
//!
//! The journal is written to `.tmp`, fsync'd, renamed into place and the directory
//! fsync'd, all before the target is touched; so a journal, when present, is complete.
//! It is removed once the target holds the content and is fsync'd. Whoever next holds
//! the target's lock and finds a journal for the same inode copies it into the target
//! first; a journal for another inode (the file was replaced) is discarded.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::Error;

const MAGIC: &str = "etchosts-journal 1";

/// The journal's paths for one target.
pub(crate) struct Journal {
    path: PathBuf,
    tmp: PathBuf,
    dir: PathBuf,
}

impl Journal {
    /// The journal beside `target`.
    pub(crate) fn for_target(target: &Path) -> Self {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut name = std::ffi::OsString::from(".");
        name.push(target.file_name().unwrap_or_default());
        name.push(".etchosts-journal");
        let path = dir.join(&name);
        name.push(".tmp");
        let tmp = dir.join(name);
        Self { path, tmp, dir }
    }

    /// The journal file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: io::Error) -> Error {
        Error::Journal {
            path: self.path.clone(),
            source,
        }
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    /// Durably records `content` as the intended content of inode `(dev, ino)`.
    pub(crate) fn write(&self, dev: u64, ino: u64, content: &[u8]) -> Result<(), Error> {
        let header = format!("{MAGIC} {dev} {ino} {}\n", content.len());
        let mut buf = Vec::with_capacity(header.len() + content.len());
        buf.extend_from_slice(header.as_bytes());
        buf.extend_from_slice(content);
        let write = || -> io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&self.tmp)?;
            f.write_all(&buf)?;
            f.sync_all()?;
            fs::rename(&self.tmp, &self.path)?;
            self.sync_dir()
        };
        write().map_err(|e| self.err(e))?;
        tracing::debug!(journal = %self.path.display(), len = content.len(), "journal written");
        Ok(())
    }

    /// Removes the journal; a missing one is fine. The directory is not fsync'd: a
    /// journal that reappears after a power loss names the inode's newest durable
    /// content (each journal write renames over the last one and syncs the directory),
    /// so replaying it is harmless.
    pub(crate) fn remove(&self) -> Result<(), Error> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// The content a journal for inode `(dev, ino)` holds, if there is a valid one.
    /// A torn, foreign or stale journal is logged, removed and ignored.
    pub(crate) fn pending(&self, dev: u64, ino: u64) -> Result<Option<Vec<u8>>, Error> {
        let mut raw = Vec::new();
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.path);
        match opened {
            Ok(mut f) => f.read_to_end(&mut raw).map_err(|e| self.err(e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        match parse(&raw) {
            Some((jdev, jino, content)) if jdev == dev && jino == ino => Ok(Some(content.to_vec())),
            Some(_) => {
                tracing::warn!(journal = %self.path.display(), "journal belongs to a replaced file; discarding it");
                self.remove()?;
                Ok(None)
            }
            None => {
                tracing::warn!(journal = %self.path.display(), "journal is malformed; discarding it");
                self.remove()?;
                Ok(None)
            }
        }
    }
}

/// Splits a journal into `(dev, ino, content)`; `None` when malformed or short.
fn parse(raw: &[u8]) -> Option<(u64, u64, &[u8])> {
    let nl = raw.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&raw[..nl]).ok()?;
    let rest = header.strip_prefix(MAGIC)?.strip_prefix(' ')?;
    let mut parts = rest.split(' ');
    let dev = parts.next()?.parse().ok()?;
    let ino = parts.next()?.parse().ok()?;
    let len: usize = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let content = &raw[nl + 1..];
    (content.len() == len).then_some((dev, ino, content))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_checks_header_and_length() {
        assert_eq!(
            parse(b"etchosts-journal 1 5 7 3\nabc"),
            Some((5, 7, &b"abc"[..]))
        );
        assert_eq!(parse(b"etchosts-journal 1 5 7 4\nabc"), None);
        assert_eq!(parse(b"etchosts-journal 2 5 7 3\nabc"), None);
        assert_eq!(parse(b"garbage"), None);
        assert_eq!(parse(b"etchosts-journal 1 5 7 0\n"), Some((5, 7, &b""[..])));
    }

    #[test]
    fn journal_names_sit_beside_the_target() {
        let j = Journal::for_target(Path::new("/a/b/hosts"));
        assert_eq!(j.path(), Path::new("/a/b/.hosts.etchosts-journal"));
        assert_eq!(j.tmp, Path::new("/a/b/.hosts.etchosts-journal.tmp"));
        let j = Journal::for_target(Path::new("hosts"));
        assert_eq!(j.path(), Path::new("./.hosts.etchosts-journal"));
    }

    #[test]
    fn write_pending_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::for_target(&dir.path().join("hosts"));
        assert_eq!(j.pending(1, 2).unwrap(), None);
        j.write(1, 2, b"content\n").unwrap();
        assert_eq!(j.pending(1, 2).unwrap().as_deref(), Some(&b"content\n"[..]));
        // A journal for another inode is discarded.
        assert_eq!(j.pending(1, 3).unwrap(), None);
        assert!(!j.path().exists());
        j.write(1, 2, b"x").unwrap();
        j.remove().unwrap();
        assert!(!j.path().exists());
        j.remove().unwrap();
    }
}
