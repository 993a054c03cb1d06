//! Which backend, which netavark and aardvark-dns, and which firewall driver, decided as
//! podman decides them (containers/common `NetworkBackend` and `FindHelperBinary`), from
//! containers.conf and the command line's overrides.

use std::path::PathBuf;

use containers_conf::{ContainersConf, FirewallDriver, NetworkBackend};

use super::{find, info, BackendError, Feature, Netavark};

/// How the network backend is chosen and configured: containers.conf's `network_backend`,
/// `[engine] helper_binaries_dir`, `firewall_driver` and `dns_bind_port`, and an explicit
/// netavark binary (`podnet --netavark PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// The backend; `None` (unset in containers.conf): netavark, the only one podnet has.
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
        }
    }

    /// The [`Netavark`] these settings describe, with `config_dir` as its `--config`
    /// directory. Fails when the backend is not netavark, when netavark cannot be found,
    /// or when a firewall driver is asked of a netavark that cannot take one (before
    /// 1.10) or does not have that driver (iptables from 2.0): one line naming the
    /// feature, the binary, its version and the version needed. Nothing is run but
    /// `netavark version`, and only when a firewall driver is set.
    pub fn netavark(&self, config_dir: impl Into<PathBuf>) -> Result<Netavark, BackendError> {
        match self.network_backend.unwrap_or(NetworkBackend::Netavark) {
            NetworkBackend::Netavark => {}
            backend => return Err(BackendError::Unavailable { backend }),
        }
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
    fn cni_is_refused_in_one_line() {
        let conf = BackendConfig {
            network_backend: Some(NetworkBackend::Cni),
            ..BackendConfig::default()
        };
        let err = conf.netavark("/nonexistent").unwrap_err();
        assert_eq!(
            err.to_string(),
            "network backend cni is not available: podnet runs netavark only (network_backend = \"netavark\")"
        );
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
