//! Transport protocols a port can be published for, and podman's comma lists of them.

use std::fmt;
use std::str::FromStr;

use crate::error::Invalid;

/// A transport protocol for a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `tcp`
    Tcp,
    /// `udp`
    Udp,
    /// `sctp` (rootful only, as in podman)
    Sctp,
}

impl Protocol {
    /// The lowercase name netavark and podman use.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = Invalid;

    /// Case-insensitive, as podman's `checkProtocol`.
    fn from_str(s: &str) -> Result<Self, Invalid> {
        if s.eq_ignore_ascii_case("tcp") {
            Ok(Protocol::Tcp)
        } else if s.eq_ignore_ascii_case("udp") {
            Ok(Protocol::Udp)
        } else if s.eq_ignore_ascii_case("sctp") {
            Ok(Protocol::Sctp)
        } else {
            Err(Invalid::UnknownProtocol(s.to_owned()))
        }
    }
}

/// Parses podman's protocol field: a comma list, case-insensitive,
/// duplicates dropped (first occurrence kept), an empty item or an empty
/// field meaning tcp (podman's `checkProtocol`).
pub(crate) fn parse_list(field: &str) -> Result<Vec<Protocol>, Invalid> {
    let mut out: Vec<Protocol> = Vec::with_capacity(1);
    for item in field.split(',') {
        let proto = if item.is_empty() {
            Protocol::Tcp
        } else {
            item.parse()?
        };
        if !out.contains(&proto) {
            out.push(proto);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn list_is_case_insensitive_deduped_and_ordered() {
        assert_eq!(
            parse_list("UDP,tcp,udp").unwrap(),
            vec![Protocol::Udp, Protocol::Tcp]
        );
        assert_eq!(parse_list("").unwrap(), vec![Protocol::Tcp]);
        assert_eq!(parse_list("sctp").unwrap(), vec![Protocol::Sctp]);
    }

    #[test]
    fn unknown_protocol_is_named() {
        let err = parse_list("tcp,icmp").unwrap_err();
        assert_eq!(err, Invalid::UnknownProtocol("icmp".into()));
        assert!(err.to_string().contains("\"icmp\""), "{err}");
    }
}
