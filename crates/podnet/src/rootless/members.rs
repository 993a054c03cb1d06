//! The rootless netns membership: the set of container ids using it, one per line in a
//! file. Add and remove are idempotent, so a repeated teardown cannot drive a count
//! negative, and the netns is removed exactly when the set becomes empty.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::RootlessError;
use super::process::write_atomic;

/// Longest container id accepted.
const MAX_ID_LEN: usize = 255;

/// Checks a container id: 1 to 255 characters of `[A-Za-z0-9_.-]`, not starting with `.`.
pub(crate) fn validate_id(id: &str) -> Result<(), RootlessError> {
    let bad = |reason| {
        Err(RootlessError::InvalidContainerId {
            id: id.to_string(),
            reason,
        })
    };
    if id.is_empty() {
        return bad("empty");
    }
    if id.len() > MAX_ID_LEN {
        return bad("longer than 255 characters");
    }
    if id.starts_with('.') {
        return bad("starts with '.'");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return bad("only letters, digits, '_', '.' and '-' are allowed");
    }
    Ok(())
}

/// Reads the set; a missing file is the empty set. Lines that are not valid ids are
/// dropped with a warning.
pub(crate) fn read(path: &Path) -> Result<BTreeSet<String>, RootlessError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(source) => {
            return Err(RootlessError::File {
                action: "read",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| {
            let ok = validate_id(l).is_ok();
            if !ok {
                tracing::warn!(path = %path.display(), line = %l, "dropping invalid member line");
            }
            ok
        })
        .map(str::to_string)
        .collect())
}

/// Writes the set atomically.
pub(crate) fn write(path: &Path, set: &BTreeSet<String>) -> Result<(), RootlessError> {
    let mut text = String::new();
    for id in set {
        text.push_str(id);
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Adds `id`; returns false if it was already a member (nothing written).
pub(crate) fn add(path: &Path, id: &str) -> Result<bool, RootlessError> {
    validate_id(id)?;
    let mut set = read(path)?;
    if !set.insert(id.to_string()) {
        return Ok(false);
    }
    write(path, &set)?;
    Ok(true)
}

/// Removes `id`; returns false if it was not a member (nothing written).
pub(crate) fn remove(path: &Path, id: &str) -> Result<bool, RootlessError> {
    validate_id(id)?;
    let mut set = read(path)?;
    if !set.remove(id) {
        return Ok(false);
    }
    write(path, &set)?;
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn add_and_remove_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("members");
        assert!(read(&path).unwrap().is_empty());
        assert!(add(&path, "aaa").unwrap());
        assert!(!add(&path, "aaa").unwrap());
        assert!(add(&path, "bbb").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "aaa\nbbb\n");
        assert!(remove(&path, "aaa").unwrap());
        assert!(!remove(&path, "aaa").unwrap());
        assert!(!remove(&path, "never").unwrap());
        assert_eq!(
            read(&path).unwrap().into_iter().collect::<Vec<_>>(),
            ["bbb"]
        );
        assert!(remove(&path, "bbb").unwrap());
        assert!(read(&path).unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_ids_and_drops_bad_lines() {
        for id in ["", ".x", "a/b", "a b", &"x".repeat(256)] {
            assert!(validate_id(id).is_err(), "{id:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("members");
        std::fs::write(&path, "good\n../evil\n\n ok-2 \n").unwrap();
        let set = read(&path).unwrap();
        assert_eq!(set.into_iter().collect::<Vec<_>>(), ["good", "ok-2"]);
    }
}
