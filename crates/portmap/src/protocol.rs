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

impl Protocol {
    /// Position in the alphabetical order of the names (sctp, tcp, udp),
    /// the order podman sorts protocol strings in.
    pub(crate) fn name_rank(self) -> u8 {
        match self {
            Protocol::Sctp => 0,
            Protocol::Tcp => 1,
            Protocol::Udp => 2,
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
pub(crate) fn parse_list(field: &str) -> Result<ProtoList, Invalid> {
    let mut out = ProtoList::default();
    for item in field.split(',') {
        let proto = if item.is_empty() {
            Protocol::Tcp
        } else {
            item.parse()?
        };
        out.push(proto);
    }
    Ok(out)
}

/// Up to three distinct protocols in first-seen order, without allocating.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProtoList {
    items: [Option<Protocol>; 3],
}

impl ProtoList {
    fn push(&mut self, proto: Protocol) {
        for slot in &mut self.items {
            match slot {
                Some(p) if *p == proto => return,
                Some(_) => {}
                None => {
                    *slot = Some(proto);
                    return;
                }
            }
        }
    }

    /// The protocols in first-seen order.
    pub(crate) fn iter(self) -> impl Iterator<Item = Protocol> {
        self.items.into_iter().flatten()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn list_is_case_insensitive_deduped_and_ordered() {
        let list = |s| parse_list(s).unwrap().iter().collect::<Vec<_>>();
        assert_eq!(list("UDP,tcp,udp"), vec![Protocol::Udp, Protocol::Tcp]);
        assert_eq!(list(""), vec![Protocol::Tcp]);
        assert_eq!(list("sctp"), vec![Protocol::Sctp]);
        assert_eq!(
            list("sctp,udp,,tcp,udp"),
            vec![Protocol::Sctp, Protocol::Udp, Protocol::Tcp]
        );
    }

    #[test]
    fn name_rank_is_name_order() {
        let mut all = [Protocol::Udp, Protocol::Tcp, Protocol::Sctp];
        all.sort_by_key(|p| p.name_rank());
        let names: Vec<&str> = all.iter().map(|p| p.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    #[test]
    fn unknown_protocol_is_named() {
        let err = parse_list("tcp,icmp").unwrap_err();
        assert_eq!(err, Invalid::UnknownProtocol("icmp".into()));
        assert!(err.to_string().contains("\"icmp\""), "{err}");
    }
}
