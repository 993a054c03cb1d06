//! The crate's error: one variant per failing step of reading containers.conf.

use std::path::PathBuf;

/// A failure to find, read or understand a containers.conf file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `CONTAINERS_CONF` or `CONTAINERS_CONF_OVERRIDE` names a file that cannot be used.
    #[error("{var} file {path}: {source}")]
    EnvFile {
        /// The environment variable.
        var: &'static str,
        /// The path it holds.
        path: PathBuf,
        /// Why the file cannot be used.
        #[source]
        source: std::io::Error,
    },
    /// A drop-in directory exists but cannot be listed.
    #[error("list drop-in directory {path}: {source}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file exists but cannot be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is not valid TOML.
    #[error("{path}: not valid TOML: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message, on one line.
        message: String,
    },
    /// A known key has a value of the wrong type or outside what podman accepts.
    #[error("{path}: [{table}] {key} = {value}: {reason}")]
    InvalidValue {
        /// The file.
        path: PathBuf,
        /// The table (`network`, `engine`).
        table: &'static str,
        /// The key.
        key: &'static str,
        /// The value as written in the file.
        value: String,
        /// What a valid value is.
        reason: String,
    },
    /// A table containers.conf knows (`network`, `engine`, ...) is not a table.
    #[error("{path}: {table} = {value}: expected a [{table}] table")]
    NotATable {
        /// The file.
        path: PathBuf,
        /// The table's name.
        table: String,
        /// The value as written in the file.
        value: String,
    },
    /// A module named in the options was found in none of the module directories.
    #[error(
        "containers.conf module {name} not found (searched {})",
        display_paths(searched)
    )]
    ModuleNotFound {
        /// The module as given.
        name: String,
        /// Every path tried, in order.
        searched: Vec<PathBuf>,
    },
    /// `$graphroot/defaultNetworkBackend` holds something podman would not accept.
    #[error(
        "{path}: unknown network backend value {value:?} (podman accepts \"netavark\" or \"cni\")"
    )]
    BackendMarker {
        /// The marker file.
        path: PathBuf,
        /// Its content.
        value: String,
    },
    /// `$graphroot/defaultNetworkBackend` exists but cannot be read.
    #[error("read network backend marker {path}: {source}")]
    ReadMarker {
        /// The marker file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A value of a key with a fixed set of values is none of them.
    #[error("unknown {key} {value:?}: expected {expected}")]
    UnknownValue {
        /// The containers.conf key.
        key: &'static str,
        /// The value given.
        value: String,
        /// The accepted values.
        expected: &'static str,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
