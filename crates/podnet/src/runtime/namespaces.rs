//! How the flows make and remove network namespaces: the kernel's (through `netns`), or, in
//! the flows' unit tests, plain files, so ordering and rollback are tested without root.

use std::path::{Path, PathBuf};

use netns::NetNs;

use super::RuntimeError;
use crate::mode::ModeError;

/// The namespace maker a runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespaces {
    /// Real pinned network namespaces.
    Kernel,
    /// Empty files standing for pins (unit tests of the flows).
    #[cfg(test)]
    PlainFiles,
}

impl Namespaces {
    /// Creates and pins a namespace `dir/name` for `container`, returning the pin path.
    pub(crate) fn create(
        self,
        dir: &Path,
        name: &str,
        container: &str,
    ) -> Result<PathBuf, RuntimeError> {
        match self {
            Namespaces::Kernel => NetNs::create_in(dir, name)
                .map(|ns| ns.path().to_path_buf())
                .map_err(|source| RuntimeError::Netns {
                    container: container.to_string(),
                    source,
                }),
            #[cfg(test)]
            Namespaces::PlainFiles => {
                let path = dir.join(name);
                std::fs::create_dir_all(dir)
                    .and_then(|()| std::fs::write(&path, b""))
                    .map_err(|source| RuntimeError::Io {
                        path: path.clone(),
                        source,
                    })?;
                Ok(path)
            }
        }
    }

    /// Removes a pin; already gone is success.
    pub(crate) fn remove(self, path: &Path, container: &str) -> Result<(), RuntimeError> {
        match self {
            Namespaces::Kernel => netns::remove(path).map_err(|source| RuntimeError::Netns {
                container: container.to_string(),
                source,
            }),
            #[cfg(test)]
            Namespaces::PlainFiles => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(RuntimeError::Io {
                    path: path.to_path_buf(),
                    source: e,
                }),
                _ => Ok(()),
            },
        }
    }

    /// Sets `lo` up in the namespace (a `--network none` container's only interface).
    pub(crate) fn loopback_up(self, path: &Path, container: &str) -> Result<(), ModeError> {
        match self {
            Namespaces::Kernel => {
                crate::backend::set_loopback_up(path).map_err(|why| ModeError::Loopback {
                    container: container.to_string(),
                    why,
                })
            }
            #[cfg(test)]
            Namespaces::PlainFiles => Ok(()),
        }
    }

    /// True while the pin is a live namespace.
    pub(crate) fn is_alive(self, path: &Path) -> bool {
        match self {
            Namespaces::Kernel => netns::is_netns(path),
            #[cfg(test)]
            Namespaces::PlainFiles => path.is_file(),
        }
    }
}
