//! Which backend (netavark or podman 4's CNI), which netavark and aardvark-dns or CNI
//! plugins, and which firewall driver, decided as podman decides them (containers/common
//! `NetworkBackend`, `FindHelperBinary`, `cni_plugin_dirs`), from containers.conf and the
//! command line's overrides.

use std::path::{Path, PathBuf};

use containers_conf::{ContainersConf, FirewallDriver, NetworkBackend};

use super::{find, info, BackendError, CniBackend, Feature, Netavark, SelectedBackend};

/// How the network backend is chosen and configured: containers.conf's `network_backend`,
/// `cni_plugin_dirs`, `[engine] helper_binaries_dir`, `firewall_driver` and
/// `dns_bind_port`, and an explicit netavark binary (`podnet --netavark PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendConfig {
    /// The backend; `None` (unset in containers.conf): netavark, podman's default when no
    /// CNI network exists (see `containers_conf`'s backend decision).
    pub network_backend: Option<NetworkBackend>,
    /// The netavark binary to run; `None`: searched in [`Self::helper_binaries_dir`],
    /// then `$PATH`.
    pub netavark_binary: Option<PathBuf>,
    /// Where netavark and aardvark-dns are looked for (`[engine] helper_binaries_dir`).
    pub helper_binaries_dir: Vec<PathBuf>,
    /// netavark's firewall driver; `None`: netavark's own default.
    pub firewall_driver: Option<FirewallDriver>,
    /// The port aardvark-dns listens on; `None`: 53.
    pub dns_bind_port: Option<u16>,
    /// Where the CNI backend looks for plugins (`cni_plugin_dirs`); empty: libcni's
    /// default directories ([`cni::DEFAULT_PLUGIN_DIRS`]).
    pub cni_plugin_dirs: Vec<PathBuf>,
}

impl Default for BackendConfig {
    /// containers/common's defaults: netavark found in podman's helper directories.
    fn default() -> Self {
        Self::from_containers_conf(&ContainersConf::default())
    }
}

impl BackendConfig {
    /// The backend keys of containers.conf as they are.
    pub fn from_containers_conf(conf: &ContainersConf) -> Self {
        Self {
            network_backend: conf.network.network_backend,
            netavark_binary: None,
            helper_binaries_dir: conf.engine.helper_binaries_dir.clone(),
            firewall_driver: conf.network.firewall_driver,
            dns_bind_port: conf.network.dns_bind_port,
            cni_plugin_dirs: conf.network.cni_plugin_dirs.clone(),
        }
    }

    /// The backend `network_backend` names: netavark ([`Self::netavark`], with
    /// `netavark_config_dir`) or podman 4's CNI backend ([`Self::cni`], on the conflists
    /// of `cni_config_dir` with libcni's result cache in `cni_cache_dir`).
    pub fn select(
        &self,
        netavark_config_dir: impl Into<PathBuf>,
        cni_config_dir: &Path,
        cni_cache_dir: &Path,
    ) -> Result<SelectedBackend, BackendError> {
        Ok(
            match self.network_backend.unwrap_or(NetworkBackend::Netavark) {
                NetworkBackend::Netavark => {
                    SelectedBackend::Netavark(self.netavark(netavark_config_dir)?)
                }
                NetworkBackend::Cni => {
                    SelectedBackend::Cni(self.cni(cni_config_dir, cni_cache_dir))
                }
            },
        )
    }

    /// podman 4's CNI backend on the conflists of `config_dir`, with the plugins of
    /// [`Self::cni_plugin_dirs`] and libcni's result cache in `cache_dir` (podman:
    /// `/var/lib/cni`). Nothing is run or read yet: a missing plugin is named by the first
    /// setup that needs it.
    pub fn cni(&self, config_dir: &Path, cache_dir: &Path) -> CniBackend {
        let runtime = super::cni::plugin_runtime(&self.cni_plugin_dirs).with_cache_dir(cache_dir);
        CniBackend::new(config_dir, runtime)
    }

    /// The [`Netavark`] these settings describe, with `config_dir` as its `--config`
    /// directory, whatever [`Self::network_backend`] says. Fails when netavark cannot be
    /// found, or when a firewall driver is asked of a netavark that cannot take one (before
    /// 1.10) or does not have that driver (iptables from 2.0): one line naming the
    /// feature, the binary, its version and the version needed. Nothing is run but
    /// `netavark version`, and only when a firewall driver is set.
    pub fn netavark(&self, config_dir: impl Into<PathBuf>) -> Result<Netavark, BackendError> {
        let binary = find::find_helper_binary_in(
            "netavark",
            self.netavark_binary.as_deref(),
            &self.helper_binaries_dir,
        )?;
        let aardvark = match find::find_helper_binary_in(
            "aardvark-dns",
            None,
            &self.helper_binaries_dir,
        ) {
            Ok(path) => Some(path),
            Err(err) => {
                tracing::warn!(%err, "aardvark-dns not found: container DNS will not be enabled");
                None
            }
        };
        let mut netavark = Netavark::with_binaries(binary, aardvark, config_dir);
        if let Some(port) = self.dns_bind_port {
            netavark = netavark.dns_port(port);
        }
        if let Some(driver) = self.firewall_driver {
            netavark.require(Feature::FirewallDriverOption)?;
            let version = netavark
                .version()
                .map_err(super::NetavarkFeatureError::from)?;
            info::firewall_driver(version, Some(driver), netavark.binary())
                .map_err(super::NetavarkFeatureError::from)?;
            netavark = netavark.firewall_driver(driver);
        }
        Ok(netavark)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    /// A stand-in netavark that answers `version` as `version` would.
    fn fake_netavark(dir: &Path, version: &str) -> PathBuf {
        let path = dir.join("netavark");
        let script =
            format!("#!/bin/sh\n[ \"$1\" = version ] && echo '{{\"version\": \"{version}\"}}'\n");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn config(binary: PathBuf, driver: Option<FirewallDriver>) -> BackendConfig {
        BackendConfig {
            netavark_binary: Some(binary),
            helper_binaries_dir: Vec::new(),
            firewall_driver: driver,
            ..BackendConfig::default()
        }
    }

    #[test]
    fn cni_is_selected_with_the_configured_plugin_dirs_and_cache() {
        let conf = BackendConfig {
            network_backend: Some(NetworkBackend::Cni),
            cni_plugin_dirs: vec![PathBuf::from("/opt/cni/bin")],
            ..BackendConfig::default()
        };
        // no netavark is looked for: the CNI backend needs none
        let selected = conf
            .select(
                "/nonexistent",
                Path::new("/srv/net.d"),
                Path::new("/srv/cache"),
            )
            .unwrap();
        let SelectedBackend::Cni(cni) = selected else {
            panic!("{selected:?} is not the CNI backend");
        };
        assert_eq!(cni.config_dir(), Path::new("/srv/net.d"));
        assert_eq!(cni.runtime().plugin_dirs(), [PathBuf::from("/opt/cni/bin")]);
        assert_eq!(cni.runtime().cache_dir(), Path::new("/srv/cache"));
        // no cni_plugin_dirs: libcni's defaults
        let default = BackendConfig::default().cni(Path::new("/d"), Path::new("/c"));
        let dirs: Vec<PathBuf> = cni::DEFAULT_PLUGIN_DIRS.iter().map(PathBuf::from).collect();
        assert_eq!(default.runtime().plugin_dirs(), dirs);
    }

    #[test]
    fn netavark_is_selected_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let binary = fake_netavark(dir.path(), "1.4.0");
        let selected = config(binary.clone(), None)
            .select("/c", Path::new("/d"), Path::new("/e"))
            .unwrap();
        let SelectedBackend::Netavark(nv) = selected else {
            panic!("{selected:?} is not netavark");
        };
        assert_eq!(nv.binary(), binary);
    }

    #[test]
    fn a_firewall_driver_is_refused_before_netavark_1_10() {
        let dir = tempfile::tempdir().unwrap();
        let binary = fake_netavark(dir.path(), "1.4.0");
        let err = config(binary.clone(), Some(FirewallDriver::Iptables))
            .netavark(dir.path().join("config"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "--firewall-driver needs netavark 1.10 or later; {} is 1.4.0",
                binary.display()
            )
        );
        // without one, 1.4 is fine and nothing is passed
        let nv = config(binary, None).netavark("/c").unwrap();
        assert_eq!(nv.configured_firewall_driver(), None);
    }

    #[test]
    fn iptables_is_refused_from_2_0_and_nftables_taken() {
        let dir = tempfile::tempdir().unwrap();
        let binary = fake_netavark(dir.path(), "2.1.0");
        let err = config(binary.clone(), Some(FirewallDriver::Iptables))
            .netavark("/c")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the iptables firewall driver needs netavark older than 2.0; {} is 2.1.0",
                binary.display()
            )
        );
        let nv = config(binary, Some(FirewallDriver::Nftables))
            .netavark("/c")
            .unwrap();
        assert_eq!(
            nv.configured_firewall_driver(),
            Some(FirewallDriver::Nftables)
        );
    }

    #[test]
    fn helper_binaries_dir_is_searched_for_both_binaries() {
        let dir = tempfile::tempdir().unwrap();
        let netavark = fake_netavark(dir.path(), "2.1.0");
        let aardvark = dir.path().join("aardvark-dns");
        std::fs::copy(&netavark, &aardvark).unwrap();
        let conf = BackendConfig {
            helper_binaries_dir: vec![dir.path().to_path_buf()],
            ..BackendConfig::default()
        };
        let nv = conf.netavark("/c").unwrap();
        assert_eq!(nv.binary(), netavark);
        assert_eq!(nv.aardvark_binary(), Some(aardvark.as_path()));
    }
}
