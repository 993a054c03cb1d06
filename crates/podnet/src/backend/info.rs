//! `podnet info`'s network part: which backend, binary, version and firewall driver are
//! in use, shaped like `podman info`'s `host.networkBackend` and `host.networkBackendInfo`
//! (podman 4.3 prints only the first; podman 5 adds the second), plus the firewall driver.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use containers_conf::{FirewallDriver, NetworkBackend};
use serde::Serialize;

use super::{Feature, Netavark, NetavarkVersion, Release, UnsupportedFeature, VersionError};

/// What `podman info` calls a program's package when no package manager owns it.
pub const UNKNOWN_PACKAGE: &str = "Unknown";

/// The network part of `podman info`'s `host` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NetworkInfo {
    /// `host.networkBackend`.
    pub network_backend: NetworkBackend,
    /// `host.networkBackendInfo`.
    pub network_backend_info: NetworkBackendInfo,
}

/// podman 5's `host.networkBackendInfo` (containers/common `types.NetworkInfo`), with
/// podnet's `firewallDriver` and `firewallDriverSource` added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NetworkBackendInfo {
    /// `netavark`.
    pub backend: NetworkBackend,
    /// As `netavark --version` prints it: `netavark 1.4.0`.
    pub version: String,
    /// The distribution package (`netavark_1.4.0-3_amd64`), or `Unknown`.
    pub package: String,
    /// The binary.
    pub path: PathBuf,
    /// aardvark-dns; empty when DNS is disabled.
    pub dns: DnsInfo,
    /// The firewall driver netavark uses.
    pub firewall_driver: FirewallDriver,
    /// Where [`Self::firewall_driver`] comes from.
    pub firewall_driver_source: FirewallDriverSource,
}

/// `networkBackendInfo.dns`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DnsInfo {
    /// As `aardvark-dns --version` prints it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// The distribution package, or `Unknown`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub package: String,
    /// The binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// Where the firewall driver in use comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirewallDriverSource {
    /// containers.conf's `firewall_driver` (or podnet's `--firewall-driver`).
    Configured,
    /// netavark's own default, as `netavark version` reports it (1.11 and later).
    NetavarkDefault,
    /// Not reported: iptables before 2.0 (netavark's only default then), nftables after.
    VersionDefault,
}

/// The driver netavark `version` uses when `configured` (containers.conf's
/// `firewall_driver`) is the request: a configured driver must be one this version has;
/// otherwise the default it reports, else iptables before 2.0 and nftables from 2.0.
pub fn firewall_driver(
    version: &NetavarkVersion,
    configured: Option<FirewallDriver>,
    binary: &Path,
) -> Result<(FirewallDriver, FirewallDriverSource), UnsupportedFeature> {
    if let Some(driver) = configured {
        let needs = match driver {
            FirewallDriver::Iptables => Some(Feature::Iptables),
            FirewallDriver::Nftables => Some(Feature::Nftables),
            FirewallDriver::None => Some(Feature::FirewallNone),
            FirewallDriver::Firewalld => None,
        };
        if let Some(feature) = needs {
            version.require(feature, binary)?;
        }
        return Ok((driver, FirewallDriverSource::Configured));
    }
    if let Some(reported) = version
        .default_fw_driver
        .as_deref()
        .and_then(FirewallDriver::parse)
    {
        return Ok((reported, FirewallDriverSource::NetavarkDefault));
    }
    let driver = if version.release >= Release(2, 0, 0) {
        FirewallDriver::Nftables
    } else {
        FirewallDriver::Iptables
    };
    Ok((driver, FirewallDriverSource::VersionDefault))
}

/// `podnet info` could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum InfoError {
    /// netavark's version could not be detected.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The configured firewall driver is not one the installed netavark has.
    #[error("firewall_driver: {0}")]
    FirewallDriver(#[from] UnsupportedFeature),
}

/// The network part of `podman info` for `netavark`, with `configured_firewall`
/// (containers.conf's `firewall_driver`, or a command-line override).
pub fn network_info(
    netavark: &Netavark,
    configured_firewall: Option<FirewallDriver>,
) -> Result<NetworkInfo, InfoError> {
    let version = netavark.version()?;
    let (firewall_driver, firewall_driver_source) =
        firewall_driver(version, configured_firewall, netavark.binary())?;
    let dns = match netavark.aardvark_binary() {
        Some(path) => DnsInfo {
            version: program_version(path),
            package: package_of(path),
            path: Some(path.to_path_buf()),
        },
        None => DnsInfo::default(),
    };
    Ok(NetworkInfo {
        network_backend: NetworkBackend::Netavark,
        network_backend_info: NetworkBackendInfo {
            backend: NetworkBackend::Netavark,
            version: format!("netavark {version}"),
            package: package_of(netavark.binary()),
            path: netavark.binary().to_path_buf(),
            dns,
            firewall_driver,
            firewall_driver_source,
        },
    })
}

/// `PROGRAM --version`'s first line, as containers/common's `version.Program` reads it;
/// empty when it cannot be run.
pub(super) fn program_version(program: &Path) -> String {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The Debian package owning `program`, as containers/common's `version.Package` names
/// it through dpkg (`netavark_1.4.0-3_amd64`); [`UNKNOWN_PACKAGE`] otherwise.
pub(super) fn package_of(program: &Path) -> String {
    let run = |cmd: &mut Command| {
        cmd.stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let Some(owner) = run(Command::new("dpkg").arg("-S").arg(program)) else {
        return UNKNOWN_PACKAGE.to_string();
    };
    let Some((package, _)) = owner.lines().next().and_then(|l| l.split_once(": ")) else {
        return UNKNOWN_PACKAGE.to_string();
    };
    run(Command::new("dpkg-query").args([
        "-f",
        "${Package}_${Version}_${Architecture}",
        "-W",
        package,
    ]))
    .unwrap_or_else(|| UNKNOWN_PACKAGE.to_string())
}

#[cfg(test)]
#[path = "info_tests.rs"]
mod tests;
