//! `/proc/PID/mountinfo` parsing: mount points, propagation, and who holds a pin.

use std::path::{Path, PathBuf};

use crate::error::Holder;

/// One line of mountinfo (only the fields this crate uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub id: u64,
    pub parent: u64,
    /// The root of the mount within its filesystem (`net:[4026532...]` for nsfs).
    pub root: String,
    pub mount_point: PathBuf,
    /// The optional fields contain `shared:N`.
    pub shared: bool,
}

/// Undoes the kernel's octal escapes (`\040` for space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let oct = &bytes[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = oct
                    .iter()
                    .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses one mountinfo line; `None` for a malformed line.
pub(crate) fn parse_line(line: &str) -> Option<Mount> {
    let mut fields = line.split(' ');
    let id = fields.next()?.parse().ok()?;
    let parent = fields.next()?.parse().ok()?;
    let _dev = fields.next()?;
    let root = unescape(fields.next()?);
    let mount_point = PathBuf::from(unescape(fields.next()?));
    let _options = fields.next()?;
    let mut shared = false;
    let mut saw_separator = false;
    for f in fields {
        if f == "-" {
            saw_separator = true;
            break;
        }
        shared |= f.starts_with("shared:");
    }
    saw_separator.then_some(Mount {
        id,
        parent,
        root,
        mount_point,
        shared,
    })
}

/// Parses a whole mountinfo text, skipping malformed lines.
pub(crate) fn parse(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_line).collect()
}

/// The topmost mount at `path` (the one no other mount at `path` sits on), if any.
pub(crate) fn top_mount_at<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    let at: Vec<&Mount> = mounts.iter().filter(|m| m.mount_point == path).collect();
    at.iter()
        .find(|m| !at.iter().any(|o| o.parent == m.id))
        .copied()
}

/// Whether a mount is `path` itself or a mount of the namespace with inode `ns_ino`.
pub(crate) fn holds(m: &Mount, path: &Path, ns_root: Option<&str>) -> bool {
    m.mount_point == path || ns_root.is_some_and(|r| m.root == r)
}

/// Scans `/proc/*/mountinfo` for mounts of `path` or of namespace inode `ns_ino`; one
/// holder per mount namespace.
pub(crate) fn find_holders(path: &Path, ns_ino: Option<u64>) -> Vec<Holder> {
    let ns_root = ns_ino.map(|ino| format!("net:[{ino}]"));
    let mut seen_mnt_ns = Vec::new();
    let mut holders = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return holders;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let proc_dir = entry.path();
        let Ok(text) = std::fs::read_to_string(proc_dir.join("mountinfo")) else {
            continue; // gone, or not ours to read
        };
        let Some(m) = parse(&text)
            .into_iter()
            .find(|m| holds(m, path, ns_root.as_deref()))
        else {
            continue;
        };
        let mnt_ns = std::fs::read_link(proc_dir.join("ns/mnt")).ok();
        if mnt_ns.is_some() && seen_mnt_ns.contains(&mnt_ns) {
            continue;
        }
        seen_mnt_ns.push(mnt_ns);
        let comm = std::fs::read_to_string(proc_dir.join("comm"))
            .map(|c| c.trim_end().to_string())
            .unwrap_or_default();
        holders.push(Holder {
            pid,
            comm,
            mount_point: m.mount_point,
        });
    }
    holders
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/root rw
30 22 0:26 / /run rw,nosuid shared:5 - tmpfs tmpfs rw
41 30 0:26 /netns /run/netns rw,nosuid shared:12 - tmpfs tmpfs rw
42 41 0:4 net:[4026532300] /run/netns/a rw shared:12 - nsfs nsfs rw
43 30 0:30 / /run/with\\040space rw master:3 - tmpfs tmpfs rw
44 30 0:31 / /run/priv rw - tmpfs tmpfs rw
45 44 0:32 / /run/priv rw - tmpfs tmpfs rw
bad line
";

    #[test]
    fn parses_fields_escapes_and_propagation() {
        let m = parse(SAMPLE);
        assert_eq!(m.len(), 7, "the malformed line is skipped");
        assert_eq!(m[3].root, "net:[4026532300]");
        assert_eq!(m[3].mount_point, Path::new("/run/netns/a"));
        assert!(m[3].shared);
        assert_eq!(m[4].mount_point, Path::new("/run/with space"));
        assert!(!m[4].shared, "master: is not shared:");
        assert!(!m[5].shared);
    }

    #[test]
    fn top_mount_is_the_one_stacked_last() {
        let m = parse(SAMPLE);
        assert_eq!(
            top_mount_at(&m, Path::new("/run/priv")).map(|m| m.id),
            Some(45)
        );
        assert_eq!(
            top_mount_at(&m, Path::new("/run/netns")).map(|m| m.id),
            Some(41)
        );
        assert!(top_mount_at(&m, Path::new("/run/none")).is_none());
    }

    #[test]
    fn holds_matches_path_or_namespace_root() {
        let m = parse(SAMPLE);
        let p = Path::new("/elsewhere/x");
        assert!(holds(&m[3], p, Some("net:[4026532300]")));
        assert!(!holds(&m[3], p, Some("net:[1]")));
        assert!(holds(&m[3], Path::new("/run/netns/a"), None));
    }

    #[test]
    fn unescape_leaves_plain_backslashes() {
        assert_eq!(unescape("a\\134b"), "a\\b");
        assert_eq!(unescape("a\\9"), "a\\9");
        assert_eq!(unescape("end\\"), "end\\");
        assert_eq!(unescape("\\011\\012"), "\t\n");
    }
}
