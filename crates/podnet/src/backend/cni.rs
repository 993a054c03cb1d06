//! [`CniBackend`]: podman 4's CNI network backend behind the [`Backend`] trait, with the
//! `cni` crate running the plugin chains (containers/common `libnetwork/cni/run.go`).
//!
//! Per network of a setup: the network's conflist (`<config dir>/<name>.conflist`, else the
//! first `*.conflist` there naming the network; for a network without one, podman 4.3's
//! conflist for its definition is written as `<name>.conflist` first),
//! a runtime conf as podman builds it (`CNI_ARGS` `IgnoreUnknown=1;K8S_POD_NAME=<name>`,
//! `MAC=` and `IP=` for one static address, capabilities `portMappings`, `ips` for several
//! addresses, `aliases`), and the chain's ADD. The result becomes the network's
//! [`StatusBlock`] as podman's `CNIResultToStatus` makes it. When a network fails, the ones
//! before it are torn down in reverse. Teardown is libcni's DEL from the result cache,
//! falling back to the conflist on disk; best effort; a netns that is gone is fine (the
//! plugins still release their leases and rules).
//!
//! For CNI networks the conflist's IPAM plugin (host-local) picks the addresses, so the
//! flows hand no lease to this backend ([`Backend::assigns_addresses`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cni::{Capability, CniResult, NetworkConfigList, RuntimeConf};
use netns::NetNs;
use netstatus::{NetAddress, NetInterface};

use super::cni_conflist::{podman_conflist, ConflistError};
use super::{Backend, BackendError, NetworkOptions, PerNetworkOptions, StatusBlock};
use crate::network::Network;

/// Where podman 4.3 keeps CNI networks as root.
pub const CNI_CONFIG_DIR: &str = "/etc/cni/net.d";

/// podman's CNI backend: plugin chains run by a [`cni::Runtime`] on podman's conflists.
///
/// With the runtime's flows (`network_backend = "cni"`, rootful):
///
/// ```no_run
/// use podnet::{cni, CniBackend, ContainerSpec, NetworkRequest, Runtime, RuntimeConfig};
///
/// # fn main() -> Result<(), podnet::Error> {
/// let backend = CniBackend::new(podnet::CNI_CONFIG_DIR, cni::Runtime::new(cni::DEFAULT_PLUGIN_DIRS));
/// let networks = backend.network_store(); // podman 4's conflists in /etc/cni/net.d
/// let rt = Runtime::new(RuntimeConfig::system()?, backend)?.with_network_store(networks);
/// let mut web = ContainerSpec::new("web");
/// web.networks = vec![NetworkRequest::new("podman")];
/// rt.create(&web)?;
/// let web = rt.setup("web")?; // host-local picked the address
/// println!("{:?}", web.network_status["podman"].interfaces["eth0"].subnets);
/// rt.teardown("web")?; // DEL from libcni's cache
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct CniBackend {
    runtime: cni::Runtime,
    config_dir: PathBuf,
    host_netns: Option<Arc<NetNs>>,
}

/// A CNI failure of one network of a call.
#[derive(Debug, thiserror::Error)]
pub enum CniBackendError {
    /// A plugin, the cache or a configuration failed.
    #[error("CNI network {network}, container {container_id}: {source}")]
    Cni {
        /// The network.
        network: String,
        /// The container.
        container_id: String,
        /// What failed (plugin, code and message included).
        source: Box<cni::Error>,
    },
    /// The network has no conflist and none can be made from its definition.
    #[error("CNI network {network}: {reason}")]
    Config {
        /// The network.
        network: String,
        /// Why.
        reason: String,
    },
    /// A plugin result does not fit a status block.
    #[error("CNI network {network}: result not understood: {reason}")]
    Result {
        /// The network.
        network: String,
        /// Why.
        reason: String,
    },
    /// Several networks of a teardown failed.
    #[error("CNI teardown of container {container_id}: {}", errors.join("; "))]
    Teardown {
        /// The container.
        container_id: String,
        /// One message per failed network.
        errors: Vec<String>,
    },
}

impl From<CniBackendError> for BackendError {
    fn from(e: CniBackendError) -> Self {
        BackendError::Cni(Box::new(e))
    }
}

impl CniBackend {
    /// A backend on the conflists in `config_dir`, with `runtime` (plugin directories,
    /// cache directory, time limit).
    pub fn new(config_dir: impl Into<PathBuf>, runtime: cni::Runtime) -> Self {
        CniBackend {
            runtime,
            config_dir: config_dir.into(),
            host_netns: None,
        }
    }

    /// podman's rootful defaults: `/etc/cni/net.d`, the plugins of `cni_plugin_dirs`
    /// (containers.conf; empty: libcni's default directories), `/var/lib/cni`.
    pub fn system(plugin_dirs: &[PathBuf]) -> Self {
        Self::new(CNI_CONFIG_DIR, plugin_runtime(plugin_dirs))
    }

    /// Runs the plugins in `netns` instead of the caller's network namespace (the host the
    /// bridges, veth ends and firewall rules belong to).
    pub fn host_netns(mut self, netns: Arc<NetNs>) -> Self {
        self.host_netns = Some(netns);
        self
    }

    /// The directory of the conflists.
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    /// The store of this backend's networks: podman 4's conflists in its config directory,
    /// created with dnsname when the plugin is installed. Give it to
    /// [`Runtime::with_network_store`](crate::Runtime::with_network_store).
    pub fn network_store(&self) -> crate::NetworkStore {
        crate::NetworkStore::cni(&self.config_dir, self.has_dnsname())
    }

    /// The CNI runtime.
    pub fn runtime(&self) -> &cni::Runtime {
        &self.runtime
    }

    /// Whether the dnsname plugin is in a plugin directory (podman adds it to DNS-enabled
    /// networks only then).
    pub fn has_dnsname(&self) -> bool {
        cni::find_plugin("dnsname", self.runtime.plugin_dirs()).is_some()
    }

    /// Runs `f` in the host network namespace when one is set, else here.
    fn in_host<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, BackendError> {
        match &self.host_netns {
            None => Ok(f()),
            Some(host) => host.run_in(f).map_err(|source| BackendError::HostNetns {
                path: host.path().to_path_buf(),
                source,
            }),
        }
    }

    /// The network's conflist: the file, else podman 4.3's for `net`, written so a
    /// later DEL without a cache finds it.
    fn conflist(&self, name: &str, net: &Network) -> Result<NetworkConfigList, CniBackendError> {
        let config = |reason: String| CniBackendError::Config {
            network: name.to_string(),
            reason,
        };
        if let Some(list) = self.find_conflist(name)? {
            return Ok(list);
        }
        let path = self.config_dir.join(format!("{name}.conflist"));
        let bytes = podman_conflist(net, self.has_dnsname())
            .map_err(|e: ConflistError| config(e.to_string()))?;
        std::fs::create_dir_all(&self.config_dir)
            .and_then(|()| write_new(&path, &bytes))
            .map_err(|e| config(format!("write {}: {e}", path.display())))?;
        tracing::info!(network = name, path = %path.display(), "wrote podman's conflist");
        NetworkConfigList::from_conflist_bytes(&bytes, &path.display().to_string())
            .map_err(|e| config(e.to_string()))
    }

    /// The conflist of network `name` as podman's CNI backend finds it: `<name>.conflist`
    /// (what podman writes) when it names that network, else the first `*.conflist` of the
    /// directory in file-name order that does (an administrator's file may be named
    /// anything, `10-cluster.conflist`); unreadable files are skipped, as podman skips them.
    fn find_conflist(&self, name: &str) -> Result<Option<NetworkConfigList>, CniBackendError> {
        let config = |reason: String| CniBackendError::Config {
            network: name.to_string(),
            reason,
        };
        let own = self.config_dir.join(format!("{name}.conflist"));
        if own.exists() {
            let list = NetworkConfigList::from_file(&own).map_err(|e| config(e.to_string()))?;
            if list.name() == name {
                return Ok(Some(list));
            }
        }
        let loaded = cni::load_networks(&self.config_dir).map_err(|e| config(e.to_string()))?;
        Ok(loaded
            .networks
            .into_iter()
            .find(|(path, list)| {
                list.name() == name && path.extension().is_some_and(|e| e == "conflist")
            })
            .map(|(_, list)| list))
    }

    fn setup_one(
        &self,
        netns: &Path,
        options: &NetworkOptions,
        name: &str,
        per: &PerNetworkOptions,
        ports: &[cni::PortMapping],
    ) -> Result<StatusBlock, CniBackendError> {
        let list = self.conflist(name, &options.network_info[name])?;
        let rt = runtime_conf(netns, options, name, per, ports);
        let result = self
            .runtime
            .add(&list, &rt)
            .map_err(|e| cni_error(name, options, e))?;
        result_to_status(&result).map_err(|reason| CniBackendError::Result {
            network: name.to_string(),
            reason,
        })
    }

    /// DEL of one network: from the cache, else from the conflist on disk.
    fn teardown_one(
        &self,
        netns: &Path,
        options: &NetworkOptions,
        name: &str,
        per: &PerNetworkOptions,
        ports: &[cni::PortMapping],
    ) -> Result<(), CniBackendError> {
        let cni_err = |e| cni_error(name, options, e);
        let rt = runtime_conf(netns, options, name, per, ports);
        match self.runtime.cached_config(name, &rt) {
            Ok((list, cached)) => {
                let mut cached = cached;
                cached.netns = rt.netns.clone();
                return self.runtime.del(&list, &cached).map_err(cni_err);
            }
            Err(cni::Error::NotCached { .. }) => {}
            Err(e) => {
                tracing::warn!(network = name, error = %e, "CNI cache unreadable, using the conflist on disk");
            }
        }
        let Some(list) = self.find_conflist(name)? else {
            // neither cache nor conflist: nothing of this attachment can be found to undo
            tracing::info!(network = name, container_id = %options.container_id, "no CNI cache entry or conflist: nothing to tear down");
            return Ok(());
        };
        self.runtime.del(&list, &rt).map_err(cni_err)
    }
}

impl Backend for CniBackend {
    fn setup(
        &self,
        netns: &Path,
        options: &NetworkOptions,
    ) -> Result<BTreeMap<String, StatusBlock>, BackendError> {
        options.validate()?;
        let ports = cni_ports(&options.port_mappings)?;
        super::loopback::set_up(netns).map_err(|reason| CniBackendError::Config {
            network: "lo".into(),
            reason,
        })?;
        let mut done: Vec<&str> = Vec::new();
        let mut out = BTreeMap::new();
        for (name, per) in &options.networks {
            let step = self.in_host(|| self.setup_one(netns, options, name, per, &ports))?;
            match step {
                Ok(status) => {
                    done.push(name);
                    out.insert(name.clone(), status);
                }
                Err(e) => {
                    for earlier in done.iter().rev() {
                        let per = &options.networks[*earlier];
                        let undo = self
                            .in_host(|| self.teardown_one(netns, options, earlier, per, &ports));
                        if let Err(u) = undo
                            .map_err(|e| e.to_string())
                            .and_then(|r| r.map_err(|e| e.to_string()))
                        {
                            tracing::warn!(network = earlier, error = %u, "undoing an earlier network of a failed CNI setup");
                        }
                    }
                    return Err(e.into());
                }
            }
        }
        Ok(out)
    }

    fn teardown(&self, netns: &Path, options: &NetworkOptions) -> Result<(), BackendError> {
        options.validate()?;
        let ports = cni_ports(&options.port_mappings)?;
        let mut errors = Vec::new();
        for (name, per) in options.networks.iter().rev() {
            match self.in_host(|| self.teardown_one(netns, options, name, per, &ports))? {
                Ok(()) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CniBackendError::Teardown {
                container_id: options.container_id.clone(),
                errors,
            }
            .into())
        }
    }

    fn assigns_addresses(&self) -> bool {
        true
    }
}

/// A CNI runtime on `plugin_dirs` (containers.conf's `cni_plugin_dirs`); empty: libcni's
/// default directories. The plugins run with the PATH podman gives them (its own, with the
/// sbin directories their `iptables` lives in).
pub(crate) fn plugin_runtime(plugin_dirs: &[PathBuf]) -> cni::Runtime {
    let rt = if plugin_dirs.is_empty() {
        cni::Runtime::new(cni::DEFAULT_PLUGIN_DIRS)
    } else {
        cni::Runtime::new(plugin_dirs.iter().cloned())
    };
    let path = super::netavark_path(std::env::var_os("PATH").as_deref());
    rt.with_exec(cni::ProcessExec::with_path(path))
}

fn cni_error(network: &str, options: &NetworkOptions, e: cni::Error) -> CniBackendError {
    CniBackendError::Cni {
        network: network.to_string(),
        container_id: options.container_id.clone(),
        source: Box::new(e),
    }
}

/// Creates `path` with `bytes` unless it exists (another process wrote it first: theirs
/// stays), through a temp file so no reader sees half a conflist.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("conflist.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// podman's `getRuntimeConfig`.
fn runtime_conf(
    netns: &Path,
    options: &NetworkOptions,
    name: &str,
    per: &PerNetworkOptions,
    ports: &[cni::PortMapping],
) -> RuntimeConf {
    let mut rt = RuntimeConf::new(&options.container_id, netns, &per.interface_name)
        .with_arg("IgnoreUnknown", "1")
        .with_arg("K8S_POD_NAME", &options.container_name);
    if let Some(mac) = &per.static_mac {
        rt = rt.with_arg("MAC", mac);
    }
    match per.static_ips.as_slice() {
        [] => {}
        // one address as an argument: plugins before CNI 1.0 read no `ips` capability
        [ip] => rt = rt.with_arg("IP", &ip.to_string()),
        // several as the `ips` capability, plain addresses as podman passes its `net.IP`s
        ips => {
            let list = ips
                .iter()
                .map(|ip| serde_json::Value::String(ip.to_string()));
            rt = rt.with_capability(Capability::Other("ips".into(), list.collect()));
        }
    }
    if !per.aliases.is_empty() {
        rt = rt.with_capability(Capability::Aliases(BTreeMap::from([(
            name.to_string(),
            per.aliases.clone(),
        )])));
    }
    if !ports.is_empty() {
        rt = rt.with_capability(Capability::PortMappings(ports.to_vec()));
    }
    rt
}

/// podman's `convertSpecgenPortsToCNIPorts`: one entry per port and protocol.
fn cni_ports(mappings: &[portmap::PortMapping]) -> Result<Vec<cni::PortMapping>, BackendError> {
    let expanded = portmap::expand(mappings).map_err(|e| BackendError::InvalidOptions {
        container_id: String::new(),
        reason: e.to_string(),
    })?;
    Ok(expanded
        .into_iter()
        .map(|p| cni::PortMapping {
            host_port: p.host_port,
            container_port: p.container_port,
            protocol: p.protocol.to_string(),
            host_ip: p.host_ip.map(|ip| ip.to_string()).unwrap_or_default(),
        })
        .collect())
}

/// podman's `CNIResultToStatus`: the container-side interfaces (those with a sandbox) with
/// their addresses, and the DNS the plugins suggest. `Err` is the reason.
fn result_to_status(result: &CniResult) -> Result<StatusBlock, String> {
    let mut status = StatusBlock {
        dns_server_ips: result
            .dns
            .nameservers
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|_| format!("nameserver {s:?} is not an address"))
            })
            .collect::<Result<_, _>>()?,
        dns_search_domains: result.dns.search.clone(),
        ..StatusBlock::default()
    };
    for (index, iface) in result.interfaces.iter().enumerate() {
        if iface.sandbox.is_empty() {
            continue;
        }
        let mut subnets = Vec::new();
        for ip in &result.ips {
            match ip.interface {
                Some(i) if i >= result.interfaces.len() => {
                    return Err(format!("interface index {i} out of range"))
                }
                Some(i) if i == index => subnets.push(NetAddress {
                    ipnet: ip.address,
                    gateway: ip.gateway,
                }),
                _ => {}
            }
        }
        status.interfaces.insert(
            iface.name.clone(),
            NetInterface {
                mac_address: iface.mac.clone(),
                subnets,
            },
        );
    }
    Ok(status)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn runtime_conf_is_podmans() {
        let mut opts = NetworkOptions::new("c0ffee", "web");
        let mut per = PerNetworkOptions {
            interface_name: "eth0".into(),
            static_mac: Some("02:00:00:00:00:01".into()),
            static_ips: vec!["10.77.0.5".parse().unwrap()],
            aliases: vec!["web".into()],
        };
        let net = crate::Network {
            name: "n".into(),
            ..Default::default()
        };
        opts.add_network(&net, per.clone());
        let ports = cni_ports(&["8080-8081:80-81/tcp,udp".parse().unwrap()]).unwrap();
        assert_eq!(ports.len(), 4);
        assert_eq!(
            (ports[3].host_port, ports[3].protocol.as_str()),
            (8081, "udp")
        );
        let rt = runtime_conf(Path::new("/run/netns/x"), &opts, "n", &per, &ports);
        assert_eq!(
            rt.args_string(),
            "IgnoreUnknown=1;K8S_POD_NAME=web;MAC=02:00:00:00:00:01;IP=10.77.0.5"
        );
        assert_eq!(
            rt.capability_args["aliases"],
            serde_json::json!({"n": ["web"]})
        );
        assert!(!rt.capability_args.contains_key("ips"));
        per.static_ips.push("fd00::5".parse().unwrap());
        let rt = runtime_conf(Path::new("/run/netns/x"), &opts, "n", &per, &[]);
        assert_eq!(
            rt.capability_args["ips"],
            serde_json::json!(["10.77.0.5", "fd00::5"])
        );
        assert!(!rt.capability_args.contains_key("portMappings"));
    }

    #[test]
    fn status_keeps_sandbox_interfaces_only() {
        let result = CniResult::from_json(&serde_json::json!({
            "cniVersion": "0.4.0",
            "interfaces": [
                {"name": "cni-podman1", "mac": "aa:aa:aa:aa:aa:aa"},
                {"name": "veth1", "mac": "bb:bb:bb:bb:bb:bb"},
                {"name": "eth0", "mac": "02:00:00:00:00:01", "sandbox": "/run/netns/x"}
            ],
            "ips": [{"version": "4", "interface": 2, "address": "10.77.0.5/24", "gateway": "10.77.0.1"}],
            "dns": {"nameservers": ["10.77.0.1"], "search": ["dns.podman"]}
        }))
        .unwrap();
        let status = result_to_status(&result).unwrap();
        assert_eq!(status.interfaces.keys().collect::<Vec<_>>(), ["eth0"]);
        let eth0 = &status.interfaces["eth0"];
        assert_eq!(eth0.mac_address, "02:00:00:00:00:01");
        assert_eq!(eth0.subnets[0].ipnet.to_string(), "10.77.0.5/24");
        assert_eq!(eth0.subnets[0].gateway.unwrap().to_string(), "10.77.0.1");
        assert_eq!(status.dns_server_ips[0].to_string(), "10.77.0.1");
        assert_eq!(status.dns_search_domains, ["dns.podman"]);

        let bad = CniResult::from_json(&serde_json::json!({
            "cniVersion": "0.4.0",
            "interfaces": [{"name": "eth0", "sandbox": "/x"}],
            "ips": [{"version": "4", "interface": 5, "address": "10.77.0.5/24"}]
        }))
        .unwrap();
        assert_eq!(
            result_to_status(&bad).unwrap_err(),
            "interface index 5 out of range"
        );
    }
}
