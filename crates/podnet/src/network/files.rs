//! The files of a network directory: reading `NAME.json` files as podman
//! does (invalid ones skipped with a warning), atomic writes, and the
//! `netavark.lock` write lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};
use tracing::warn;

use super::error::NetworkError;
use super::read::{self, Skipped};
use super::types::Network;
use super::validate::{self, is_valid_name};

/// Holds the directory's `netavark.lock` (or `cni.lock`) write lock until dropped.
pub(crate) struct DirLock {
    /// `None` when this thread held the lock already (the outer guard releases it).
    file: Option<File>,
    path: std::path::PathBuf,
}

thread_local! {
    /// The lock files (`netavark.lock`, `cni.lock`) this thread holds: a flow holds the lock from start to
    /// end and reads networks on the way, and an open file description lock taken again
    /// through a second open would wait for itself.
    static HELD: std::cell::RefCell<Vec<std::path::PathBuf>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            HELD.with(|h| h.borrow_mut().retain(|p| p != &self.path));
        }
    }
}

/// Takes the write lock of `dir/netavark.lock` (created when missing), the
/// lock podman takes around network create and remove and around its network
/// setup and teardown: an open file description lock, which conflicts with
/// podman's fcntl record lock. Reentrant within a thread.
pub(crate) fn lock_dir(dir: &Path) -> Result<DirLock, NetworkError> {
    lock_dir_file(dir, "netavark.lock")
}

/// Takes the write lock of `dir/name` (podman's CNI backend: `cni.lock`), reentrant
/// within a thread like [`lock_dir`].
pub(crate) fn lock_dir_file(dir: &Path, name: &str) -> Result<DirLock, NetworkError> {
    let path = dir.join(name);
    if HELD.with(|h| h.borrow().contains(&path)) {
        return Ok(DirLock { file: None, path });
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(&path)
        .map_err(|source| NetworkError::Lock {
            path: path.clone(),
            source,
        })?;
    let lk = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    loop {
        match fcntl(&file, FcntlArg::F_OFD_SETLKW(&lk)) {
            Ok(_) => {
                HELD.with(|h| h.borrow_mut().push(path.clone()));
                return Ok(DirLock {
                    file: Some(file),
                    path,
                });
            }
            Err(Errno::EINTR) => continue,
            Err(e) => {
                return Err(NetworkError::Lock {
                    path,
                    source: e.into(),
                })
            }
        }
    }
}

/// Every valid network file in `dir` (none when `dir` does not exist), and the `*.json`
/// entries skipped with the reason (each also logged as a warning).
pub(crate) fn load_dir(dir: &Path) -> Result<(Vec<Network>, Vec<Skipped>), NetworkError> {
    let read_err = |source| NetworkError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(source) => return Err(read_err(source)),
    };
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        // the entry's own type: a symlink is not followed, a FIFO not opened
        let kind = entry.file_type().map_err(read_err)?;
        if kind.is_dir() {
            continue;
        }
        let result = match read::not_regular(kind) {
            Some(what) => Err(what.to_string()),
            None => match read::read_bounded(&path) {
                Ok(Some(bytes)) => check_file(&path, &bytes),
                Ok(None) => continue,
                Err(why) => Err(why),
            },
        };
        match result {
            Ok(net) => out.push(net),
            Err(reason) => {
                warn!(path = %path.display(), "skipping network config file: {reason}");
                skipped.push(Skipped {
                    name: path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    path,
                    reason,
                });
            }
        }
    }
    Ok((out, skipped))
}

/// A network from the bytes of `path`; `None` (with a warning) when they are not a
/// network podman would load from that file name.
#[cfg(test)]
pub(crate) fn parse_file(path: &Path, text: &[u8]) -> Option<Network> {
    match check_file(path, text) {
        Ok(net) => Some(net),
        Err(reason) => {
            warn!(path = %path.display(), "skipping network config file: {reason}");
            None
        }
    }
}

/// A network from the bytes of `path`, or why podman would not load it (its
/// `loadNetworks` skips such a file); what podnet's own create would have refused is
/// only logged.
fn check_file(path: &Path, text: &[u8]) -> Result<Network, String> {
    let mut net: Network =
        serde_json::from_slice(text).map_err(|e| format!("not a network definition: {e}"))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if net.name != stem {
        return Err(format!(
            "its name {:?} does not match the file name",
            net.name
        ));
    }
    if !is_valid_name(&net.name) {
        return Err(format!("invalid network name {:?}", net.name));
    }
    if net.id.len() != 64 {
        return Err(format!("invalid network ID {:?}", net.id));
    }
    let add_gateway = !net.internal || net.dns_enabled;
    validate::validate_subnets(&mut net, add_gateway, &[]).map_err(|e| e.to_string())?;
    // podman's file is used as it is; only podnet's own create would have refused it
    for finding in crate::validate::network_findings(&net) {
        warn!(path = %path.display(), network = %net.name, "network config loaded although podnet would refuse it: {finding}");
    }
    Ok(net)
}

/// Temp file in the same directory, fsync, rename over, fsync the directory.
pub(crate) fn write_atomic(dir: &Path, path: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(
        ".{name}.json.tmp-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
