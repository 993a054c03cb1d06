//! `HostEntry`, the `(ip, names)` pair callers hand in, and the name rules it must follow.

use std::net::IpAddr;

use crate::Error;

/// One hosts-file line to add, look for or remove: an IP address and its names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostEntry {
    /// The address, written in its canonical text form (Rust's `Display`, RFC 5952).
    pub ip: IpAddr,
    /// The names for it, in order. Each must be non-empty, without white space or `#`.
    pub names: Vec<String>,
}

impl HostEntry {
    /// An entry for `ip` with the given names.
    pub fn new<I, S>(ip: IpAddr, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            ip,
            names: names.into_iter().map(Into::into).collect(),
        }
    }
}

/// Why `name` cannot go into a hosts file, if it cannot.
pub(crate) fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("name is empty")
    } else if name.chars().any(char::is_whitespace) {
        Some("name contains white space")
    } else if name.contains('#') {
        Some("name contains '#', which starts a comment")
    } else {
        None
    }
}

/// An entry checked and pre-formatted for writing and matching.
pub(crate) struct Checked<'a> {
    pub ip: String,
    pub names: Vec<&'a str>,
}

/// Validates every name of every entry; the error names the first bad one.
pub(crate) fn check(entries: &[HostEntry]) -> Result<Vec<Checked<'_>>, Error> {
    entries
        .iter()
        .map(|e| {
            let ip = e.ip.to_string();
            for name in &e.names {
                if let Some(reason) = name_problem(name) {
                    return Err(Error::HostName {
                        ip,
                        name: name.clone(),
                        reason,
                    });
                }
            }
            Ok(Checked {
                ip,
                names: e.names.iter().map(String::as_str).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_named_in_the_error() {
        for bad in ["", "a b", "tab\there", "x#y"] {
            let e = HostEntry::new("10.0.0.1".parse().unwrap(), ["ok", bad]);
            let err = check(&[e]).err().unwrap();
            let msg = err.to_string();
            assert!(msg.contains(&format!("{bad:?}")), "{msg}");
            assert!(msg.contains("10.0.0.1"), "{msg}");
        }
    }

    #[test]
    fn good_entry_is_formatted() {
        let e = HostEntry::new("fd00::0:1".parse().unwrap(), ["a", "b.c"]);
        let c = check(std::slice::from_ref(&e)).unwrap();
        assert_eq!(c[0].ip, "fd00::1");
        assert_eq!(c[0].names, ["a", "b.c"]);
    }
}
