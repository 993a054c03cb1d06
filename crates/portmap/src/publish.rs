//! Parsing of `podman run -p` / `--publish` specs with podman's rules.

use std::net::IpAddr;

use crate::error::{Error, Invalid};
use crate::protocol::Protocols;
use crate::types::PortMapping;

/// Parses one `-p` spec: `[ip:][hostPort[-end]:]containerPort[-end][/proto[,proto]]`.
///
/// Podman's rules (`specgenutil.CreatePortBindings`), with validation done
/// up front:
/// - an IPv6 host address goes in brackets: `[fd00::1]:8080:80`; then the
///   host port field is required (it may be empty);
/// - the host IP, when its field is present, must be non-empty; `0.0.0.0`
///   is dropped (`None`, every address), an IPv4-mapped IPv6 address becomes
///   IPv4 (as Go writes it);
/// - an empty or `0` host port means "pick a free port later" (host_port 0;
///   podman rejects an explicit `0`, docker accepts it: we follow docker);
/// - ports are decimal `1..=65535`, ranges `start-end` with `end > start`,
///   and a host range must be as long as the container range;
/// - the protocol is a comma list of `tcp`, `udp`, `sctp` (case ignored,
///   duplicates dropped, order kept), `tcp` when absent; it is kept as one
///   mapping (netavark accepts `tcp,udp`; [`canonicalize`](crate::canonicalize)
///   splits it).
///
/// Numbers are parsed wide and range-checked, never truncated. Errors are
/// [`Error::Publish`] carrying the spec.
pub fn parse_publish(spec: &str) -> Result<PortMapping, Error> {
    parse(spec).map_err(|cause| Error::Publish {
        spec: spec.to_owned(),
        cause,
    })
}

/// Parses one `-p` command-line argument as podman's CLI does: the flag is a string
/// slice, so the argument is first split at commas into several specs, each parsed by
/// [`parse_publish`]. So `8080:80,9090:90` is two mappings, and `80:80/tcp,udp` is
/// refused as podman 4.3 refuses it (`udp` is not a port); a list of protocols is for
/// the API ([`PortMapping::protocol`]), not the command line. An error names the whole
/// argument and the reason.
pub fn parse_publish_arg(arg: &str) -> Result<Vec<PortMapping>, Error> {
    each_spec(arg, parse, |spec, cause| Error::Publish { spec, cause })
}

/// A command-line argument of a string-slice flag: each comma-separated spec parsed by
/// `parse`, an error naming the whole argument (`wrap`).
pub(crate) fn each_spec(
    arg: &str,
    parse: fn(&str) -> Result<PortMapping, Invalid>,
    wrap: fn(String, Invalid) -> Error,
) -> Result<Vec<PortMapping>, Error> {
    arg.split(',')
        .map(|spec| parse(spec).map_err(|cause| wrap(arg.to_owned(), cause)))
        .collect()
}

fn parse(spec: &str) -> Result<PortMapping, Invalid> {
    if spec.is_empty() {
        return Err(Invalid::Empty);
    }
    let mut slash = spec.split('/');
    let ports = slash.next().unwrap_or_default();
    let protocol = match (slash.next(), slash.next()) {
        (None, _) => Protocols::default(),
        (Some(_), Some(_)) => return Err(Invalid::ManySlashes),
        (Some(""), None) => return Err(Invalid::EmptyProtocol),
        (Some(list), None) => list.parse()?,
    };

    let (ip, host, ctr) = split_fields(ports)?;
    if ctr.is_empty() {
        return Err(Invalid::EmptyContainerPort);
    }
    let (container_port, range) = parse_range(ctr)?;
    if container_port == 0 {
        return Err(Invalid::PortZero("container"));
    }
    let host_ip = match ip {
        None => None,
        Some("") => return Err(Invalid::EmptyHostIp),
        Some(ip) => host_ip(ip)?,
    };
    let host_port = match host {
        None | Some("") => 0,
        Some(text) => {
            let (start, len) = parse_range(text)?;
            if start != 0 && len != range {
                return Err(Invalid::LengthMismatch {
                    host: u32::from(len),
                    container: u32::from(range),
                });
            }
            if start == 0 && range != 1 {
                // "0" for a container range: pick a whole range later.
                tracing::debug!(spec = ports, "host port 0 for a range: picked later");
            }
            start
        }
    };
    Ok(PortMapping {
        host_ip,
        container_port,
        host_port,
        range,
        protocol,
    })
}

/// Splits `[ip:][host:]ctr` (or `[v6]:host:ctr`) into its fields.
fn split_fields(ports: &str) -> Result<(Option<&str>, Option<&str>, &str), Invalid> {
    if let Some(rest) = ports.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return Err(Invalid::Brackets("'[' without ']'"));
        };
        if after.contains(']') || after.contains('[') {
            return Err(Invalid::Brackets("at most one bracketed address"));
        }
        let Some(after) = after.strip_prefix(':') else {
            return Err(Invalid::Brackets("the address must be followed by ':'"));
        };
        let mut parts = after.split(':');
        return match (parts.next(), parts.next(), parts.next()) {
            (Some(host), Some(ctr), None) => Ok((Some(ip), Some(host), ctr)),
            (_, None, _) => Err(Invalid::Brackets(
                "an address needs a host port field: [ip]:hostPort:containerPort",
            )),
            _ => Err(Invalid::ManyColons),
        };
    }
    if ports.contains(']') || ports.contains('[') {
        return Err(Invalid::Brackets("an IPv6 address must be enclosed in []"));
    }
    let mut fields = ports.split(':');
    match (fields.next(), fields.next(), fields.next(), fields.next()) {
        (Some(ctr), None, _, _) => Ok((None, None, ctr)),
        (Some(host), Some(ctr), None, _) => Ok((None, Some(host), ctr)),
        (Some(ip), Some(host), Some(ctr), None) => Ok((Some(ip), Some(host), ctr)),
        _ => Err(Invalid::ManyColons),
    }
}

/// Podman's host IP rule: `0.0.0.0` means unset; an IPv4-mapped IPv6 address is IPv4.
fn host_ip(text: &str) -> Result<Option<IpAddr>, Invalid> {
    let ip: IpAddr = text.parse().map_err(|source| Invalid::HostIp {
        ip: text.to_owned(),
        source,
    })?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Ok(None),
        _ => Ok(Some(ip)),
    }
}

/// Parses `port` or `start-end` into (start, number of ports). A single `0`
/// gives `(0, 1)` (the caller decides); 0 inside a range is an error.
fn parse_range(text: &str) -> Result<(u16, u16), Invalid> {
    let mut parts = text.split('-');
    let (start, end) = match (parts.next(), parts.next(), parts.next()) {
        (Some(start), None, _) => return Ok((parse_port(start)?, 1)),
        (Some(start), Some(end), None) if !start.is_empty() && !end.is_empty() => (start, end),
        _ => return Err(Invalid::MalformedRange(text.to_owned())),
    };
    let (start, end) = (parse_port(start)?, parse_port(end)?);
    if start == 0 {
        return Err(Invalid::PortZero("range start"));
    }
    if end <= start {
        return Err(Invalid::Reversed { start, end });
    }
    // 1 <= start < end <= 65535, so this is at most 65535.
    Ok((start, end - start + 1))
}

/// A decimal port number `0..=65535`, parsed wide so nothing is truncated.
fn parse_port(text: &str) -> Result<u16, Invalid> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::NotANumber(text.to_owned()));
    }
    let wide: u64 = text
        .parse()
        .map_err(|_| Invalid::OutOfRange(text.to_owned()))?;
    u16::try_from(wide).map_err(|_| Invalid::OutOfRange(text.to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::types::pm;

    #[test]
    fn accepted_forms() {
        let cases = [
            ("80", pm("", 0, 80, 1, "tcp")),
            ("8080:80", pm("", 8080, 80, 1, "tcp")),
            ("127.0.0.1:8080:80", pm("127.0.0.1", 8080, 80, 1, "tcp")),
            ("127.0.0.1::80", pm("127.0.0.1", 0, 80, 1, "tcp")),
            ("0.0.0.0:8080:80", pm("", 8080, 80, 1, "tcp")),
            ("0:80", pm("", 0, 80, 1, "tcp")),
            (":80", pm("", 0, 80, 1, "tcp")),
            ("8080-8082:80-82/udp", pm("", 8080, 80, 3, "udp")),
            ("80-82", pm("", 0, 80, 3, "tcp")),
            ("53:53/UDP,tcp,udp", pm("", 53, 53, 1, "udp,tcp")),
            ("5000:5000/sctp", pm("", 5000, 5000, 1, "sctp")),
            ("[::1]:8080:80", pm("::1", 8080, 80, 1, "tcp")),
            ("[fd00:0::0001]::80/udp", pm("fd00::1", 0, 80, 1, "udp")),
            ("[::]:80:80", pm("::", 80, 80, 1, "tcp")),
            ("[::ffff:10.1.2.3]:80:80", pm("10.1.2.3", 80, 80, 1, "tcp")),
            ("1-65535:1-65535", pm("", 1, 1, 65535, "tcp")),
            ("65535:65535", pm("", 65535, 65535, 1, "tcp")),
        ];
        for (spec, want) in cases {
            assert_eq!(parse_publish(spec).unwrap(), want, "spec {spec:?}");
        }
    }

    /// podman 4.3's CLI splits `-p` at commas: `80:80/tcp,udp` is refused (`udp` is no
    /// port: podman says `invalid port number: strconv.Atoi: parsing "udp"`).
    #[test]
    fn a_command_line_argument_is_a_comma_list_of_specs() {
        assert_eq!(
            parse_publish_arg("8080:80,9090:90/udp").unwrap(),
            [pm("", 8080, 80, 1, "tcp"), pm("", 9090, 90, 1, "udp")]
        );
        for bad in ["80:80/tcp,udp", "8080:80,", "80/tcp,tcp"] {
            let err = parse_publish_arg(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    /// Every rejected spec yields `Error::Publish` naming the spec, with the reason as source.
    #[test]
    fn the_message_says_why() {
        assert_eq!(
            parse_publish("70000:80").unwrap_err().to_string(),
            "invalid publish spec \"70000:80\": port \"70000\" is out of range 1-65535"
        );
    }

    #[test]
    fn every_error_names_the_spec() {
        let cases: Vec<(&str, Invalid)> = vec![
            ("", Invalid::Empty),
            ("80/tcp/udp", Invalid::ManySlashes),
            ("80/", Invalid::EmptyProtocol),
            ("80/icmp", Invalid::UnknownProtocol("icmp".into())),
            ("1:2:3:4", Invalid::ManyColons),
            ("::1:80:80", Invalid::ManyColons),
            ("[::1:80:80", Invalid::Brackets("'[' without ']'")),
            (
                "[::1]80:80",
                Invalid::Brackets("the address must be followed by ':'"),
            ),
            (
                "[::1]:80",
                Invalid::Brackets(
                    "an address needs a host port field: [ip]:hostPort:containerPort",
                ),
            ),
            ("[::1]:1:2:3", Invalid::ManyColons),
            (
                "[::1]:[::2]:80",
                Invalid::Brackets("at most one bracketed address"),
            ),
            (
                "::1]:80:80",
                Invalid::Brackets("an IPv6 address must be enclosed in []"),
            ),
            (":80:80", Invalid::EmptyHostIp),
            ("[]:80:80", Invalid::EmptyHostIp),
            ("8080:", Invalid::EmptyContainerPort),
            ("http", Invalid::NotANumber("http".into())),
            ("+80", Invalid::NotANumber("+80".into())),
            ("-80", Invalid::MalformedRange("-80".into())),
            (" 80", Invalid::NotANumber(" 80".into())),
            ("65536", Invalid::OutOfRange("65536".into())),
            ("4294967376", Invalid::OutOfRange("4294967376".into())),
            (
                "99999999999999999999999",
                Invalid::OutOfRange("99999999999999999999999".into()),
            ),
            ("8080:65536", Invalid::OutOfRange("65536".into())),
            ("65535-65536", Invalid::OutOfRange("65536".into())),
            ("0", Invalid::PortZero("container")),
            ("8080:0", Invalid::PortZero("container")),
            ("0-5:80-85", Invalid::PortZero("range start")),
            ("80-", Invalid::MalformedRange("80-".into())),
            ("80-81-82", Invalid::MalformedRange("80-81-82".into())),
            ("82-80", Invalid::Reversed { start: 82, end: 80 }),
            ("80-80", Invalid::Reversed { start: 80, end: 80 }),
            (
                "8080-8081:80",
                Invalid::LengthMismatch {
                    host: 2,
                    container: 1,
                },
            ),
            (
                "8080:80-81",
                Invalid::LengthMismatch {
                    host: 1,
                    container: 2,
                },
            ),
        ];
        for (spec, cause) in cases {
            let err = parse_publish(spec).unwrap_err();
            assert_eq!(
                err,
                Error::Publish {
                    spec: spec.to_owned(),
                    cause: cause.clone()
                },
                "spec {spec:?}"
            );
            assert!(err.to_string().contains(&format!("{spec:?}")), "{err}");
            let source = std::error::Error::source(&err).unwrap().to_string();
            assert_eq!(source, cause.to_string());
            // the reason is in the message itself, for callers that print only Display
            assert!(err.to_string().ends_with(&format!(": {source}")), "{err}");
        }
    }

    #[test]
    fn bad_host_ip_is_named_with_its_parse_error() {
        for ip in ["300.1.1.1", "localhost", "fe80::1%eth0", "01.2.3.4"] {
            let spec = format!("{ip}:80:80");
            let spec = if ip.contains(':') {
                format!("[{ip}]:80:80")
            } else {
                spec
            };
            let err = parse_publish(&spec).unwrap_err();
            let Error::Publish {
                spec: got,
                cause: Invalid::HostIp { ip: bad, .. },
            } = &err
            else {
                panic!("spec {spec:?}: unexpected {err:?}");
            };
            assert_eq!(got, &spec);
            assert_eq!(bad, ip);
            let source = std::error::Error::source(&err).unwrap();
            assert!(source.to_string().contains(ip), "{source}");
            assert!(source.source().is_some(), "the address parse error is kept");
        }
    }
}
