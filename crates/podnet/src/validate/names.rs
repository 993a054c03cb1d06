//! Name rules: network and container names, DNS names (aliases, hostnames, search
//! domains) and kernel interface names.

use super::{no_whitespace_or_control, InvalidInput, Rule};

/// Longest network name: podnet writes `.NAME.json.tmp-PID-RANDOM` (27 bytes around the
/// name with a 7-digit pid) before renaming it to `NAME.json`, and both must fit NAME_MAX.
pub const MAX_NETWORK_NAME: usize = 255 - 27;
/// Longest DNS name (RFC 1035 2.3.4, without the final dot).
pub const MAX_DNS_NAME: usize = 253;
/// Longest hostname: HOST_NAME_MAX, what sethostname(2) takes.
pub const MAX_HOSTNAME: usize = 64;
/// Longest interface name: IFNAMSIZ (16) less the terminating NUL.
pub const MAX_IFNAME: usize = 15;
const MAX_LABEL: usize = 63;

/// podman's `NameRegex`: `^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`.
pub(crate) fn has_name_syntax(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The name syntax and a length bound; white space gets its own, clearer rule.
fn syntax(what: &'static str, s: &str, max: usize, why: &'static str) -> Result<(), InvalidInput> {
    if s.is_empty() {
        return Err(InvalidInput::new(what, s, Rule::Empty));
    }
    no_whitespace_or_control(what, s)?;
    if !has_name_syntax(s) {
        return Err(InvalidInput::new(what, s, Rule::NameSyntax));
    }
    if s.len() > max {
        return Err(InvalidInput::new(what, s, Rule::TooLong { max, why }));
    }
    Ok(())
}

/// A network name: podman's syntax, short enough for its file names.
pub fn network_name(name: &str) -> Result<(), InvalidInput> {
    syntax(
        "network name",
        name,
        MAX_NETWORK_NAME,
        "NAME.json and its temp file must fit NAME_MAX",
    )
}

/// A container name: podman's syntax; aardvark-dns serves it as a DNS name.
pub fn container_name(name: &str) -> Result<(), InvalidInput> {
    syntax(
        "container name",
        name,
        MAX_DNS_NAME,
        "it is served as a DNS name",
    )
}

/// A DNS name written into aardvark-dns's config, a hosts file or resolv.conf.
fn dns_name(
    what: &'static str,
    s: &str,
    max: usize,
    why: &'static str,
) -> Result<(), InvalidInput> {
    syntax(what, s, max, why)?;
    if s.trim_end_matches('.')
        .split('.')
        .any(|label| label.is_empty() || label.len() > MAX_LABEL)
    {
        return Err(InvalidInput::new(what, s, Rule::DnsLabel));
    }
    Ok(())
}

/// A DNS alias of a container on a network.
pub fn alias(alias: &str) -> Result<(), InvalidInput> {
    dns_name("alias", alias, MAX_DNS_NAME, "a DNS name")
}

/// A container's hostname: a DNS name short enough for sethostname(2).
pub fn hostname(name: &str) -> Result<(), InvalidInput> {
    dns_name("hostname", name, MAX_HOSTNAME, "HOST_NAME_MAX")
}

/// A `--dns-search` domain: `.` (podman: no search domains) or a DNS name.
pub fn search_domain(domain: &str) -> Result<(), InvalidInput> {
    if domain == "." {
        return Ok(());
    }
    dns_name("search domain", domain, MAX_DNS_NAME, "a DNS name")
}

/// An interface name inside a container, as the kernel's `dev_valid_name` takes it; `lo`
/// is refused because every network namespace has it already.
pub fn interface_name(name: &str) -> Result<(), InvalidInput> {
    const WHAT: &str = "interface name";
    if name.is_empty() {
        return Err(InvalidInput::new(WHAT, name, Rule::Empty));
    }
    no_whitespace_or_control(WHAT, name)?;
    if name.len() > MAX_IFNAME || name == "." || name == ".." || name.contains(['/', ':']) {
        return Err(InvalidInput::new(WHAT, name, Rule::InterfaceName));
    }
    if name == "lo" {
        return Err(InvalidInput::new(
            WHAT,
            name,
            Rule::ReservedInterface(name.into()),
        ));
    }
    Ok(())
}

/// A bridge name given to `network create`: podman's name syntax and IFNAMSIZ.
pub fn bridge_name(name: &str) -> Result<(), InvalidInput> {
    const WHAT: &str = "bridge name";
    syntax(WHAT, name, MAX_IFNAME, "IFNAMSIZ")?;
    interface_name(name).map_err(|e| InvalidInput { what: WHAT, ..e })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rule(r: Result<(), InvalidInput>) -> Option<Rule> {
        r.err().map(|e| e.rule)
    }

    #[test]
    fn names_keep_podman_syntax() {
        for ok in ["a", "my_app", "my.net-1_x", "9lives", "A"] {
            assert_eq!(rule(network_name(ok)), None, "{ok}");
            assert_eq!(rule(container_name(ok)), None, "{ok}");
        }
        for bad in ["-a", ".a", "_a", "a/b", "ä", "a:b"] {
            assert_eq!(rule(network_name(bad)), Some(Rule::NameSyntax), "{bad}");
        }
        assert_eq!(rule(network_name("")), Some(Rule::Empty));
        assert_eq!(rule(network_name("a b")), Some(Rule::WhitespaceOrControl));
    }

    #[test]
    fn network_names_fit_name_max_with_their_temp_file() {
        let longest = "n".repeat(228);
        assert_eq!(rule(network_name(&longest)), None);
        // `.NAME.json.tmp-4194304-0123abcd`: 255 bytes, NAME_MAX
        assert_eq!(format!(".{longest}.json.tmp-4194304-0123abcd").len(), 255);
        assert!(matches!(
            rule(network_name(&"n".repeat(229))),
            Some(Rule::TooLong { max: 228, .. })
        ));
        assert!(matches!(
            rule(network_name(&"n".repeat(300))),
            Some(Rule::TooLong { .. })
        ));
    }

    #[test]
    fn aliases_refuse_the_newline_injection_and_break_dns_labels() {
        let injected = format!("evil\n{} 10.232.7.99  victim", "a".repeat(64));
        assert_eq!(rule(alias(&injected)), Some(Rule::WhitespaceOrControl));
        assert_eq!(rule(alias("a\nb c")), Some(Rule::WhitespaceOrControl));
        assert_eq!(rule(alias("a\tb")), Some(Rule::WhitespaceOrControl));
        assert_eq!(rule(alias("a\u{7f}")), Some(Rule::WhitespaceOrControl));
        assert_eq!(rule(alias("a,b")), Some(Rule::NameSyntax));
        assert_eq!(rule(alias("a..b")), Some(Rule::DnsLabel));
        assert_eq!(rule(alias(&"l".repeat(64))), Some(Rule::DnsLabel));
        assert_eq!(rule(alias(&"l".repeat(63))), None);
        assert_eq!(rule(alias("db.example.org")), None);
        assert_eq!(rule(alias("my_app")), None);
    }

    #[test]
    fn hostnames_and_search_domains() {
        assert_eq!(rule(hostname("web-1")), None);
        assert_eq!(rule(hostname("a b")), Some(Rule::WhitespaceOrControl));
        assert_eq!(rule(hostname("a\n")), Some(Rule::WhitespaceOrControl));
        assert!(matches!(
            rule(hostname(&"h".repeat(65))),
            Some(Rule::TooLong { max: 64, .. })
        ));
        assert_eq!(rule(search_domain(".")), None);
        assert_eq!(rule(search_domain("example.com")), None);
        assert_eq!(rule(search_domain("example.com.")), None);
        assert_eq!(
            rule(search_domain("example.com\nnameserver 6.6.6.6")),
            Some(Rule::WhitespaceOrControl)
        );
    }

    #[test]
    fn interface_names_as_the_kernel_takes_them() {
        for ok in ["eth0", "e", "net1_x", "a.b", "fifteen-chars-x"] {
            assert_eq!(rule(interface_name(ok)), None, "{ok}");
        }
        assert_eq!(rule(interface_name("")), Some(Rule::Empty));
        for bad in [
            "../x",
            "a/b",
            "a:b",
            ".",
            "..",
            "sixteen-chars-xx",
            "twenty-characters-xx",
        ] {
            assert_eq!(
                rule(interface_name(bad)),
                Some(Rule::InterfaceName),
                "{bad}"
            );
        }
        assert_eq!(
            rule(interface_name("lo")),
            Some(Rule::ReservedInterface("lo".into()))
        );
        assert_eq!(rule(interface_name("e 1")), Some(Rule::WhitespaceOrControl));
        assert_eq!(rule(bridge_name("podman9")), None);
        assert_eq!(rule(bridge_name("-br")), Some(Rule::NameSyntax));
        let long = bridge_name("sixteen-chars-xx").unwrap_err();
        assert_eq!(long.what, "bridge name");
    }
}
