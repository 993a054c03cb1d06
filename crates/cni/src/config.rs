//! Network configurations: a `.conflist` (a named chain of plugin configurations) and a single
//! `.conf` promoted to a one-plugin list, as libcni's `ConfListFromBytes` and
//! `ConfListFromConf` read them.
//!
//! The fields a runtime acts on are typed (`name`, `cniVersion`, `disableCheck`, each plugin's
//! `type`, `capabilities` and `ipam.type`); everything else, at every level, is kept verbatim
//! in the raw JSON object, because plugin configurations are open-ended (podman's
//! `args.podman_labels`, bridge's `isGateway`, ...). The bytes a list was read from are kept
//! too: they are what the result cache stores.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::names::check_network_name;
use crate::{Error, SpecVersion};

/// One plugin's configuration inside a list.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfig {
    plugin_type: String,
    capabilities: BTreeMap<String, bool>,
    ipam_type: Option<String>,
    raw: Map<String, Value>,
}

/// The typed fields of a plugin configuration (serde ignores the rest, kept in `raw`).
#[derive(Deserialize)]
struct KnownPluginFields {
    #[serde(rename = "type")]
    plugin_type: String,
    #[serde(default)]
    capabilities: BTreeMap<String, bool>,
    #[serde(default)]
    ipam: Option<KnownIpam>,
}

#[derive(Deserialize)]
struct KnownIpam {
    #[serde(rename = "type", default)]
    ipam_type: String,
}

impl PluginConfig {
    /// Reads one plugin configuration object; `Err` is the reason.
    fn from_object(raw: Map<String, Value>) -> Result<Self, String> {
        let known = KnownPluginFields::deserialize(&Value::Object(raw.clone()))
            .map_err(|e| e.to_string())?;
        if known.plugin_type.is_empty() {
            return Err("missing 'type'".into());
        }
        if known.plugin_type.contains('/') {
            return Err(format!("plugin type {:?} contains '/'", known.plugin_type));
        }
        Ok(PluginConfig {
            plugin_type: known.plugin_type,
            capabilities: known.capabilities,
            ipam_type: known.ipam.map(|i| i.ipam_type).filter(|t| !t.is_empty()),
            raw,
        })
    }

    /// The plugin type: the executable's file name.
    pub fn plugin_type(&self) -> &str {
        &self.plugin_type
    }

    /// Whether the plugin declares `capability` (and does not set it to false).
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.get(capability).copied().unwrap_or(false)
    }

    /// The declared capabilities that are switched on, sorted.
    pub fn capabilities(&self) -> impl Iterator<Item = &str> {
        self.capabilities
            .iter()
            .filter(|(_, on)| **on)
            .map(|(name, _)| name.as_str())
    }

    /// The IPAM plugin's type (`host-local`, `dhcp`, ...), if there is one.
    pub fn ipam_type(&self) -> Option<&str> {
        self.ipam_type.as_deref()
    }

    /// The configuration object exactly as written, unknown fields included.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }
}

/// A network: a named chain of plugins with one CNI version.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfigList {
    name: String,
    cni_version: SpecVersion,
    disable_check: bool,
    plugins: Vec<PluginConfig>,
    raw: Map<String, Value>,
    bytes: Vec<u8>,
}

impl NetworkConfigList {
    /// Parses a `.conflist` document; `origin` names it in errors (a path, or `<bytes>`).
    pub fn from_conflist_bytes(bytes: &[u8], origin: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidConfig {
            origin: origin.to_string(),
            reason,
        };
        let raw = parse_object(bytes).map_err(invalid)?;
        Self::from_parts(raw, bytes.to_vec()).map_err(invalid)
    }

    /// Parses a single-plugin `.conf` document and promotes it to a one-plugin list, as
    /// libcni's `ConfListFromConf` does (the list's bytes are the promoted document).
    pub fn from_conf_bytes(bytes: &[u8], origin: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidConfig {
            origin: origin.to_string(),
            reason,
        };
        let plugin = parse_object(bytes).map_err(invalid)?;
        let mut list = Map::new();
        for key in ["name", "cniVersion"] {
            if let Some(value) = plugin.get(key) {
                list.insert(key.to_string(), value.clone());
            }
        }
        list.insert("plugins".into(), Value::Array(vec![Value::Object(plugin)]));
        let promoted = serde_json::to_vec(&crate::sorted::SortedMap(&list))
            .map_err(|e| invalid(e.to_string()))?;
        Self::from_parts(list, promoted).map_err(invalid)
    }

    /// Builds a list from a JSON value (for configurations made in code).
    pub fn from_value(value: Value) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidConfig {
            origin: "<value>".into(),
            reason,
        };
        let Value::Object(raw) = value else {
            return Err(invalid("not a JSON object".into()));
        };
        let bytes = serde_json::to_vec(&crate::sorted::SortedMap(&raw))
            .map_err(|e| invalid(e.to_string()))?;
        Self::from_parts(raw, bytes).map_err(invalid)
    }

    /// Reads a file: `.conflist` as a list, `.conf` or `.json` as a single plugin promoted.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        if path.extension().is_some_and(|e| e == "conflist") {
            Self::from_conflist_bytes(&bytes, &origin)
        } else {
            Self::from_conf_bytes(&bytes, &origin)
        }
    }

    fn from_parts(raw: Map<String, Value>, bytes: Vec<u8>) -> Result<Self, String> {
        let name = match raw.get("name") {
            Some(Value::String(name)) => name.clone(),
            Some(other) => return Err(format!("'name' is not a string: {other}")),
            None => return Err("no 'name'".into()),
        };
        check_network_name(&name).map_err(|why| format!("network name {name:?} {why}"))?;
        let cni_version = match raw.get("cniVersion") {
            Some(Value::String(v)) => v.parse::<SpecVersion>().map_err(|e| e.to_string())?,
            Some(other) => return Err(format!("'cniVersion' is not a string: {other}")),
            None => return Err("no 'cniVersion'".into()),
        };
        let disable_check = match raw.get("disableCheck") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(format!("'disableCheck' is not a boolean: {other}")),
        };
        let plugins = match raw.get("plugins") {
            Some(Value::Array(items)) if items.is_empty() => {
                return Err("'plugins' is empty".into())
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(obj) => PluginConfig::from_object(obj.clone())
                        .map_err(|why| format!("plugin {i}: {why}")),
                    other => Err(format!("plugin {i} is not an object: {other}")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => return Err(format!("'plugins' is not a list: {other}")),
            None => return Err("no 'plugins'".into()),
        };
        Ok(NetworkConfigList {
            name,
            cni_version,
            disable_check,
            plugins,
            raw,
            bytes,
        })
    }

    /// The network name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CNI version every plugin of the chain is run with.
    pub fn cni_version(&self) -> SpecVersion {
        self.cni_version
    }

    /// Whether CHECK is switched off for this network (`disableCheck`).
    pub fn disable_check(&self) -> bool {
        self.disable_check
    }

    /// The chain, in ADD order.
    pub fn plugins(&self) -> &[PluginConfig] {
        &self.plugins
    }

    /// The whole document as written, unknown top-level fields included.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    /// The bytes the list was read from (for a promoted `.conf`: the promoted document).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("not a JSON object but {}", kind(&other))),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PODMAN43: &[u8] = include_bytes!("../tests/fixtures/podman43/shapenet.conflist");

    #[test]
    fn podman_4_3_conflist_is_typed_and_keeps_everything_else() {
        let list = NetworkConfigList::from_conflist_bytes(PODMAN43, "shapenet.conflist")
            .expect("podman 4.3 conflist");
        assert_eq!(list.name(), "shapenet");
        assert_eq!(list.cni_version(), SpecVersion::V0_4_0);
        assert!(!list.disable_check());
        let types: Vec<&str> = list.plugins().iter().map(|p| p.plugin_type()).collect();
        assert_eq!(types, ["bridge", "portmap", "firewall", "tuning"]);
        assert_eq!(list.plugins()[0].ipam_type(), Some("host-local"));
        assert!(list.plugins()[0].has_capability("ips"));
        assert!(!list.plugins()[0].has_capability("portMappings"));
        assert!(list.plugins()[1].has_capability("portMappings"));
        assert_eq!(
            list.plugins()[1].capabilities().collect::<Vec<_>>(),
            ["portMappings"]
        );
        // unknown fields, top-level and per plugin, are kept verbatim
        assert_eq!(list.raw()["args"]["podman_labels"]["app"], "x");
        assert_eq!(list.raw()["args"]["podman_options"]["mtu"], "1400");
        assert_eq!(list.plugins()[0].raw()["mtu"], 1400);
        assert_eq!(list.plugins()[0].raw()["bridge"], "cni-podman1");
        assert_eq!(list.plugins()[2].raw()["backend"], "");
        assert_eq!(list.bytes(), PODMAN43);
        let original: Value = serde_json::from_slice(PODMAN43).expect("json");
        assert_eq!(Value::Object(list.raw().clone()), original);
    }

    #[test]
    fn single_conf_is_promoted_like_libcni() {
        let conf = br#"{"cniVersion":"1.0.0","name":"lo","type":"loopback","extra":[1,2]}"#;
        let list = NetworkConfigList::from_conf_bytes(conf, "99-lo.conf").expect("conf");
        assert_eq!(list.name(), "lo");
        assert_eq!(list.cni_version(), SpecVersion::V1_0_0);
        assert_eq!(list.plugins().len(), 1);
        assert_eq!(list.plugins()[0].plugin_type(), "loopback");
        assert_eq!(list.plugins()[0].raw()["extra"], serde_json::json!([1, 2]));
        // libcni marshals the promoted list with sorted keys
        assert_eq!(
            std::str::from_utf8(list.bytes()).expect("utf-8"),
            r#"{"cniVersion":"1.0.0","name":"lo","plugins":[{"cniVersion":"1.0.0","extra":[1,2],"name":"lo","type":"loopback"}]}"#
        );
    }

    #[test]
    fn invalid_documents_name_the_origin_and_the_rule() {
        let cases: &[(&[u8], &str)] = &[
            (b"not json", "not JSON"),
            (b"[]", "not a JSON object but a list"),
            (br#"{"cniVersion":"0.4.0","plugins":[{"type":"x"}]}"#, "no 'name'"),
            (br#"{"name":7,"cniVersion":"0.4.0","plugins":[{"type":"x"}]}"#, "'name' is not a string"),
            (br#"{"name":"-x","cniVersion":"0.4.0","plugins":[{"type":"x"}]}"#, "must start with a letter or digit"),
            (br#"{"name":"n","plugins":[{"type":"x"}]}"#, "no 'cniVersion'"),
            (br#"{"name":"n","cniVersion":"0.9.0","plugins":[{"type":"x"}]}"#, "unknown CNI version \"0.9.0\""),
            (br#"{"name":"n","cniVersion":"0.4.0","disableCheck":"yes","plugins":[{"type":"x"}]}"#, "'disableCheck' is not a boolean"),
            (br#"{"name":"n","cniVersion":"0.4.0"}"#, "no 'plugins'"),
            (br#"{"name":"n","cniVersion":"0.4.0","plugins":[]}"#, "'plugins' is empty"),
            (br#"{"name":"n","cniVersion":"0.4.0","plugins":{}}"#, "'plugins' is not a list"),
            (br#"{"name":"n","cniVersion":"0.4.0","plugins":[{"type":"x"},{}]}"#, "plugin 1: missing field `type`"),
            (br#"{"name":"n","cniVersion":"0.4.0","plugins":[{"type":""}]}"#, "plugin 0: missing 'type'"),
            (br#"{"name":"n","cniVersion":"0.4.0","plugins":[{"type":"../x"}]}"#, "contains '/'"),
            (br#"{"name":"n","cniVersion":"0.4.0","plugins":[{"type":"x","capabilities":{"ips":"on"}}]}"#, "plugin 0: invalid type"),
            (br#"{"name":"n","cniVersion":"0.4.0","plugins":[7]}"#, "plugin 0 is not an object"),
        ];
        for (doc, want) in cases {
            let err = NetworkConfigList::from_conflist_bytes(doc, "case.conflist")
                .expect_err(std::str::from_utf8(doc).unwrap_or("?"));
            let text = err.to_string();
            assert!(
                text.starts_with("invalid CNI configuration case.conflist: "),
                "{text}"
            );
            assert!(text.contains(want), "{text} lacks {want}");
        }
    }
}
