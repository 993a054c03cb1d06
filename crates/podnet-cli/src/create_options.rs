//! `podnet create`'s podman options beyond networks and `-p`: `--ip`, `--ip6`,
//! `--mac-address`, `--network-alias` (for the one network), `--dns-option`, `--no-hosts`,
//! `--expose` and `-P`. Parsed here, ruled on by the library (`ContainerSpec`).

use std::net::IpAddr;

use clap::Args;
use podnet::{ContainerSpec, SingleNetworkOptions};

use crate::run::CliError;

/// The options, flattened into `create`'s.
#[derive(Debug, Args)]
pub struct CreateOptionArgs {
    /// Address on the container's only network (podman takes either family).
    #[arg(long)]
    pub ip: Vec<IpAddr>,
    /// IPv6 address on the container's only network.
    #[arg(long)]
    pub ip6: Vec<std::net::Ipv6Addr>,
    /// MAC address on the container's only network.
    #[arg(long)]
    pub mac_address: Option<String>,
    /// DNS aliases on each of the container's networks.
    #[arg(long)]
    pub network_alias: Vec<String>,
    /// resolv.conf options (`ndots:3`), replacing the host's.
    #[arg(long)]
    pub dns_option: Vec<String>,
    /// No hosts file for the container.
    #[arg(long)]
    pub no_hosts: bool,
    /// Exposed ports, `port[-end][/proto]` (comma lists allowed).
    #[arg(long)]
    pub expose: Vec<String>,
    /// Publish every exposed port on a free host port.
    #[arg(long, short = 'P')]
    pub publish_all: bool,
}

impl CreateOptionArgs {
    /// Sets the options on `spec`.
    pub fn apply(self, spec: &mut ContainerSpec) -> Result<(), CliError> {
        spec.expose = crate::run::port_args(&self.expose, portmap::parse_expose_arg)?;
        spec.publish_all = self.publish_all;
        spec.dns_options = self.dns_option;
        spec.no_hosts = self.no_hosts;
        let mut single = SingleNetworkOptions::default();
        single.static_ips = self
            .ip
            .into_iter()
            .chain(self.ip6.into_iter().map(IpAddr::V6))
            .collect();
        single.static_mac = self.mac_address;
        single.aliases = self.network_alias;
        spec.single_network = single;
        Ok(())
    }
}
