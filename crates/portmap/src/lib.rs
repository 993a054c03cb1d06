//! Port mappings as podman and netavark know them: the legacy one-port form,
//! the ranged form netavark takes, merging and expanding between them, a
//! canonical form, and parsing of `podman run -p` specs.
//!
//! Requires: nothing (pure data handling, no privileges, no system calls).

mod types;

pub use types::{OciCniPortMapping, PortMapping};
