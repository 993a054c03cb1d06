//! Opening the state database without guessing: only a missing file is created (built
//! under a temporary name and linked into place, so a crash never leaves a half-made
//! database); a zero-length file, a file that is not SQLite, or an SQLite database of
//! another program is refused; and when SQLite cannot open or write the file, the
//! filesystem is asked why (read-only, full, not writable), so the error says so instead
//! of "unable to open database file" or "xShmMap I/O error".

use std::io;
use std::path::{Path, PathBuf};

use nix::sys::statvfs::{statvfs, FsFlags};
use nix::unistd::{access, AccessFlags};
use rusqlite::ErrorCode;

use super::error::StateError;

/// Free space below which a failed write is put down to a full filesystem: what SQLite
/// needs for its shared-memory index and a few pages.
const LOW_SPACE: u64 = 256 * 1024;

/// What the state of the file at `path` is before SQLite sees it.
pub(super) enum Existing {
    /// No file: a new database is made.
    Missing,
    /// A file with content: SQLite opens it (and [`check_ours`] looks at it).
    Present,
}

/// Looks at `path` without opening it: a zero-length file is refused.
pub(super) fn existing(path: &Path) -> Result<Existing, StateError> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => Err(not_ours(path, "it is empty (0 bytes)")),
        Ok(_) => Ok(Existing::Present),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing::Missing),
        Err(source) => Err(StateError::Stat {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A temporary name next to `path` for building a new database.
pub(super) fn temp_path(path: &Path) -> PathBuf {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{file}.new-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// Links the finished database at `tmp` to `path` (a concurrent creator that got there
/// first wins: its database is as new as ours) and removes `tmp` and its side files.
pub(super) fn publish(tmp: &Path, path: &Path) -> Result<(), StateError> {
    let linked = match std::fs::hard_link(tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StateError::Create {
            path: path.to_path_buf(),
            reason: os_reason(path).unwrap_or_else(|| source.to_string()),
        }),
    };
    remove_temp(tmp);
    linked
}

/// Removes a temporary database and its `-wal`/`-shm` files (best effort).
pub(super) fn remove_temp(tmp: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = tmp.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The error for an SQLite failure on `path`: a file that is not SQLite is "not ours";
/// a failure to open or write gets the filesystem's reason when there is one.
pub(super) fn sqlite_failure(
    path: &Path,
    source: rusqlite::Error,
    otherwise: impl FnOnce(rusqlite::Error) -> StateError,
) -> StateError {
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => not_ours(path, "it is not an SQLite database"),
        Some(
            ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure,
        ) => match os_reason(path) {
            Some(reason) => StateError::Unusable {
                path: path.to_path_buf(),
                reason,
                source: Box::new(source),
            },
            None => otherwise(source),
        },
        _ => otherwise(source),
    }
}

/// Refuses an SQLite database that has tables but no podnet `schema_version`.
pub(super) fn check_ours(conn: &rusqlite::Connection, path: &Path) -> Result<(), StateError> {
    let count = |sql: &str| -> Result<i64, StateError> {
        conn.query_row(sql, [], |r| r.get(0)).map_err(|source| {
            sqlite_failure(path, source, |source| StateError::Open {
                path: path.to_path_buf(),
                source,
            })
        })
    };
    let ours = count(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
    )?;
    let tables = count("SELECT count(*) FROM sqlite_master WHERE type = 'table'")?;
    if ours == 0 && tables > 0 {
        return Err(not_ours(
            path,
            "it is an SQLite database of another program (no podnet schema_version table)",
        ));
    }
    Ok(())
}

fn not_ours(path: &Path, why: &'static str) -> StateError {
    StateError::NotPodnetDatabase {
        path: path.to_path_buf(),
        why,
    }
}

/// Why the filesystem holding `path` refuses writes, if it visibly does.
fn os_reason(path: &Path) -> Option<String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let st = statvfs(dir).ok()?;
    if st.flags().contains(FsFlags::ST_RDONLY) {
        return Some(format!("{} is on a read-only file system", dir.display()));
    }
    let free = st.blocks_available().saturating_mul(st.fragment_size());
    if free < LOW_SPACE {
        return Some(format!(
            "no space left on the file system of {} ({free} bytes free)",
            dir.display()
        ));
    }
    if let Err(e) = access(dir, AccessFlags::W_OK) {
        return Some(format!("{} is not writable: {}", dir.display(), e.desc()));
    }
    if path.exists() {
        if let Err(e) = access(path, AccessFlags::W_OK) {
            return Some(format!("{} is not writable: {}", path.display(), e.desc()));
        }
    }
    None
}
