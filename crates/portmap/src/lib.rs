//! Port mappings as podman and netavark know them: the legacy one-port form
//! ([`OciCniPortMapping`]), the ranged form netavark takes ([`PortMapping`],
//! typed: a [`Protocols`] list of [`Protocol`]s and an optional `IpAddr`, with
//! the JSON podman and netavark write),
//! podman's merge between them ([`merge_ranges`], inverse [`expand`]), one
//! canonical form ([`canonicalize`]: validated, merged, deduplicated,
//! conflicts rejected) and parsing of `podman run -p` specs ([`parse_publish`]).
//!
//! Requires: nothing (pure data handling: no privileges, no kernel features,
//! no files, no system calls).
//!
//! Every error names its input (the spec or the mapping) and states the reason
//! in its message (also its [`source`](std::error::Error::source)). No port arithmetic
//! wraps or truncates: numbers are parsed wide and range-checked.
//! Everything is O(n log n) in the number of mappings.
//!
//! ```
//! use portmap::{canonicalize, parse_publish, PortMapping};
//!
//! # fn main() -> Result<(), portmap::Error> {
//! let specs = ["8080-8081:80-81", "0.0.0.0:8082:82", "[::1]::53/udp,tcp"];
//! let parsed = specs
//!     .iter()
//!     .map(|spec| parse_publish(spec))
//!     .collect::<Result<Vec<_>, _>>()?;
//! let canonical = canonicalize(&parsed)?;
//! let shown: Vec<String> = canonical.iter().map(PortMapping::to_string).collect();
//! assert_eq!(shown, ["8080-8082:80-82/tcp", "[::1]::53/tcp", "[::1]::53/udp"]);
//!
//! // A conflict names both mappings.
//! let clash = [parse_publish("8080:80")?, parse_publish("8080:81")?];
//! let err = canonicalize(&clash).unwrap_err();
//! assert!(err.to_string().contains("8080:80/tcp and 8080:81/tcp"));
//! # Ok(())
//! # }
//! ```

mod canonical;
mod error;
mod expose;
mod legacy;
mod overlap;
#[cfg(test)]
mod proptests;
mod protocol;
mod publish;
mod types;

pub use canonical::canonicalize;
pub use error::{Error, Invalid};
pub use expose::parse_expose_arg;
pub use legacy::{expand, merge_ranges};
pub use protocol::{Protocol, Protocols};
pub use publish::{parse_publish, parse_publish_arg};
pub use types::{OciCniPortMapping, PortMapping};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
