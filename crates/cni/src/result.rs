//! Plugin results (`interfaces`, `ips`, `routes`, `dns`) of CNI 0.3.0 to 1.0.0, typed, and
//! their conversion between versions: 0.3.x/0.4.0 `ips` entries carry a `version` ("4" or
//! "6") that 1.0.0 dropped, and nothing else differs. Results are written in Go libcni's
//! field order, so what a plugin receives as `prevResult` matches libcni byte for byte.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::SpecVersion;

/// An interface a plugin created or configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// Its hardware address, if it has one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    /// The netns path it lives in; empty for a host-side interface.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
}

/// An address assigned to an interface.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct IpConfig {
    /// Index into [`CniResult::interfaces`].
    #[serde(default)]
    pub interface: Option<usize>,
    /// The address with its prefix length (host bits kept: `10.88.0.5/16`).
    pub address: IpNet,
    /// The gateway, if any.
    #[serde(default)]
    pub gateway: Option<IpAddr>,
}

/// A route a plugin set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Route {
    /// The destination.
    pub dst: IpNet,
    /// The next hop; none means the default for the interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<IpAddr>,
}

/// DNS settings a plugin suggests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Dns {
    /// Name servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// The local domain.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// The search list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// resolv.conf options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// A plugin's (or a whole chain's) result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CniResult {
    /// The version the result is expressed in.
    pub cni_version: SpecVersion,
    /// Interfaces created or configured.
    pub interfaces: Vec<Interface>,
    /// Addresses assigned.
    pub ips: Vec<IpConfig>,
    /// Routes set up.
    pub routes: Vec<Route>,
    /// DNS settings.
    pub dns: Dns,
}

/// The wire form of a result in any typed version (`version` of `ips` entries is ignored on
/// input: it is derived from the address).
#[derive(Deserialize)]
struct WireResult {
    #[serde(rename = "cniVersion", default)]
    cni_version: Option<String>,
    #[serde(default)]
    interfaces: Option<Vec<Interface>>,
    #[serde(default)]
    ips: Option<Vec<IpConfig>>,
    #[serde(default)]
    routes: Option<Vec<Route>>,
    #[serde(default)]
    dns: Option<Dns>,
}

impl CniResult {
    /// An empty result of `version`.
    pub fn empty(version: SpecVersion) -> Self {
        CniResult {
            cni_version: version,
            interfaces: Vec::new(),
            ips: Vec::new(),
            routes: Vec::new(),
            dns: Dns::default(),
        }
    }

    /// Reads a plugin's output. A result without `cniVersion` is taken to be in the
    /// configuration's version (libcni's fix-up for plugins that omit it); `Err` is the reason.
    pub fn from_plugin_output(output: &[u8], config_version: SpecVersion) -> Result<Self, String> {
        let wire: Option<WireResult> =
            serde_json::from_slice(output).map_err(|e| format!("not a CNI result: {e}"))?;
        let Some(wire) = wire else {
            return Ok(CniResult::empty(config_version));
        };
        let version = match wire.cni_version.as_deref() {
            None | Some("") => config_version,
            Some(v) => v
                .parse()
                .map_err(|e: crate::version::UnknownVersion| e.to_string())?,
        };
        if !version.has_typed_result() {
            return Err(format!(
                "results of version {version} (ip4/ip6) are not supported; plugins must answer 0.3.0 or later"
            ));
        }
        Ok(CniResult {
            cni_version: version,
            interfaces: wire.interfaces.unwrap_or_default(),
            ips: wire.ips.unwrap_or_default(),
            routes: wire.routes.unwrap_or_default(),
            dns: wire.dns.unwrap_or_default(),
        })
    }

    /// Parses a stored result (which must name its version), e.g. a cache entry's `result`.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        match value.get("cniVersion").and_then(|v| v.as_str()) {
            Some(v) if !v.is_empty() => {}
            _ => return Err("result has no cniVersion".into()),
        }
        let bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        // the version check above makes the fallback version unused
        Self::from_plugin_output(&bytes, SpecVersion::LATEST)
    }

    /// The same result expressed in `version`; `Err` is the reason it cannot be.
    pub fn convert_to(&self, version: SpecVersion) -> Result<Self, String> {
        if !version.has_typed_result() {
            return Err(format!(
                "results of version {version} (ip4/ip6) are not supported"
            ));
        }
        let mut converted = self.clone();
        converted.cni_version = version;
        Ok(converted)
    }
}

/// One `ips` entry as written: with `version` before 1.0.0.
#[derive(Serialize)]
struct WireIp<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interface: Option<usize>,
    address: &'a IpNet,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<IpAddr>,
}

impl Serialize for CniResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let with_version = self.cni_version < SpecVersion::V1_0_0;
        let ips: Vec<WireIp<'_>> = self
            .ips
            .iter()
            .map(|ip| WireIp {
                version: with_version.then_some(match ip.address {
                    IpNet::V4(_) => "4",
                    IpNet::V6(_) => "6",
                }),
                interface: ip.interface,
                address: &ip.address,
                gateway: ip.gateway,
            })
            .collect();
        let mut st = s.serialize_struct("Result", 5)?;
        st.serialize_field("cniVersion", &self.cni_version)?;
        if !self.interfaces.is_empty() {
            st.serialize_field("interfaces", &self.interfaces)?;
        }
        if !ips.is_empty() {
            st.serialize_field("ips", &ips)?;
        }
        if !self.routes.is_empty() {
            st.serialize_field("routes", &self.routes)?;
        }
        // Go's omitempty does not omit a struct: libcni always writes "dns"
        st.serialize_field("dns", &self.dns)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the bridge plugin 1.1.1 prints for a 0.4.0 configuration (from a real run).
    const BRIDGE_040: &str = r#"{
        "cniVersion": "0.4.0",
        "interfaces": [
            {"name": "cni-podman1", "mac": "3a:5e:1c:4b:0d:11"},
            {"name": "veth2d5f", "mac": "c6:91:9b:4c:7e:20"},
            {"name": "eth0", "mac": "fa:2b:55:3e:9a:01", "sandbox": "/run/netns/c1"}
        ],
        "ips": [
            {"version": "4", "interface": 2, "address": "10.77.3.2/24", "gateway": "10.77.3.1"},
            {"version": "6", "interface": 2, "address": "fd00:77::2/64"}
        ],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dns": {}
    }"#;

    fn bridge() -> CniResult {
        CniResult::from_plugin_output(BRIDGE_040.as_bytes(), SpecVersion::V0_4_0).expect("parse")
    }

    #[test]
    fn a_0_4_0_result_is_typed() {
        let r = bridge();
        assert_eq!(r.cni_version, SpecVersion::V0_4_0);
        assert_eq!(r.interfaces[2].sandbox, "/run/netns/c1");
        assert_eq!(r.ips[0].interface, Some(2));
        assert_eq!(r.ips[0].address.to_string(), "10.77.3.2/24");
        assert_eq!(r.ips[0].gateway, Some("10.77.3.1".parse().expect("ip")));
        assert_eq!(r.routes[0].dst.to_string(), "0.0.0.0/0");
    }

    #[test]
    fn v0_4_0_to_v1_0_0_drops_the_ip_version_and_back_restores_it() {
        let v1 = bridge().convert_to(SpecVersion::V1_0_0).expect("to 1.0.0");
        assert_eq!(
            serde_json::to_string(&v1).expect("json"),
            concat!(
                r#"{"cniVersion":"1.0.0","interfaces":[{"name":"cni-podman1","mac":"3a:5e:1c:4b:0d:11"},"#,
                r#"{"name":"veth2d5f","mac":"c6:91:9b:4c:7e:20"},{"name":"eth0","mac":"fa:2b:55:3e:9a:01","sandbox":"/run/netns/c1"}],"#,
                r#""ips":[{"interface":2,"address":"10.77.3.2/24","gateway":"10.77.3.1"},{"interface":2,"address":"fd00:77::2/64"}],"#,
                r#""routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#
            )
        );
        let back = v1.convert_to(SpecVersion::V0_3_1).expect("to 0.3.1");
        let text = serde_json::to_string(&back).expect("json");
        assert!(text.starts_with(r#"{"cniVersion":"0.3.1","#), "{text}");
        assert!(
            text.contains(
                r#"{"version":"4","interface":2,"address":"10.77.3.2/24","gateway":"10.77.3.1"}"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"{"version":"6","interface":2,"address":"fd00:77::2/64"}"#),
            "{text}"
        );
    }

    #[test]
    fn a_0_3_x_result_is_accepted_and_a_0_2_0_one_is_refused() {
        let r = CniResult::from_plugin_output(
            br#"{"cniVersion":"0.3.0","ips":[{"version":"4","address":"10.1.0.2/16"}]}"#,
            SpecVersion::V0_4_0,
        )
        .expect("0.3.0");
        assert_eq!(r.cni_version, SpecVersion::V0_3_0);
        let err = CniResult::from_plugin_output(
            br#"{"cniVersion":"0.2.0","ip4":{"ip":"10.1.0.2/16"}}"#,
            SpecVersion::V0_4_0,
        )
        .expect_err("0.2.0");
        assert!(err.contains("0.2.0"), "{err}");
        assert!(bridge().convert_to(SpecVersion::V0_2_0).is_err());
    }

    #[test]
    fn a_result_without_version_takes_the_configuration_version() {
        let r = CniResult::from_plugin_output(
            br#"{"dns":{"nameservers":["10.0.0.1"]}}"#,
            SpecVersion::V1_0_0,
        )
        .expect("no version");
        assert_eq!(r.cni_version, SpecVersion::V1_0_0);
        assert_eq!(r.dns.nameservers, ["10.0.0.1"]);
        let null = CniResult::from_plugin_output(b"null", SpecVersion::V0_4_0).expect("null");
        assert_eq!(null, CniResult::empty(SpecVersion::V0_4_0));
        assert!(CniResult::from_plugin_output(b"{\"ips\":7}", SpecVersion::V0_4_0).is_err());
    }
}
