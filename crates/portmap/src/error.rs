//! The crate's error type: one variant per failing operation, each naming its input.

use crate::types::PortMapping;

/// What went wrong with a spec or a mapping; the `#[source]` of [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// The spec is empty.
    #[error("empty spec")]
    Empty,
    /// `--expose` takes container ports only.
    #[error("a host part (':') is not allowed: --expose takes container ports, -p publishes")]
    ExposeHostPart,
    /// More than one `/` in the spec.
    #[error("protocol can only be specified once (one '/')")]
    ManySlashes,
    /// A `/` with nothing after it.
    #[error("empty protocol after '/'")]
    EmptyProtocol,
    /// A protocol other than tcp, udp or sctp.
    #[error("unknown protocol {0:?} (expected tcp, udp or sctp)")]
    UnknownProtocol(String),
    /// Too many `:` separated fields (an unbracketed IPv6 address, usually).
    #[error(
        "too many ':' (format is [ip:][hostPort:]containerPort; put an IPv6 address in brackets)"
    )]
    ManyColons,
    /// A bracketed IPv6 address that is malformed.
    #[error("malformed bracketed address: {0}")]
    Brackets(&'static str),
    /// The host IP field is present but empty (`:80:80`).
    #[error("empty host IP (leave out 'ip:' or give an address)")]
    EmptyHostIp,
    /// The host IP does not parse as an IP address.
    #[error("host IP {ip:?} is not an IP address")]
    HostIp {
        /// The text given.
        ip: String,
        /// Why it did not parse.
        #[source]
        source: std::net::AddrParseError,
    },
    /// The container port field is empty.
    #[error("empty container port")]
    EmptyContainerPort,
    /// A port is not a decimal number.
    #[error("port {0:?} is not a decimal number")]
    NotANumber(String),
    /// A port number is above 65535.
    #[error("port {0:?} is out of range 1-65535")]
    OutOfRange(String),
    /// Port 0 where a real port is needed.
    #[error("{0} port 0 is not allowed here")]
    PortZero(&'static str),
    /// A range with a missing bound or more than one `-`.
    #[error("malformed port range {0:?} (expected start-end)")]
    MalformedRange(String),
    /// A range whose end is not above its start.
    #[error("port range {start}-{end}: the end must be higher than the start")]
    Reversed {
        /// First port.
        start: u16,
        /// Last port.
        end: u16,
    },
    /// Host and container ranges of different length.
    #[error("host and container port ranges have different lengths: {host} vs {container}")]
    LengthMismatch {
        /// Number of host ports.
        host: u32,
        /// Number of container ports.
        container: u32,
    },
    /// More distinct host addresses than fit in 32 bits.
    #[error("too many distinct host addresses")]
    TooMany,
    /// A range that runs past port 65535.
    #[error("{which} port range {start} + {range} runs past 65535")]
    Overflow {
        /// `host` or `container`.
        which: &'static str,
        /// First port.
        start: u16,
        /// Number of ports.
        range: u16,
    },
}

/// Errors of this crate. Each variant names the input it is about and says what is wrong
/// with it (the detail is also its [`std::error::Error::source`], for callers that walk
/// the chain).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// [`parse_publish`](crate::parse_publish) got a bad `-p` spec.
    #[error("invalid publish spec {spec:?}: {cause}")]
    Publish {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        #[source]
        cause: Invalid,
    },
    /// [`parse_expose_arg`](crate::parse_expose_arg) got a bad `--expose` spec.
    #[error("invalid --expose spec {spec:?}: {cause}")]
    Expose {
        /// The argument as given.
        spec: String,
        /// What is wrong with it.
        #[source]
        cause: Invalid,
    },
    /// [`canonicalize`](crate::canonicalize) got an invalid mapping.
    #[error("invalid port mapping {mapping}: {cause}")]
    Mapping {
        /// The mapping as given.
        mapping: Box<PortMapping>,
        /// What is wrong with it.
        #[source]
        cause: Invalid,
    },
    /// [`canonicalize`](crate::canonicalize) found one host address,
    /// protocol and port sent to two container ports.
    #[error(
        "conflicting port mappings {first} and {second}: host port {host_port}/{protocol} \
         would go to container port {first_container_port} and {second_container_port}"
    )]
    Conflict {
        /// One of the two mappings, as given.
        first: Box<PortMapping>,
        /// The other mapping, as given.
        second: Box<PortMapping>,
        /// Protocol both bind.
        protocol: crate::Protocol,
        /// Host port both bind.
        host_port: u16,
        /// Where `first` sends `host_port`.
        first_container_port: u16,
        /// Where `second` sends `host_port`.
        second_container_port: u16,
    },
    /// [`expand`](crate::expand) got a mapping whose range runs past 65535.
    #[error("cannot expand port mapping {mapping}: {cause}")]
    Expand {
        /// The mapping as given.
        mapping: Box<PortMapping>,
        /// What is wrong with it.
        #[source]
        cause: Invalid,
    },
}
