//! Crash safety: a writer SIGKILLed at random points of a loop of commits, or by a
//! failpoint after the data pages are synced or in the middle of its meta page write,
//! leaves a file that passes bbolt's `tx.Check()` and holds exactly one committed
//! version, the last one it reported or the one it was committing.
//!
//! No test harness: the same binary is the writer when `BBOLT_CRASH_CHILD` names a file.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{go_check, go_dump, hex, peer, unhex, Tree};
use rand::{Rng, SeedableRng};

const BUCKET: &[u8] = b"crash";

/// The content of version `i`: sizes, keys and nested buckets vary with `i`, so commits
/// add, change and delete values, overflow pages and buckets.
fn model(i: u64) -> Tree {
    let mut t = Tree::default();
    t.values
        .insert(hex(b"version"), hex(i.to_string().as_bytes()));
    for j in 0..(i % 40) {
        let len = ((i * 7 + j * 13) % 300) as usize;
        let key = format!("key-{:03}", (j * 3 + i) % 97);
        t.values
            .insert(hex(key.as_bytes()), hex(&vec![(i + j) as u8; len]));
    }
    if i % 2 == 0 {
        t.values.insert(
            hex(b"big"),
            hex(&vec![i as u8; 5000 + (i % 7) as usize * 1000]),
        );
    }
    let mut nested = Tree::default();
    nested
        .values
        .insert(hex(b"v"), hex(i.to_string().as_bytes()));
    t.buckets
        .insert(hex(format!("nested-{}", i % 3).as_bytes()), nested);
    let mut root = Tree::default();
    root.buckets.insert(hex(BUCKET), t);
    root
}

/// Brings `b` to `t` with the fewest changes (puts and deletes, not a rebuild).
fn sync(b: &mut bbolt::Bucket, t: &Tree) {
    let stale: Vec<(Vec<u8>, bool)> = b
        .iter()
        .filter(|(k, e)| match e {
            bbolt::Entry::Value(_) => !t.values.contains_key(&hex(k)),
            bbolt::Entry::Bucket(_) => !t.buckets.contains_key(&hex(k)),
        })
        .map(|(k, e)| (k.to_vec(), matches!(e, bbolt::Entry::Bucket(_))))
        .collect();
    for (k, is_bucket) in stale {
        if is_bucket {
            b.delete_bucket(&k).unwrap();
        } else {
            b.delete(&k).unwrap();
        }
    }
    for (k, v) in &t.values {
        b.put(&unhex(k), &unhex(v)).unwrap();
    }
    for (k, child) in &t.buckets {
        sync(b.create_bucket_if_not_exists(&unhex(k)).unwrap(), child);
    }
}

fn version_of(tree: &Tree) -> u64 {
    let v = &tree.buckets[&hex(BUCKET)].values[&hex(b"version")];
    String::from_utf8(unhex(v)).unwrap().parse().unwrap()
}

/// The writer: commits version after version, reporting each one on stdout.
fn child(path: &Path) {
    let mut out = std::io::stdout();
    let start = bbolt::Db::open(path)
        .unwrap()
        .view(|tx| {
            let v = tx
                .bucket(BUCKET)
                .and_then(|b| b.get(b"version"))
                .unwrap_or(b"0");
            Ok::<_, bbolt::Error>(String::from_utf8_lossy(v).parse::<u64>().unwrap())
        })
        .unwrap();
    writeln!(out, "ready {start}").unwrap();
    for i in start + 1.. {
        let mut db = bbolt::Db::open(path).unwrap();
        let want = model(i);
        db.update(|tx| {
            if i % 10 == 0 {
                tx.delete_bucket(BUCKET)?; // now and then a rebuild
            }
            sync(
                tx.create_bucket_if_not_exists(BUCKET)?,
                &want.buckets[&hex(BUCKET)],
            );
            Ok::<_, bbolt::Error>(())
        })
        .unwrap();
        drop(db);
        writeln!(out, "committed {i}").unwrap();
    }
}

/// Runs a writer until `kill` has waited, or a failpoint killed it; returns the last
/// version it reported committed and the version it started from.
fn run_writer(path: &Path, failpoint: Option<&str>, wait: Duration) -> (u64, u64) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("BBOLT_CRASH_CHILD", path).stdout(Stdio::piped());
    if let Some(f) = failpoint {
        cmd.env("BBOLT_FAILPOINT", f);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let start: u64 = ready.strip_prefix("ready ").unwrap().parse().unwrap();
    if failpoint.is_none() {
        std::thread::sleep(wait);
        child.kill().unwrap(); // SIGKILL
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer was meant to die");
    let last = lines
        .map_while(Result::ok)
        .filter_map(|l| {
            l.strip_prefix("committed ")
                .map(|v| v.parse::<u64>().unwrap())
        })
        .last()
        .unwrap_or(start);
    (last, start)
}

fn main() {
    if let Some(path) = std::env::var_os("BBOLT_CRASH_CHILD") {
        child(Path::new(&path));
        return;
    }
    let Some(peer) = peer("crash") else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut db = bbolt::Db::open(&path).unwrap();
    db.update(|tx| {
        sync(tx.create_bucket(BUCKET)?, &model(0).buckets[&hex(BUCKET)]);
        Ok::<_, bbolt::Error>(())
    })
    .unwrap();
    drop(db);
    let mut kills = 0;
    let mut version = 0;
    let mut rounds = Vec::new();
    for _ in 0..3 {
        rounds.push(Some("after-data"));
        rounds.push(Some("torn-meta"));
    }
    rounds.extend(std::iter::repeat_n(None, 40));
    for (n, failpoint) in rounds.into_iter().enumerate() {
        let wait = Duration::from_micros(rng.gen_range(0..40_000));
        let (last, start) = run_writer(&path, failpoint, wait);
        go_check(peer, &path);
        let found = go_dump(peer, &path);
        version = version_of(&found);
        if failpoint.is_some() {
            assert_eq!(
                version, start,
                "round {n}: a failpoint before the meta kept the old version"
            );
        } else {
            assert!(
                version == last || version == last + 1,
                "round {n}: found version {version}, last reported {last}"
            );
        }
        assert_eq!(
            found,
            model(version),
            "round {n}: content of version {version}"
        );
        let db = bbolt::Db::open_read_only(&path).unwrap();
        assert_eq!(db.check().unwrap(), Vec::<String>::new(), "round {n}");
        kills += 1;
    }
    println!("crash: {kills} writers killed over {version} versions, every file consistent");
    // libtest's summary line, which `cargo xtask` counts
    println!("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}
