//! Where a [`Runtime`](super::Runtime) keeps its files, rootful and rootless, and the
//! network defaults and backend settings containers.conf gives it.

use std::path::{Path, PathBuf};

use containers_conf::ContainersConf;
use ipnet::IpNet;

use crate::{BackendConfig, SubnetPool};

/// The directories and files a runtime uses. [`RuntimeConfig::system`] gives podman's
/// locations for the current user; tests point everything into a temporary directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Network definitions (`NAME.json`), shared with podman.
    pub networks_dir: PathBuf,
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
        Self::with_dirs(
            root.join("networks"),
            root.join("state.db"),
            root.join("netns"),
            root.join("containers"),
            root.join("podnet.lock"),
        )
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
            state_db,
            netns_dir,
            containers_dir,
            lock_file,
            base_hosts: Some(etchosts::hosts::DEFAULT_HOSTS_FILE.into()),
            resolv_sources: Default::default(),
            shared_ipam: None,
            dns_entries_dir: None,
            port_holder: None,
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
        let networks_dir = crate::NetworkStore::default_dir()?;
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
        config.shared_ipam = Some(Self::podman_ipam_db());
        Ok(config)
    }

    /// podman's locations ([`RuntimeConfig::system`]) with containers.conf applied
    /// ([`RuntimeConfig::with_containers_conf`]), `network_config_dir` included.
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
        if let Some(dir) = &conf.network.network_config_dir {
            config.networks_dir = dir.clone();
        }
        Ok(config)
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
        self
    }

    /// Where podman keeps `ipam.db`: `/run/containers/networks/ipam.db` for root (a
    /// fixed path in containers/common), else `networks/ipam.db` under podman's rootless
    /// run root, `$XDG_RUNTIME_DIR/containers`.
    pub fn podman_ipam_db() -> PathBuf {
        if rootless_detect::is_rootless() {
            let run = rootless_detect::runtime_dir().unwrap_or_else(|_| {
                std::env::temp_dir().join(format!("run-{}", nix::unistd::getuid()))
            });
            run.join("containers/networks/ipam.db")
        } else {
            PathBuf::from(bbolt::podman_ipam::ROOTFUL_PATH)
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
}
