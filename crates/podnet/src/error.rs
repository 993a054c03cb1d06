//! The facade's error: one variant per area, each wrapping that area's own error enum.

/// Any failure of a podnet operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // Each area (network, state, backend, runtime) adds one `#[error(transparent)]`
    // variant wrapping its own error enum here.
    /// A network backend (netavark) failed.
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    /// A network definition operation failed.
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    /// A state database or IP allocation operation failed.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A container network flow failed.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// An input broke a rule of the validation layer.
    #[error(transparent)]
    Invalid(#[from] crate::validate::InvalidInput),
    /// Entering the user namespace or managing the rootless netns failed.
    #[error(transparent)]
    Rootless(#[from] crate::rootless::RootlessError),
}
