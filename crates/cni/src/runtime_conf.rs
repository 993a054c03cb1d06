//! What a runtime passes to one attachment besides the network configuration: the container,
//! its netns and interface name, `CNI_ARGS` pairs, and capability arguments that become each
//! plugin's `runtimeConfig` (only those the plugin declares in its `capabilities`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::{Map, Value};

/// One published port, as the portmap plugin's `portMappings` capability takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    /// The host port.
    pub host_port: u16,
    /// The container port.
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// The host address to bind; empty for all.
    #[serde(rename = "hostIP", skip_serializing_if = "String::is_empty")]
    pub host_ip: String,
}

/// Traffic shaping, as the bandwidth plugin's `bandwidth` capability takes it (bits per
/// second and bits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Bandwidth {
    /// Ingress rate.
    pub ingress_rate: u64,
    /// Ingress burst.
    pub ingress_burst: u64,
    /// Egress rate.
    pub egress_rate: u64,
    /// Egress burst.
    pub egress_burst: u64,
}

/// A capability argument with a known shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Capability {
    /// `portMappings`: published ports (portmap).
    PortMappings(Vec<PortMapping>),
    /// `ips`: static addresses (host-local, static).
    Ips(Vec<IpNet>),
    /// `mac`: the container interface's hardware address (tuning, bridge).
    Mac(String),
    /// `aliases`: DNS names per network (dnsname).
    Aliases(BTreeMap<String, Vec<String>>),
    /// `bandwidth`: traffic shaping (bandwidth).
    Bandwidth(Bandwidth),
    /// Any other capability, by name, with its JSON value.
    Other(String, Value),
}

impl Capability {
    /// The capability's name in `capabilities` and `runtimeConfig`.
    pub fn name(&self) -> &str {
        match self {
            Capability::PortMappings(_) => "portMappings",
            Capability::Ips(_) => "ips",
            Capability::Mac(_) => "mac",
            Capability::Aliases(_) => "aliases",
            Capability::Bandwidth(_) => "bandwidth",
            Capability::Other(name, _) => name,
        }
    }

    fn into_value(self) -> Value {
        // serializing these plain structs, strings and integers cannot fail
        let json = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
        match self {
            Capability::PortMappings(ports) => json(serde_json::to_value(ports)),
            Capability::Ips(ips) => {
                Value::Array(ips.iter().map(|ip| Value::String(ip.to_string())).collect())
            }
            Capability::Mac(mac) => Value::String(mac),
            Capability::Aliases(aliases) => json(serde_json::to_value(aliases)),
            Capability::Bandwidth(bw) => json(serde_json::to_value(bw)),
            Capability::Other(_, value) => value,
        }
    }
}

/// One attachment of a container to a network.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct RuntimeConf {
    /// The container id (`CNI_CONTAINERID`).
    pub container_id: String,
    /// The container's network namespace path (`CNI_NETNS`).
    pub netns: PathBuf,
    /// The interface name inside it (`CNI_IFNAME`).
    pub ifname: String,
    /// `CNI_ARGS` pairs, in order (`K8S_POD_NAME=...;IgnoreUnknown=1`).
    pub args: Vec<(String, String)>,
    /// Capability arguments by name; each plugin gets the ones it declares.
    pub capability_args: Map<String, Value>,
}

impl RuntimeConf {
    /// An attachment of `container_id`'s netns `netns` as interface `ifname`.
    pub fn new(container_id: &str, netns: impl Into<PathBuf>, ifname: &str) -> Self {
        RuntimeConf {
            container_id: container_id.to_string(),
            netns: netns.into(),
            ifname: ifname.to_string(),
            ..RuntimeConf::default()
        }
    }

    /// Adds a `CNI_ARGS` pair.
    pub fn with_arg(mut self, key: &str, value: &str) -> Self {
        self.args.push((key.to_string(), value.to_string()));
        self
    }

    /// Sets a capability argument (replacing one of the same name).
    pub fn with_capability(mut self, capability: Capability) -> Self {
        let name = capability.name().to_string();
        self.capability_args.insert(name, capability.into_value());
        self
    }

    /// `CNI_ARGS` as plugins read it: `K=V` pairs joined by `;`.
    pub fn args_string(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.args.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capabilities_have_the_shapes_plugins_read() {
        let rt = RuntimeConf::new("c1", "/run/netns/c1", "eth0")
            .with_capability(Capability::PortMappings(vec![PortMapping {
                host_port: 8080,
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: String::new(),
            }]))
            .with_capability(Capability::Ips(vec!["10.88.0.5/16".parse().expect("net")]))
            .with_capability(Capability::Mac("02:00:00:00:00:01".into()))
            .with_capability(Capability::Aliases(BTreeMap::from([(
                "net".to_string(),
                vec!["web".to_string()],
            )])))
            .with_capability(Capability::Bandwidth(Bandwidth {
                ingress_rate: 1000,
                ingress_burst: 10,
                egress_rate: 2000,
                egress_burst: 20,
            }))
            .with_capability(Capability::Other(
                "io.kubernetes.cri.pod-annotations".into(),
                json!({"a": "b"}),
            ));
        assert_eq!(
            Value::Object(rt.capability_args),
            json!({
                "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
                "ips": ["10.88.0.5/16"],
                "mac": "02:00:00:00:00:01",
                "aliases": {"net": ["web"]},
                "bandwidth": {"ingressRate": 1000, "ingressBurst": 10, "egressRate": 2000, "egressBurst": 20},
                "io.kubernetes.cri.pod-annotations": {"a": "b"}
            })
        );
    }

    #[test]
    fn cni_args_are_joined_like_libcni() {
        let rt = RuntimeConf::new("c", "/n", "eth0")
            .with_arg("IgnoreUnknown", "1")
            .with_arg("K8S_POD_NAME", "web");
        assert_eq!(rt.args_string(), "IgnoreUnknown=1;K8S_POD_NAME=web");
        assert_eq!(RuntimeConf::new("c", "/n", "eth0").args_string(), "");
    }
}
