//! The crate's single error type.

/// Everything that can fail in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A backend's setup output is not valid status JSON.
    #[error("invalid network status JSON from {origin}: {source}")]
    ParseStatus {
        /// Where the JSON came from (a path, `netavark setup`, ...).
        origin: String,
        /// The cause, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The container is attached to a different number of networks than
    /// there are status results (podman's "network inspection mismatch").
    #[error("network inspection mismatch: container joins {} network(s) {networks:?} but has status for {statuses} network(s)", networks.len())]
    NetworkMismatch {
        /// The networks the container is attached to.
        networks: Vec<String>,
        /// How many status results were given.
        statuses: usize,
    },
    /// More than one status result for a container not attached to named networks.
    #[error("expected at most 1 network status without named networks, got {count}: {names:?}")]
    TooManyStatuses {
        /// How many results were given.
        count: usize,
        /// Their network names.
        names: Vec<String>,
    },
}
