//! The runtime lock: one flow at a time changes containers, across processes.
//!
//! netavark serializes its own runs anyway; holding one lock for the whole flow (state
//! read, backend call, state write) is what makes "validate, apply, commit" atomic with
//! respect to another podnet process working on the same container.

use std::fs::File;
use std::path::Path;

use fs2::FileExt;

use super::RuntimeError;

/// Held while a flow runs; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct FlowLock {
    _file: File,
}

impl FlowLock {
    /// Blocks until the lock at `path` is ours (creating the file and its directory).
    pub(crate) fn acquire(path: &Path) -> Result<Self, RuntimeError> {
        let io = |source| RuntimeError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io)?;
        file.lock_exclusive().map_err(io)?;
        Ok(Self { _file: file })
    }
}
