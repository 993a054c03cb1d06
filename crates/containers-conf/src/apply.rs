//! One file's keys applied over the values so far, as Go's `toml.Decode` into the
//! same struct does: a key present replaces the value, a key absent keeps it; a
//! string list ending in `{append = true}` (containers/common v0.57+) extends it.

use std::path::{Path, PathBuf};

use ipnet::{IpNet, Ipv4Net};
use toml::{Table, Value};

use crate::config::{
    EngineConfig, FirewallDriver, NetworkBackend, NetworkConfig, RootlessNetworkCmd, SubnetPool,
};
use crate::{known, ContainersConf, Error};

/// Parses `text` (the content of `path`) and applies it to `conf`. On error `conf`
/// is left as it was.
pub(crate) fn apply_file(conf: &mut ContainersConf, path: &Path, text: &str) -> Result<(), Error> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| Error::Syntax {
        path: path.to_path_buf(),
        message: one_line(e.message()),
    })?;
    warn_unknown(path, &table)?;
    let mut network = conf.network.clone();
    let mut engine = conf.engine.clone();
    if let Some(t) = table.get("network").and_then(Value::as_table) {
        apply_network(&mut network, &Ctx::new(path, "network"), t)?;
    }
    if let Some(t) = table.get("engine").and_then(Value::as_table) {
        apply_engine(&mut engine, &Ctx::new(path, "engine"), t)?;
    }
    conf.network = network;
    conf.engine = engine;
    conf.files.push(path.to_path_buf());
    Ok(())
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Warns about keys containers/common does not know (it ignores them, so do we);
/// keys it knows but podnet does not use are only logged at debug level. A known table
/// that is not a table is an error, as Go's decoder makes it.
fn warn_unknown(path: &Path, table: &Table) -> Result<(), Error> {
    for (name, value) in table {
        let is_known_table = known::TABLES.contains(&name.as_str());
        if is_known_table && !value.is_table() {
            return Err(Error::NotATable {
                path: path.to_path_buf(),
                table: name.clone(),
                value: value.to_string(),
            });
        }
        let Some(inner) = value.as_table().filter(|_| is_known_table) else {
            tracing::warn!(file = %path.display(), key = %name, "unknown containers.conf key {name} ignored");
            continue;
        };
        let Some(keys) = known::keys(name) else {
            continue;
        };
        for key in inner.keys() {
            if !keys.contains(&key.as_str()) {
                tracing::warn!(file = %path.display(), key = %format!("{name}.{key}"), "unknown containers.conf key [{name}] {key} ignored");
            } else if !matches!(name.as_str(), "network" | "engine")
                || !USED.contains(&key.as_str())
            {
                tracing::debug!(file = %path.display(), key = %format!("{name}.{key}"), "containers.conf key not used by podnet");
            }
        }
    }
    Ok(())
}

const USED: &[&str] = &[
    "network_backend",
    "default_network",
    "default_subnet",
    "default_subnet_pools",
    "network_config_dir",
    "firewall_driver",
    "dns_bind_port",
    "pasta_options",
    "default_rootless_network_cmd",
    "cni_plugin_dirs",
    "netavark_plugin_dirs",
    "helper_binaries_dir",
    "enable_port_reservation",
    "static_dir",
    "tmp_dir",
];

/// The file and table a value comes from, to name them in errors.
struct Ctx<'a> {
    path: &'a Path,
    table: &'static str,
}

impl<'a> Ctx<'a> {
    fn new(path: &'a Path, table: &'static str) -> Self {
        Self { path, table }
    }

    fn invalid(&self, key: &'static str, value: &Value, reason: impl Into<String>) -> Error {
        Error::InvalidValue {
            path: self.path.to_path_buf(),
            table: self.table,
            key,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    fn string<'v>(&self, key: &'static str, value: &'v Value) -> Result<&'v str, Error> {
        value
            .as_str()
            .ok_or_else(|| self.invalid(key, value, "expected a string"))
    }

    /// A string parsed by `parse`; `""` gives `None` (the key's "unset").
    fn choice<T>(
        &self,
        key: &'static str,
        value: &Value,
        parse: fn(&str) -> Option<T>,
        accepted: &str,
    ) -> Result<Option<T>, Error> {
        match self.string(key, value)? {
            "" => Ok(None),
            s => parse(s)
                .map(Some)
                .ok_or_else(|| self.invalid(key, value, format!("expected {accepted}"))),
        }
    }

    fn abs_path(&self, key: &'static str, value: &Value) -> Result<Option<PathBuf>, Error> {
        match self.string(key, value)? {
            "" => Ok(None),
            s if Path::new(s).is_absolute() => Ok(Some(PathBuf::from(s))),
            _ => Err(self.invalid(key, value, "must be an absolute path")),
        }
    }

    /// A list of strings; a last element `{append = true}` appends to `current`.
    fn strings(
        &self,
        key: &'static str,
        value: &Value,
        current: &[String],
    ) -> Result<Vec<String>, Error> {
        let array = value
            .as_array()
            .ok_or_else(|| self.invalid(key, value, "expected an array of strings"))?;
        let (items, append) = match array.split_last() {
            Some((Value::Table(t), rest)) => match (t.len(), t.get("append")) {
                (1, Some(Value::Boolean(append))) => (rest, *append),
                _ => {
                    return Err(self.invalid(
                        key,
                        value,
                        "the only table allowed, last, is {append = true} or {append = false}",
                    ))
                }
            },
            _ => (array.as_slice(), false),
        };
        let mut out = if append { current.to_vec() } else { Vec::new() };
        for item in items {
            let s = item
                .as_str()
                .ok_or_else(|| self.invalid(key, value, "expected an array of strings"))?;
            out.push(s.to_string());
        }
        Ok(out)
    }

    fn paths(
        &self,
        key: &'static str,
        value: &Value,
        current: &[PathBuf],
    ) -> Result<Vec<PathBuf>, Error> {
        let current: Vec<String> = current.iter().map(|p| p.display().to_string()).collect();
        Ok(self
            .strings(key, value, &current)?
            .into_iter()
            .map(PathBuf::from)
            .collect())
    }
}

fn apply_network(net: &mut NetworkConfig, ctx: &Ctx<'_>, table: &Table) -> Result<(), Error> {
    for (key, value) in table {
        match key.as_str() {
            "network_backend" => {
                net.network_backend = ctx.choice(
                    "network_backend",
                    value,
                    NetworkBackend::parse,
                    "\"netavark\" or \"cni\"",
                )?;
            }
            "default_network" => {
                let name = ctx.string("default_network", value)?;
                if !is_network_name(name) {
                    return Err(ctx.invalid(
                        "default_network",
                        value,
                        "a network name is [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                    ));
                }
                name.clone_into(&mut net.default_network);
            }
            "default_subnet" => {
                net.default_subnet = ctx
                    .string("default_subnet", value)?
                    .parse::<IpNet>()
                    .map_err(|_| ctx.invalid("default_subnet", value, "expected a CIDR subnet"))?
                    .trunc();
            }
            "default_subnet_pools" => net.default_subnet_pools = subnet_pools(ctx, value)?,
            "network_config_dir" => {
                let dir = ctx.string("network_config_dir", value)?;
                net.network_config_dir = (!dir.is_empty()).then(|| PathBuf::from(dir));
            }
            "firewall_driver" => {
                net.firewall_driver = ctx.choice(
                    "firewall_driver",
                    value,
                    FirewallDriver::parse,
                    "\"iptables\", \"nftables\", \"firewalld\" or \"none\"",
                )?;
            }
            "dns_bind_port" => {
                let port = value
                    .as_integer()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| {
                        ctx.invalid("dns_bind_port", value, "expected a port from 0 to 65535")
                    })?;
                net.dns_bind_port = (port != 0).then_some(port);
            }
            "pasta_options" => {
                net.pasta_options = ctx.strings("pasta_options", value, &net.pasta_options)?;
            }
            "default_rootless_network_cmd" => {
                net.default_rootless_network_cmd = ctx
                    .choice(
                        "default_rootless_network_cmd",
                        value,
                        RootlessNetworkCmd::parse,
                        "\"pasta\" or \"slirp4netns\"",
                    )?
                    .unwrap_or(RootlessNetworkCmd::Pasta);
            }
            "cni_plugin_dirs" => {
                net.cni_plugin_dirs = ctx.paths("cni_plugin_dirs", value, &net.cni_plugin_dirs)?;
            }
            "netavark_plugin_dirs" => {
                net.netavark_plugin_dirs =
                    ctx.paths("netavark_plugin_dirs", value, &net.netavark_plugin_dirs)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn apply_engine(engine: &mut EngineConfig, ctx: &Ctx<'_>, table: &Table) -> Result<(), Error> {
    for (key, value) in table {
        match key.as_str() {
            "helper_binaries_dir" => {
                engine.helper_binaries_dir =
                    ctx.paths("helper_binaries_dir", value, &engine.helper_binaries_dir)?;
            }
            "enable_port_reservation" => {
                engine.enable_port_reservation = value.as_bool().ok_or_else(|| {
                    ctx.invalid("enable_port_reservation", value, "expected true or false")
                })?;
            }
            "static_dir" => engine.static_dir = ctx.abs_path("static_dir", value)?,
            "tmp_dir" => engine.tmp_dir = ctx.abs_path("tmp_dir", value)?,
            _ => {}
        }
    }
    Ok(())
}

/// `[{base = "10.89.0.0/16", size = 24}, ...]`, checked as containers/common's
/// `NetworkConfig.Validate` does: an IPv4 base, `size` from the base's prefix to 32.
fn subnet_pools(ctx: &Ctx<'_>, value: &Value) -> Result<Vec<SubnetPool>, Error> {
    const KEY: &str = "default_subnet_pools";
    let entries = value
        .as_array()
        .ok_or_else(|| ctx.invalid(KEY, value, "expected an array of {base, size} tables"))?;
    let mut pools = Vec::with_capacity(entries.len());
    for entry in entries {
        let bad = |reason: &str| ctx.invalid(KEY, value, format!("{entry}: {reason}"));
        let table = entry
            .as_table()
            .ok_or_else(|| bad("expected a {base, size} table"))?;
        let base = table
            .get("base")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("base must be a CIDR string"))?;
        let base: Ipv4Net = match base.parse::<IpNet>() {
            Ok(IpNet::V4(net)) => net.trunc(),
            Ok(IpNet::V6(_)) => return Err(bad("base must be an IPv4 subnet")),
            Err(_) => return Err(bad("base must be a CIDR string")),
        };
        let size = table
            .get("size")
            .and_then(Value::as_integer)
            .ok_or_else(|| bad("size must be an integer"))?;
        let size = u8::try_from(size)
            .ok()
            .filter(|s| (base.prefix_len()..=32).contains(s))
            .ok_or_else(|| {
                bad(&format!(
                    "size must be from the base's prefix length ({}) to 32",
                    base.prefix_len()
                ))
            })?;
        pools.push(SubnetPool { base, size });
    }
    Ok(pools)
}

fn is_network_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}
