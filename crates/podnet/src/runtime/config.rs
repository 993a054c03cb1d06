//! Where a [`Runtime`](super::Runtime) keeps its files, rootful and rootless, and the
//! network defaults and backend settings containers.conf gives it.

use std::path::{Path, PathBuf};

use containers_conf::{ContainersConf, NetworkBackend};
use ipnet::IpNet;

use crate::{BackendConfig, BackendError, NetworkStore, SelectedBackend, SubnetPool};

/// The directories and files a runtime uses. [`RuntimeConfig::system`] gives podman's
/// locations for the current user; tests point everything into a temporary directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Network definitions, shared with podman: netavark's `NAME.json` files, or with
    /// `network_backend = "cni"` podman 4's `NAME.conflist` files (podman's one
    /// `network_config_dir` for either).
    pub networks_dir: PathBuf,
    /// libcni's cache of the CNI backend (`results/`, read by DEL): podman's
    /// `/var/lib/cni` (rootless: inside the rootless netns' mount namespace, where it is
    /// the user's own), `<root>/cni/cache` under a root.
    pub cni_cache_dir: PathBuf,
    /// The SQLite state database.
    pub state_db: PathBuf,
    /// Where container network namespaces are pinned.
    pub netns_dir: PathBuf,
    /// Per-container files: `<dir>/<id>/hosts` and `<dir>/<id>/resolv.conf`.
    pub containers_dir: PathBuf,
    /// The lock file every mutating flow holds.
    pub lock_file: PathBuf,
    /// The hosts file whose entries are copied into each container's (`/etc/hosts`).
    pub base_hosts: Option<PathBuf>,
    /// Host-side resolver files read for each container's resolv.conf.
    pub resolv_sources: etchosts::resolvconf::HostSources,
    /// podman's IPAM database (`ipam.db`), the address authority shared with podman
    /// (see the `shared_ipam` module of the state database); `None`: podnet's own leases
    /// only. [`RuntimeConfig::system`] sets podman's path, [`RuntimeConfig::under`] none.
    pub shared_ipam: Option<PathBuf>,
    /// aardvark-dns's entries directory (`<netavark config>/aardvark-dns`), read to refuse
    /// a container name another tool's container already answers to; `None`: not checked.
    pub dns_entries_dir: Option<PathBuf>,
    /// The program run as a rootful container's port holder (a binary whose entry point
    /// calls `run_port_forwarder` when `_PODNET_PORT_FORWARDER` is set, as `podnet`
    /// does); `None`: published ports are not reserved (containers.conf's `[engine]
    /// enable_port_reservation = false`, or rootless, where forwarders hold them).
    pub port_holder: Option<PathBuf>,
    /// How long `setup` and `connect` wait, at most, for the container's name to answer
    /// from its network's DNS server before they return (see `runtime/dns_ready.rs`);
    /// zero: no wait. Default [`DNS_READY_TIMEOUT`](Self::DNS_READY_TIMEOUT).
    pub dns_ready_timeout: std::time::Duration,
    /// The program that gives the shared rootless network namespace its outbound
    /// connectivity (`default_rootless_network_cmd`; pasta unless it says slirp4netns).
    pub rootless_network_cmd: crate::RootlessNetHelper,
    /// Extra arguments for pasta (`pasta_options`), appended to podnet's own.
    pub pasta_options: Vec<String>,
    /// The same kind of program, run rootless as the port forwarder of a `slirp4netns`
    /// container with podman's default `port_handler=rootlesskit`; `None`: such ports
    /// are refused at start.
    pub port_forwarder: Option<PathBuf>,
    /// The network a container joins when none is named (`default_network`).
    pub default_network: String,
    /// The default network's subnet (`default_subnet`).
    pub default_subnet: IpNet,
    /// Where `network create` picks free subnets (`default_subnet_pools`).
    pub subnet_pools: Vec<SubnetPool>,
    /// Which backend, binaries, firewall driver and DNS port (see [`BackendConfig`]);
    /// the caller builds the backend from it ([`BackendConfig::netavark`]).
    pub backend: BackendConfig,
}

impl RuntimeConfig {
    /// Everything under one directory (tests, demos): `networks/`, `state.db`, `netns/`,
    /// `containers/`.
    pub fn under(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        Self {
            cni_cache_dir: root.join("cni/cache"),
            ..Self::with_dirs(
                root.join("networks"),
                root.join("state.db"),
                root.join("netns"),
                root.join("containers"),
                root.join("podnet.lock"),
            )
        }
    }

    /// These locations, the host's hosts file and resolvers, and containers/common's
    /// built-in network defaults.
    fn with_dirs(
        networks_dir: PathBuf,
        state_db: PathBuf,
        netns_dir: PathBuf,
        containers_dir: PathBuf,
        lock_file: PathBuf,
    ) -> Self {
        let conf = ContainersConf::default();
        Self {
            networks_dir,
            cni_cache_dir: PathBuf::from(cni::DEFAULT_CACHE_DIR),
            state_db,
            netns_dir,
            containers_dir,
            lock_file,
            base_hosts: Some(etchosts::hosts::DEFAULT_HOSTS_FILE.into()),
            resolv_sources: Default::default(),
            shared_ipam: None,
            dns_entries_dir: None,
            port_holder: None,
            dns_ready_timeout: Self::DNS_READY_TIMEOUT,
            rootless_network_cmd: crate::RootlessNetHelper::default(),
            pasta_options: Vec::new(),
            port_forwarder: None,
            default_network: conf.network.default_network.clone(),
            default_subnet: conf.network.default_subnet,
            subnet_pools: Vec::new(),
            backend: BackendConfig::from_containers_conf(&conf),
        }
        .with_containers_conf(&conf)
    }

    /// podman's locations: networks in `/etc/containers/networks` (rootless:
    /// `~/.local/share/containers/storage/networks`), netns pins in `/run/netns` (rootless:
    /// `$XDG_RUNTIME_DIR/netns`), podnet's own state in `/var/lib/podnet` and
    /// `/run/podnet` (rootless: `~/.local/share/podnet`, `$XDG_RUNTIME_DIR/podnet`).
    pub fn system() -> Result<Self, crate::Error> {
        // storage.conf is read once: the rootless network directory and `ipam.db` both
        // follow its roots
        let (networks_dir, shared_ipam) = if rootless_detect::is_rootless() {
            let roots = crate::network::podman_storage_roots()?;
            (
                crate::network::rootless_networks_dir(&roots),
                crate::network::rootless_ipam_db(&roots),
            )
        } else {
            (crate::NetworkStore::default_dir()?, Self::podman_ipam_db())
        };
        let state_db = crate::StateStore::default_path()
            .ok_or(crate::Error::Runtime(super::RuntimeError::NoDataDir))?;
        let netns_dir = netns::run_dir()
            .map_err(|source| crate::Error::Runtime(super::RuntimeError::NetnsDir { source }))?;
        let run = if rootless_detect::is_rootless() {
            rootless_detect::runtime_dir()
                .map(|d| d.join("podnet"))
                .unwrap_or_else(|_| std::env::temp_dir().join("podnet"))
        } else {
            PathBuf::from("/run/podnet")
        };
        let mut config = Self::with_dirs(
            networks_dir,
            state_db,
            netns_dir,
            run.join("containers"),
            run.join("podnet.lock"),
        );
        config.shared_ipam = Some(shared_ipam);
        Ok(config)
    }

    /// podman's locations ([`RuntimeConfig::system`]) with containers.conf applied
    /// ([`RuntimeConfig::with_containers_conf`]), `network_config_dir` included; with
    /// `network_backend = "cni"` and no `network_config_dir`, podman 4.3's CNI directory
    /// ([`NetworkStore::default_cni_dir`]).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut conf = podnet::containers_conf::ContainersConf::default();
    /// conf.network.default_network = "web".into();
    /// conf.network.network_config_dir = Some("/srv/networks".into());
    /// let config = podnet::RuntimeConfig::from_containers_conf(&conf)?;
    /// assert_eq!(config.default_network, "web");
    /// assert_eq!(config.networks_dir, std::path::Path::new("/srv/networks"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_containers_conf(conf: &ContainersConf) -> Result<Self, crate::Error> {
        let mut config = Self::system()?.with_containers_conf(conf);
        if config.backend.network_backend.is_none() {
            // podman's choice on first use, pinned in its graphroot
            if let Some(graphroot) = Self::podman_graphroot() {
                let netavark_found = config.backend.netavark_binary.is_some()
                    || crate::find_helper_binary("netavark", None).is_ok();
                config.backend.network_backend =
                    Some(Self::backend_from_marker(&graphroot, netavark_found)?);
            }
        }
        if let Some(dir) = &conf.network.network_config_dir {
            config.networks_dir = dir.clone();
        } else if config.backend.network_backend == Some(NetworkBackend::Cni) {
            config.networks_dir = NetworkStore::default_cni_dir()?;
        }
        Ok(config)
    }

    /// podman's graph root, from storage.conf (by default `/var/lib/containers/storage`
    /// for root, `$XDG_DATA_HOME/containers/storage` rootless).
    fn podman_graphroot() -> Option<PathBuf> {
        match crate::network::podman_storage_roots() {
            Ok(roots) => Some(roots.graph_root),
            Err(e) => {
                tracing::warn!(error = %e, "podman's graph root unknown: its backend marker is not read");
                None
            }
        }
    }

    /// The backend podman would use with `network_backend` unset, from its
    /// `graphroot/defaultNetworkBackend` (containers/common's `defaultNetworkBackend`).
    /// podnet only reads that file: it is podman's, written on podman's first use. With
    /// no file podman's rule for a fresh store applies (netavark, CNI only without
    /// netavark); podman's look at its image and container store is not made.
    pub fn backend_from_marker(
        graphroot: &Path,
        netavark_found: bool,
    ) -> Result<NetworkBackend, crate::Error> {
        let marker = containers_conf::read_backend_marker(graphroot)?;
        let facts = containers_conf::BackendFacts {
            marker_path: graphroot.join(containers_conf::BACKEND_MARKER_FILE),
            marker,
            cni_supported: true,
            netavark_found,
            has_containers: false,
            has_writable_images: false,
            cni_networks: 1,
        };
        Ok(containers_conf::choose_backend(None, &facts)?.backend)
    }

    /// The store of this configuration's networks: netavark's `NAME.json` files in
    /// [`Self::networks_dir`], or podman 4's conflists there when the backend is CNI
    /// (created with dnsname when a plugin directory has it), with the default network
    /// and subnet pools.
    pub fn network_store(&self) -> NetworkStore {
        let store = match self.backend.network_backend {
            Some(NetworkBackend::Cni) => self
                .backend
                .cni(&self.networks_dir, &self.cni_cache_dir)
                .network_store(),
            _ => NetworkStore::new(&self.networks_dir),
        };
        store
            .with_subnet_pools(self.subnet_pools.clone())
            .with_default_network(self.default_network.clone(), self.default_subnet)
    }

    /// The backend [`Self::backend`] selects ([`BackendConfig::select`]): netavark with
    /// `netavark_config_dir`, or podman 4's CNI backend on [`Self::networks_dir`] and
    /// [`Self::cni_cache_dir`].
    pub fn select_backend(
        &self,
        netavark_config_dir: impl Into<PathBuf>,
    ) -> Result<SelectedBackend, BackendError> {
        self.backend
            .select(netavark_config_dir, &self.networks_dir, &self.cni_cache_dir)
    }

    /// These locations with containers.conf's `default_network`, `default_subnet`,
    /// `default_subnet_pools` and backend keys (`network_backend`, `helper_binaries_dir`,
    /// `firewall_driver`, `dns_bind_port`). The directories stay as they are: under a
    /// test's root, `network_config_dir` does not apply.
    pub fn with_containers_conf(mut self, conf: &ContainersConf) -> Self {
        self.default_network = conf.network.default_network.clone();
        self.default_subnet = conf.network.default_subnet;
        self.subnet_pools = conf
            .network
            .default_subnet_pools
            .iter()
            .map(|pool| SubnetPool::new(IpNet::V4(pool.base), pool.size))
            .collect();
        self.backend = BackendConfig::from_containers_conf(conf);
        self.rootless_network_cmd = match conf.network.default_rootless_network_cmd {
            containers_conf::RootlessNetworkCmd::Pasta => crate::RootlessNetHelper::Pasta,
            containers_conf::RootlessNetworkCmd::Slirp4netns => {
                crate::RootlessNetHelper::Slirp4netns
            }
        };
        self.pasta_options = conf.network.pasta_options.clone();
        self
    }

    /// `netns` with this configuration's rootless network program and, for pasta, its
    /// `pasta_options`.
    pub fn rootless_netns(
        &self,
        mut netns: crate::RootlessNetNsConfig,
    ) -> crate::RootlessNetNsConfig {
        netns.helper = self.rootless_network_cmd;
        netns.helper_args = match self.rootless_network_cmd {
            crate::RootlessNetHelper::Pasta => self.pasta_options.clone(),
            crate::RootlessNetHelper::Slirp4netns => Vec::new(),
        };
        netns
    }

    /// The default bound of the wait for a container's name: aardvark-dns 1.4 stays silent
    /// for up to about 8 s while it reloads after another container's setup.
    pub const DNS_READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

    /// Where podman keeps `ipam.db`: `/run/containers/networks/ipam.db` for root (a
    /// fixed path in containers/common), else `networks/ipam.db` under podman's rootless
    /// run root (storage.conf's `runroot`, by default `$XDG_RUNTIME_DIR/containers`).
    pub fn podman_ipam_db() -> PathBuf {
        if !rootless_detect::is_rootless() {
            return PathBuf::from(bbolt::podman_ipam::ROOTFUL_PATH);
        }
        match crate::network::podman_storage_roots() {
            Ok(roots) => crate::network::rootless_ipam_db(&roots),
            Err(e) => {
                let run = rootless_detect::runtime_dir().unwrap_or_else(|_| {
                    std::env::temp_dir().join(format!("run-{}", nix::unistd::getuid()))
                });
                tracing::warn!(error = %e, "podman's run root unknown: the default is used");
                run.join("containers/networks/ipam.db")
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backend::testing::FakeBackend;
    use crate::Runtime;

    #[test]
    fn containers_conf_network_keys_reach_the_runtime() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc/containers");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("containers.conf"),
            "[network]\ndefault_network = \"web\"\ndefault_subnet = \"10.77.0.0/24\"\n\
             default_subnet_pools = [{base = \"10.123.0.0/16\", size = 24}]\n\
             firewall_driver = \"nftables\"\ndns_bind_port = 5353\n\
             network_config_dir = \"/srv/nets\"\n\
             [engine]\nhelper_binaries_dir = [\"/opt/helpers\"]\n",
        )
        .unwrap();
        let conf = containers_conf::load(&containers_conf::Sources::under(root.path(), 0)).unwrap();

        let state = tempfile::tempdir().unwrap();
        let config = RuntimeConfig::under(state.path()).with_containers_conf(&conf);
        // under a root, the network files stay there
        assert_eq!(config.networks_dir, state.path().join("networks"));
        assert_eq!(
            config.backend.helper_binaries_dir,
            [PathBuf::from("/opt/helpers")]
        );
        assert_eq!(
            config.backend.firewall_driver,
            Some(containers_conf::FirewallDriver::Nftables)
        );
        assert_eq!(config.backend.dns_bind_port, Some(5353));
        assert_eq!(
            RuntimeConfig::from_containers_conf(&conf)
                .unwrap()
                .networks_dir,
            Path::new("/srv/nets")
        );

        let rt = Runtime::new(config, FakeBackend::new()).unwrap();
        let default = rt.networks().inspect("web").unwrap();
        assert_eq!(default.subnets[0].subnet.to_string(), "10.77.0.0/24");
        let created = rt
            .networks()
            .create(crate::Network {
                name: "picked".into(),
                ..crate::Network::default()
            })
            .unwrap();
        let pool: IpNet = "10.123.0.0/16".parse().unwrap();
        assert!(
            pool.contains(&created.subnets[0].subnet),
            "{created:?} not from the configured pool"
        );
    }

    #[test]
    fn network_backend_cni_gives_a_conflist_store_and_the_cni_backend() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc/containers");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("containers.conf"),
            "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"/opt/cni/bin\"]\n\
             default_subnet_pools = [{base = \"10.124.0.0/16\", size = 24}]\n",
        )
        .unwrap();
        let conf = containers_conf::load(&containers_conf::Sources::under(root.path(), 0)).unwrap();
        let state = tempfile::tempdir().unwrap();
        let config = RuntimeConfig::under(state.path()).with_containers_conf(&conf);
        assert_eq!(config.cni_cache_dir, state.path().join("cni/cache"));

        let crate::SelectedBackend::Cni(cni) = config.select_backend("/unused").unwrap() else {
            panic!("network_backend = cni did not select the CNI backend");
        };
        assert_eq!(cni.config_dir(), state.path().join("networks"));
        assert_eq!(cni.runtime().cache_dir(), state.path().join("cni/cache"));
        assert_eq!(cni.runtime().plugin_dirs(), [PathBuf::from("/opt/cni/bin")]);

        // the runtime's own store keeps podman 4's conflists, from the configured pool
        let rt = Runtime::new(config, FakeBackend::new()).unwrap();
        assert!(rt.networks().is_cni());
        let created = rt
            .networks()
            .create(crate::Network {
                name: "pntcfg".into(),
                ..crate::Network::default()
            })
            .unwrap();
        let pool: IpNet = "10.124.0.0/16".parse().unwrap();
        assert!(pool.contains(&created.subnets[0].subnet), "{created:?}");
        assert!(state.path().join("networks/pntcfg.conflist").is_file());

        // with network_config_dir unset, podman 4.3's CNI directory (rootful or rootless)
        let system = RuntimeConfig::from_containers_conf(&conf).unwrap();
        if rootless_detect::is_rootless() {
            assert!(
                system.networks_dir.ends_with(".config/cni/net.d")
                    || system.networks_dir.ends_with("cni/net.d")
            );
        } else {
            assert_eq!(system.networks_dir, Path::new("/etc/cni/net.d"));
        }
    }

    /// podman's `defaultNetworkBackend` marker decides when containers.conf does not, and a
    /// bad one is one error naming the file.
    #[test]
    fn podmans_backend_marker_decides_when_the_configuration_does_not() {
        let graphroot = tempfile::tempdir().unwrap();
        let marker = graphroot.path().join(containers_conf::BACKEND_MARKER_FILE);
        let pick = |found| RuntimeConfig::backend_from_marker(graphroot.path(), found);
        assert_eq!(pick(true).unwrap(), NetworkBackend::Netavark);
        assert_eq!(pick(false).unwrap(), NetworkBackend::Cni);
        std::fs::write(&marker, "cni").unwrap();
        assert_eq!(pick(true).unwrap(), NetworkBackend::Cni);
        std::fs::write(&marker, "netavark").unwrap();
        assert_eq!(pick(false).unwrap(), NetworkBackend::Netavark);
        std::fs::write(&marker, "vpnkit").unwrap();
        let err = crate::error_chain(&pick(true).unwrap_err());
        assert!(
            err.contains("defaultNetworkBackend") && err.contains("vpnkit"),
            "{err}"
        );
    }
}
