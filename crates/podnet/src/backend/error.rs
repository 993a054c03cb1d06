//! The backend's error: one variant per failing step of a netavark call.

use std::path::PathBuf;

/// A failure of a network backend (the netavark binary, or the fake one in tests).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// No executable was found for a helper binary.
    #[error("{name} binary not found (searched {})", display_paths(searched))]
    BinaryNotFound {
        /// The binary looked for (`netavark`, `aardvark-dns`).
        name: String,
        /// Every path that was tried, in order.
        searched: Vec<PathBuf>,
    },
    /// The CNI backend failed (a plugin, its cache or a network's configuration).
    #[error("{0}")]
    Cni(Box<super::CniBackendError>),
    /// The options handed to the backend are inconsistent.
    #[error("invalid network options for container {container_id}: {reason}")]
    InvalidOptions {
        /// The container the options are for.
        container_id: String,
        /// What is wrong with them.
        reason: String,
    },
    /// netavark's `--config` directory could not be created.
    #[error("create netavark config directory {path}")]
    ConfigDir {
        /// The directory.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A stale aardvark-dns pid file could not be checked or removed.
    #[error("recover stale aardvark-dns pid file {path}")]
    AardvarkPidFile {
        /// The pid file (or its lock file).
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// The namespace netavark should run in could not be prepared for the child.
    #[error("run netavark in host network namespace {path}")]
    HostNetns {
        /// The namespace's path.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: netns::Error,
    },
    /// netavark's firewall tool is not on the PATH it would run with.
    #[error(
        "netavark needs {tool}, which is not in PATH {path} (install it: apt-get install {tool})"
    )]
    FirewallToolMissing {
        /// The tool.
        tool: &'static str,
        /// The PATH searched (podman's, sbin directories included).
        path: String,
    },
    /// The backend process could not be prepared or started, or its output not read.
    #[error("run {binary} {command}")]
    Spawn {
        /// The binary run.
        binary: PathBuf,
        /// The subcommand (`setup`, `teardown`).
        command: &'static str,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// The backend process ran past its time limit; its process group was killed.
    #[error("{} {command} did not finish within {limit:?}: its process group was killed", binary.display())]
    Timeout {
        /// The binary run.
        binary: PathBuf,
        /// The subcommand (`setup`, `teardown`).
        command: &'static str,
        /// The limit that expired.
        limit: std::time::Duration,
    },
    /// Undoing a failed setup left objects behind (they are kept on record for `reconcile`).
    #[error("undo of the failed setup of container {container_id} left: {}", left.join("; "))]
    Undo {
        /// The container the setup was for.
        container_id: String,
        /// What is still there, and why it could not be removed.
        left: Vec<String>,
    },
    /// The links a setup may leave could not be listed.
    #[error("list the links of container {container_id}'s networks")]
    Leftovers {
        /// The container the setup is for.
        container_id: String,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// netavark ran and reported a failure.
    #[error("netavark {command} failed (exit code {}): {message}", exit_code.map_or_else(|| "none, killed by a signal".to_string(), |c| c.to_string()))]
    Netavark {
        /// The subcommand (`setup`, `teardown`, `update`).
        command: &'static str,
        /// The network namespace it worked on (for `update`: aardvark-dns's file of the
        /// network).
        netns: PathBuf,
        /// netavark's exit code (`None` when killed by a signal).
        exit_code: Option<i32>,
        /// netavark's own message (its `{"error": ...}` output), or its raw output
        /// when that was not readable.
        message: String,
    },
    /// netavark succeeded but its output is not a result this crate understands.
    #[error("netavark {command} printed an unreadable result: {output:?}")]
    BadOutput {
        /// The subcommand (`setup`, `teardown`).
        command: &'static str,
        /// What it printed on stdout.
        output: String,
        /// Why parsing failed.
        #[source]
        source: serde_json::Error,
    },
    /// netavark's result does not cover exactly the networks asked for.
    #[error("netavark setup returned networks {got:?}, expected {want:?}")]
    ResultMismatch {
        /// The networks in the request.
        want: Vec<String>,
        /// The networks in the result.
        got: Vec<String>,
    },
    /// The installed netavark cannot do what the configuration asks (or its version is
    /// unreadable).
    #[error(transparent)]
    Feature(Box<super::NetavarkFeatureError>),
    /// A failure injected into the recording fake backend (`podnet::testing`, feature `testing`).
    #[error("injected {command} failure at call {call}")]
    Injected {
        /// The call's `setup` or `teardown`.
        command: &'static str,
        /// The 1-based number of the call that failed.
        call: usize,
    },
}

impl From<super::NetavarkFeatureError> for BackendError {
    fn from(err: super::NetavarkFeatureError) -> Self {
        // boxed: a version and two paths would double the size of every podnet::Error
        Self::Feature(Box::new(err))
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
