//! podnet: podman's libpod network layer as a library.
//!
//! TODO(integrator): crate doc with example, written once the flows land.

mod backend;
mod error;
mod network;
mod runtime;
mod state;

pub use backend::{
    find_helper_binary, testing, Backend, BackendError, Netavark, NetworkOptions,
    PerNetworkOptions, StatusBlock, HELPER_BINARY_DIRS, ROOTFUL_CONFIG_DIR,
};
pub use error::Error;
