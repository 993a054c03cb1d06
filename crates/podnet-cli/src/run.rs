//! Each command, run against a [`Runtime`] with the backend containers.conf or
//! `--network-backend` selects (netavark, or podman 4's CNI backend).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use podnet::containers_conf;
use podnet::{
    Backend, ContainerSpec, Error, NetworkRequest, RootlessBackend, RootlessNetNs,
    RootlessNetNsConfig, Runtime, RuntimeConfig, SelectedBackend, ROOTFUL_CONFIG_DIR,
};

use crate::args::{Cli, Command, ConnectArgs, CreateArgs, ReloadArgs};

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
    /// A `-p` or `--expose` spec does not parse (the message names the spec and the reason).
    #[error(transparent)]
    Publish(portmap::Error),
    /// containers.conf could not be read, or has a bad value.
    #[error(transparent)]
    ContainersConf(#[from] podnet::containers_conf::Error),
    /// `info` could not be assembled.
    #[error(transparent)]
    Info(#[from] podnet::InfoError),
    /// A failure for which podman exits with its own code (`network rm`: 1 when the
    /// network does not exist, 2 when it is in use).
    #[error("{source}")]
    Coded {
        /// The exit code.
        code: u8,
        /// The failure.
        #[source]
        source: Error,
    },
    /// A `--format` template names a field the object does not have.
    #[error("template: {0}")]
    Template(String),
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

impl CliError {
    /// The exit code: podman's where it has its own, else 125.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Coded { code, .. } => *code,
            _ => 125,
        }
    }
}

/// The runtime the CLI works with: podman's locations (or everything under `--root`), and
/// the selected backend (netavark, or podman 4's CNI plugins) on the host, or, for an
/// unprivileged user (re-executed inside its user namespace by `main`), inside the user's
/// rootless network namespace, with ports published by forwarder processes of this same
/// binary.
fn open(cli: &Cli) -> Result<Runtime<Box<dyn Backend>>, CliError> {
    let root = cli.root.as_ref();
    let rootless = podnet::in_user_namespace();
    let config = runtime_config(cli)?;
    let selected = config
        .select_backend(netavark_config_dir(cli, &config))
        .map_err(Error::from)?;
    let backend: Box<dyn Backend> = if rootless {
        let netns_config = config.rootless_netns(match root {
            Some(root) => RootlessNetNsConfig::new(root.join("rootless-netns"), &config.netns_dir),
            None => RootlessNetNsConfig::for_user().map_err(Error::from)?,
        });
        let program = std::env::current_exe().map_err(|source| CliError::Exec {
            container: String::from("-"),
            command: String::from("/proc/self/exe"),
            source,
        })?;
        Box::new(
            RootlessBackend::new(
                selected.rootless().boxed(),
                RootlessNetNs::new(netns_config),
            )
            .with_forwarder(program),
        )
    } else {
        selected.boxed()
    };
    Ok(Runtime::new(config, backend)?)
}

pub fn print<T: serde::Serialize>(value: &T) -> Result<ExitCode, CliError> {
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
    let mut conf = containers_conf::load(&sources)?;
    // the backend decides where the networks are (CNI: podman 4.3's conflist directory)
    conf.network.network_backend = cli.network_backend.or(conf.network.network_backend);
    let mut config = match &cli.root {
        Some(root) => RuntimeConfig::under(root).with_containers_conf(&conf),
        None => RuntimeConfig::from_containers_conf(&conf)?,
    };
    let backend = &mut config.backend;
    backend.netavark_binary = cli.netavark.clone().or(backend.netavark_binary.take());
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

/// `podnet info`: the network backend in use.
fn info(cli: &Cli) -> Result<ExitCode, CliError> {
    let config = runtime_config(cli)?;
    let selected = config
        .select_backend(netavark_config_dir(cli, &config))
        .map_err(Error::from)?;
    match selected {
        SelectedBackend::Netavark(nv) => {
            print(&podnet::network_info(&nv, nv.configured_firewall_driver())?)
        }
        SelectedBackend::Cni(cni) => print(&podnet::cni_network_info(&cni)),
    }
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    // info reads no state: it answers even where the state database cannot be opened
    if let Command::Info = cli.command {
        return info(&cli);
    }
    let rt = open(&cli)?;
    match cli.command {
        Command::Network(cmd) => crate::network_cmd::network(&rt, cmd),
        Command::Create(args) => crate::container_cmd::create(&rt, &container_spec(args)?),
        Command::Start { containers } => crate::container_cmd::start(&rt, &containers),
        Command::Stop { containers } => crate::container_cmd::stop(&rt, &containers),
        Command::Rm { containers, force } => crate::container_cmd::rm(&rt, &containers, force),
        Command::Connect(args) => {
            let request = connect_request(args.network.clone(), &args);
            print(&summary(&rt.connect(&args.container, &request)?))
        }
        Command::Disconnect(args) => {
            print(&summary(&rt.disconnect(&args.container, &args.network)?))
        }
        Command::Reload(args) => {
            let mut reloaded = Vec::new();
            for name in reload_targets(&rt, args)? {
                reloaded.push(summary(&rt.reload(&name)?));
            }
            print(&reloaded)
        }
        Command::Inspect { container, format } => {
            let record = rt.container(&container)?;
            let settings = rt.inspect(&record.id)?;
            let object = serde_json::json!({
                "Id": record.id,
                "Name": record.name,
                "NetworkSettings": settings,
            });
            crate::ps::inspect(object, format.as_deref())
        }
        Command::Ps { list, filter } => {
            let filter = podnet::ContainerFilter::parse(&filter).map_err(Error::from)?;
            let mut containers = rt.containers()?;
            containers.retain(|c| filter.matches(c));
            crate::ps::ps(&containers, &list)
        }
        Command::Exec { container, command } => crate::exec::exec(&rt, &container, &command),
        Command::Reconcile => print(&rt.reconcile()?),
        Command::Info => info(&cli),
    }
}

pub fn key_values(
    what: &'static str,
    items: &[String],
) -> Result<BTreeMap<String, String>, CliError> {
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

fn container_spec(args: CreateArgs) -> Result<ContainerSpec, CliError> {
    let flags = podnet::parse_network_flags(&args.network).map_err(Error::from)?;
    let ports = port_args(&args.publish, portmap::parse_publish_arg)?;
    let mut spec = ContainerSpec::default();
    spec.name = args.name;
    spec.hostname = args.hostname;
    spec.network_mode = flags.mode;
    spec.networks = flags.networks;
    spec.ports = ports;
    spec.add_hosts = args.add_host;
    spec.dns_servers = args.dns;
    spec.dns_search = args.dns_search;
    args.options.apply(&mut spec)?;
    Ok(spec)
}

/// Every mapping of a repeated port flag (`-p`, `--expose`), each argument a comma list.
pub fn port_args(
    args: &[String],
    parse: fn(&str) -> Result<Vec<portmap::PortMapping>, portmap::Error>,
) -> Result<Vec<portmap::PortMapping>, CliError> {
    let mut all = Vec::new();
    for arg in args {
        all.extend(parse(arg).map_err(CliError::Publish)?);
    }
    Ok(all)
}

/// The containers `reload` names: every running one with `--all`, else those given.
pub(crate) fn reload_targets(
    rt: &Runtime<Box<dyn Backend>>,
    args: ReloadArgs,
) -> Result<Vec<String>, CliError> {
    if !args.all {
        return Ok(args.containers);
    }
    let running = rt.containers()?.into_iter().filter(|c| c.running);
    Ok(running.map(|c| c.id).collect())
}

pub(crate) fn connect_request(network: String, args: &ConnectArgs) -> NetworkRequest {
    let mut request = NetworkRequest::new(network);
    request.static_ips = args.ip.clone();
    request
        .static_ips
        .extend(args.ip6.iter().copied().map(std::net::IpAddr::V6));
    request.aliases = args.alias.clone();
    request.interface_name = args.interface_name.clone();
    request.static_mac = args.mac_address.clone();
    request
}

/// What `connect`, `disconnect`, `reload` and `ps --format json` print: the record without
/// its bulky status.
pub fn summary(record: &podnet::ContainerRecord) -> serde_json::Value {
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
