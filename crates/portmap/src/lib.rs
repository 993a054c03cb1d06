//! Port mappings as podman and netavark know them: the legacy one-port form,
//! the ranged form netavark takes, merging and expanding between them, a
//! canonical form, and parsing of `podman run -p` specs.
//!
//! Requires: nothing (pure data handling, no privileges, no system calls).

mod canonical;
mod error;
mod legacy;
mod overlap;
#[cfg(test)]
mod proptests;
mod protocol;
mod publish;
mod types;

pub use canonical::canonicalize;
pub use error::{Error, Invalid};
pub use legacy::{expand, merge_ranges};
pub use protocol::Protocol;
pub use publish::parse_publish;
pub use types::{OciCniPortMapping, PortMapping};
