//! podnet: podman's libpod network layer as a library.
//!
//! TODO(integrator): crate doc with example, written once the flows land.

mod backend;
mod error;
mod network;
mod runtime;
mod state;

pub use error::Error;
