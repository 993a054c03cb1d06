//! The crate's one error type: one variant per failing operation, each naming the network,
//! plugin, command or file it concerns and saying why.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::Command;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration file or directory could not be read.
    #[error("cannot read CNI configuration {path}")]
    ReadConfig {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A configuration (a `.conflist`, a `.conf`, or bytes given by the caller) is invalid.
    #[error("invalid CNI configuration {origin}: {reason}")]
    InvalidConfig {
        /// Where it came from: a path, or `<bytes>`.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No configuration in a directory has the wanted network name.
    #[error("no CNI network named {network:?} in {dir}")]
    NetworkNotFound {
        /// The wanted network.
        network: String,
        /// The configuration directory searched.
        dir: PathBuf,
    },
    /// A container id, network name or interface name breaks libcni's naming rules.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidName {
        /// `container id`, `network name` or `interface name`.
        what: &'static str,
        /// The name as given.
        value: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// The command is not defined for the network's CNI version (CHECK before 0.4.0).
    #[error("network {network:?} declares cniVersion {version}, which has no {command} command")]
    CommandUnsupported {
        /// The network.
        network: String,
        /// Its configuration version.
        version: String,
        /// The command asked for.
        command: Command,
    },
    /// No executable file named after the plugin type exists in the plugin directories.
    #[error("plugin {plugin:?} of network {network:?} ({command}) not found in {dirs}")]
    PluginNotFound {
        /// The plugin type.
        plugin: String,
        /// The network.
        network: String,
        /// The command that needed it.
        command: Command,
        /// The directories searched, `:`-separated.
        dirs: String,
    },
    /// The plugin process could not be started or talked to.
    #[error("plugin {plugin:?} of network {network:?} ({command}) could not be run")]
    Exec {
        /// The plugin type.
        plugin: String,
        /// The network.
        network: String,
        /// The command.
        command: Command,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The plugin did not finish within the time limit and was killed.
    #[error("plugin {plugin:?} of network {network:?} ({command}) did not finish within {limit:?} and was killed")]
    Timeout {
        /// The plugin type.
        plugin: String,
        /// The network.
        network: String,
        /// The command.
        command: Command,
        /// The time limit.
        limit: Duration,
    },
    /// The plugin failed and reported a CNI error (or failed without one: code 0, and the
    /// message says what it printed).
    #[error("plugin {plugin:?} of network {network:?} ({command}) failed with CNI error {code}: {msg}{}", details_suffix(details))]
    Plugin {
        /// The plugin type.
        plugin: String,
        /// The network.
        network: String,
        /// The command.
        command: Command,
        /// The CNI error code (1-99 are the specification's, 100+ the plugin's own).
        code: u32,
        /// The error message.
        msg: String,
        /// The optional details.
        details: String,
    },
    /// The plugin succeeded but printed something that is not a result this runtime reads.
    #[error(
        "plugin {plugin:?} of network {network:?} ({command}) printed an unusable result: {reason}"
    )]
    BadResult {
        /// The plugin type.
        plugin: String,
        /// The network.
        network: String,
        /// The command.
        command: Command,
        /// What is wrong with the output.
        reason: String,
    },
    /// Reading, writing or removing a result cache entry failed.
    #[error("cannot {action} CNI cache entry {path}")]
    Cache {
        /// `read`, `write` or `remove`.
        action: &'static str,
        /// The cache file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A result cache entry exists but cannot be used.
    #[error("invalid CNI cache entry {path}: {reason}")]
    BadCache {
        /// The cache file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The network's CNI version is one this runtime cannot run.
    #[error("network {network:?} declares cniVersion {version}: {reason}")]
    UnsupportedVersion {
        /// The network.
        network: String,
        /// Its configuration version.
        version: String,
        /// Why it cannot be run.
        reason: &'static str,
    },
    /// A result cannot be expressed in the wanted CNI version.
    #[error("network {network:?}: cannot convert a {from} result to {to}: {reason}")]
    Convert {
        /// The network.
        network: String,
        /// The result's version.
        from: String,
        /// The wanted version.
        to: String,
        /// Why not.
        reason: String,
    },
    /// DEL after a restart found no cache entry, so there is no configuration to run.
    #[error("no CNI cache entry for network {network:?}, container {container_id:?}, interface {ifname:?} in {dir}")]
    NotCached {
        /// The network.
        network: String,
        /// The container id.
        container_id: String,
        /// The interface name.
        ifname: String,
        /// The cache directory.
        dir: PathBuf,
    },
}

fn details_suffix(details: &str) -> String {
    if details.is_empty() {
        String::new()
    } else {
        format!(" ({details})")
    }
}
