//! The crate's single error type: one variant per failing operation, each naming its input.

use std::io;
use std::net::AddrParseError;
use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target file could not be opened (or created).
    #[error("cannot open {path}: {source}")]
    Open {
        /// The target file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The target is a symlink, a directory or another non-regular file.
    #[error("refusing to edit {path}: it is a {kind}, not a regular file")]
    NotRegularFile {
        /// The target file.
        path: PathBuf,
        /// What it is instead (`symlink`, `directory`, ...).
        kind: &'static str,
    },
    /// Taking the open file description write lock failed.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The target file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: nix::errno::Errno,
    },
    /// Reading a file (the target, a base hosts file or a host resolv.conf) failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing the new content over the target failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The target file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing, replaying or removing the journal beside the target failed.
    #[error("cannot update journal {path}: {source}")]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A line of a hosts file is longer than containers/common accepts.
    #[error("line {line} of {path} is longer than {max} bytes")]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The longest accepted line, in bytes without the newline.
        max: usize,
    },
    /// An extra host (`name1;name2:ip`) is malformed.
    #[error("invalid extra host {entry:?}: {reason}")]
    ExtraHost {
        /// The entry as given.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An extra host's IP address does not parse.
    #[error("invalid IP address in extra host {entry:?}: {source}")]
    ExtraHostIp {
        /// The entry as given.
        entry: String,
        /// The cause.
        #[source]
        source: AddrParseError,
    },
    /// A host name is empty or contains whitespace or `#`.
    #[error("invalid host name {name:?} for {ip}: {reason}")]
    HostName {
        /// The entry's IP address.
        ip: String,
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A DNS search domain or option is empty or contains whitespace or `#`.
    #[error("invalid dns {kind} {value:?}: {reason}")]
    DnsValue {
        /// `search domain` or `option`.
        kind: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}
