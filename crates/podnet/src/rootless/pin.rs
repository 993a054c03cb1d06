//! Pinning the rootless network namespace to a file, through the `netns` crate.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::Path;

use super::error::RootlessError;

/// True when `path` is a mounted namespace file (a live pin).
pub(crate) fn is_pinned(path: &Path) -> bool {
    netns::is_netns(path)
}

/// Creates a new network namespace pinned at `path`. On failure nothing is left there.
pub(crate) fn create(path: &Path) -> Result<(), RootlessError> {
    let err = |source| RootlessError::CreateNetNs {
        path: path.to_path_buf(),
        source,
    };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Err(err(netns::Error::InvalidName {
            name: path.display().to_string(),
            reason: "not a file path",
        }));
    };
    netns::NetNs::create_in(dir, name).map(drop).map_err(err)
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
    netns::remove(path).map_err(|source| RootlessError::RemoveNetNs {
        path: path.to_path_buf(),
        source,
    })
}
