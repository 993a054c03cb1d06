//! Both ways against bbolt itself (Debian's go.etcd.io/bbolt, the version podman 4.3
//! links): what this crate writes passes bbolt's `tx.Check()` and reads back the same in
//! Go, and what Go writes (random trees, several page sizes) reads the same here; random
//! operation sequences (puts, deletes, nested buckets, values large enough for overflow
//! pages, enough keys for branch pages) are checked by Go after every batch.
#![allow(clippy::unwrap_used)]

mod common;

use common::{go_check, go_dump, go_load, hex, peer, rust_dump, rust_load, Tree};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn value(rng: &mut StdRng) -> Vec<u8> {
    let len = match rng.gen_range(0..10) {
        0 => rng.gen_range(4000..20000), // overflow pages
        1 => 0,
        _ => rng.gen_range(1..64),
    };
    (0..len).map(|_| rng.gen()).collect()
}

fn random_tree(rng: &mut StdRng, depth: u32) -> Tree {
    let mut t = Tree {
        seq: if rng.gen_bool(0.2) { rng.gen() } else { 0 },
        ..Tree::default()
    };
    for _ in 0..rng.gen_range(0..if depth == 0 { 200 } else { 30 }) {
        let key: Vec<u8> = (0..rng.gen_range(1..40)).map(|_| rng.gen()).collect();
        t.values.insert(hex(&key), hex(&value(rng)));
    }
    if depth < 3 {
        for _ in 0..rng.gen_range(0..4) {
            let key: Vec<u8> = (0..rng.gen_range(1..12)).map(|_| rng.gen()).collect();
            t.values.remove(&hex(&key));
            t.buckets.insert(hex(&key), random_tree(rng, depth + 1));
        }
    }
    t
}

fn random_root(rng: &mut StdRng) -> Tree {
    let mut root = Tree::default();
    for _ in 0..rng.gen_range(1..6) {
        let name: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.gen()).collect();
        root.buckets.insert(hex(&name), random_tree(rng, 0));
    }
    root
}

#[test]
fn what_rust_writes_go_checks_and_reads_the_same() {
    let Some(peer) = peer("what_rust_writes_go_checks_and_reads_the_same") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rust.db");
    let mut rng = StdRng::seed_from_u64(1);
    drop(bbolt::Db::open(&path).unwrap());
    go_check(peer, &path); // a fresh file
    for round in 0..12 {
        let tree = random_root(&mut rng);
        let mut db = bbolt::Db::open(&path).unwrap();
        rust_load(&mut db, &tree);
        drop(db);
        go_check(peer, &path);
        assert_eq!(go_dump(peer, &path), tree, "round {round}");
    }
}

#[test]
fn what_go_writes_rust_reads_the_same() {
    let Some(peer) = peer("what_go_writes_rust_reads_the_same") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(2);
    for page_size in [0, 1024, 8192, 16384] {
        let path = dir.path().join(format!("go-{page_size}.db"));
        for round in 0..4 {
            let tree = random_root(&mut rng);
            go_load(peer, &path, &tree, page_size);
            assert_eq!(
                rust_dump(&path),
                tree,
                "page size {page_size}, round {round}"
            );
            // and Rust writes on top of Go's file, in Go's page size
            let mut db = bbolt::Db::open(&path).unwrap();
            let mut changed = tree.clone();
            changed
                .buckets
                .insert(hex(b"added by rust"), random_tree(&mut rng, 1));
            rust_load(&mut db, &changed);
            drop(db);
            go_check(peer, &path);
            assert_eq!(go_dump(peer, &path), changed, "page size {page_size}");
        }
    }
}

/// One step of a random sequence, on the bucket at `path` (created if missing).
#[derive(Debug, Clone)]
enum Op {
    Put {
        path: Vec<u8>,
        key: u8,
        len: usize,
        fill: u8,
    },
    Delete {
        path: Vec<u8>,
        key: u8,
    },
    DeleteBucket {
        path: Vec<u8>,
        name: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let path = prop::collection::vec(0u8..3, 1..4);
    let len = prop_oneof![8 => 0usize..80, 1 => 3000usize..12000];
    prop_oneof![
        6 => (path.clone(), 0u8..120, len, any::<u8>())
            .prop_map(|(path, key, len, fill)| Op::Put { path, key, len, fill }),
        3 => (path.clone(), 0u8..120).prop_map(|(path, key)| Op::Delete { path, key }),
        1 => (path, 0u8..3).prop_map(|(path, name)| Op::DeleteBucket { path, name }),
    ]
}

fn bucket_name(n: u8) -> Vec<u8> {
    format!("bucket-{n}").into_bytes()
}

fn key_name(n: u8) -> Vec<u8> {
    format!("key-{n:03}").into_bytes()
}

/// The model's bucket at `path`, created along the way.
fn model_at<'a>(root: &'a mut Tree, path: &[u8]) -> &'a mut Tree {
    path.iter().fold(root, |t, n| {
        t.buckets.entry(hex(&bucket_name(*n))).or_default()
    })
}

fn rust_at<'a>(tx: &'a mut bbolt::TxMut, path: &[u8]) -> &'a mut bbolt::Bucket {
    let mut b = tx
        .create_bucket_if_not_exists(&bucket_name(path[0]))
        .unwrap();
    for n in &path[1..] {
        b = b.create_bucket_if_not_exists(&bucket_name(*n)).unwrap();
    }
    b
}

fn apply(tx: &mut bbolt::TxMut, model: &mut Tree, op: &Op) {
    match op {
        Op::Put {
            path,
            key,
            len,
            fill,
        } => {
            let v = vec![*fill; *len];
            rust_at(tx, path).put(&key_name(*key), &v).unwrap();
            model_at(model, path)
                .values
                .insert(hex(&key_name(*key)), hex(&v));
        }
        Op::Delete { path, key } => {
            rust_at(tx, path).delete(&key_name(*key)).unwrap();
            model_at(model, path).values.remove(&hex(&key_name(*key)));
        }
        Op::DeleteBucket { path, name } => {
            let b = rust_at(tx, path);
            let m = model_at(model, path);
            let gone = m.buckets.remove(&hex(&bucket_name(*name)));
            let r = b.delete_bucket(&bucket_name(*name));
            assert_eq!(r.is_ok(), gone.is_some(), "{r:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_operation_batches_stay_valid_for_bbolt(
        batches in prop::collection::vec(prop::collection::vec(op(), 1..60), 1..6)
    ) {
        let Some(peer) = peer("random_operation_batches_stay_valid_for_bbolt") else {
            return Ok(());
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ops.db");
        let mut model = Tree::default();
        for batch in &batches {
            let mut db = bbolt::Db::open(&path).unwrap();
            db.update(|tx| {
                for op in batch {
                    apply(tx, &mut model, op);
                }
                Ok::<_, bbolt::Error>(())
            }).unwrap();
            prop_assert_eq!(db.check().unwrap(), Vec::<String>::new());
            drop(db);
            go_check(peer, &path);
            prop_assert_eq!(&go_dump(peer, &path), &model);
        }
    }
}
