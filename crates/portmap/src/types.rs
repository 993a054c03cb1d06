//! The two port mapping shapes: podman's legacy one-port form and netavark's ranged form.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One published port in the legacy one-port-per-entry form (podman's
/// `types.OCICNIPortMapping`, the CNI `portMappings` capability).
///
/// Serialized with podman's JSON names: `hostPort`, `containerPort`,
/// `protocol`, `hostIP`. Podman stores the ports as `int32`; here they are
/// `u16`, so a value outside `0..=65535` is rejected when deserializing
/// instead of being truncated later.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct OciCniPortMapping {
    /// Port number on the host (0: not chosen yet).
    #[serde(rename = "hostPort")]
    pub host_port: u16,
    /// Port number inside the container.
    #[serde(rename = "containerPort")]
    pub container_port: u16,
    /// Protocol: `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// Host address to bind; empty means every address.
    #[serde(rename = "hostIP")]
    pub host_ip: String,
}

/// A published port range in netavark's form (podman's `types.PortMapping`).
///
/// Maps `host_port..host_port+range` to `container_port..container_port+range`.
/// Serialized with netavark's JSON names: `host_ip`, `container_port`,
/// `host_port`, `range`, `protocol`. The field order (host ip, container
/// port, host port, range, protocol) is also the derived `Ord`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct PortMapping {
    /// Host address to bind; empty means every address.
    #[serde(default)]
    pub host_ip: String,
    /// First port inside the container.
    pub container_port: u16,
    /// First port on the host (0: pick a free one later).
    #[serde(default)]
    pub host_port: u16,
    /// Number of ports; netavark and podman treat 0 as 1.
    #[serde(default)]
    pub range: u16,
    /// Protocol: `tcp`, `udp` or `sctp` (netavark also takes a comma list).
    #[serde(default)]
    pub protocol: String,
}

/// Writes `[ip:]` with an IPv6 address in brackets, as a `-p` spec would.
fn write_ip(f: &mut fmt::Formatter<'_>, ip: &str) -> fmt::Result {
    if ip.is_empty() {
        Ok(())
    } else if ip.contains(':') {
        write!(f, "[{ip}]:")
    } else {
        write!(f, "{ip}:")
    }
}

/// Writes `port` or `port-end`, computed without wrapping past 65535.
fn write_range(f: &mut fmt::Formatter<'_>, start: u16, range: u16) -> fmt::Result {
    let end = u32::from(start) + u32::from(range.max(1)) - 1;
    if end == u32::from(start) {
        write!(f, "{start}")
    } else {
        write!(f, "{start}-{end}")
    }
}

/// Written in `-p` syntax: `[ip:]hostPort[-end]:containerPort[-end][/proto]`,
/// an IPv6 address in brackets, host port 0 (pick later) as an empty field;
/// a range running past 65535 shows its true end.
impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ip(f, &self.host_ip)?;
        if self.host_port != 0 {
            write_range(f, self.host_port, self.range)?;
        }
        f.write_str(":")?;
        write_range(f, self.container_port, self.range)?;
        if !self.protocol.is_empty() {
            write!(f, "/{}", self.protocol)?;
        }
        Ok(())
    }
}

/// Written in `-p` syntax: `[ip:]hostPort:containerPort[/proto]`.
impl fmt::Display for OciCniPortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ip(f, &self.host_ip)?;
        write!(f, "{}:{}", self.host_port, self.container_port)?;
        if !self.protocol.is_empty() {
            write!(f, "/{}", self.protocol)?;
        }
        Ok(())
    }
}

/// A mapping in one line, for the crate's unit tests.
#[cfg(test)]
pub(crate) fn pm(ip: &str, host: u16, ctr: u16, range: u16, proto: &str) -> PortMapping {
    PortMapping {
        host_ip: ip.into(),
        container_port: ctr,
        host_port: host,
        range,
        protocol: proto.into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn port_mapping_json_uses_netavark_names() {
        let m = PortMapping {
            host_ip: "127.0.0.1".into(),
            container_port: 80,
            host_port: 8080,
            range: 2,
            protocol: "tcp".into(),
        };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"host_ip": "127.0.0.1", "container_port": 80,
                "host_port": 8080, "range": 2, "protocol": "tcp"})
        );
        let back: PortMapping = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn legacy_json_uses_podman_names_and_rejects_out_of_range() {
        let m: OciCniPortMapping = serde_json::from_str(
            r#"{"hostPort":8080,"containerPort":80,"protocol":"udp","hostIP":"::1"}"#,
        )
        .unwrap();
        assert_eq!(m.host_port, 8080);
        assert_eq!(m.container_port, 80);
        assert_eq!(m.host_ip, "::1");
        let err = serde_json::from_str::<OciCniPortMapping>(
            r#"{"hostPort":70000,"containerPort":80,"protocol":"udp","hostIP":""}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("70000"), "{err}");
    }

    #[test]
    fn display_is_publish_syntax() {
        let m = PortMapping {
            host_ip: "fd00::1".into(),
            container_port: 80,
            host_port: 8080,
            range: 3,
            protocol: "udp".into(),
        };
        assert_eq!(m.to_string(), "[fd00::1]:8080-8082:80-82/udp");
        let over = PortMapping {
            host_port: 65535,
            container_port: 1,
            range: 2,
            ..PortMapping::default()
        };
        assert_eq!(over.to_string(), "65535-65536:1-2");
        let legacy = OciCniPortMapping {
            host_port: 1,
            container_port: 2,
            protocol: "tcp".into(),
            host_ip: "10.0.0.1".into(),
        };
        assert_eq!(legacy.to_string(), "10.0.0.1:1:2/tcp");
        let later = PortMapping {
            host_ip: "10.0.0.1".into(),
            container_port: 80,
            range: 2,
            ..PortMapping::default()
        };
        assert_eq!(later.to_string(), "10.0.0.1::80-81");
    }
}
