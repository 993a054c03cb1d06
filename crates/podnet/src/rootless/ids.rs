//! Who the rootless user is: host uid, name, runtime directory and subordinate id ranges.
//!
//! Kept behind small functions so they can be switched to the `rootless-detect` crate's
//! equivalents without touching the callers.

use std::path::PathBuf;

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

/// The user's uid on the host, also from inside the user namespace (where `getuid()`
/// says 0): `rootless-detect`'s answer.
pub(crate) fn host_uid() -> u32 {
    rootless_detect::rootless_uid()
}

/// The user's runtime directory (`$XDG_RUNTIME_DIR`, `/run/user/UID`, then a private
/// tmp fallback, each only when owned by the user and not writable by others).
pub(crate) fn runtime_dir() -> Result<PathBuf, RootlessError> {
    // rootless-detect's lookup (containers/storage's precedence) gives the same answer
    // outside the user namespace and inside it, where the user's directories appear owned
    // by uid 0
    rootless_detect::runtime_dir().map_err(|e| RootlessError::RuntimeDir {
        uid: host_uid(),
        reason: e.to_string(),
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

/// The user's subordinate uid and gid ranges from `/etc/subuid` and `/etc/subgid`
/// (through `rootless-detect`); no range in either file is an error naming the fix.
pub(crate) fn subordinate_ranges(
    user: &str,
    uid: u32,
) -> Result<(Vec<SubRange>, Vec<SubRange>), RootlessError> {
    let maps = rootless_detect::available_id_maps(&uid.to_string()).map_err(|source| {
        RootlessError::ReadSubIds {
            user: user.to_string(),
            source,
        }
    })?;
    let ranges = |maps: &[rootless_detect::IdMapping]| -> Vec<SubRange> {
        maps.iter()
            .map(|m| SubRange {
                start: m.host_id,
                count: m.size,
            })
            .collect()
    };
    let uids = require("uid", user, SUBUID, ranges(&maps.uid_maps))?;
    let gids = require("gid", user, SUBGID, ranges(&maps.gid_maps))?;
    Ok((uids, gids))
}

const SUBUID: &str = "/etc/subuid";
const SUBGID: &str = "/etc/subgid";

fn require(
    kind: &'static str,
    user: &str,
    path: &str,
    ranges: Vec<SubRange>,
) -> Result<Vec<SubRange>, RootlessError> {
    if ranges.is_empty() {
        return Err(RootlessError::NoSubIds {
            kind,
            user: user.to_string(),
            path: PathBuf::from(path),
        });
    }
    Ok(ranges)
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
    fn missing_ranges_name_the_fix() {
        let msg = require("uid", "carol", SUBUID, Vec::new())
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "no subordinate uid range for user carol in /etc/subuid: add one, e.g. \
             `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 carol`"
        );
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
