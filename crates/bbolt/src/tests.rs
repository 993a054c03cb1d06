//! Unit tests of the file handling that the Go peer cannot reach: torn metas, files
//! without a freelist, damaged pages, page reuse, refusals.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::format::{Meta, NO_FREELIST, PAGE_HEADER};
use crate::{Db, Error};

fn put(path: &Path, bucket: &[u8], key: &[u8], value: &[u8]) {
    Db::open(path)
        .unwrap()
        .update(|tx| {
            tx.create_bucket_if_not_exists(bucket)?.put(key, value)?;
            Ok::<_, Error>(())
        })
        .unwrap();
}

fn get(path: &Path, bucket: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    Db::open_read_only(path)
        .unwrap()
        .view(|tx| {
            let b = tx.bucket(bucket);
            Ok::<_, Error>(b.and_then(|b| b.get(key)).map(<[u8]>::to_vec))
        })
        .unwrap()
}

/// Both metas of the file, by slot.
fn metas(path: &Path) -> [Meta; 2] {
    let data = std::fs::read(path).unwrap();
    [0, 4096].map(|at| Meta::parse(&data[at + PAGE_HEADER..]).unwrap())
}

fn write_meta(path: &Path, meta: &Meta) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(&meta.page(), (meta.txid % 2) * 4096)
        .unwrap();
}

#[test]
fn a_torn_latest_meta_falls_back_to_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    put(&path, b"b", b"k", b"one");
    put(&path, b"b", b"k", b"two");
    let latest = metas(&path).into_iter().max_by_key(|m| m.txid).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    // a meta half written: the first bytes of a different meta, the rest stale
    file.write_all_at(&[0xAA; 20], (latest.txid % 2) * 4096 + 40)
        .unwrap();
    assert_eq!(get(&path, b"b", b"k").as_deref(), Some(&b"one"[..]));
    put(&path, b"b", b"k", b"three");
    assert_eq!(get(&path, b"b", b"k").as_deref(), Some(&b"three"[..]));
    assert_eq!(
        Db::open(&path).unwrap().check().unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn both_metas_broken_is_corrupt_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    put(&path, b"b", b"k", b"v");
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all_at(&[0; 4], 16).unwrap();
    file.write_all_at(&[0; 4], 4096 + 16).unwrap();
    let err = Db::open(&path)
        .unwrap()
        .view(|_| Ok::<_, Error>(()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "bbolt file {} is corrupt: no valid meta page (page 0: meta magic is not bbolt's; \
             page 1: meta magic is not bbolt's)",
            path.display()
        )
    );
}

#[test]
fn a_root_past_the_high_water_mark_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    put(&path, b"b", b"k", b"v");
    let mut latest = metas(&path).into_iter().max_by_key(|m| m.txid).unwrap();
    latest.root = latest.high_water;
    write_meta(&path, &latest);
    let err = Db::open(&path).unwrap().check().unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { reason, .. } if reason.contains("past")),
        "{err}"
    );
}

#[test]
fn a_file_without_a_freelist_is_read_and_gets_one_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    put(&path, b"b", b"k", &[7; 9000]);
    put(&path, b"b", b"k", b"small");
    let mut latest = metas(&path).into_iter().max_by_key(|m| m.txid).unwrap();
    // As bbolt with NoFreelistSync writes it; the old freelist page becomes free space.
    latest.freelist = NO_FREELIST;
    write_meta(&path, &latest);
    assert_eq!(get(&path, b"b", b"k").as_deref(), Some(&b"small"[..]));
    put(&path, b"b", b"k2", b"more");
    assert_ne!(
        metas(&path)
            .into_iter()
            .max_by_key(|m| m.txid)
            .unwrap()
            .freelist,
        NO_FREELIST
    );
    assert_eq!(
        Db::open(&path).unwrap().check().unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn freed_pages_are_reused_so_the_file_stops_growing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut sizes = Vec::new();
    for round in 0..20u8 {
        put(&path, b"b", b"big", &[round; 20000]);
        sizes.push(std::fs::metadata(&path).unwrap().len());
    }
    // each version needs its pages plus the previous version's, never more
    assert_eq!(sizes[19], sizes[5], "sizes: {sizes:?}");
}

#[test]
fn a_read_only_db_refuses_a_write_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    put(&path, b"b", b"k", b"v");
    let mut db = Db::open_read_only(&path).unwrap();
    let err = db.update(|_| Ok::<_, Error>(())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("bbolt file {} is open read-only", path.display())
    );
}

#[test]
fn bad_keys_and_kind_mismatches_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    put(&path, b"b", b"k", b"v");
    let mut db = Db::open(&path).unwrap();
    let err = db
        .update(|tx| {
            let b = tx.bucket_mut(b"b").unwrap();
            b.put(b"k", b"changed")?;
            b.put(b"", b"v")
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "key \"\": a key must not be empty");
    let err = db
        .update(|tx| tx.bucket_mut(b"b").unwrap().delete_bucket(b"k"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "key \"k\" holds a value, not what the operation expects"
    );
    let err = db
        .update(|tx| tx.create_bucket(b"b").map(|_| ()))
        .unwrap_err();
    assert_eq!(err.to_string(), "bucket \"b\" already exists");
    drop(db);
    assert_eq!(get(&path, b"b", b"k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_change_rewrites_only_its_leaf_and_the_pages_above() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut db = Db::open(&path).unwrap();
    db.update(|tx| {
        let b = tx.create_bucket(b"many")?;
        for i in 0..600u32 {
            b.put(format!("key-{i:04}").as_bytes(), &[i as u8; 50])?;
        }
        Ok::<_, Error>(())
    })
    .unwrap();
    let before = std::fs::read(&path).unwrap();
    db.update(|tx| tx.bucket_mut(b"many").unwrap().put(b"key-0300", b"changed"))
        .unwrap();
    let after = std::fs::read(&path).unwrap();
    // the last page is the one bbolt keeps past the high water mark, zero
    let pages = after.len() / 4096 - 1;
    let changed = (0..pages)
        .filter(|i| before.get(i * 4096..(i + 1) * 4096) != after.get(i * 4096..(i + 1) * 4096))
        .count();
    // the leaf, the bucket's branch page, the root bucket's leaf, the freelist, the meta
    // (a whole-bucket rewrite would touch the ~11 leaves of "many")
    assert_eq!(changed, 5);
}
