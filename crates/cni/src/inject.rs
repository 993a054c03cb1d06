//! The document one plugin reads on stdin, built as libcni's `buildOneConfig` builds it: the
//! plugin's configuration with the list's `name` and `cniVersion`, the previous result as
//! `prevResult`, and a `runtimeConfig` holding the capability arguments the plugin declares
//! (replacing any `runtimeConfig` written in the file, as libcni does). Keys come out sorted,
//! as Go's map marshalling writes them.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::{CniResult, PluginConfig, RuntimeConf, SpecVersion};

/// One top-level value of the document.
enum Field<'a> {
    Json(&'a Value),
    Text(&'a str),
    Result(&'a CniResult),
    Runtime(Map<String, Value>),
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Json(v) => crate::sorted::Sorted(v).serialize(s),
            Field::Text(t) => t.serialize(s),
            // in the result's own field order, as Go marshals the result struct
            Field::Result(r) => r.serialize(s),
            Field::Runtime(m) => crate::sorted::SortedMap(m).serialize(s),
        }
    }
}

/// The document: top-level keys sorted, as Go marshals a map.
struct Document<'a>(Vec<(&'a str, Field<'a>)>);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Builds the stdin document of `plugin` for one invocation.
pub(crate) fn plugin_stdin(
    network: &str,
    version: SpecVersion,
    plugin: &PluginConfig,
    prev_result: Option<&CniResult>,
    rt: &RuntimeConf,
) -> Result<Vec<u8>, serde_json::Error> {
    let runtime_config: Map<String, Value> = plugin
        .capabilities()
        .filter_map(|cap| {
            rt.capability_args
                .get(cap)
                .map(|value| (cap.to_string(), value.clone()))
        })
        .collect();
    let injected = ["name", "cniVersion", "prevResult", "runtimeConfig"];
    let mut fields: Vec<(&str, Field<'_>)> = plugin
        .raw()
        .iter()
        .filter(|(key, _)| {
            !(injected.contains(&key.as_str())
                && (key.as_str() != "prevResult" || prev_result.is_some())
                && (key.as_str() != "runtimeConfig" || !runtime_config.is_empty()))
        })
        .map(|(key, value)| (key.as_str(), Field::Json(value)))
        .collect();
    fields.push(("name", Field::Text(network)));
    fields.push(("cniVersion", Field::Text(version.as_str())));
    // libcni injects runtimeConfig with a second unmarshal/marshal round, which turns the
    // already injected prevResult into a map: its keys then come out sorted
    let prev_sorted = match prev_result {
        Some(prev) if !runtime_config.is_empty() => Some(serde_json::to_value(prev)?),
        _ => None,
    };
    match (&prev_sorted, prev_result) {
        (Some(sorted), _) => fields.push(("prevResult", Field::Json(sorted))),
        (None, Some(prev)) => fields.push(("prevResult", Field::Result(prev))),
        (None, None) => {}
    }
    if !runtime_config.is_empty() {
        fields.push(("runtimeConfig", Field::Runtime(runtime_config)));
    }
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    serde_json::to_vec(&Document(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Capability, NetworkConfigList, PortMapping};
    use serde_json::json;

    fn list() -> NetworkConfigList {
        NetworkConfigList::from_value(json!({
            "cniVersion": "0.4.0",
            "name": "net1",
            "plugins": [
                {"type": "bridge", "name": "ignored", "cniVersion": "9.9.9",
                 "capabilities": {"ips": true, "mac": false}, "ipam": {"type": "host-local"}},
                {"type": "portmap", "capabilities": {"portMappings": true},
                 "runtimeConfig": {"fromFile": 1}},
                {"type": "tuning", "runtimeConfig": {"kept": true}}
            ]
        }))
        .expect("list")
    }

    fn rt() -> RuntimeConf {
        RuntimeConf::new("c1", "/run/netns/x", "eth0")
            .with_capability(Capability::Ips(vec!["10.9.0.7/24".parse().expect("net")]))
            .with_capability(Capability::Mac("02:00:00:00:00:07".into()))
            .with_capability(Capability::PortMappings(vec![PortMapping {
                host_port: 8080,
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: "127.0.0.1".into(),
            }]))
    }

    fn stdin(i: usize, prev: Option<&CniResult>) -> String {
        let l = list();
        let bytes =
            plugin_stdin(l.name(), l.cni_version(), &l.plugins()[i], prev, &rt()).expect("stdin");
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn only_declared_and_enabled_capabilities_are_injected() {
        // bridge declares ips (on) and mac (off): only ips
        assert_eq!(
            stdin(0, None),
            r#"{"capabilities":{"ips":true,"mac":false},"cniVersion":"0.4.0","ipam":{"type":"host-local"},"name":"net1","runtimeConfig":{"ips":["10.9.0.7/24"]},"type":"bridge"}"#
        );
    }

    #[test]
    fn injected_runtime_config_replaces_the_written_one_and_sorts_prev_result_like_libcni() {
        let prev = CniResult::from_plugin_output(
            br#"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.9.0.7/24"}]}"#,
            SpecVersion::V0_4_0,
        )
        .expect("prev");
        assert_eq!(
            stdin(1, Some(&prev)),
            r#"{"capabilities":{"portMappings":true},"cniVersion":"0.4.0","name":"net1","prevResult":{"cniVersion":"0.4.0","dns":{},"ips":[{"address":"10.9.0.7/24","version":"4"}]},"runtimeConfig":{"portMappings":[{"containerPort":80,"hostIP":"127.0.0.1","hostPort":8080,"protocol":"tcp"}]},"type":"portmap"}"#
        );
    }

    #[test]
    fn a_plugin_without_capabilities_keeps_its_written_runtime_config() {
        assert_eq!(
            stdin(2, None),
            r#"{"cniVersion":"0.4.0","name":"net1","runtimeConfig":{"kept":true},"type":"tuning"}"#
        );
        // without an injected runtimeConfig, prevResult keeps the result's field order
        let prev = CniResult::from_plugin_output(
            br#"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.9.0.7/24"}]}"#,
            SpecVersion::V0_4_0,
        )
        .expect("prev");
        assert!(stdin(2, Some(&prev)).contains(
            r#""prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.9.0.7/24"}],"dns":{}}"#
        ));
    }
}
