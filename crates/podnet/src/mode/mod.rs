//! A container's network mode: podman's `--network` kinds as one type.
//!
//! | `--network` | [`NetworkMode`] | what the container gets |
//! |---|---|---|
//! | `bridge[:opts]`, `NAME[,NAME]`, `NAME:opts` (more than once) | [`NetworkMode::Bridge`] | its own netns on netavark networks (the default one for `bridge`) |
//! | `none` | [`NetworkMode::None`] | its own netns with only `lo`, up |
//! | `host` | [`NetworkMode::Host`] | no netns of its own: the host's network |
//! | `ns:PATH` | [`NetworkMode::Path`] | the namespace at PATH, joined, never removed by podnet |
//! | `container:ID` | [`NetworkMode::Container`] | another container's netns, hosts and resolv.conf (a pod) |
//! | `pasta[:opts]` | [`NetworkMode::Pasta`] | rootless: its own netns with its own pasta |
//! | `slirp4netns[:opts]` | [`NetworkMode::Slirp4netns`] | rootless: its own netns with its own slirp4netns |
//! | `private`, `default`, nothing | none given (`None` in [`crate::ContainerSpec::network_mode`]) | the runtime's default: bridge |
//!
//! The text form ([`std::fmt::Display`], [`std::str::FromStr`]) is podman's, so the state
//! database stores what `podman inspect` shows as `HostConfig.NetworkMode`.

mod error;
mod parse;
mod slirp;

use std::fmt;
use std::path::PathBuf;

pub use error::ModeError;
pub(crate) use parse::DEFAULT_NETWORK_KEY;
pub use parse::{parse_network_flags, NetworkFlags};
pub use slirp::{PortHandler, SlirpOptions};

use crate::validate::{InvalidInput, Rule};

/// How a container is networked (podman's `--network` mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetworkMode {
    /// netavark networks (the container's named networks; the default network when none).
    #[default]
    Bridge,
    /// A network namespace of its own with only the loopback interface, up.
    None,
    /// The host's network namespace.
    Host,
    /// An existing network namespace at this path, joined as it is.
    Path(PathBuf),
    /// The network namespace, hosts and resolv.conf of another container. The record
    /// holds the owner's full ID; a spec may name it by name or ID prefix.
    Container(String),
    /// Rootless: a namespace of its own, connected by its own pasta process.
    Pasta(PastaOptions),
    /// Rootless: a namespace of its own, connected by its own slirp4netns process.
    Slirp4netns(SlirpOptions),
}

/// pasta's own command-line options, as podman passes them (`pasta:-a,10.0.2.0,--mtu,1500`
/// gives `["-a", "10.0.2.0", "--mtu", "1500"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PastaOptions {
    /// Extra arguments for pasta, in order.
    pub args: Vec<String>,
}

impl NetworkMode {
    /// True for the modes whose networks netavark sets up.
    pub fn is_bridge(&self) -> bool {
        matches!(self, NetworkMode::Bridge)
    }

    /// True when podnet creates (and so removes) the container's network namespace:
    /// bridge, none, pasta and slirp4netns. Host, `ns:` and `container:` use one that is
    /// someone else's.
    pub fn owns_netns(&self) -> bool {
        matches!(
            self,
            NetworkMode::Bridge
                | NetworkMode::None
                | NetworkMode::Pasta(_)
                | NetworkMode::Slirp4netns(_)
        )
    }

    /// True when the container may publish ports (`-p`): podman discards ports in the
    /// host, none, `ns:` and `container:` modes; podnet refuses them.
    pub fn publishes_ports(&self) -> bool {
        matches!(
            self,
            NetworkMode::Bridge | NetworkMode::Pasta(_) | NetworkMode::Slirp4netns(_)
        )
    }

    /// The mode's name without its value (`ns`, `container`, `pasta`...), as error
    /// messages name it.
    pub fn kind(&self) -> &'static str {
        match self {
            NetworkMode::Bridge => "bridge",
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
            NetworkMode::Path(_) => "ns",
            NetworkMode::Container(_) => "container",
            NetworkMode::Pasta(_) => "pasta",
            NetworkMode::Slirp4netns(_) => "slirp4netns",
        }
    }

    /// The mode as podman names it in `inspect` (`bridge`, `container:ID`, `ns:PATH`).
    pub fn name(&self) -> netstatus::ModeName<'_> {
        match self {
            NetworkMode::Bridge => netstatus::ModeName::Bridge,
            NetworkMode::None => netstatus::ModeName::None,
            NetworkMode::Host => netstatus::ModeName::Host,
            NetworkMode::Path(path) => netstatus::ModeName::Ns(path),
            NetworkMode::Container(id) => netstatus::ModeName::Container(id),
            NetworkMode::Pasta(_) => netstatus::ModeName::Pasta,
            NetworkMode::Slirp4netns(_) => netstatus::ModeName::Slirp4netns,
        }
    }

    /// The owner's ID of a `container:` mode.
    pub fn owner(&self) -> Option<&str> {
        match self {
            NetworkMode::Container(id) => Some(id),
            _ => None,
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMode::Path(path) => write!(f, "ns:{}", path.display()),
            NetworkMode::Container(id) => write!(f, "container:{id}"),
            NetworkMode::Pasta(opts) if !opts.args.is_empty() => {
                write!(f, "pasta:{}", opts.args.join(","))
            }
            NetworkMode::Slirp4netns(opts) if *opts != SlirpOptions::default() => {
                write!(f, "slirp4netns:{opts}")
            }
            other => f.write_str(other.kind()),
        }
    }
}

/// Parses one mode in its text form (the state database's column, podman's
/// `HostConfig.NetworkMode`); network names are not modes (see [`parse_network_flags`]).
impl std::str::FromStr for NetworkMode {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse::mode(s)? {
            Some(mode) => Ok(mode),
            None => Err(InvalidInput::new(
                "network mode",
                s,
                Rule::NetworkMode("not a network mode"),
            )),
        }
    }
}
