//! `/etc/subuid` and `/etc/subgid`: parsing, per-user selection, problem reports.
//!
//! File format, one range per line (`#` comments and blank lines allowed):
//!
//! ```text
//! OWNER:START:COUNT        OWNER is a user name or a numeric uid
//! alice:100000:65536
//! 1001:165536:65536
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::idmap::parse_u32;
use crate::{Error, Host, IdMapping, UserDb};

/// One valid line of a subordinate id file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubIdRange {
    /// The user name or numeric uid the range belongs to, as written.
    pub owner: String,
    /// First subordinate id.
    pub start: u32,
    /// Number of ids, never 0.
    pub count: u32,
    /// 1-based line number in the file.
    pub line: usize,
}

impl SubIdRange {
    fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.count)
    }

    fn overlaps(&self, other: &SubIdRange) -> bool {
        u64::from(self.start) < other.end() && u64::from(other.start) < self.end()
    }
}

/// Parses a subordinate id file's text. `path` is only used in errors.
pub fn parse_subids(path: &Path, text: &str) -> Result<Vec<SubIdRange>, Error> {
    let mut ranges = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: String| Error::InvalidSubIdLine {
            path: path.to_path_buf(),
            line: index + 1,
            text: raw.to_string(),
            reason,
        };
        let fields: Vec<&str> = line.split(':').collect();
        let [owner, start, count] = fields[..] else {
            return Err(bad(format!(
                "expected OWNER:START:COUNT, found {} fields",
                fields.len()
            )));
        };
        if owner.is_empty() {
            return Err(bad("owner is empty".to_string()));
        }
        let start = parse_u32(start).map_err(|r| bad(format!("start {r}")))?;
        let count = parse_u32(count).map_err(|r| bad(format!("count {r}")))?;
        if count == 0 {
            return Err(bad("count is 0".to_string()));
        }
        if start.checked_add(count).is_none() {
            return Err(bad("start + count exceeds 4294967295".to_string()));
        }
        ranges.push(SubIdRange {
            owner: owner.to_string(),
            start,
            count,
            line: index + 1,
        });
    }
    Ok(ranges)
}

/// Something suspicious found while selecting a user's ranges. Not fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubIdProblem {
    /// A range of the user overlaps another range in the same file.
    Overlap {
        /// The file.
        path: PathBuf,
        /// The user's line.
        line: usize,
        /// The other line.
        other_line: usize,
        /// Owner of the other line, as written.
        other_owner: String,
    },
    /// A range of the user contains the user's own uid (subuid) or primary
    /// gid (subgid).
    ContainsOwnId {
        /// The file.
        path: PathBuf,
        /// The user's line.
        line: usize,
        /// The user's own id.
        id: u32,
    },
}

impl fmt::Display for SubIdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubIdProblem::Overlap {
                path,
                line,
                other_line,
                other_owner,
            } => write!(
                f,
                "{} line {line} overlaps line {other_line} (owner {other_owner})",
                path.display()
            ),
            SubIdProblem::ContainsOwnId { path, line, id } => write!(
                f,
                "{} line {line} contains the user's own id {id}",
                path.display()
            ),
        }
    }
}

/// A user's subordinate ids as id maps, plus any problems noticed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvailableIdMaps {
    /// Uid maps from the subuid file: the user's ranges sorted by start,
    /// overlapping or adjacent ones merged, numbered consecutively from
    /// container id 0 (as containers/storage's `idtools` does).
    pub uid_maps: Vec<IdMapping>,
    /// Gid maps from the subgid file, built the same way.
    pub gid_maps: Vec<IdMapping>,
    /// Overlaps and own-id ranges found in either file.
    pub problems: Vec<SubIdProblem>,
}

/// A user resolved to name and ids, as far as the user database knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ResolvedUser {
    name: Option<String>,
    uid: Option<u32>,
    gid: Option<u32>,
}

impl ResolvedUser {
    fn owns(&self, range: &SubIdRange) -> bool {
        self.name.as_deref() == Some(range.owner.as_str())
            || self
                .uid
                .is_some_and(|uid| parse_u32(&range.owner) == Ok(uid))
    }
}

fn resolve_user(db: &UserDb, user: &str) -> Result<ResolvedUser, Error> {
    if user.is_empty() {
        return Err(Error::InvalidUser {
            user: user.to_string(),
            reason: "empty",
        });
    }
    if user.contains(':') || user.contains('\n') {
        return Err(Error::InvalidUser {
            user: user.to_string(),
            reason: "contains ':' or a newline",
        });
    }
    let by_uid = parse_u32(user).ok();
    let found: Option<(String, u32, u32)> = match db {
        UserDb::System => {
            let looked = match by_uid {
                Some(uid) => nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)),
                None => nix::unistd::User::from_name(user),
            };
            looked
                .map_err(|errno| Error::LookupUser {
                    user: user.to_string(),
                    db: "the system user database".to_string(),
                    source: errno.into(),
                })?
                .map(|u| (u.name, u.uid.as_raw(), u.gid.as_raw()))
        }
        UserDb::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::LookupUser {
                user: user.to_string(),
                db: path.display().to_string(),
                source,
            })?;
            text.lines().find_map(|line| {
                let mut f = line.split(':');
                let name = f.next()?;
                let uid = parse_u32(f.nth(1)?).ok()?;
                let gid = parse_u32(f.next()?).ok()?;
                let hit = match by_uid {
                    Some(want) => uid == want,
                    None => name == user,
                };
                hit.then(|| (name.to_string(), uid, gid))
            })
        }
    };
    Ok(match found {
        Some((name, uid, gid)) => ResolvedUser {
            name: Some(name),
            uid: Some(uid),
            gid: Some(gid),
        },
        None => {
            tracing::debug!(user, "user not in the user database, matching as written");
            ResolvedUser {
                name: by_uid.is_none().then(|| user.to_string()),
                uid: by_uid,
                gid: None,
            }
        }
    })
}

/// Selects `user`'s ranges from one parsed file, reports problems, and
/// returns the merged id maps.
fn select(
    path: &Path,
    ranges: &[SubIdRange],
    user: &ResolvedUser,
    own_id: Option<u32>,
    problems: &mut Vec<SubIdProblem>,
) -> Vec<IdMapping> {
    let mut mine: Vec<&SubIdRange> = ranges.iter().filter(|r| user.owns(r)).collect();
    for (i, r) in ranges.iter().enumerate() {
        if !user.owns(r) {
            continue;
        }
        for (j, other) in ranges.iter().enumerate() {
            // Report a pair of the user's own lines once.
            if i == j || (user.owns(other) && j < i) {
                continue;
            }
            if r.overlaps(other) {
                problems.push(SubIdProblem::Overlap {
                    path: path.to_path_buf(),
                    line: r.line,
                    other_line: other.line,
                    other_owner: other.owner.clone(),
                });
            }
        }
        if let Some(id) = own_id {
            if id >= r.start && u64::from(id) < r.end() {
                problems.push(SubIdProblem::ContainsOwnId {
                    path: path.to_path_buf(),
                    line: r.line,
                    id,
                });
            }
        }
    }
    mine.sort_by_key(|r| r.start);
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for r in mine {
        match merged.last_mut() {
            Some((_, end)) if u64::from(r.start) <= *end => *end = (*end).max(r.end()),
            _ => merged.push((u64::from(r.start), r.end())),
        }
    }
    let mut maps = Vec::new();
    let mut next_container: u64 = 0;
    for (start, end) in merged {
        let size = end - start;
        // Container ids past u32::MAX cannot be expressed; cap there.
        let room = (u64::from(u32::MAX) + 1).saturating_sub(next_container);
        let size = size.min(room).min(u64::from(u32::MAX));
        let (Ok(container_id), Ok(host_id), Ok(size)) = (
            u32::try_from(next_container),
            u32::try_from(start),
            u32::try_from(size),
        ) else {
            break;
        };
        if size == 0 {
            break;
        }
        maps.push(IdMapping {
            container_id,
            host_id,
            size,
        });
        next_container += u64::from(size);
    }
    maps
}

fn read_subids(path: &Path) -> Result<Vec<SubIdRange>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadSubIds {
        path: path.to_path_buf(),
        source,
    })?;
    parse_subids(path, &text)
}

impl Host {
    /// `user`'s subordinate uid and gid ranges as id maps. `user` is a name or
    /// a numeric uid; lines written with either the name or the uid match.
    /// A user with no lines gets empty maps; a malformed line anywhere in a
    /// file is an error naming the file and line.
    pub fn available_id_maps(&self, user: &str) -> Result<AvailableIdMaps, Error> {
        let resolved = resolve_user(&self.users, user)?;
        let mut problems = Vec::new();
        let uids = read_subids(&self.subuid)?;
        let gids = read_subids(&self.subgid)?;
        let uid_maps = select(&self.subuid, &uids, &resolved, resolved.uid, &mut problems);
        let gid_maps = select(&self.subgid, &gids, &resolved, resolved.gid, &mut problems);
        for problem in &problems {
            tracing::warn!(user, %problem, "subordinate id problem");
        }
        Ok(AvailableIdMaps {
            uid_maps,
            gid_maps,
            problems,
        })
    }
}

/// `user`'s ranges from the real `/etc/subuid` and `/etc/subgid`
/// (see [`Host::available_id_maps`]).
pub fn available_id_maps(user: &str) -> Result<AvailableIdMaps, Error> {
    Host::system().available_id_maps(user)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "subid_tests.rs"]
mod tests;
