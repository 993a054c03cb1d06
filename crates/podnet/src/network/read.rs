//! Bounded reads of network files: only regular files inside the directory (a symlink is
//! not followed, a FIFO or device is never opened in a way that blocks), at most
//! [`MAX_NETWORK_FILE`] bytes. podman's files are well under a KiB; anything else in the
//! directory must not hang or exhaust a command that lists networks.

use std::fs::{File, FileType};
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

/// Largest network file podnet reads.
pub(crate) const MAX_NETWORK_FILE: u64 = 1 << 20;

const SYMLINK: &str =
    "a symbolic link (network files are read only as regular files inside the directory)";

/// A `NAME.json` entry of the network directory that was not loaded, and why.
#[derive(Debug, Clone)]
pub(crate) struct Skipped {
    /// The file name without `.json`: the network name it stands for.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// What a file that is not a regular file is, for the message.
pub(crate) fn not_regular(kind: FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_symlink() {
        Some(SYMLINK)
    } else if kind.is_fifo() {
        Some("a FIFO, not a regular file")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device, not a regular file")
    } else if kind.is_socket() {
        Some("a socket, not a regular file")
    } else if kind.is_dir() {
        Some("a directory")
    } else {
        Some("not a regular file")
    }
}

/// The bytes of `path` if it is a regular file (not through a symlink) of at most
/// [`MAX_NETWORK_FILE`] bytes; else why not. `Ok(None)`: it is gone.
pub(crate) fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, String> {
    // O_NONBLOCK: opening a FIFO does not wait for a writer; O_NOFOLLOW: a symlink fails
    // with ELOOP instead of being followed (to /dev/zero, say)
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = match open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(nix::errno::Errno::ENOENT) => return Ok(None),
        Err(nix::errno::Errno::ELOOP) => return Err(SYMLINK.into()),
        Err(e) => return Err(format!("cannot open it: {}", e.desc())),
    };
    let file = File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot stat it: {e}"))?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(what.into());
    }
    if meta.len() > MAX_NETWORK_FILE {
        return Err(too_big(&format!("{} bytes", meta.len())));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_NETWORK_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_NETWORK_FILE {
        // it grew after the fstat
        return Err(too_big(&format!("more than {MAX_NETWORK_FILE} bytes")));
    }
    Ok(Some(bytes))
}

fn too_big(size: &str) -> String {
    format!("{size}, above the {MAX_NETWORK_FILE}-byte limit for a network file")
}
