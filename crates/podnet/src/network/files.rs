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
use super::types::Network;
use super::validate::{self, is_valid_name};

/// Holds the directory's `netavark.lock` write lock until dropped.
pub(crate) struct DirLock {
    _file: File,
}

/// Takes the write lock of `dir/netavark.lock` (created when missing), the
/// lock podman takes around network create and remove: an open file
/// description lock, which conflicts with podman's fcntl record lock.
pub(crate) fn lock_dir(dir: &Path) -> Result<DirLock, NetworkError> {
    lock_dir_file(dir, "netavark.lock")
}

/// Takes the write lock of `dir/name` (podman's CNI backend: `cni.lock`).
pub(crate) fn lock_dir_file(dir: &Path, name: &str) -> Result<DirLock, NetworkError> {
    let path = dir.join(name);
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
            Ok(_) => return Ok(DirLock { _file: file }),
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

/// Every valid network file in `dir` (none when `dir` does not exist).
pub(crate) fn load_dir(dir: &Path) -> Result<Vec<Network>, NetworkError> {
    let read_err = |source| NetworkError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(read_err(source)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(read_err)?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") || path.is_dir() {
            continue;
        }
        if let Some(net) = load_file(&path) {
            out.push(net);
        }
    }
    Ok(out)
}

/// Reads one network file; `None` (with a warning) when it is not a valid
/// network, as podman's `loadNetworks` skips it.
fn load_file(path: &Path) -> Option<Network> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) => {
            if e.kind() != io::ErrorKind::NotFound {
                warn!(path = %path.display(), error = %e, "error loading network config file");
            }
            return None;
        }
    };
    let mut net: Network = match serde_json::from_slice(&text) {
        Ok(n) => n,
        Err(e) => {
            warn!(path = %path.display(), error = %e, "error reading network config file, skipping");
            return None;
        }
    };
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if net.name != stem {
        warn!(path = %path.display(), name = %net.name, "network config name does not match file name, skipping");
        return None;
    }
    if !is_valid_name(&net.name) {
        warn!(path = %path.display(), name = %net.name, "network config has invalid name, skipping");
        return None;
    }
    if net.id.len() != 64 {
        warn!(path = %path.display(), id = %net.id, "network config has invalid network ID, skipping");
        return None;
    }
    let add_gateway = !net.internal || net.dns_enabled;
    if let Err(e) = validate::validate_subnets(&mut net, add_gateway, &[]) {
        warn!(path = %path.display(), error = %e, "network config could not be parsed, skipping");
        return None;
    }
    Some(net)
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
