//! `podnet info`'s network part for podman 4's CNI backend, shaped like `podman info`'s
//! `host.networkBackend` and `host.networkBackendInfo` (containers/common's CNI
//! `NetworkInfo`): the plugins' directory and package, and dnsname's.

use std::path::{Path, PathBuf};

use containers_conf::NetworkBackend;
use serde::Serialize;

use super::info::{package_of, program_version};
use super::{CniBackend, DnsInfo, UNKNOWN_PACKAGE};

/// The network part of `podman info`'s `host` object, CNI backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CniNetworkInfo {
    /// `host.networkBackend`: `cni`.
    pub network_backend: NetworkBackend,
    /// `host.networkBackendInfo`.
    pub network_backend_info: CniBackendInfo,
}

/// `host.networkBackendInfo` of the CNI backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CniBackendInfo {
    /// `cni`.
    pub backend: NetworkBackend,
    /// The distribution package of the plugins (`containernetworking-plugins_1.1.1+ds1-3+b4_amd64`),
    /// or `Unknown`.
    pub package: String,
    /// The plugin directory in use: the first of `cni_plugin_dirs` with the bridge plugin.
    pub path: PathBuf,
    /// The dnsname plugin; empty when it is not installed (DNS off on new networks).
    pub dns: DnsInfo,
}

/// `podman info`'s network part for `backend`. Runs nothing but `dpkg` and `dnsname
/// --version`.
pub fn cni_network_info(backend: &CniBackend) -> CniNetworkInfo {
    let dirs = backend.runtime().plugin_dirs();
    let bridge = cni::find_plugin("bridge", dirs);
    let path = bridge
        .as_deref()
        .and_then(Path::parent)
        .or(dirs.first().map(PathBuf::as_path))
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let package = bridge
        .as_deref()
        .map_or_else(|| UNKNOWN_PACKAGE.to_string(), package_of);
    let dns = match cni::find_plugin("dnsname", dirs) {
        Some(dnsname) => DnsInfo {
            version: dnsname_version(&program_version(&dnsname)),
            package: package_of(&dnsname),
            path: Some(dnsname),
        },
        None => DnsInfo::default(),
    };
    CniNetworkInfo {
        network_backend: NetworkBackend::Cni,
        network_backend_info: CniBackendInfo {
            backend: NetworkBackend::Cni,
            package,
            path,
            dns,
        },
    }
}

/// The `version:` line of `dnsname --version` (containers/common's `ProgramDnsname`);
/// empty when there is none.
fn dnsname_version(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix("version:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(path: &Path, text: &str) {
        std::fs::write(path, format!("#!/bin/sh\n{text}\n")).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_directory_with_the_bridge_plugin_and_dnsnames_version() {
        let empty = tempfile::tempdir().unwrap();
        let plugins = tempfile::tempdir().unwrap();
        script(&plugins.path().join("bridge"), "exit 0");
        script(
            &plugins.path().join("dnsname"),
            "printf 'CNI dnsname plugin\\nversion: 1.3.1\\ncommit: unknown\\n'",
        );
        let runtime = cni::Runtime::new([empty.path(), plugins.path()]);
        let info = cni_network_info(&CniBackend::new("/unused", runtime));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["networkBackend"], "cni");
        let b = &json["networkBackendInfo"];
        assert_eq!(b["backend"], "cni");
        assert_eq!(b["path"], plugins.path().display().to_string());
        assert_eq!(b["package"], UNKNOWN_PACKAGE);
        assert_eq!(b["dns"]["version"], "1.3.1");
        assert_eq!(
            b["dns"]["path"],
            plugins.path().join("dnsname").display().to_string()
        );

        // no dnsname: no DNS part
        std::fs::remove_file(plugins.path().join("dnsname")).unwrap();
        let runtime = cni::Runtime::new([plugins.path()]);
        let json = serde_json::to_value(cni_network_info(&CniBackend::new("/u", runtime))).unwrap();
        assert_eq!(json["networkBackendInfo"]["dns"], serde_json::json!({}));
    }
}
