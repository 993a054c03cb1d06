//! `--expose`: container ports a container offers, without publishing them (podman's
//! `CreateExpose`); `-P` publishes each on a free host port.

use crate::error::{Error, Invalid};
use crate::protocol;
use crate::types::PortMapping;

/// Parses one `--expose` command-line argument as podman's CLI does: a comma list (the
/// flag is a string slice) of `port[-end][/proto]` (`tcp` when absent; one protocol).
/// Each spec gives one mapping with host port 0 (nothing published); a host part
/// (`8080:80`) is refused. An error names the whole argument and the reason.
pub fn parse_expose_arg(arg: &str) -> Result<Vec<PortMapping>, Error> {
    crate::publish::each_spec(arg, parse, |spec, cause| Error::Expose { spec, cause })
}

fn parse(spec: &str) -> Result<PortMapping, Invalid> {
    if spec.is_empty() {
        return Err(Invalid::Empty);
    }
    if spec.contains(':') {
        return Err(Invalid::ExposeHostPart);
    }
    let (ports, proto) = match spec.split_once('/') {
        None => (spec, protocol::Protocol::Tcp),
        Some((_, "")) => return Err(Invalid::EmptyProtocol),
        Some((_, p)) if p.contains('/') => return Err(Invalid::ManySlashes),
        Some((ports, p)) => (ports, p.parse()?),
    };
    // the container part of a `-p` spec has the same port and range rules
    let mapping = crate::parse_publish(ports).map_err(|e| match e {
        Error::Publish { cause, .. } => cause,
        _ => Invalid::Empty,
    })?;
    Ok(mapping.with_protocols(proto))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::pm;

    #[test]
    fn ports_ranges_and_protocols() {
        assert_eq!(
            parse_expose_arg("90,91-93/udp,94/SCTP").unwrap(),
            [
                pm("", 0, 90, 1, "tcp"),
                pm("", 0, 91, 3, "udp"),
                pm("", 0, 94, 1, "sctp")
            ]
        );
        for bad in [
            "8080:80",
            "",
            "90/",
            "90/tcp/udp",
            "0",
            "70000",
            "90/icmp",
            "90/tcp,udp",
        ] {
            let err = parse_expose_arg(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid --expose spec {bad:?}")),
                "{err}"
            );
        }
    }
}
