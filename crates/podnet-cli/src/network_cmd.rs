//! `podnet network ...`: each subcommand a call of the library's network lifecycle
//! ([`Runtime::remove_network`], `prune_networks`, `update_network`...), printed as podman
//! prints it.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::ExitCode;

use podnet::{
    Backend, Error, LeaseRange, Network, NetworkFilter, RemoveNetworkOptions, Runtime, Subnet,
    UpdateNetworkOptions, IPAM_DRIVER_KEY, IPVLAN_DRIVER, MACVLAN_DRIVER,
};
use serde_json::{json, Value};

use crate::args::{ListArgs, NetworkCommand, NetworkCreateArgs};
use crate::output::{emit, Format};
use crate::run::{key_values, print, CliError};

/// podman's `network ls` table.
const LS_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}";

/// Runs one `network` subcommand.
pub fn network(rt: &Runtime<Box<dyn Backend>>, cmd: NetworkCommand) -> Result<ExitCode, CliError> {
    match cmd {
        NetworkCommand::Create(args) => {
            // podman prints the new network's name; `network inspect` shows its definition
            let net = rt.create_network(network_definition(args)?)?;
            emit(&format!("{}\n", net.name));
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Ls { list, filter } => {
            let filter = NetworkFilter::parse(&filter).map_err(Error::from)?;
            ls(&rt.list_networks(&filter)?, &list)
        }
        NetworkCommand::Inspect { networks, format } => {
            // podman 5's report: the network and the containers on it now
            let found = networks
                .iter()
                .map(|n| rt.inspect_network(n))
                .collect::<Result<Vec<_>, _>>()?;
            match Format::parse(format.as_deref(), "json")? {
                Format::Json => print(&found),
                Format::Template(t) => {
                    let rows: Vec<Value> = found
                        .iter()
                        .map(|report| {
                            let mut row = fields(&report.network, false);
                            row["Containers"] = json!(report.containers);
                            row
                        })
                        .collect();
                    emit(&t.render(&rows, &headers(), false)?);
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        NetworkCommand::Rm { networks, force } => {
            let options = RemoveNetworkOptions::default().force(force);
            for name in &networks {
                let removed = rt.remove_network(name, &options).map_err(rm_error)?;
                emit(&format!("{}\n", removed.name));
            }
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Prune { force, filter } => {
            let filter = NetworkFilter::parse_prune(&filter).map_err(Error::from)?;
            if !force && !confirmed()? {
                return Ok(ExitCode::SUCCESS);
            }
            for name in rt.prune_networks(&filter)? {
                emit(&format!("{name}\n"));
            }
            Ok(ExitCode::SUCCESS)
        }
        // podman's `network connect` and `disconnect` print nothing; `reload` each ID
        NetworkCommand::Connect(args) => {
            let request = crate::run::connect_request(args.network.clone(), &args);
            rt.connect(&args.container, &request)?;
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Disconnect(args) => {
            rt.disconnect(&args.container, &args.network)?;
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Reload(args) => {
            for name in crate::run::reload_targets(rt, args)? {
                emit(&format!("{}\n", rt.reload(&name)?.id));
            }
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Exists { network } => Ok(if rt.network_exists(&network)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }),
        NetworkCommand::Update {
            network,
            dns_add,
            dns_drop,
        } => {
            let options = UpdateNetworkOptions::default()
                .add_dns_servers(dns_add)
                .drop_dns_servers(dns_drop);
            let net = rt.update_network(&network, &options)?;
            emit(&format!("{}\n", net.name));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// podman's exit codes of `network rm`: 1 for a network that does not exist, 2 for one in
/// use.
fn rm_error(error: Error) -> CliError {
    let code = match &error {
        Error::Network(podnet::NetworkError::NotFound { .. }) => 1,
        Error::Runtime(podnet::RuntimeError::NetworkInUse { .. }) => 2,
        _ => return CliError::Podnet(error),
    };
    CliError::Coded {
        code,
        source: error,
    }
}

/// podman's prompt; anything but `y`/`yes` keeps everything.
fn confirmed() -> Result<bool, CliError> {
    eprint!(
        "WARNING! This will remove all networks not used by at least one container.\n\
         Are you sure you want to continue? [y/N] "
    );
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|source| CliError::Exec {
            container: String::from("-"),
            command: String::from("read the answer from stdin"),
            source,
        })?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn headers() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([("ID", "NETWORK ID")])
}

/// `network ls`: podman's table, `-q` names, `--format`.
fn ls(nets: &[Network], list: &ListArgs) -> Result<ExitCode, CliError> {
    if list.quiet {
        emit(
            &nets
                .iter()
                .map(|n| format!("{}\n", n.name))
                .collect::<String>(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    match Format::parse(list.format.as_deref(), LS_TABLE)? {
        Format::Json => print(&nets),
        Format::Template(t) => {
            let rows: Vec<Value> = nets.iter().map(|n| fields(n, true)).collect();
            emit(&t.render(&rows, &headers(), !list.noheading)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A network under podman's Go field names: `ls` rows (`listing`: 12-character ID,
/// labels as `k=v,...`) or the whole network (`inspect`).
fn fields(net: &Network, listing: bool) -> Value {
    let (id, labels) = if listing {
        let labels: Vec<String> = net.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        (
            net.id.chars().take(12).collect::<String>(),
            json!(labels.join(",")),
        )
    } else {
        (net.id.clone(), json!(net.labels))
    };
    json!({
        "Name": net.name,
        "ID": id,
        "Driver": net.driver,
        "NetworkInterface": net.network_interface,
        "Created": net.created,
        "Subnets": net.subnets,
        "Routes": net.routes,
        "IPv6Enabled": net.ipv6_enabled,
        "Internal": net.internal,
        "DNSEnabled": net.dns_enabled,
        "NetworkDNSServers": net.network_dns_servers,
        "Labels": labels,
        "Options": net.options,
        "IPAMOptions": net.ipam_options,
    })
}

/// `network create`'s flags as a partial definition for the library to fill in.
fn network_definition(args: NetworkCreateArgs) -> Result<Network, CliError> {
    for (what, given) in [
        ("--gateway", args.gateway.len()),
        ("--ip-range", args.ip_range.len()),
    ] {
        if given > args.subnet.len() {
            return Err(CliError::Argument {
                what,
                value: given.to_string(),
                why: format!(
                    "more than the {} --subnet given (one per subnet)",
                    args.subnet.len()
                ),
            });
        }
    }
    let subnets = args
        .subnet
        .iter()
        .enumerate()
        .map(|(i, net)| {
            let mut subnet = Subnet::new(*net);
            subnet.gateway = args.gateway.get(i).copied();
            subnet.lease_range = args.ip_range.get(i).map(|r| LeaseRange::from_cidr(*r));
            subnet
        })
        .collect();
    let driver = args.driver.unwrap_or_default();
    let mut options = key_values("--opt", &args.opt)?;
    let mut network_interface = args.interface_name.unwrap_or_default();
    // podman's CLI: `-o parent=DEV` of a macvlan or ipvlan network is its parent interface
    if driver == MACVLAN_DRIVER || driver == IPVLAN_DRIVER {
        if let Some(parent) = options.remove("parent") {
            network_interface = parent;
        }
    }
    let mut net = Network::default();
    net.name = args.name.unwrap_or_default();
    net.network_interface = network_interface;
    net.subnets = subnets;
    net.ipv6_enabled = args.ipv6;
    net.internal = args.internal;
    net.dns_enabled = !args.disable_dns;
    net.labels = key_values("--label", &args.label)?;
    net.options = options;
    net.driver = driver;
    net.network_dns_servers = args.dns;
    net.ipam_options = args
        .ipam_driver
        .map(|d| BTreeMap::from([(IPAM_DRIVER_KEY.to_string(), d)]))
        .unwrap_or_default();
    Ok(net)
}
