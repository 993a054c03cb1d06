//! Crash safety: a writer killed mid-edit (at a compiled-in failpoint, or by SIGKILL at
//! a random moment) leaves a file that the next call repairs to the intended content.
//! Children are this test binary re-executed with `ETCHOSTS_CRASH_CHILD` set.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use etchosts::{hosts, HostEntry};
use rand::Rng;

const CHILD: &str = "ETCHOSTS_CRASH_CHILD";

fn entry(ip: &str, name: &str) -> HostEntry {
    HostEntry::new(ip.parse().unwrap(), [name])
}

fn base() -> String {
    (1..=40)
        .map(|i| format!("10.0.0.{i}\thost{i} alias{i}\n"))
        .collect()
}

/// Child side: `op:PATH` runs one edit; `loop:PATH` edits until killed.
fn child(spec: &str) {
    let (op, path) = spec.split_once(':').unwrap();
    match op {
        "remove" => hosts::remove(path, &[entry("10.0.0.1", "host1")]).unwrap(),
        "add" => hosts::add(path, &[entry("10.9.9.9", "added")]).unwrap(),
        "loop" => {
            for i in 0u32.. {
                let e = entry(
                    &format!("10.8.{}.{}", (i / 200) % 200, i % 200 + 1),
                    &format!("n{i}"),
                );
                hosts::add(path, std::slice::from_ref(&e)).unwrap();
                hosts::remove(path, &[e]).unwrap();
                if i == 0 {
                    // the parent kills only a writer that is writing
                    fs::write(ready_of(Path::new(path)), "").unwrap();
                }
            }
        }
        other => panic!("unknown child op {other}"),
    }
}

fn spawn(test: &str, spec: &str, failpoint: Option<&str>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, spec);
    match failpoint {
        Some(fp) => cmd.env("ETCHOSTS_FAILPOINT", fp),
        None => cmd.env_remove("ETCHOSTS_FAILPOINT"),
    };
    cmd.spawn().unwrap()
}

fn ready_of(path: &Path) -> PathBuf {
    path.with_file_name("writer-ready")
}

fn journal_of(path: &Path) -> PathBuf {
    path.with_file_name(".hosts.etchosts-journal")
}

#[test]
fn failpoint_kills_are_repaired_by_the_next_call() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let base = base();
    let removed = base.replacen("10.0.0.1\thost1 alias1\n", "", 1);
    let added = format!("{base}10.9.9.9\tadded\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    for (op, intended) in [("remove", &removed), ("add", &added)] {
        for fp in [
            "after-journal",
            "mid-write",
            "before-truncate",
            "after-sync",
        ] {
            fs::write(&path, &base).unwrap();
            let inode = fs::metadata(&path).unwrap().ino();
            let status = spawn(
                "failpoint_kills_are_repaired_by_the_next_call",
                &format!("{op}:{}", path.display()),
                Some(fp),
            )
            .wait()
            .unwrap();
            assert_eq!(
                status.signal(),
                Some(libc::SIGKILL),
                "{op} {fp}: child was not killed at the failpoint"
            );
            assert!(
                journal_of(&path).exists(),
                "{op} {fp}: no journal left by the killed writer"
            );
            let torn = fs::read_to_string(&path).unwrap();
            match fp {
                "after-journal" => assert_eq!(&torn, &base, "{op} {fp}"),
                // Half the new content over the old: torn when removing; for an add
                // that half is a prefix of the old content, so it reads as the old file.
                "mid-write" => assert!(
                    &torn != intended && (op == "add" || torn != base),
                    "{op} {fp}: not torn"
                ),
                "before-truncate" if op == "remove" => {
                    assert!(&torn != intended && torn.len() == base.len(), "{op} {fp}")
                }
                _ => assert_eq!(&torn, intended, "{op} {fp}"),
            }
            hosts::repair(&path).unwrap();
            assert_eq!(
                &fs::read_to_string(&path).unwrap(),
                intended,
                "{op} {fp}: not repaired"
            );
            assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
            assert!(
                !journal_of(&path).exists(),
                "{op} {fp}: journal not removed"
            );
        }
    }
    // Any edit repairs first, not only `repair`.
    fs::write(&path, &base).unwrap();
    let status = spawn(
        "failpoint_kills_are_repaired_by_the_next_call",
        &format!("remove:{}", path.display()),
        Some("mid-write"),
    )
    .wait()
    .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    hosts::add(&path, &[entry("10.7.7.7", "next")]).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{removed}10.7.7.7\tnext\n")
    );
}

#[test]
fn writers_killed_at_random_moments_are_repaired() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    let base = base();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    fs::write(&path, &base).unwrap();
    let inode = fs::metadata(&path).unwrap().ino();
    let mut rng = rand::thread_rng();
    let mut with_journal = 0;
    for round in 0..25 {
        let _ = fs::remove_file(ready_of(&path));
        let mut c = spawn(
            "writers_killed_at_random_moments_are_repaired",
            &format!("loop:{}", path.display()),
            None,
        );
        // killed only once it writes (its first add and remove are done), at a random
        // moment of its loop
        while !ready_of(&path).exists() {
            assert!(
                c.try_wait().unwrap().is_none(),
                "round {round}: the writer ended before it was ready"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..20_000)));
        c.kill().unwrap();
        let status = c.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "round {round}: child ended on its own: {status}"
        );
        if journal_of(&path).exists() {
            with_journal += 1;
        }
        hosts::repair(&path).unwrap();
        let now = fs::read_to_string(&path).unwrap();
        let extra = now
            .strip_prefix(base.as_str())
            .unwrap_or_else(|| panic!("round {round}: base damaged:\n{now}"));
        let ok = extra.is_empty()
            || (extra.starts_with("10.8.")
                && extra.ends_with('\n')
                && extra.matches('\n').count() == 1
                && extra.contains("\tn"));
        assert!(ok, "round {round}: unexpected tail {extra:?}");
        assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
        hosts::remove(&path, &hosts_in(extra)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), base);
    }
    eprintln!("{with_journal} of 25 kills left a journal to replay");
    // some kills landed inside an edit: the repair replayed a journal, not just a clean file
    assert!(
        with_journal > 0,
        "no kill of 25 interrupted a write: the test did not test repair"
    );
}

fn hosts_in(line: &str) -> Vec<HostEntry> {
    let mut f = line.split_whitespace();
    match (f.next(), f.next()) {
        (Some(ip), Some(name)) => vec![entry(ip, name)],
        _ => Vec::new(),
    }
}
