//! The typed keys podnet reads, with containers/common's built-in defaults.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net};
use serde::Serialize;

/// A network backend podman can run (`network_backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkBackend {
    /// netavark (podman's default since 4.0, the only one since 5.0 on most builds).
    Netavark,
    /// CNI plugins (deprecated; removed in podman 5 builds without the `cni` tag).
    Cni,
}

impl NetworkBackend {
    /// The name used in containers.conf and in `defaultNetworkBackend`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Netavark => "netavark",
            Self::Cni => "cni",
        }
    }

    /// Parses a containers.conf value (`netavark`, `cni`).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "netavark" => Some(Self::Netavark),
            "cni" => Some(Self::Cni),
            _ => None,
        }
    }
}

impl fmt::Display for NetworkBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// netavark's firewall driver (`firewall_driver`, passed as `--firewall-driver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FirewallDriver {
    /// iptables rules (netavark's only working driver before 1.10; removed in 2.0).
    Iptables,
    /// an `inet netavark` nftables table (netavark 1.10 and later).
    Nftables,
    /// firewalld zones and policies.
    Firewalld,
    /// no firewall rules at all.
    None,
}

impl FirewallDriver {
    /// The name used in containers.conf and on netavark's command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iptables => "iptables",
            Self::Nftables => "nftables",
            Self::Firewalld => "firewalld",
            Self::None => "none",
        }
    }

    /// Parses a containers.conf value.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "iptables" => Self::Iptables,
            "nftables" => Self::Nftables,
            "firewalld" => Self::Firewalld,
            "none" => Self::None,
            _ => return None,
        })
    }
}

impl fmt::Display for FirewallDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The program that gives rootless containers outbound networking
/// (`default_rootless_network_cmd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RootlessNetworkCmd {
    /// pasta (podman 5's default).
    Pasta,
    /// slirp4netns (podman 4's default).
    Slirp4netns,
}

impl RootlessNetworkCmd {
    /// Parses a containers.conf value.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pasta" => Some(Self::Pasta),
            "slirp4netns" => Some(Self::Slirp4netns),
            _ => None,
        }
    }
}

/// Parses a containers.conf value, refusing an unknown one with an error naming it and the
/// accepted values.
macro_rules! from_str_by_parse {
    ($ty:ty, $key:literal, $expected:literal) => {
        impl FromStr for $ty {
            type Err = crate::Error;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value).ok_or_else(|| crate::Error::UnknownValue {
                    key: $key,
                    value: value.to_string(),
                    expected: $expected,
                })
            }
        }
    };
}

from_str_by_parse!(NetworkBackend, "network_backend", "netavark or cni");
from_str_by_parse!(
    FirewallDriver,
    "firewall_driver",
    "iptables, nftables, firewalld or none"
);
from_str_by_parse!(
    RootlessNetworkCmd,
    "default_rootless_network_cmd",
    "pasta or slirp4netns"
);

/// One entry of `default_subnet_pools`: subnets of prefix length `size` are cut from `base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SubnetPool {
    /// The range subnets are taken from (IPv4 only, as podman requires).
    pub base: Ipv4Net,
    /// The prefix length of each subnet; at least `base`'s own, at most 32.
    pub size: u8,
}

/// The `[network]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NetworkConfig {
    /// `network_backend`; `None` (unset or `""`): chosen by [`crate::choose_backend`].
    pub network_backend: Option<NetworkBackend>,
    /// `default_network`: the network a container joins when none is named.
    pub default_network: String,
    /// `default_subnet`: the default network's subnet.
    pub default_subnet: IpNet,
    /// `default_subnet_pools`: where `network create` picks free subnets.
    pub default_subnet_pools: Vec<SubnetPool>,
    /// `network_config_dir`; `None`: `/etc/containers/networks` for root,
    /// `$graphroot/networks` for a rootless user.
    pub network_config_dir: Option<PathBuf>,
    /// `firewall_driver`; `None`: netavark's own default.
    pub firewall_driver: Option<FirewallDriver>,
    /// `dns_bind_port`; `None` (unset or 0): 53.
    pub dns_bind_port: Option<u16>,
    /// `pasta_options`: extra arguments for pasta.
    pub pasta_options: Vec<String>,
    /// `default_rootless_network_cmd`.
    pub default_rootless_network_cmd: RootlessNetworkCmd,
    /// `cni_plugin_dirs`.
    pub cni_plugin_dirs: Vec<PathBuf>,
    /// `netavark_plugin_dirs`.
    pub netavark_plugin_dirs: Vec<PathBuf>,
}

/// The `[engine]` keys podnet uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EngineConfig {
    /// `helper_binaries_dir`: searched for netavark and aardvark-dns before `$PATH`
    /// (an entry starting with `$BINDIR` is relative to podman's own directory).
    pub helper_binaries_dir: Vec<PathBuf>,
    /// `enable_port_reservation`: hold published host ports open while a container runs.
    pub enable_port_reservation: bool,
    /// `static_dir` (absolute); `None`: `$graphroot/libpod`.
    pub static_dir: Option<PathBuf>,
    /// `tmp_dir` (absolute); `None`: `/run/libpod`, or under the rootless runtime dir.
    pub tmp_dir: Option<PathBuf>,
}

/// containers.conf as podman would see it: the keys podnet uses, after every file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ContainersConf {
    /// The `[network]` table.
    pub network: NetworkConfig,
    /// The `[engine]` keys podnet uses.
    pub engine: EngineConfig,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

/// containers/common's `DefaultSubnetPools`: 10.89.0.0/24 to 10.255.255.0/24.
pub const DEFAULT_SUBNET_POOLS: &[(&str, u8)] = &[
    ("10.89.0.0/16", 24),
    ("10.90.0.0/15", 24),
    ("10.92.0.0/14", 24),
    ("10.96.0.0/11", 24),
    ("10.128.0.0/9", 24),
];

/// containers/common's `DefaultCNIPluginDirs`.
pub const DEFAULT_CNI_PLUGIN_DIRS: &[&str] = &[
    "/usr/local/libexec/cni",
    "/usr/libexec/cni",
    "/usr/local/lib/cni",
    "/usr/lib/cni",
    "/opt/cni/bin",
];

/// containers/common's default `netavark_plugin_dirs`.
pub const DEFAULT_NETAVARK_PLUGIN_DIRS: &[&str] = &[
    "/usr/local/libexec/netavark",
    "/usr/libexec/netavark",
    "/usr/local/lib/netavark",
    "/usr/lib/netavark",
];

/// containers/common's default `helper_binaries_dir` on Linux (v0.50; v0.5x added
/// `$BINDIR/../libexec/podman` last).
pub const DEFAULT_HELPER_BINARIES_DIR: &[&str] = &[
    "/usr/local/libexec/podman",
    "/usr/local/lib/podman",
    "/usr/libexec/podman",
    "/usr/lib/podman",
];

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            network_backend: None,
            default_network: "podman".into(),
            default_subnet: IpNet::V4(Ipv4Net::new_assert([10, 88, 0, 0].into(), 16)),
            default_subnet_pools: DEFAULT_SUBNET_POOLS
                .iter()
                .filter_map(|(base, size)| {
                    Some(SubnetPool {
                        base: base.parse().ok()?,
                        size: *size,
                    })
                })
                .collect(),
            network_config_dir: None,
            firewall_driver: None,
            dns_bind_port: None,
            pasta_options: Vec::new(),
            default_rootless_network_cmd: RootlessNetworkCmd::Pasta,
            cni_plugin_dirs: paths(DEFAULT_CNI_PLUGIN_DIRS),
            netavark_plugin_dirs: paths(DEFAULT_NETAVARK_PLUGIN_DIRS),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            helper_binaries_dir: paths(DEFAULT_HELPER_BINARIES_DIR),
            enable_port_reservation: true,
            static_dir: None,
            tmp_dir: None,
        }
    }
}

fn paths(list: &[&str]) -> Vec<PathBuf> {
    list.iter().map(PathBuf::from).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_from_text_and_an_unknown_one_is_named() {
        assert_eq!(
            "cni".parse::<NetworkBackend>().unwrap(),
            NetworkBackend::Cni
        );
        assert_eq!(
            "nftables".parse::<FirewallDriver>().unwrap(),
            FirewallDriver::Nftables
        );
        assert_eq!(
            "slirp4netns".parse::<RootlessNetworkCmd>().unwrap(),
            RootlessNetworkCmd::Slirp4netns
        );
        let err = "ipfw".parse::<FirewallDriver>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown firewall_driver "ipfw": expected iptables, nftables, firewalld or none"#
        );
    }
}
