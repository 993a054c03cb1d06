//! resolv.conf for the rootless netns: the content (the user-mode stack's DNS forwarder
//! first) and where to mount it, following `/etc/resolv.conf`'s symlink chain (e.g. to
//! systemd-resolved's `/run/systemd/resolve/stub-resolv.conf`).

use std::path::{Component, Path, PathBuf};

/// Symlink hops followed before giving up (the kernel's limit).
const MAX_HOPS: usize = 40;

/// Follows the symlink chain starting at `path` and returns the final, absolute,
/// lexically normalized path (which may not exist: a dangling chain is returned as is).
/// Directory symlinks along the way are resolved through the parent's canonical path.
pub(crate) fn resolve_chain(path: &Path) -> PathBuf {
    let mut current = normalize(path);
    for _ in 0..MAX_HOPS {
        // Resolve symlinked directories (e.g. /var/run -> /run) in the parent.
        if let (Some(parent), Some(name)) = (current.parent(), current.file_name()) {
            if let Ok(canon) = parent.canonicalize() {
                current = canon.join(name);
            }
        }
        match std::fs::read_link(&current) {
            Ok(target) => {
                let next = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
                current = normalize(&next);
            }
            Err(_) => return current,
        }
    }
    tracing::warn!(path = %path.display(), "symlink chain too long; using its last hop");
    current
}

/// Removes `.` and resolves `..` lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// The rootless netns' resolv.conf: `forwarder` first, then the host's non-loopback
/// nameservers and its other lines (search, options). Loopback nameservers (a local
/// stub resolver) are unreachable from the netns and dropped.
pub(crate) fn content(host: &str, forwarder: &str) -> String {
    let mut out = format!("nameserver {forwarder}\n");
    for line in host.lines() {
        let mut fields = line.split_whitespace();
        if fields.next() == Some("nameserver") {
            let loopback = fields
                .next()
                .and_then(|a| a.parse::<std::net::IpAddr>().ok())
                .is_none_or(|ip| ip.is_loopback());
            if loopback {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn follows_relative_and_absolute_links_and_dir_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(d.join("run/systemd/resolve")).unwrap();
        std::fs::write(d.join("run/systemd/resolve/stub-resolv.conf"), "x").unwrap();
        std::fs::create_dir(d.join("var")).unwrap();
        symlink("../run", d.join("var/run")).unwrap();
        std::fs::create_dir(d.join("etc")).unwrap();
        // etc/resolv.conf -> ../var/run/systemd/resolve/link -> stub-resolv.conf
        symlink("stub-resolv.conf", d.join("run/systemd/resolve/link")).unwrap();
        symlink("../var/run/systemd/resolve/link", d.join("etc/resolv.conf")).unwrap();
        assert_eq!(
            resolve_chain(&d.join("etc/resolv.conf")),
            d.join("run/systemd/resolve/stub-resolv.conf")
        );
        // A plain file resolves to itself; a dangling link to its target.
        assert_eq!(
            resolve_chain(&d.join("run/systemd/resolve/stub-resolv.conf")),
            d.join("run/systemd/resolve/stub-resolv.conf")
        );
        symlink(d.join("nowhere/file"), d.join("etc/dangling")).unwrap();
        assert_eq!(
            resolve_chain(&d.join("etc/dangling")),
            d.join("nowhere/file")
        );
    }

    #[test]
    fn link_loop_terminates() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        symlink("b", d.join("a")).unwrap();
        symlink("a", d.join("b")).unwrap();
        let end = resolve_chain(&d.join("a"));
        assert!(end == d.join("a") || end == d.join("b"));
    }

    #[test]
    fn content_puts_forwarder_first_and_drops_loopback() {
        let host = "# generated\nnameserver 127.0.0.53\nnameserver 10.255.255.53\nnameserver ::1\nsearch example.test\noptions edns0\n";
        assert_eq!(
            content(host, "169.254.1.1"),
            "nameserver 169.254.1.1\n# generated\nnameserver 10.255.255.53\nsearch example.test\noptions edns0\n"
        );
    }
}
