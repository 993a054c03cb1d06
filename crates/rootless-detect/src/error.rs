//! The crate's single error type.

use std::path::PathBuf;

use crate::runtime_dir::CandidateFailures;

/// Everything that can fail in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line of a `uid_map`/`gid_map` style text is malformed.
    #[error("invalid id map line {line} of {origin}: {text:?}: {reason}")]
    InvalidIdMap {
        /// Where the text came from: a path, or `input` for a string.
        origin: String,
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An id map file (e.g. `/proc/self/uid_map`) could not be read.
    #[error("cannot read id map {path}: {source}")]
    ReadIdMap {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Root (euid 0) has no entry in the user namespace's uid map.
    #[error("euid 0 is not mapped by {path}")]
    RootNotMapped {
        /// The uid map that was read.
        path: PathBuf,
    },
    /// `_CONTAINERS_ROOTLESS_UID` is set but is not a uid.
    #[error("invalid _CONTAINERS_ROOTLESS_UID value {value:?}: {source}")]
    InvalidRootlessUidEnv {
        /// The value found in the environment.
        value: String,
        /// The cause.
        #[source]
        source: std::num::ParseIntError,
    },
    /// No runtime directory candidate was usable.
    #[error("no usable runtime directory for uid {uid}: {candidates}")]
    NoRuntimeDir {
        /// The user the directory was sought for.
        uid: u32,
        /// Each candidate and why it was rejected.
        candidates: CandidateFailures,
    },
    /// A subordinate id file (`/etc/subuid`, `/etc/subgid`) could not be read.
    #[error("cannot read subordinate id file {path}: {source}")]
    ReadSubIds {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line of a subordinate id file is malformed.
    #[error("invalid line {line} of {path}: {text:?}: {reason}")]
    InvalidSubIdLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The user name or uid given to look up subordinate ids is empty or malformed.
    #[error("invalid user {user:?}: {reason}")]
    InvalidUser {
        /// The user as given.
        user: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The user database (NSS or a passwd file) could not be queried.
    #[error("cannot look up user {user:?} in {db}: {source}")]
    LookupUser {
        /// The user as given.
        user: String,
        /// Which database was asked.
        db: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
