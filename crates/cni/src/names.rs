//! The names libcni checks before it runs a plugin: container ids and network names
//! (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`) and interface names (at most 15 bytes, not `.` or `..`,
//! no `/`, `:` or white space).

/// The longest interface name the kernel accepts (IFNAMSIZ - 1).
const MAX_IFNAME_LEN: usize = 15;

/// Checks a container id; `Err` is the reason.
pub(crate) fn check_container_id(id: &str) -> Result<(), &'static str> {
    check_cni_name(id, "is empty")
}

/// Checks a network name; `Err` is the reason.
pub(crate) fn check_network_name(name: &str) -> Result<(), &'static str> {
    check_cni_name(name, "is empty")
}

fn check_cni_name(name: &str, empty: &'static str) -> Result<(), &'static str> {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return Err(empty);
    };
    if !first.is_ascii_alphanumeric() {
        return Err("must start with a letter or digit");
    }
    if bytes.any(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))) {
        return Err("may contain only letters, digits, '_', '.' and '-'");
    }
    Ok(())
}

/// Checks an interface name; `Err` is the reason.
pub(crate) fn check_ifname(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    if name.len() > MAX_IFNAME_LEN {
        return Err("is longer than 15 bytes");
    }
    if name == "." || name == ".." {
        return Err("is . or ..");
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err("contains '/', ':' or white space");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cni_names_follow_libcni_pattern() {
        for good in ["a", "podman", "net-1.x_y", "0abc", "A"] {
            assert_eq!(check_network_name(good), Ok(()), "{good}");
            assert_eq!(check_container_id(good), Ok(()), "{good}");
        }
        for bad in ["", "-a", ".a", "_a", "a b", "a/b", "é", "a:b"] {
            assert!(check_network_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn interface_names_follow_the_kernel_rules() {
        for good in ["eth0", "a", "123456789012345", "veth.1-x"] {
            assert_eq!(check_ifname(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "1234567890123456",
            "a/b",
            "a:b",
            "a b",
            "a\tb",
        ] {
            assert!(check_ifname(bad).is_err(), "{bad}");
        }
    }
}
