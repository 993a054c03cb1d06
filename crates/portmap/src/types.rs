//! The two port mapping shapes: podman's legacy one-port form and netavark's ranged form.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::protocol::{Protocol, Protocols};

/// One published port in the legacy one-port-per-entry form (podman's
/// `types.OCICNIPortMapping`, the CNI `portMappings` capability).
///
/// Serialized with podman's JSON names and types: `hostPort`, `containerPort`,
/// `protocol` (one name), `hostIP` (`""` for every address). Podman stores the ports as
/// `int32`; here they are `u16`, so a value outside `0..=65535` is rejected when
/// deserializing instead of being truncated later, as is an unknown protocol or a host
/// IP that is not an address (each error names the text).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OciCniPortMapping {
    /// Port number on the host (0: not chosen yet).
    #[serde(rename = "hostPort")]
    pub host_port: u16,
    /// Port number inside the container.
    #[serde(rename = "containerPort")]
    pub container_port: u16,
    /// Protocol.
    pub protocol: Protocol,
    /// Host address to bind; `None` means every address.
    #[serde(rename = "hostIP", with = "host_ip_text")]
    pub host_ip: Option<IpAddr>,
}

impl OciCniPortMapping {
    /// `host_port` on every host address to `container_port` in the container, for
    /// `protocol`; set [`host_ip`](Self::host_ip) to bind one address.
    pub fn new(host_port: u16, container_port: u16, protocol: Protocol) -> Self {
        Self {
            host_port,
            container_port,
            protocol,
            host_ip: None,
        }
    }
}

/// A published port range in netavark's form (podman's `types.PortMapping`).
///
/// Maps `host_port..host_port+range` to `container_port..container_port+range`.
/// Serialized as netavark and podman write it: `host_ip` (`""` for every address),
/// `container_port`, `host_port`, `range`, `protocol` (podman's comma list, `"tcp"`,
/// `"tcp,udp"`). Reading such JSON rejects an unknown protocol or a host IP that is not
/// an address with an error naming the text. The field order is also the derived `Ord`.
///
/// Built with [`new`](Self::new) and the `with_` methods, or parsed from a `-p` spec
/// ([`FromStr`], as [`parse_publish`](crate::parse_publish)):
///
/// ```
/// use std::net::Ipv4Addr;
/// use portmap::{PortMapping, Protocol};
///
/// let m = PortMapping::new(80)
///     .with_host_port(8080)
///     .with_host_ip(Ipv4Addr::LOCALHOST)
///     .with_protocols(Protocol::Udp);
/// assert_eq!(m.to_string(), "127.0.0.1:8080:80/udp");
/// assert_eq!("127.0.0.1:8080:80/udp".parse::<PortMapping>()?, m);
/// assert_eq!(
///     serde_json::to_string(&m).unwrap(),
///     r#"{"host_ip":"127.0.0.1","container_port":80,"host_port":8080,"range":1,"protocol":"udp"}"#
/// );
/// # Ok::<(), portmap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortMapping {
    /// Host address to bind; `None` means every address.
    #[serde(default, with = "host_ip_text")]
    pub host_ip: Option<IpAddr>,
    /// First port inside the container.
    pub container_port: u16,
    /// First port on the host (0: pick a free one later).
    #[serde(default)]
    pub host_port: u16,
    /// Number of ports; netavark and podman treat 0 as 1.
    #[serde(default)]
    pub range: u16,
    /// Protocols (netavark takes a list; podman's canonical form has one per mapping).
    #[serde(default)]
    pub protocol: Protocols,
}

impl PortMapping {
    /// One tcp port, `container_port`, published on every host address on a host port
    /// picked later (host port 0, range 1).
    pub fn new(container_port: u16) -> Self {
        Self {
            host_ip: None,
            container_port,
            host_port: 0,
            range: 1,
            protocol: Protocols::default(),
        }
    }

    /// The same mapping from host port `port` (0: pick later).
    pub fn with_host_port(self, port: u16) -> Self {
        Self {
            host_port: port,
            ..self
        }
    }

    /// The same mapping bound to host address `ip` only.
    pub fn with_host_ip(self, ip: impl Into<IpAddr>) -> Self {
        Self {
            host_ip: Some(ip.into()),
            ..self
        }
    }

    /// The same mapping for `range` consecutive ports on both sides.
    pub fn with_range(self, range: u16) -> Self {
        Self { range, ..self }
    }

    /// The same mapping for `protocols` (a [`Protocol`] or a [`Protocols`] list).
    pub fn with_protocols(self, protocols: impl Into<Protocols>) -> Self {
        Self {
            protocol: protocols.into(),
            ..self
        }
    }
}

/// One `-p` spec, as [`parse_publish`](crate::parse_publish).
impl FromStr for PortMapping {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self, Error> {
        crate::parse_publish(spec)
    }
}

/// `host_ip` as podman writes it: `""` for every address, else the address.
mod host_ip_text {
    use std::net::IpAddr;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        ip: &Option<IpAddr>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match ip {
            None => serializer.serialize_str(""),
            Some(ip) => serializer.collect_str(ip),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<IpAddr>, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|e| {
            D::Error::custom(format_args!("host IP {text:?} is not an IP address: {e}"))
        })
    }
}

/// Writes `[ip:]` with an IPv6 address in brackets, as a `-p` spec would.
fn write_ip(f: &mut fmt::Formatter<'_>, ip: Option<IpAddr>) -> fmt::Result {
    match ip {
        None => Ok(()),
        Some(IpAddr::V6(v6)) => write!(f, "[{v6}]:"),
        Some(IpAddr::V4(v4)) => write!(f, "{v4}:"),
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

/// Written in `-p` syntax: `[ip:]hostPort[-end]:containerPort[-end]/proto[,proto]`,
/// an IPv6 address in brackets, host port 0 (pick later) as an empty field;
/// a range running past 65535 shows its true end.
impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ip(f, self.host_ip)?;
        if self.host_port != 0 {
            write_range(f, self.host_port, self.range)?;
        }
        f.write_str(":")?;
        write_range(f, self.container_port, self.range)?;
        write!(f, "/{}", self.protocol)
    }
}

/// Written in `-p` syntax: `[ip:]hostPort:containerPort/proto`.
impl fmt::Display for OciCniPortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_ip(f, self.host_ip)?;
        write!(
            f,
            "{}:{}/{}",
            self.host_port, self.container_port, self.protocol
        )
    }
}

/// A mapping in one line, for the crate's unit tests: `ip` `""` for every address,
/// `proto` a comma list.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn pm(ip: &str, host: u16, ctr: u16, range: u16, proto: &str) -> PortMapping {
    PortMapping {
        host_ip: (!ip.is_empty()).then(|| ip.parse().unwrap()),
        container_port: ctr,
        host_port: host,
        range,
        protocol: proto.parse().unwrap(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// JSON as podman 4.3 writes it (`podman container inspect`'s config, the
    /// `--network` options netavark gets), read and written back byte for byte.
    #[test]
    fn port_mapping_json_round_trips_podmans_bytes() {
        let podman = [
            r#"{"host_ip":"","container_port":80,"host_port":8080,"range":1,"protocol":"tcp"}"#,
            r#"{"host_ip":"127.0.0.1","container_port":53,"host_port":5353,"range":1,"protocol":"udp"}"#,
            r#"{"host_ip":"::1","container_port":9000,"host_port":9000,"range":2,"protocol":"tcp"}"#,
            r#"{"host_ip":"0.0.0.0","container_port":80,"host_port":0,"range":3,"protocol":"sctp"}"#,
            r#"{"host_ip":"fd00::1","container_port":53,"host_port":53,"range":1,"protocol":"tcp,udp"}"#,
        ];
        for text in podman {
            let m: PortMapping = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&m).unwrap(), text);
        }
        let m: PortMapping = serde_json::from_str(podman[1]).unwrap();
        assert_eq!(
            m,
            PortMapping::new(53)
                .with_host_port(5353)
                .with_host_ip(std::net::Ipv4Addr::LOCALHOST)
                .with_protocols(Protocol::Udp)
        );
        let wild: PortMapping = serde_json::from_str(podman[0]).unwrap();
        assert_eq!(wild.host_ip, None);
    }

    /// The `port_mappings` of netavark's own test inputs (test/testfiles/
    /// bridge-port-tcp-udp.json and invalid-port.json, as podman hands them over),
    /// read typed and written back as netavark's text.
    #[test]
    fn netavark_test_inputs_round_trip_and_its_invalid_one_is_refused() {
        let tcp_udp = r#"[
        {
            "host_ip": "192.168.188.25",
            "container_port": 8080,
            "host_port": 8080,
            "range": 1,
            "protocol": "tcp"
        },
        {
            "host_ip": "192.168.188.25",
            "container_port": 8080,
            "host_port": 8080,
            "range": 1,
            "protocol": "udp"
        }
    ]"#;
        let typed: Vec<PortMapping> = serde_json::from_str(tcp_udp).unwrap();
        let host = std::net::Ipv4Addr::new(192, 168, 188, 25);
        let tcp = PortMapping::new(8080)
            .with_host_port(8080)
            .with_host_ip(host);
        assert_eq!(typed, [tcp.clone(), tcp.with_protocols(Protocol::Udp)]);
        // the same text without the layout, key order kept (serde_json's preserve_order)
        let compact = serde_json::from_str::<serde_json::Value>(tcp_udp)
            .unwrap()
            .to_string();
        assert_eq!(serde_json::to_string(&typed).unwrap(), compact);

        let invalid = r#"[
        {
          "host_ip": "abcd",
          "container_port": 8080,
          "host_port": 8080,
          "range": 1,
          "protocol": "tcp"
        }
      ]"#;
        let err = serde_json::from_str::<Vec<PortMapping>>(invalid).unwrap_err();
        assert!(err.to_string().contains(r#"host IP "abcd""#), "{err}");
    }

    /// netavark fills what podman leaves out: host IP, host port, range and protocol.
    #[test]
    fn port_mapping_json_defaults_like_netavark() {
        let m: PortMapping = serde_json::from_str(r#"{"container_port":80}"#).unwrap();
        assert_eq!(m.host_ip, None);
        assert_eq!((m.host_port, m.range), (0, 0));
        assert_eq!(m.protocol, Protocols::one(Protocol::Tcp));
        let m: PortMapping =
            serde_json::from_str(r#"{"host_ip":"","container_port":80,"protocol":""}"#).unwrap();
        assert_eq!(m.protocol, Protocols::one(Protocol::Tcp));
    }

    #[test]
    fn bad_json_names_the_text() {
        let err = serde_json::from_str::<PortMapping>(
            r#"{"host_ip":"10.0.0.256","container_port":80,"host_port":80,"range":1,"protocol":"tcp"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(r#"host IP "10.0.0.256" is not an IP address"#),
            "{err}"
        );
        let err = serde_json::from_str::<PortMapping>(
            r#"{"host_ip":"","container_port":80,"host_port":80,"range":1,"protocol":"tcp,gre"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(r#"protocol list "tcp,gre""#), "{err}");
        assert!(err.contains(r#"unknown protocol "gre""#), "{err}");
        let err = serde_json::from_str::<PortMapping>(
            r#"{"host_ip":"","container_port":70000,"host_port":80,"range":1,"protocol":"tcp"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("70000"), "{err}");
    }

    /// The CNI `portMappings` entries podman 4.3 writes (ocicni form).
    #[test]
    fn legacy_json_uses_podman_names_and_rejects_out_of_range() {
        let text = r#"{"hostPort":8080,"containerPort":80,"protocol":"udp","hostIP":"::1"}"#;
        let m: OciCniPortMapping = serde_json::from_str(text).unwrap();
        assert_eq!(m.host_port, 8080);
        assert_eq!(m.container_port, 80);
        assert_eq!(m.protocol, Protocol::Udp);
        assert_eq!(m.host_ip, Some(std::net::Ipv6Addr::LOCALHOST.into()));
        assert_eq!(serde_json::to_string(&m).unwrap(), text);
        let every = r#"{"hostPort":1,"containerPort":2,"protocol":"tcp","hostIP":""}"#;
        let m: OciCniPortMapping = serde_json::from_str(every).unwrap();
        assert_eq!(m, OciCniPortMapping::new(1, 2, Protocol::Tcp));
        assert_eq!(serde_json::to_string(&m).unwrap(), every);
        let err = serde_json::from_str::<OciCniPortMapping>(
            r#"{"hostPort":70000,"containerPort":80,"protocol":"udp","hostIP":""}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("70000"), "{err}");
        let err = serde_json::from_str::<OciCniPortMapping>(
            r#"{"hostPort":1,"containerPort":80,"protocol":"icmp","hostIP":""}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains(r#""icmp""#), "{err}");
    }

    #[test]
    fn display_is_publish_syntax() {
        assert_eq!(
            pm("fd00::1", 8080, 80, 3, "udp").to_string(),
            "[fd00::1]:8080-8082:80-82/udp"
        );
        let over = PortMapping::new(1).with_host_port(65535).with_range(2);
        assert_eq!(over.to_string(), "65535-65536:1-2/tcp");
        let mut legacy = OciCniPortMapping::new(1, 2, Protocol::Tcp);
        legacy.host_ip = Some("10.0.0.1".parse().unwrap());
        assert_eq!(legacy.to_string(), "10.0.0.1:1:2/tcp");
        assert_eq!(
            pm("10.0.0.1", 0, 80, 2, "udp,tcp").to_string(),
            "10.0.0.1::80-81/udp,tcp"
        );
        assert_eq!(PortMapping::default().to_string(), ":0/tcp");
    }

    #[test]
    fn from_str_is_parse_publish() {
        let m: PortMapping = "[::1]:8080:80/sctp".parse().unwrap();
        assert_eq!(m, pm("::1", 8080, 80, 1, "sctp"));
        let err = "70000:80".parse::<PortMapping>().unwrap_err();
        assert!(err.to_string().contains("\"70000:80\""), "{err}");
    }
}
