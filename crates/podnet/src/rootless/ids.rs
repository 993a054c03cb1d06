//! Who the rootless user is: host uid, name, runtime directory and subordinate id ranges.
//!
//! Kept behind small functions so they can be switched to the `rootless-detect` crate's
//! equivalents without touching the callers.

use std::path::{Path, PathBuf};

use super::error::RootlessError;

/// Environment variable podman and rootless-detect use for the user's host uid once
/// inside the user namespace (where `getuid()` says 0).
pub(crate) const ROOTLESS_UID_ENV: &str = "_CONTAINERS_ROOTLESS_UID";

/// One `name:start:count` range of `/etc/subuid` or `/etc/subgid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SubRange {
    pub start: u32,
    pub count: u32,
}

/// The user's uid on the host, also from inside the user namespace.
pub(crate) fn host_uid() -> u32 {
    let euid = nix::unistd::geteuid().as_raw();
    if euid != 0 {
        return euid;
    }
    if let Some(uid) = std::env::var(ROOTLESS_UID_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return uid;
    }
    // uid 0 in a user namespace: the host uid is what 0 maps to.
    std::fs::read_to_string("/proc/self/uid_map")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.first() == Some(&"0")).then(|| f.get(1)?.parse().ok())?
            })
        })
        .unwrap_or(0)
}

/// The user's runtime directory: `$XDG_RUNTIME_DIR` when it is a directory, else
/// `/run/user/UID`.
pub(crate) fn runtime_dir() -> Result<PathBuf, RootlessError> {
    let uid = host_uid();
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        if dir.is_absolute() && dir.is_dir() {
            return Ok(dir);
        }
    }
    let fallback = PathBuf::from(format!("/run/user/{uid}"));
    if fallback.is_dir() {
        return Ok(fallback);
    }
    Err(RootlessError::RuntimeDir {
        uid,
        reason: format!(
            "XDG_RUNTIME_DIR is unset or not a directory and {} does not exist \
             (log in through systemd-logind, or set XDG_RUNTIME_DIR to a 0700 directory you own)",
            fallback.display()
        ),
    })
}

/// The user's login name.
pub(crate) fn user_name(uid: u32) -> Result<String, RootlessError> {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => Ok(user.name),
        Ok(None) => Err(RootlessError::LookupUser {
            uid,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such user"),
        }),
        Err(errno) => Err(RootlessError::LookupUser {
            uid,
            source: errno.into(),
        }),
    }
}

/// The ranges of `path` (`/etc/subuid` or `/etc/subgid`) that belong to `user` (by name
/// or numeric uid). Malformed lines are skipped with a warning; an empty result is an
/// error naming the fix.
pub(crate) fn sub_ranges(
    path: &Path,
    kind: &'static str,
    user: &str,
    uid: u32,
) -> Result<Vec<SubRange>, RootlessError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(RootlessError::ReadSubIds {
                user: user.to_string(),
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let ranges = parse_sub_ranges(&text, user, uid, path);
    if ranges.is_empty() {
        return Err(RootlessError::NoSubIds {
            kind,
            user: user.to_string(),
            path: path.to_path_buf(),
        });
    }
    Ok(ranges)
}

fn parse_sub_ranges(text: &str, user: &str, uid: u32, path: &Path) -> Vec<SubRange> {
    let uid_text = uid.to_string();
    let mut ranges = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        let [owner, start, count] = fields[..] else {
            tracing::warn!(path = %path.display(), line = n + 1, "malformed subordinate id line");
            continue;
        };
        if owner != user && owner != uid_text {
            continue;
        }
        match (start.parse::<u32>(), count.parse::<u32>()) {
            (Ok(start), Ok(count)) if count > 0 && start.checked_add(count - 1).is_some() => {
                ranges.push(SubRange { start, count });
            }
            _ => {
                tracing::warn!(path = %path.display(), line = n + 1, "malformed subordinate id line")
            }
        }
    }
    ranges
}

/// The `newuidmap`/`newgidmap` arguments after the pid: the user's own id as 0, then the
/// subordinate ranges one after another from 1.
pub(crate) fn map_args(own_id: u32, ranges: &[SubRange]) -> Vec<String> {
    let mut args = vec!["0".to_string(), own_id.to_string(), "1".to_string()];
    let mut next: u64 = 1;
    for r in ranges {
        args.extend([next.to_string(), r.start.to_string(), r.count.to_string()]);
        next += u64::from(r.count);
    }
    args
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranges_by_name_or_uid_skipping_garbage() {
        let text =
            "alice:100000:65536\n# comment\nbob:1:2\n1001:300000:10\nalice:bad:1\nalice:5:0\n";
        let r = parse_sub_ranges(text, "alice", 1001, Path::new("/etc/subuid"));
        assert_eq!(
            r,
            vec![
                SubRange {
                    start: 100000,
                    count: 65536
                },
                SubRange {
                    start: 300000,
                    count: 10
                }
            ]
        );
    }

    #[test]
    fn missing_ranges_name_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subuid");
        std::fs::write(&path, "other:1:2\n").unwrap();
        let msg = sub_ranges(&path, "uid", "carol", 1002)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("no subordinate uid range for user carol"),
            "{msg}"
        );
        assert!(msg.contains("usermod --add-subuids"), "{msg}");
        // A missing file is the same situation.
        let msg = sub_ranges(&dir.path().join("nope"), "gid", "carol", 1002)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("no subordinate gid range"), "{msg}");
    }

    #[test]
    fn map_args_chain_ranges() {
        let ranges = [
            SubRange {
                start: 100000,
                count: 65536,
            },
            SubRange {
                start: 300000,
                count: 10,
            },
        ];
        assert_eq!(
            map_args(1001, &ranges).join(" "),
            "0 1001 1 1 100000 65536 65537 300000 10"
        );
    }
}
