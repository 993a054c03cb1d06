//! The command line's shape (clap).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use podnet::containers_conf::{FirewallDriver, NetworkBackend};

/// podnet: podman's container network layer.
#[derive(Debug, Parser)]
#[command(name = "podnet", version)]
pub struct Cli {
    /// Keep networks, state, netns pins and container files under this directory.
    #[arg(long, global = true, env = "PODNET_ROOT")]
    pub root: Option<PathBuf>,
    /// Network definitions in this directory (podman's `network_config_dir`) instead of
    /// the default or `--root`'s.
    #[arg(long, global = true, env = "PODNET_NETWORK_DIR")]
    pub network_dir: Option<PathBuf>,
    /// podman's IPAM database, where addresses are allocated (default: podman's own,
    /// none under `--root`).
    #[arg(long, global = true, env = "PODNET_SHARED_IPAM")]
    pub shared_ipam: Option<PathBuf>,
    /// netavark's configuration directory (aardvark-dns's state, shared with podman)
    /// instead of the default or `--root`'s.
    #[arg(long, global = true, env = "PODNET_NETAVARK_CONFIG")]
    pub netavark_config: Option<PathBuf>,
    /// Log filter (`warn`, `debug`, `podnet=trace`...); default `$RUST_LOG` or `warn`.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// The netavark binary; default: containers.conf's `helper_binaries_dir`, then `$PATH`.
    #[arg(long, global = true, value_name = "PATH")]
    pub netavark: Option<PathBuf>,
    /// The network backend (containers.conf `network_backend`): `netavark`, or `cni` for
    /// podman 4's CNI networks (conflists in `network_config_dir`, default
    /// /etc/cni/net.d, rootless ~/.config/cni/net.d; plugins from `cni_plugin_dirs`).
    #[arg(long, global = true, value_name = "BACKEND")]
    pub network_backend: Option<NetworkBackend>,
    /// netavark's firewall driver (containers.conf `firewall_driver`): `nftables`,
    /// `iptables`, `firewalld` or `none`; needs netavark 1.10 or later.
    #[arg(long, global = true, value_name = "DRIVER")]
    pub firewall_driver: Option<FirewallDriver>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Record a container's network configuration.
    Create(CreateArgs),
    /// Set up containers' networks (netns, addresses, interfaces, hosts, resolv.conf).
    Start {
        /// Container names or IDs.
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Tear down containers' networks (the records are kept).
    Stop {
        /// Container names or IDs.
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Remove containers' records and files.
    Rm {
        /// Container names or IDs.
        #[arg(required = true)]
        containers: Vec<String>,
        /// Stop running ones first; an unknown name is no error.
        #[arg(long, short)]
        force: bool,
    },
    /// Connect a container to a network (`podman network connect NETWORK CONTAINER`).
    Connect(ConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(DisconnectArgs),
    /// Re-apply running containers' networks (after a firewall flush).
    Reload(ReloadArgs),
    /// A container's `NetworkSettings`, as `podman inspect` prints them.
    Inspect {
        /// Container name or ID.
        container: String,
        /// `json` (default) or a Go template (`{{.NetworkSettings.IPAddress}}`).
        #[arg(long, short)]
        format: Option<String>,
    },
    /// List containers (all of them, as `podman ps -a`).
    Ps {
        /// Output shape.
        #[command(flatten)]
        list: ListArgs,
        /// Only containers matching `KEY=VALUE` (`id`, `name`, `status`, `network`).
        #[arg(long)]
        filter: Vec<String>,
    },
    /// Run a command in the container's network namespace, with its hosts and resolv.conf.
    Exec {
        /// Container name or ID.
        container: String,
        /// The command and its arguments.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Repair what a crash left behind (leases, namespaces, backend rules).
    Reconcile,
    /// The network backend in use: backend, binaries, versions and firewall driver, as
    /// `podman info` shows them (`networkBackend`, `networkBackendInfo`).
    Info,
}

/// `podnet network ...`
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network (podman's format and defaults).
    Create(NetworkCreateArgs),
    /// List networks.
    Ls {
        /// Output shape.
        #[command(flatten)]
        list: ListArgs,
        /// Only networks matching `KEY=VALUE` (`name`, `id`, `driver`, `label`, `label!`,
        /// `until`: created before a time, Unix seconds or a duration ago).
        #[arg(long)]
        filter: Vec<String>,
    },
    /// Show networks.
    Inspect {
        /// Network names or IDs.
        #[arg(required = true)]
        networks: Vec<String>,
        /// `json` (default) or a Go template (`{{.Name}}`).
        #[arg(long, short)]
        format: Option<String>,
    },
    /// Remove networks.
    Rm {
        /// Network names or IDs.
        #[arg(required = true)]
        networks: Vec<String>,
        /// Stop and remove the containers using them first.
        #[arg(long, short)]
        force: bool,
    },
    /// Remove every network no container uses (the default network stays).
    Prune {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        force: bool,
        /// Only networks matching `label=KEY[=VALUE]`, `label!=KEY[=VALUE]` or
        /// `until=TIME` (created before a time, Unix seconds or a duration ago).
        #[arg(long)]
        filter: Vec<String>,
    },
    /// Exit 0 when the network exists, 1 when it does not.
    Exists {
        /// Network name or ID.
        network: String,
    },
    /// Connect a container to a network (prints nothing, as podman).
    Connect(ConnectArgs),
    /// Disconnect a container from a network (prints nothing, as podman).
    Disconnect(DisconnectArgs),
    /// Re-apply running containers' networks after a firewall flush (prints each
    /// container's full ID, as podman).
    Reload(ReloadArgs),
    /// Change a network's upstream DNS servers (podman 5's `network update`).
    Update {
        /// Network name or ID.
        network: String,
        /// DNS servers to add (comma-separated or repeated).
        #[arg(long, value_delimiter = ',')]
        dns_add: Vec<IpAddr>,
        /// DNS servers to remove (comma-separated or repeated).
        #[arg(long, value_delimiter = ',')]
        dns_drop: Vec<IpAddr>,
    },
}

/// How `ps` and `network ls` print their list.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// `json`, or a Go template (`{{.Name}}`, `table {{.ID}} {{.Name}}`); a table by default.
    #[arg(long)]
    pub format: Option<String>,
    /// Only names (networks) or IDs (containers).
    #[arg(long, short)]
    pub quiet: bool,
    /// No header row.
    #[arg(long)]
    pub noheading: bool,
}

/// `podnet network create`.
#[derive(Debug, Args)]
pub struct NetworkCreateArgs {
    /// Network name; `podmanN` when omitted.
    pub name: Option<String>,
    /// Subnets (CIDR); a free one from the pool when none.
    #[arg(long)]
    pub subnet: Vec<ipnet::IpNet>,
    /// Gateways, one per subnet, in order.
    #[arg(long)]
    pub gateway: Vec<IpAddr>,
    /// Driver: `bridge` (default), `macvlan` or `ipvlan` (netavark 1.5).
    #[arg(long, short)]
    pub driver: Option<String>,
    /// Ranges automatic allocation uses (CIDR), one per subnet, in order.
    #[arg(long)]
    pub ip_range: Vec<ipnet::IpNet>,
    /// IPAM driver: `host-local` (default), `none` or `dhcp` (macvlan; netavark 1.6's DHCP proxy).
    #[arg(long)]
    pub ipam_driver: Option<String>,
    /// Upstream DNS servers of the network's aardvark-dns (podman 5's `--dns`).
    #[arg(long, value_delimiter = ',')]
    pub dns: Vec<IpAddr>,
    /// Also an IPv6 subnet.
    #[arg(long)]
    pub ipv6: bool,
    /// No route out of the network.
    #[arg(long)]
    pub internal: bool,
    /// No aardvark-dns on this network.
    #[arg(long)]
    pub disable_dns: bool,
    /// Bridge interface name.
    #[arg(long)]
    pub interface_name: Option<String>,
    /// Labels, `key=value`.
    #[arg(long)]
    pub label: Vec<String>,
    /// Driver options, `key=value` (`mtu`, `isolate`, ...).
    #[arg(long, short)]
    pub opt: Vec<String>,
}

/// `podnet create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Container name.
    pub name: String,
    /// Network mode or networks, as podman's `--network`: `bridge[:OPTS]`, `none`, `host`,
    /// `ns:PATH`, `container:ID`, `private`, `pasta[:ARGS]`, `slirp4netns[:OPTS]`, or
    /// `NAME[,NAME]` / `NAME[:ip=IP,alias=A,mac=MAC,interface_name=IF]` (repeatable); the
    /// default network when none.
    #[arg(long)]
    pub network: Vec<String>,
    /// Published ports, `[ip:][hostPort:]containerPort[/proto]`.
    #[arg(long, short)]
    pub publish: Vec<String>,
    /// Hostname.
    #[arg(long)]
    pub hostname: Option<String>,
    /// Extra hosts entries, `name:ip`.
    #[arg(long)]
    pub add_host: Vec<String>,
    /// DNS servers.
    #[arg(long)]
    pub dns: Vec<IpAddr>,
    /// DNS search domains.
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// podman's other container network options.
    #[command(flatten)]
    pub options: crate::create_options::CreateOptionArgs,
}

/// `podnet disconnect` and `podnet network disconnect`.
#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Network name or ID.
    pub network: String,
    /// Container name or ID.
    pub container: String,
}

/// `podnet reload` and `podnet network reload`.
#[derive(Debug, Args)]
pub struct ReloadArgs {
    /// Every running container.
    #[arg(long, short)]
    pub all: bool,
    /// Container names or IDs.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub containers: Vec<String>,
}

/// `podnet connect` and `podnet network connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Network name or ID.
    pub network: String,
    /// Container name or ID.
    pub container: String,
    /// Static IP addresses.
    #[arg(long)]
    pub ip: Vec<IpAddr>,
    /// Static IPv6 addresses (podman's `--ip6`).
    #[arg(long)]
    pub ip6: Vec<std::net::Ipv6Addr>,
    /// DNS aliases.
    #[arg(long)]
    pub alias: Vec<String>,
    /// Static MAC address.
    #[arg(long)]
    pub mac_address: Option<String>,
    /// Interface name in the container.
    #[arg(long)]
    pub interface_name: Option<String>,
}
