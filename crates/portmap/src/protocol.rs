//! Transport protocols a port can be published for ([`Protocol`]), and podman's comma
//! lists of them ([`Protocols`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Invalid;

/// A transport protocol for a published port.
///
/// Its text form is the lowercase name podman and netavark use; parsing ignores case,
/// as podman's `checkProtocol` does:
///
/// ```
/// use portmap::Protocol;
///
/// assert_eq!("UDP".parse::<Protocol>(), Ok(Protocol::Udp));
/// assert_eq!(Protocol::Sctp.to_string(), "sctp");
/// assert!("icmp".parse::<Protocol>().is_err());
/// ```
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

    /// Position in the alphabetical order of the names (sctp, tcp, udp),
    /// the order podman sorts protocol strings in.
    pub(crate) fn name_rank(self) -> u8 {
        match self {
            Protocol::Sctp => 0,
            Protocol::Tcp => 1,
            Protocol::Udp => 2,
        }
    }

    /// One bit per protocol, for set comparisons.
    fn bit(self) -> u8 {
        1 << self.name_rank()
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

/// The protocol field of a port mapping: one to three distinct protocols, kept in the
/// order first given (podman's `"tcp"`, netavark's `"tcp,udp"`).
///
/// A set that remembers its order, so that a list read from netavark's or podman's JSON
/// is written back as it was: equality, hashing and ordering look at the members only
/// (`tcp,udp` equals `udp,tcp`), while [`Display`](fmt::Display) and
/// [`iter`](Self::iter) follow the order given. Never empty: the default is tcp, as
/// podman's "if unset, assumed to be TCP". `Copy`, without allocation.
///
/// Its text form is podman's comma list; parsing ignores case, drops duplicates (the
/// first occurrence stays) and reads an empty item or an empty field as tcp, as
/// podman's `checkProtocol` does:
///
/// ```
/// use portmap::{Protocol, Protocols};
///
/// let list: Protocols = "UDP,tcp,udp".parse()?;
/// assert_eq!(list.to_string(), "udp,tcp");
/// assert_eq!(list, "tcp,udp".parse()?);
/// assert!(list.contains(Protocol::Tcp) && !list.contains(Protocol::Sctp));
/// assert_eq!(Protocols::default(), Protocols::from(Protocol::Tcp));
/// assert!("tcp,gre".parse::<Protocols>().is_err());
/// # Ok::<(), portmap::Invalid>(())
/// ```
#[derive(Clone, Copy)]
pub struct Protocols {
    /// The members in the order given; filled from the front, distinct.
    items: [Option<Protocol>; 3],
}

impl Protocols {
    /// The list holding `proto` only.
    pub const fn one(proto: Protocol) -> Self {
        Self {
            items: [Some(proto), None, None],
        }
    }

    /// Adds `proto` at the end unless it is already a member; says whether it was added.
    pub fn insert(&mut self, proto: Protocol) -> bool {
        for slot in &mut self.items {
            match slot {
                Some(p) if *p == proto => return false,
                Some(_) => {}
                None => {
                    *slot = Some(proto);
                    return true;
                }
            }
        }
        // three distinct protocols fill every slot, so a new one was found above
        false
    }

    /// Whether `proto` is a member.
    pub fn contains(&self, proto: Protocol) -> bool {
        self.iter().any(|p| p == proto)
    }

    /// The members in the order given.
    pub fn iter(&self) -> impl Iterator<Item = Protocol> {
        self.items.into_iter().flatten()
    }

    /// The number of members (1 to 3).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Always false: a protocol list has at least one member (clippy wants the method
    /// next to [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The members as a bit set, for comparisons that ignore the order.
    fn mask(&self) -> u8 {
        self.iter().fold(0, |mask, p| mask | p.bit())
    }
}

/// `Protocols([Udp, Tcp])`: the members in order.
impl fmt::Debug for Protocols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let members: Vec<Protocol> = self.iter().collect();
        f.debug_tuple("Protocols").field(&members).finish()
    }
}

impl Default for Protocols {
    /// tcp, podman's default.
    fn default() -> Self {
        Self::one(Protocol::Tcp)
    }
}

impl From<Protocol> for Protocols {
    fn from(proto: Protocol) -> Self {
        Self::one(proto)
    }
}

impl PartialEq for Protocols {
    fn eq(&self, other: &Self) -> bool {
        self.mask() == other.mask()
    }
}

impl Eq for Protocols {}

impl Hash for Protocols {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.mask().hash(state);
    }
}

impl PartialOrd for Protocols {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Protocols {
    /// By members, not by order: consistent with `Eq`.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.mask().cmp(&other.mask())
    }
}

/// Podman's comma list: `tcp`, `udp,tcp`.
impl fmt::Display for Protocols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, proto) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(proto.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Protocols {
    type Err = Invalid;

    /// Podman's protocol field: a comma list, case-insensitive, duplicates dropped
    /// (first occurrence kept), an empty item or an empty field meaning tcp.
    fn from_str(field: &str) -> Result<Self, Invalid> {
        let mut items = field.split(',').map(|item| {
            if item.is_empty() {
                Ok(Protocol::Tcp)
            } else {
                item.parse()
            }
        });
        // split yields at least one item
        let mut out = Protocols::one(items.next().unwrap_or(Ok(Protocol::Tcp))?);
        for proto in items {
            out.insert(proto?);
        }
        Ok(out)
    }
}

/// Written as its name: `"udp"`.
impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read from its name, case ignored; an error names the text.
impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// Written as podman's comma list: `"tcp"`, `"udp,tcp"`.
impl Serialize for Protocols {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Read from podman's comma list (`""` is tcp); an error names the whole field and
/// the bad item.
impl<'de> Deserialize<'de> for Protocols {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|e| D::Error::custom(format_args!("protocol list {text:?}: {e}")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn list(s: &str) -> Vec<Protocol> {
        s.parse::<Protocols>().unwrap().iter().collect()
    }

    #[test]
    fn list_is_case_insensitive_deduped_and_ordered() {
        assert_eq!(list("UDP,tcp,udp"), vec![Protocol::Udp, Protocol::Tcp]);
        assert_eq!(list(""), vec![Protocol::Tcp]);
        assert_eq!(list("sctp"), vec![Protocol::Sctp]);
        assert_eq!(
            list("sctp,udp,,tcp,udp"),
            vec![Protocol::Sctp, Protocol::Udp, Protocol::Tcp]
        );
        assert_eq!(list(",udp"), vec![Protocol::Tcp, Protocol::Udp]);
    }

    #[test]
    fn order_is_kept_in_text_but_ignored_by_equality() {
        let a: Protocols = "udp,tcp".parse().unwrap();
        let b: Protocols = "tcp,udp".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("udp,tcp".into(), "tcp,udp".into())
        );
        assert_ne!(a, Protocols::one(Protocol::Udp));
        assert_eq!(a.len(), 2);
        assert_eq!(format!("{a:?}"), "Protocols([Udp, Tcp])");
        let mut c = Protocols::one(Protocol::Sctp);
        assert!(c.insert(Protocol::Udp));
        assert!(!c.insert(Protocol::Sctp));
        assert!(c.insert(Protocol::Tcp));
        assert!(!c.insert(Protocol::Tcp));
        assert_eq!(c.to_string(), "sctp,udp,tcp");
    }

    #[test]
    fn name_rank_is_name_order() {
        let mut all = [Protocol::Udp, Protocol::Tcp, Protocol::Sctp];
        all.sort_by_key(|p| p.name_rank());
        let names: Vec<&str> = all.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ["sctp", "tcp", "udp"]);
    }

    #[test]
    fn unknown_protocol_is_named() {
        let err = "tcp,icmp".parse::<Protocols>().unwrap_err();
        assert_eq!(err, Invalid::UnknownProtocol("icmp".into()));
        assert!(err.to_string().contains("\"icmp\""), "{err}");
    }

    /// Protocol fields as podman and netavark write them, read and written back as they were.
    #[test]
    fn json_is_podmans_string() {
        for field in [
            r#""tcp""#,
            r#""udp""#,
            r#""sctp""#,
            r#""tcp,udp""#,
            r#""udp,tcp""#,
        ] {
            let list: Protocols = serde_json::from_str(field).unwrap();
            assert_eq!(serde_json::to_string(&list).unwrap(), field);
        }
        let err = serde_json::from_str::<Protocols>(r#""tcp,icmp""#).unwrap_err();
        assert!(
            err.to_string().contains(r#"protocol list "tcp,icmp""#),
            "{err}"
        );
        assert!(
            err.to_string().contains(r#"unknown protocol "icmp""#),
            "{err}"
        );
        let one: Protocol = serde_json::from_str(r#""UDP""#).unwrap();
        assert_eq!(
            (one, serde_json::to_string(&one).unwrap()),
            (Protocol::Udp, r#""udp""#.into())
        );
        assert!(serde_json::from_str::<Protocol>(r#""tcp,udp""#).is_err());
    }
}
