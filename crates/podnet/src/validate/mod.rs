//! The validation layer at the door: every value a user hands to `create`, `connect` or
//! `network create` is checked here, before anything is stored, against one of the rules
//! below. A refusal is one [`InvalidInput`]: which input, the value (quoted, so a newline
//! shows as `\n`), and the rule it breaks.
//!
//! | input | rule | source |
//! |---|---|---|
//! | network name | `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most [`MAX_NETWORK_NAME`] bytes | containers/common `NameRegex`; `.NAME.json.tmp-PID-RAND` within NAME_MAX (255) |
//! | container name | the same syntax, at most [`MAX_DNS_NAME`] bytes | podman's `NameRegex`; the name is a DNS name in aardvark-dns (RFC 1035: 253) |
//! | DNS alias (`alias=`, `--alias`) | no white space or control character; `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; at most 253 bytes, labels 1-63 | aardvark-dns's config is one line per container, names split by `,`; RFC 1035 2.3.4 |
//! | hostname (`--hostname`) | as an alias, and at most 64 bytes | HOST_NAME_MAX (sethostname(2)); it becomes an alias and a hosts line |
//! | search domain (`--dns-search`) | `.` alone (podman: no search), else a DNS name as above | resolv.conf(5) line format; RFC 1035 |
//! | `--add-host` | `NAMES:IP`, names split by `;`, each a hostname as above; IP an address or `host-gateway` | podman's `ValidateExtraHost`; hosts(5) line format |
//! | container interface name (`interface_name=`) | 1-15 bytes, no `/`, `:`, white space or control character, not `.`/`..`, not `lo` | kernel `dev_valid_name`, IFNAMSIZ 16; `lo` exists in every netns |
//! | bridge name (`--interface-name`) | the network name syntax and 1-15 bytes | containers/common; IFNAMSIZ |
//! | MAC (`mac=`, `--mac-address`) | six `:`-separated hex octets, unicast, not all zero | netavark takes 6-byte MACs; a multicast source MAC is dropped by the kernel (`is_valid_ether_addr`) |
//! | subnet | prefix at most /30 (IPv4) or /126 (IPv6); no overlap with 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4, 240.0.0.0/4, ::/128, ::1/128, fe80::/10, ff00::/8 | a gateway and a container need two host addresses; RFC 1122, 3927, 5771, 1112, 4291 |
//! | gateway | inside its subnet, not its network address, not its IPv4 broadcast address | containers/common `ValidateSubnet`; the kernel |
//! | `-o mtu=` | 0 (default) or 68-65535; 1280-65535 with an IPv6 subnet | kernel `ETH_MIN_MTU`, `IP_MAX_MTU`, `IPV6_MIN_MTU` |
//! | `-p` | `[ip:][hostPort:]containerPort[/proto]`, ports 1-65535; on the command line a comma list of specs (`80:80/tcp,udp` refused) | podman's `parsePortSpec` (in `portmap`); podman's `-p` is a string slice |
//! | `--expose` | `port[-end][/proto]`, no host part | podman's `CreateExpose` (in `portmap`) |
//! | `--dns-option` | non-empty, no white space or control character | resolv.conf(5) `options` line |
//! | `--ip`, `--ip6`, `--mac-address` | only with a single network | podman's `--ip can only be set for a single network` |
//! | `--add-host` | not with `--no-hosts` | podman's `--no-hosts and --add-host cannot be set together` |
//! | `--network` | `bridge[:opts]`, `none`, `host`, `private`, `ns:ABSOLUTE_PATH`, `container:NAME_OR_ID`, `pasta[:args]`, `slirp4netns[:opts]` or `NAME[,NAME]`/`NAME:opts`; more values only after a bridge-mode one, and only names | podman's specgen `ParseNetworkFlag` (see [`crate::mode`]) |
//!
//! Network files podman wrote are not refused: [`network_findings`] lists what podnet's own
//! create would have refused, and the network store logs each as a warning when loading.

mod addrs;
mod names;
mod network;
mod request;

#[cfg(test)]
mod fuzz;

pub use addrs::{add_host, gateway, mac, subnet};
pub(crate) use names::has_name_syntax;
pub use names::{
    alias, bridge_name, container_name, hostname, interface_name, network_name, search_domain,
    MAX_DNS_NAME, MAX_HOSTNAME, MAX_IFNAME, MAX_NETWORK_NAME,
};
pub use network::{mtu, network_findings, new_network};
pub(crate) use request::parse_network_option;
pub use request::{container_spec, network_request};

/// A value refused at the door.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {rule}")]
#[non_exhaustive]
pub struct InvalidInput {
    /// Which input (`alias`, `network name`, `--add-host entry`...).
    pub what: &'static str,
    /// The value as given.
    pub value: String,
    /// The rule it breaks.
    pub rule: Rule,
}

impl InvalidInput {
    pub(crate) fn new(what: &'static str, value: impl Into<String>, rule: Rule) -> Self {
        Self {
            what,
            value: value.into(),
            rule,
        }
    }
}

/// One row of the rule table: why a value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// Empty where a value is needed.
    #[error("it is empty")]
    Empty,
    /// White space or a control character, which would end a line of aardvark-dns's
    /// config, a hosts line or a resolv.conf line early.
    #[error("white space and control characters are not allowed (they would split a line of aardvark-dns's config, /etc/hosts or resolv.conf)")]
    WhitespaceOrControl,
    /// podman's name syntax.
    #[error("names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")]
    NameSyntax,
    /// Longer than a limit.
    #[error("longer than {max} bytes ({why})")]
    TooLong {
        /// The limit.
        max: usize,
        /// Where the limit comes from.
        why: &'static str,
    },
    /// A DNS label (between dots) empty or longer than 63 bytes.
    #[error("each dot-separated DNS label must be 1-63 bytes")]
    DnsLabel,
    /// Not a valid kernel interface name.
    #[error("interface names must be 1-15 bytes without '/', ':', white space or control characters, and not '.' or '..'")]
    InterfaceName,
    /// An interface name every network namespace already has.
    #[error("{0:?} is the loopback interface every network namespace has")]
    ReservedInterface(String),
    /// Not a 6-octet MAC address.
    #[error("a MAC address is six ':'-separated hex octets, e.g. 02:42:ac:11:00:02")]
    Mac,
    /// A multicast or broadcast MAC.
    #[error("multicast MAC (the low bit of the first octet is set): an interface needs a unicast address")]
    MulticastMac,
    /// The all-zero MAC.
    #[error("the all-zero MAC is not a valid interface address")]
    ZeroMac,
    /// A subnet too small for a gateway and a container.
    #[error("prefix /{prefix} leaves no room for a gateway and a container: at most /{max}")]
    PrefixTooLong {
        /// The prefix length given.
        prefix: u8,
        /// The longest usable prefix.
        max: u8,
    },
    /// A subnet overlapping a reserved range.
    #[error("overlaps the reserved range {range} ({why})")]
    Reserved {
        /// The reserved range.
        range: &'static str,
        /// What it is reserved for.
        why: &'static str,
    },
    /// A gateway outside its subnet.
    #[error("not inside subnet {0}")]
    GatewayOutside(String),
    /// A gateway equal to its subnet's network address.
    #[error("it is the network address of subnet {0}")]
    GatewayNetworkAddress(String),
    /// A gateway equal to its subnet's broadcast address.
    #[error("it is the broadcast address of subnet {0}")]
    GatewayBroadcast(String),
    /// An MTU outside the kernel's range.
    #[error("must be 0 (the default) or {min}-65535{}", if *.min > 68 { " with an IPv6 subnet" } else { "" })]
    Mtu {
        /// The smallest MTU allowed.
        min: u32,
    },
    /// An `--add-host` entry that is not `NAMES:IP`.
    #[error("expected NAME[;NAME...]:IP (IP an address or host-gateway): {0}")]
    AddHost(&'static str),
    /// A `--network` option string that does not parse.
    #[error("expected NAME[:ip=IP,alias=A,mac=MAC,interface_name=IF]: {0}")]
    NetworkOption(&'static str),
    /// A `--filter` item that is malformed or names a filter the command lacks.
    #[error("{0}")]
    Filter(String),
    /// `--add-host` with `--no-hosts`: no hosts file to write them to.
    #[error("--no-hosts and --add-host cannot be set together")]
    AddHostWithNoHosts,
    /// `--ip`, `--ip6` or `--mac-address` with several networks.
    #[error("it can only be set for a single network ({0} networks given)")]
    SingleNetworkOnly(usize),
    /// A `--network` mode value that does not parse (`ns:`, `slirp4netns:mtu=x`...).
    #[error("{0}")]
    NetworkMode(&'static str),
    /// A second `--network` value after a mode other than bridge.
    #[error("cannot set multiple networks without bridge network mode, selected mode {0}")]
    MultipleNetworks(String),
}

/// One `--filter` item: `KEY=VALUE` split at the first `=`, with the refusal for a bad
/// value of it (`bad(why)`), for `network ls`, `network prune` and `ps`.
pub(crate) fn filter_item(
    item: &str,
) -> Result<(&str, &str, impl Fn(String) -> InvalidInput + '_), InvalidInput> {
    let bad = move |why: String| InvalidInput::new("filter", item, Rule::Filter(why));
    let (key, value) = item
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=VALUE".into()))?;
    Ok((key, value, bad))
}

/// A resolv.conf option (`--dns-option`): one word, no white space or control character
/// (it is written on the `options` line).
pub fn dns_option(option: &str) -> Result<(), InvalidInput> {
    if option.is_empty() {
        return Err(InvalidInput::new("--dns-option", option, Rule::Empty));
    }
    no_whitespace_or_control("--dns-option", option)
}

/// No white space or control character anywhere (the DNS-record injection).
pub(crate) fn no_whitespace_or_control(what: &'static str, s: &str) -> Result<(), InvalidInput> {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput::new(what, s, Rule::WhitespaceOrControl));
    }
    Ok(())
}
