//! bbolt's whole-file `flock`, seen from another process (util-linux `flock -n`, the same
//! flock(2) lock bbolt takes): a writer excludes everyone, readers exclude writers only,
//! and dropping the `Db` releases it.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

/// Whether another process gets the lock at once (`shared` or exclusive).
fn others_get(path: &Path, shared: bool) -> bool {
    let mut c = Command::new("flock");
    c.arg("-n");
    if shared {
        c.arg("-s");
    }
    c.arg(path).arg("true").status().unwrap().success()
}

#[test]
fn a_writer_excludes_everyone_and_readers_exclude_writers() {
    if Command::new("flock").arg("--version").output().is_err() {
        testkit::skip(
            "a_writer_excludes_everyone_and_readers_exclude_writers",
            "no util-linux `flock`",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lock.db");
    let writer = bbolt::Db::open(&path).unwrap();
    assert!(!others_get(&path, true), "a reader got in beside a writer");
    assert!(!others_get(&path, false), "a writer got in beside a writer");
    drop(writer);
    assert!(
        others_get(&path, false),
        "the writer's lock outlived its Db"
    );
    let reader = bbolt::Db::open_read_only(&path).unwrap();
    assert!(others_get(&path, true), "a reader was kept out by a reader");
    assert!(!others_get(&path, false), "a writer got in beside a reader");
    drop(reader);
}
