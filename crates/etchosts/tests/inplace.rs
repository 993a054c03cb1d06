//! In-place guarantees on real files: the inode never changes, a concurrent reader never
//! sees an empty file, symlinks and directories are refused.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use etchosts::{hosts, resolvconf, Error, HostEntry};

fn ino(p: &Path) -> u64 {
    fs::metadata(p).unwrap().ino()
}

fn entry(ip: &str, names: &[&str]) -> HostEntry {
    HostEntry::new(ip.parse().unwrap(), names.iter().copied())
}

#[test]
fn inode_is_unchanged_by_every_operation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    let params = hosts::HostsParams {
        container_ips: vec![entry("10.88.0.5", &["ctr", "h"])],
        target_file: path.clone(),
        ..Default::default()
    };
    hosts::new(&params).unwrap();
    let inode = ino(&path);
    let steps: Vec<Box<dyn Fn()>> = vec![
        Box::new(|| hosts::add(&path, &[entry("10.89.0.5", &["other"])]).unwrap()),
        Box::new(|| {
            hosts::add_if_exists(
                &path,
                &[entry("10.88.0.5", &["ctr"])],
                &[entry("10.90.0.5", &["ctr", "h"])],
            )
            .unwrap()
        }),
        Box::new(|| hosts::remove(&path, &[entry("10.88.0.5", &["ctr"])]).unwrap()),
        Box::new(|| hosts::new(&params).unwrap()),
        Box::new(|| hosts::repair(&path).unwrap()),
    ];
    for step in &steps {
        step();
        assert_eq!(ino(&path), inode);
    }
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "127.0.0.1\tlocalhost\n::1\tlocalhost\n10.88.0.5\tctr h\n"
    );

    let rpath = dir.path().join("resolv.conf");
    let host = dir.path().join("host-resolv.conf");
    fs::write(&host, "search a\nnameserver 1.1.1.1\n").unwrap();
    let mut rp = resolvconf::ResolvParams::new(&rpath);
    rp.host.resolv_conf = host;
    resolvconf::new(&rp).unwrap();
    let rinode = ino(&rpath);
    resolvconf::add_nameservers(&rpath, &["10.89.0.1".parse().unwrap()]).unwrap();
    assert_eq!(ino(&rpath), rinode);
    resolvconf::remove_nameservers(&rpath, &["1.1.1.1".parse().unwrap()]).unwrap();
    assert_eq!(ino(&rpath), rinode);
    rp.searches = vec!["b".into()];
    resolvconf::new(&rp).unwrap();
    assert_eq!(ino(&rpath), rinode);
    assert_eq!(
        fs::read_to_string(&rpath).unwrap(),
        "search b\nnameserver 1.1.1.1\n"
    );
    // No journal is left behind.
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 3, "{left:?}");
}

#[test]
fn a_spinning_reader_never_sees_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    let base: String = (0..50).map(|i| format!("10.0.{i}.1\tbase{i}\n")).collect();
    fs::write(&path, &base).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (stop, reads, path) = (stop.clone(), reads.clone(), path.clone());
        std::thread::spawn(move || {
            let mut empty = 0;
            while !stop.load(Ordering::Relaxed) {
                if fs::read(&path).unwrap().is_empty() {
                    empty += 1;
                }
                reads.fetch_add(1, Ordering::Relaxed);
            }
            empty
        })
    };
    // the reader is reading before the writes begin, and reads while they go on
    while reads.load(Ordering::Relaxed) == 0 {
        std::thread::yield_now();
    }
    let before = reads.load(Ordering::Relaxed);
    for i in 0..500 {
        let e = entry(
            &format!("10.1.{}.{}", i / 250, i % 250 + 1),
            &[&format!("n{i}")],
        );
        hosts::add(&path, std::slice::from_ref(&e)).unwrap();
        hosts::remove(&path, &[e]).unwrap();
    }
    let during = reads.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    let empty = reader.join().unwrap();
    assert_eq!(empty, 0, "reader saw an empty file {empty} times");
    assert!(
        during > 0,
        "the reader did not read while the writes went on"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), base);
}

#[test]
fn symlinks_and_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    fs::write(&outside, "1.1.1.1\tkeep\n").unwrap();
    let link = dir.path().join("hosts");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let err = hosts::add(&link, &[entry("2.2.2.2", &["x"])]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotRegularFile {
                kind: "symlink",
                ..
            }
        ),
        "{err}"
    );
    let params = hosts::HostsParams {
        target_file: link.clone(),
        ..Default::default()
    };
    assert!(matches!(
        hosts::new(&params),
        Err(Error::NotRegularFile { .. })
    ));
    assert_eq!(fs::read_to_string(&outside).unwrap(), "1.1.1.1\tkeep\n");

    let sub = dir.path().join("adir");
    fs::create_dir(&sub).unwrap();
    let err = resolvconf::add_nameservers(&sub, &["1.1.1.1".parse().unwrap()]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotRegularFile {
                kind: "directory",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("adir"), "{err}");
}

#[test]
fn over_long_line_in_target_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    let mut content = b"1.1.1.1 a\n2.2.2.2 ".to_vec();
    content.extend(std::iter::repeat_n(b'b', hosts::MAX_LINE));
    fs::write(&path, &content).unwrap();
    let err = hosts::remove(&path, &[entry("1.1.1.1", &["a"])]).unwrap_err();
    assert!(matches!(err, Error::LineTooLong { line: 2, .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), content);
}

#[test]
fn racing_creators_all_succeed_and_leave_one_complete_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    let params = Arc::new(hosts::HostsParams {
        container_ips: vec![entry("10.88.0.7", &["racer"])],
        target_file: path.clone(),
        ..Default::default()
    });
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let p = params.clone();
            std::thread::spawn(move || hosts::new(&p))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "127.0.0.1\tlocalhost\n::1\tlocalhost\n10.88.0.7\tracer\n"
    );
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["hosts"]);
}
