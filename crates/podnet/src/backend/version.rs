//! netavark's version (`netavark version`), and the version that added each
//! [`Feature`], so a request the installed netavark cannot serve fails up front with
//! a message naming the feature, the binary, its version and the version needed.
//!
//! Each feature's version comes from netavark's RELEASE_NOTES.md, checked against the
//! tag that first holds the commit where noted.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::Netavark;

/// A netavark release, as `netavark version` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetavarkVersion {
    /// `major.minor.patch`.
    pub release: Release,
    /// A pre-release or build suffix as printed (`-dev`, `-rc1`), if any.
    pub suffix: String,
    /// The git commit (empty in Debian's build).
    pub commit: String,
    /// The firewall driver netavark uses when none is given (reported since 1.11).
    pub default_fw_driver: Option<String>,
}

/// A `major.minor.patch` triple, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release(pub u32, pub u32, pub u32);

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 1.5.0 is said "1.5": the versions features need are always x.y.0
        match self {
            Release(major, minor, 0) => write!(f, "{major}.{minor}"),
            Release(major, minor, patch) => write!(f, "{major}.{minor}.{patch}"),
        }
    }
}

impl fmt::Display for NetavarkVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Release(major, minor, patch) = self.release;
        write!(f, "{major}.{minor}.{patch}{}", self.suffix)
    }
}

/// Something podnet may ask of netavark that not every version can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// aardvark-dns on a port other than 53 (`NETAVARK_DNS_PORT`): 1.1.0 ("capable of
    /// starting Aardvark on a port other than 53").
    DnsPort,
    /// the `metric` option of a network's default route: 1.3.0 ("Add support for
    /// route metrics", commit 0789f447).
    RouteMetric,
    /// `netavark update` (network DNS servers): 1.4.0 ("Added network update
    /// command", commit 0c61f051).
    Update,
    /// the `ipvlan` driver: 1.5.0 ("Addition of ipvlan support").
    Ipvlan,
    /// the DHCP proxy for macvlan (`netavark dhcp-proxy`): 1.6.0 ("Initial MACVLAN
    /// DHCP support"; commit ca27aa67 merged the proxy into the netavark binary).
    DhcpProxy,
    /// the `none` firewall driver: 1.6.0 (first in `src/firewall/mod.rs` at v1.6.0).
    FirewallNone,
    /// static routes in a network's `routes`: 1.7.0 ("static routes can now be
    /// configured", commit 416853b8).
    StaticRoutes,
    /// the bridge option `isolate=strict`: 1.7.0 ("bridge: isolate=strict option has
    /// been added", commit d31c157c).
    IsolateStrict,
    /// the `no_default_route` option: 1.7.0 ("\"no_default_route\" option has been added").
    NoDefaultRoute,
    /// the bridge option `vrf`: 1.8.0 ("Add vrf support for bridges").
    Vrf,
    /// `netavark firewalld-reload`: 1.9.0 ("add firewalld-reload subcommand", commit cb5aa2ea).
    FirewalldReload,
    /// the nftables firewall driver: 1.10.0 ("added an nftables backend"; 1.4 to 1.9
    /// answer "nftables support presently not available").
    Nftables,
    /// the `--firewall-driver` option (earlier versions read only `NETAVARK_FW`):
    /// 1.10.0 ("added command line option to change firewall driver").
    FirewallDriverOption,
    /// `default_fw_driver` in `netavark version`: 1.11.0 (commit b161e758).
    DefaultFirewallReport,
    /// `netavark firewall-reload`: 1.17.0 ("A new `firewall-reload` command has been added").
    FirewallReload,
    /// the iptables firewall driver: from 1.0 until 2.0.0 removed it ("Removed
    /// iptables support").
    Iptables,
}

impl Feature {
    /// What the feature is, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::DnsPort => "a DNS port other than 53",
            Self::RouteMetric => "the metric option",
            Self::Update => "network update",
            Self::Ipvlan => "ipvlan",
            Self::DhcpProxy => "the DHCP proxy",
            Self::FirewallNone => "the none firewall driver",
            Self::StaticRoutes => "static routes",
            Self::IsolateStrict => "isolate=strict",
            Self::NoDefaultRoute => "the no_default_route option",
            Self::Vrf => "the vrf option",
            Self::FirewalldReload => "firewalld-reload",
            Self::Nftables => "the nftables firewall driver",
            Self::FirewallDriverOption => "--firewall-driver",
            Self::DefaultFirewallReport => "reporting the default firewall driver",
            Self::FirewallReload => "firewall-reload",
            Self::Iptables => "the iptables firewall driver",
        }
    }

    /// The first release that has it.
    pub fn added_in(self) -> Release {
        match self {
            Self::Iptables => Release(1, 0, 0),
            Self::DnsPort => Release(1, 1, 0),
            Self::RouteMetric => Release(1, 3, 0),
            Self::Update => Release(1, 4, 0),
            Self::Ipvlan => Release(1, 5, 0),
            Self::DhcpProxy | Self::FirewallNone => Release(1, 6, 0),
            Self::StaticRoutes | Self::IsolateStrict | Self::NoDefaultRoute => Release(1, 7, 0),
            Self::Vrf => Release(1, 8, 0),
            Self::FirewalldReload => Release(1, 9, 0),
            Self::Nftables | Self::FirewallDriverOption => Release(1, 10, 0),
            Self::DefaultFirewallReport => Release(1, 11, 0),
            Self::FirewallReload => Release(1, 17, 0),
        }
    }

    /// The first release that no longer has it.
    pub fn removed_in(self) -> Option<Release> {
        match self {
            Self::Iptables => Some(Release(2, 0, 0)),
            _ => None,
        }
    }
}

/// The installed netavark cannot do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} needs netavark {}; {} is {installed}", feature.name(), needed(*feature), binary.display())]
#[non_exhaustive]
pub struct UnsupportedFeature {
    /// What was asked.
    pub feature: Feature,
    /// The netavark binary.
    pub binary: PathBuf,
    /// Its version.
    pub installed: NetavarkVersion,
}

fn needed(feature: Feature) -> String {
    match feature.removed_in() {
        Some(removed) => format!("older than {removed}"),
        None => format!("{} or later", feature.added_in()),
    }
}

/// `netavark version` could not be run or read.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The binary could not be started.
    #[error("run {} version: {source}", binary.display())]
    Spawn {
        /// The netavark binary.
        binary: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// It printed something that is not a version.
    #[error("{} version printed no version this podnet can read: {output:?}", binary.display())]
    Unreadable {
        /// The netavark binary.
        binary: PathBuf,
        /// What it printed on stdout.
        output: String,
    },
}

#[derive(Deserialize)]
struct VersionOutput {
    version: String,
    #[serde(default)]
    commit: String,
    #[serde(default)]
    default_fw_driver: Option<String>,
}

impl NetavarkVersion {
    /// Reads `netavark version`'s JSON (1.x: version, commit, build_time, target;
    /// 1.11 and later add default_fw_driver) or `netavark --version`'s `netavark X.Y.Z`.
    pub fn parse(output: &str) -> Option<Self> {
        let output = output.trim();
        if let Ok(json) = serde_json::from_str::<VersionOutput>(output) {
            let (release, suffix) = parse_release(&json.version)?;
            return Some(Self {
                release,
                suffix,
                commit: json.commit,
                default_fw_driver: json.default_fw_driver.filter(|d| !d.is_empty()),
            });
        }
        let (release, suffix) = parse_release(output.strip_prefix("netavark ")?)?;
        Some(Self {
            release,
            suffix,
            commit: String::new(),
            default_fw_driver: None,
        })
    }

    /// Runs `binary version` and reads its output.
    pub fn detect(binary: &Path) -> Result<Self, VersionError> {
        let out = Command::new(binary)
            .arg("version")
            .stdin(Stdio::null())
            .output()
            .map_err(|source| VersionError::Spawn {
                binary: binary.to_path_buf(),
                source,
            })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        Self::parse(&stdout).ok_or_else(|| VersionError::Unreadable {
            binary: binary.to_path_buf(),
            output: stdout.into_owned(),
        })
    }

    /// Whether this version has `feature`. A pre-release (`1.10.0-dev`) counts as its
    /// release: such builds come from the branch that becomes it.
    pub fn supports(&self, feature: Feature) -> bool {
        self.release >= feature.added_in() && feature.removed_in().is_none_or(|r| self.release < r)
    }

    /// `Ok` when this version, of `binary`, has `feature`.
    pub fn require(&self, feature: Feature, binary: &Path) -> Result<(), UnsupportedFeature> {
        if self.supports(feature) {
            return Ok(());
        }
        Err(UnsupportedFeature {
            feature,
            binary: binary.to_path_buf(),
            installed: self.clone(),
        })
    }
}

/// `1.4.0`, `1.10.0-dev`, `2.1.0+build`: the triple and the rest as printed.
fn parse_release(text: &str) -> Option<(Release, String)> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (numbers, suffix) = text.split_at(end);
    let mut parts = numbers.split('.').map(|p| p.parse::<u32>().ok());
    let release = Release(parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || !(suffix.is_empty() || suffix.starts_with(['-', '+'])) {
        return None;
    }
    Some((release, suffix.to_string()))
}

impl Netavark {
    /// The netavark version, detected on first use and then remembered (clones of this
    /// value share it; a failed detection is retried next time).
    pub fn version(&self) -> Result<&NetavarkVersion, VersionError> {
        if let Some(version) = self.version.get() {
            return Ok(version);
        }
        let detected = NetavarkVersion::detect(self.binary())?;
        tracing::debug!(binary = %self.binary().display(), version = %detected, "netavark version");
        Ok(self.version.get_or_init(|| detected))
    }

    /// `Ok` when the installed netavark has `feature`; else the error names the feature,
    /// the binary, its version and the version needed.
    pub fn require(&self, feature: Feature) -> Result<(), NetavarkFeatureError> {
        Ok(self.version()?.require(feature, self.binary())?)
    }
}

/// [`Netavark::require`] failed: the version is unknown, or too old or too new.
#[derive(Debug, thiserror::Error)]
pub enum NetavarkFeatureError {
    /// The version could not be detected.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The version lacks the feature.
    #[error(transparent)]
    Unsupported(#[from] UnsupportedFeature),
}

#[cfg(test)]
#[path = "version_tests.rs"]
mod tests;
