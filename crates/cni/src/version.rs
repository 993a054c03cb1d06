//! CNI specification versions: which ones this runtime speaks, how they order, and what each
//! allows (CHECK and a cached `prevResult` on DEL arrived with 0.4.0).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A CNI specification version this runtime knows.
///
/// Results of 0.1.0 and 0.2.0 have a different shape (`ip4`/`ip6`) and are not converted;
/// configurations declaring them are rejected when a result is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecVersion {
    /// 0.1.0
    V0_1_0,
    /// 0.2.0
    V0_2_0,
    /// 0.3.0: `interfaces`/`ips`/`routes` results, chains (`plugins` lists).
    V0_3_0,
    /// 0.3.1
    V0_3_1,
    /// 0.4.0: CHECK, cached `prevResult` on DEL (what podman 4's conflists declare).
    V0_4_0,
    /// 1.0.0: `ips` entries lose their `version` field.
    V1_0_0,
}

/// Every version in ascending order.
pub const KNOWN_VERSIONS: [SpecVersion; 6] = [
    SpecVersion::V0_1_0,
    SpecVersion::V0_2_0,
    SpecVersion::V0_3_0,
    SpecVersion::V0_3_1,
    SpecVersion::V0_4_0,
    SpecVersion::V1_0_0,
];

impl SpecVersion {
    /// The newest version this runtime speaks; sent with VERSION queries.
    pub const LATEST: SpecVersion = SpecVersion::V1_0_0;

    /// The version string as written in configurations and results.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V0_1_0 => "0.1.0",
            SpecVersion::V0_2_0 => "0.2.0",
            SpecVersion::V0_3_0 => "0.3.0",
            SpecVersion::V0_3_1 => "0.3.1",
            SpecVersion::V0_4_0 => "0.4.0",
            SpecVersion::V1_0_0 => "1.0.0",
        }
    }

    /// Whether the CHECK command exists in this version.
    pub fn supports_check(self) -> bool {
        self >= SpecVersion::V0_4_0
    }

    /// Whether DEL receives the cached ADD result as `prevResult`.
    pub fn del_gets_cached_result(self) -> bool {
        self >= SpecVersion::V0_4_0
    }

    /// Whether results of this version have the `interfaces`/`ips` shape this crate types.
    pub fn has_typed_result(self) -> bool {
        self >= SpecVersion::V0_3_0
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that is not a CNI specification version this runtime knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CNI version {0:?} (known: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0)")]
pub struct UnknownVersion(pub String);

impl FromStr for SpecVersion {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KNOWN_VERSIONS
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownVersion(s.to_string()))
    }
}

impl Serialize for SpecVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpecVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What a plugin answered to VERSION.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct VersionInfo {
    /// The version of the answer itself.
    #[serde(rename = "cniVersion")]
    pub cni_version: String,
    /// Every configuration version the plugin accepts, as the plugin spells them (a plugin
    /// may list versions this runtime does not know).
    #[serde(rename = "supportedVersions", default)]
    pub supported_versions: Vec<String>,
}

impl VersionInfo {
    /// Whether the plugin accepts configurations of `version`.
    pub fn supports(&self, version: SpecVersion) -> bool {
        self.supported_versions
            .iter()
            .any(|v| v == version.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_every_known_version() {
        let parsed: Vec<SpecVersion> = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"]
            .iter()
            .map(|s| s.parse().expect("known"))
            .collect();
        assert_eq!(parsed, KNOWN_VERSIONS);
        assert!(parsed.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn unknown_versions_are_rejected_by_name() {
        for bad in ["", "1.1.0", "0.4", "v1.0.0", "1.0.0 "] {
            let err = bad.parse::<SpecVersion>().expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn check_and_cached_del_start_at_0_4_0() {
        assert!(!SpecVersion::V0_3_1.supports_check());
        assert!(SpecVersion::V0_4_0.supports_check());
        assert!(!SpecVersion::V0_3_1.del_gets_cached_result());
        assert!(SpecVersion::V1_0_0.del_gets_cached_result());
    }
}
