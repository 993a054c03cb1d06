//! Each command, run against a [`Runtime`] with the netavark backend.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use podnet::containers_conf;
use podnet::{
    Backend, ContainerSpec, Error, Netavark, Network, NetworkRequest, RootlessBackend,
    RootlessNetNs, RootlessNetNsConfig, Runtime, RuntimeConfig, Subnet, ROOTFUL_CONFIG_DIR,
};

use crate::args::{Cli, Command, ConnectArgs, CreateArgs, NetworkCommand, NetworkCreateArgs};

/// A command's failure: the library's error, or bad command-line input.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The library failed.
    #[error(transparent)]
    Podnet(#[from] Error),
    /// An argument is malformed; names it.
    #[error("invalid {what} {value:?}: {why}")]
    Argument {
        /// Which option.
        what: &'static str,
        /// The value given.
        value: String,
        /// What is wrong.
        why: String,
    },
    /// A `-p` spec does not parse (the message names the spec and the reason).
    #[error(transparent)]
    Publish(portmap::Error),
    /// containers.conf could not be read, or has a bad value.
    #[error(transparent)]
    ContainersConf(#[from] podnet::containers_conf::Error),
    /// `info` could not be assembled.
    #[error(transparent)]
    Info(#[from] podnet::InfoError),
    /// JSON output failed.
    #[error("printing JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `exec` could not run its command.
    #[error("exec {command:?} in container {container}")]
    Exec {
        /// The container.
        container: String,
        /// The command.
        command: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The runtime the CLI works with: podman's locations (or everything under `--root`), and
/// netavark on the host, or, for an unprivileged user (re-executed inside its user
/// namespace by `main`), netavark inside the user's rootless network namespace, with ports
/// published by forwarder processes of this same binary.
fn open(cli: &Cli) -> Result<Runtime<Box<dyn Backend>>, CliError> {
    let root = cli.root.as_ref();
    let rootless = podnet::in_user_namespace();
    let config = runtime_config(cli)?;
    let netavark = netavark(cli, &config)?;
    let backend: Box<dyn Backend> = if rootless {
        let netns_config = match root {
            Some(root) => RootlessNetNsConfig::new(root.join("rootless-netns"), &config.netns_dir),
            None => RootlessNetNsConfig::for_user().map_err(Error::from)?,
        };
        let program = std::env::current_exe().map_err(|source| CliError::Exec {
            container: String::from("-"),
            command: String::from("/proc/self/exe"),
            source,
        })?;
        Box::new(
            RootlessBackend::new(netavark.rootless(true), RootlessNetNs::new(netns_config))
                .with_forwarder(program),
        )
    } else {
        Box::new(netavark)
    };
    Ok(Runtime::new(config, backend)?)
}

fn print<T: serde::Serialize>(value: &T) -> Result<ExitCode, CliError> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value)?;
    // a closed pipe (`podnet inspect x | head`) is not an error of ours
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    Ok(ExitCode::SUCCESS)
}

/// containers.conf as podman reads it for this user (for `--root`, only its network
/// defaults and backend keys), with the command line's backend overrides.
fn runtime_config(cli: &Cli) -> Result<RuntimeConfig, CliError> {
    let sources = containers_conf::Sources::system(rootless_detect::rootless_uid());
    let conf = containers_conf::load(&sources)?;
    let mut config = match &cli.root {
        Some(root) => RuntimeConfig::under(root).with_containers_conf(&conf),
        None => RuntimeConfig::from_containers_conf(&conf)?,
    };
    let backend = &mut config.backend;
    backend.netavark_binary = cli.netavark.clone().or(backend.netavark_binary.take());
    backend.network_backend = cli.network_backend.or(backend.network_backend);
    backend.firewall_driver = cli.firewall_driver.or(backend.firewall_driver);
    if let Some(dir) = &cli.network_dir {
        config.networks_dir = dir.clone();
    }
    if let Some(db) = &cli.shared_ipam {
        config.shared_ipam = Some(db.clone());
    }
    config.dns_entries_dir = Some(netavark_config_dir(cli, &config).join("aardvark-dns"));
    if !podnet::in_user_namespace() && conf.engine.enable_port_reservation {
        config.port_holder = std::env::current_exe().ok();
    }
    if podnet::in_user_namespace() {
        config.port_forwarder = std::env::current_exe().ok();
    }
    Ok(config)
}

/// podman's netavark `--config` directory: `--netavark-config`, or one under `--root`,
/// or podman's own.
fn netavark_config_dir(cli: &Cli, config: &RuntimeConfig) -> PathBuf {
    match (&cli.netavark_config, &cli.root, podnet::in_user_namespace()) {
        (Some(dir), _, _) => dir.clone(),
        (None, Some(root), _) => root.join("netavark"),
        (None, None, true) => config.containers_dir.with_file_name("netavark"),
        (None, None, false) => PathBuf::from(ROOTFUL_CONFIG_DIR),
    }
}

/// netavark as `config` describes it, with podman's `--config` directory.
fn netavark(cli: &Cli, config: &RuntimeConfig) -> Result<Netavark, CliError> {
    Ok(config
        .backend
        .netavark(netavark_config_dir(cli, config))
        .map_err(Error::from)?)
}

/// `podnet info`: the network backend in use.
fn info(cli: &Cli) -> Result<ExitCode, CliError> {
    let netavark = netavark(cli, &runtime_config(cli)?)?;
    print(&podnet::network_info(
        &netavark,
        netavark.configured_firewall_driver(),
    )?)
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    // info reads no state: it answers even where the state database cannot be opened
    if let Command::Info = cli.command {
        return info(&cli);
    }
    let rt = open(&cli)?;
    match cli.command {
        Command::Network(cmd) => network(&rt, cmd),
        Command::Create(args) => {
            let record = rt.create(&container_spec(args)?)?;
            print(&summary(&record))
        }
        Command::Start { container } => print(&summary(&rt.setup(&container)?)),
        Command::Stop { container } => print(&summary(&rt.teardown(&container)?)),
        Command::Rm { container, force } => {
            rt.remove(&container, force)?;
            print(&serde_json::json!({ "removed": container }))
        }
        Command::Connect(args) => {
            let request = connect_request(args.network.clone(), &args);
            print(&summary(&rt.connect(&args.container, &request)?))
        }
        Command::Disconnect { network, container } => {
            print(&summary(&rt.disconnect(&container, &network)?))
        }
        Command::Reload { all, containers } => {
            let names: Vec<String> = if all {
                rt.containers()?
                    .into_iter()
                    .filter(|c| c.running)
                    .map(|c| c.name)
                    .collect()
            } else {
                containers
            };
            let mut reloaded = Vec::new();
            for name in &names {
                reloaded.push(summary(&rt.reload(name)?));
            }
            print(&reloaded)
        }
        Command::Inspect { container } => {
            let record = rt.container(&container)?;
            let settings = rt.inspect(&record.id)?;
            print(&serde_json::json!([{
                "Id": record.id,
                "Name": record.name,
                "NetworkSettings": settings,
            }]))
        }
        Command::Ps => {
            let list: Vec<_> = rt.containers()?.iter().map(summary).collect();
            print(&list)
        }
        Command::Exec { container, command } => {
            let record = rt.container(&container)?;
            crate::exec::exec(&record, &command)
        }
        Command::Reconcile => print(&rt.reconcile()?),
        Command::Info => info(&cli),
    }
}

fn network(rt: &Runtime<Box<dyn Backend>>, cmd: NetworkCommand) -> Result<ExitCode, CliError> {
    let store = rt.networks();
    match cmd {
        NetworkCommand::Create(args) => {
            let net = store
                .create(network_definition(args)?)
                .map_err(Error::from)?;
            print(&net)
        }
        NetworkCommand::Ls => print(&store.list().map_err(Error::from)?),
        NetworkCommand::Inspect { networks } => {
            let found = networks
                .iter()
                .map(|n| store.inspect(n))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Error::from)?;
            print(&found)
        }
        NetworkCommand::Rm { networks } => {
            let mut removed = Vec::new();
            for name in &networks {
                let options = podnet::RemoveNetworkOptions::default();
                removed.push(rt.remove_network(name, &options)?.name);
            }
            print(&removed)
        }
    }
}

fn key_values(what: &'static str, items: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    items
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(CliError::Argument {
                what,
                value: kv.clone(),
                why: "expected key=value".into(),
            }),
        })
        .collect()
}

fn network_definition(args: NetworkCreateArgs) -> Result<Network, CliError> {
    if args.gateway.len() > args.subnet.len() {
        return Err(CliError::Argument {
            what: "--gateway",
            value: format!("{:?}", args.gateway),
            why: "more gateways than subnets".into(),
        });
    }
    let subnets = args
        .subnet
        .iter()
        .enumerate()
        .map(|(i, net)| {
            let mut subnet = Subnet::new(*net);
            subnet.gateway = args.gateway.get(i).copied();
            subnet
        })
        .collect();
    Ok(Network {
        name: args.name.unwrap_or_default(),
        network_interface: args.interface_name.unwrap_or_default(),
        subnets,
        ipv6_enabled: args.ipv6,
        internal: args.internal,
        dns_enabled: !args.disable_dns,
        labels: key_values("--label", &args.label)?,
        options: key_values("--opt", &args.opt)?,
        ..Network::default()
    })
}

fn container_spec(args: CreateArgs) -> Result<ContainerSpec, CliError> {
    let flags = podnet::parse_network_flags(&args.network).map_err(Error::from)?;
    let ports = args
        .publish
        .iter()
        .map(|p| portmap::parse_publish(p).map_err(CliError::Publish))
        .collect::<Result<_, _>>()?;
    Ok(ContainerSpec {
        name: args.name,
        hostname: args.hostname,
        network_mode: flags.mode,
        networks: flags.networks,
        ports,
        add_hosts: args.add_host,
        dns_servers: args.dns,
        dns_search: args.dns_search,
    })
}

fn connect_request(network: String, args: &ConnectArgs) -> NetworkRequest {
    NetworkRequest {
        network,
        static_ips: args.ip.clone(),
        aliases: args.alias.clone(),
        interface_name: args.interface_name.clone(),
        static_mac: args.mac_address.clone(),
    }
}

/// What the container commands print: the record without its bulky status.
fn summary(record: &podnet::ContainerRecord) -> serde_json::Value {
    let addresses: BTreeMap<&String, Vec<String>> = record
        .network_status
        .iter()
        .map(|(net, status)| {
            let ips = status
                .interfaces
                .iter()
                .flat_map(|(ifname, i)| {
                    i.subnets
                        .iter()
                        .map(move |a| format!("{ifname} {}", a.ipnet))
                })
                .collect();
            (net, ips)
        })
        .collect();
    serde_json::json!({
        "Id": record.id,
        "Name": record.name,
        "Hostname": record.hostname,
        "Running": record.running,
        "NetworkMode": record.network_mode.to_string(),
        "Networks": record.networks.keys().collect::<Vec<_>>(),
        "Addresses": addresses,
        "Ports": record.port_mappings,
        "NetNS": record.netns_path,
        "HostsFile": record.hosts_path,
        "ResolvConf": record.resolv_conf_path,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_value_errors_name_the_item() {
        let err = key_values("--label", &["novalue".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--label") && err.contains("novalue"), "{err}");
        let ok = key_values("--opt", &["mtu=1400".into()]).unwrap();
        assert_eq!(ok["mtu"], "1400");
    }
}
