//! The crate's one error type: one variant per failing operation, naming its input.

use std::path::PathBuf;

/// What went wrong, with the file or key it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database file could not be opened or created.
    #[error("cannot open bbolt file {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// bbolt's whole-file `flock` could not be taken.
    #[error("cannot lock bbolt file {path}: {source}")]
    Lock {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: nix::errno::Errno,
    },
    /// Reading the file failed.
    #[error("cannot read bbolt file {path}: {source}")]
    Read {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing or syncing the file failed; the previous version stays the current one.
    #[error("cannot write bbolt file {path}: {source}")]
    Write {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid bbolt database.
    #[error("bbolt file {path} is corrupt: {reason}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Which rule of the format it breaks.
        reason: String,
    },
    /// A write transaction was asked of a database opened read-only.
    #[error("bbolt file {path} is open read-only")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// A bucket was created where one already is.
    #[error("bucket {name:?} already exists")]
    BucketExists {
        /// The bucket's key (lossy UTF-8).
        name: String,
    },
    /// A bucket that must exist does not.
    #[error("bucket {name:?} does not exist")]
    BucketNotFound {
        /// The bucket's key (lossy UTF-8).
        name: String,
    },
    /// A value operation met a bucket, or a bucket operation met a value (bbolt's
    /// `ErrIncompatibleValue`).
    #[error("key {key:?} holds a {found}, not what the operation expects")]
    Incompatible {
        /// The key (lossy UTF-8).
        key: String,
        /// "bucket" or "value".
        found: &'static str,
    },
    /// A key is empty or longer than bbolt's 32768 bytes, or a value longer than 2^31-2.
    #[error("key {key:?}: {reason}")]
    BadKey {
        /// The key (lossy UTF-8, cut to 64 bytes).
        key: String,
        /// Which limit it breaks.
        reason: &'static str,
    },
}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn show(key: &[u8]) -> String {
    String::from_utf8_lossy(&key[..key.len().min(64)]).into_owned()
}
