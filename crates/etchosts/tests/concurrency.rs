//! Concurrency: 16 processes each make 200 add/remove pairs of their own entries on one
//! hosts file while another process, podman-style, takes a classic POSIX `fcntl` write
//! lock (F_SETLKW) at random moments and rewrites the file under it. At the end exactly
//! the expected lines remain: none lost, none duplicated. A lock that did not exclude
//! the POSIX locker would let its read-sleep-write cycle wipe out edits made meanwhile.
//!
//! The file lives on tmpfs (/dev/shm) when there is one, like podman's rootful
//! `/run/containers/storage/.../userdata`: this test is about locking, and fsync on the
//! disk of a small VM would make its ~6,000 edits take a minute.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use etchosts::{hosts, HostEntry};
use nix::fcntl::{fcntl, FcntlArg};
use rand::Rng;

const ROLE: &str = "ETCHOSTS_CONC_ROLE";
const TEST: &str = "sixteen_writers_and_a_posix_locker_lose_nothing";
const WRITERS: usize = 16;
const PAIRS: usize = 200;

fn entry(p: usize, i: usize) -> HostEntry {
    HostEntry::new(
        format!("10.{}.{}.{}", 100 + p, i / 200, i % 200 + 1)
            .parse()
            .unwrap(),
        [format!("w{p}-e{i}")],
    )
}

/// Entry `i` of writer `p` stays unless `i % 4 != 0` (then it is removed again).
fn kept(i: usize) -> bool {
    i % 4 == 0
}

fn writer(p: usize, path: &Path) {
    for i in 0..PAIRS {
        let e = entry(p, i);
        hosts::add(path, std::slice::from_ref(&e)).unwrap();
        if !kept(i) {
            hosts::remove(path, &[e]).unwrap();
        }
    }
}

fn posix_lock(f: &fs::File, kind: libc::c_int) {
    let fl = libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    fcntl(f, FcntlArg::F_SETLKW(&fl)).unwrap();
}

/// Podman-style: POSIX write lock, read, pause, write back, unlock; until `stop` exists.
fn locker(path: &Path, stop: &Path) {
    let mut rng = rand::thread_rng();
    let mut rounds = 0;
    while !stop.exists() {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        posix_lock(&f, libc::F_WRLCK);
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..3000)));
        f.seek(SeekFrom::Start(0)).unwrap();
        f.set_len(0).unwrap();
        f.write_all(&content).unwrap();
        posix_lock(&f, libc::F_UNLCK);
        drop(f);
        rounds += 1;
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..5000)));
    }
    println!("locker-rounds={rounds}");
}

fn spawn(role: &str, path: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(ROLE, format!("{role}:{}", path.display()))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn work_dir() -> tempfile::TempDir {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new().prefix("pntetc").tempdir_in(&shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

#[test]
fn sixteen_writers_and_a_posix_locker_lose_nothing() {
    if let Ok(spec) = std::env::var(ROLE) {
        let (role, path) = spec.split_once(':').unwrap();
        let path = Path::new(path);
        match role {
            "locker" => locker(path, &path.with_file_name("stop")),
            w => writer(w.parse().unwrap(), path),
        }
        return;
    }
    let dir = work_dir();
    let path = dir.path().join("hosts");
    let base = "127.0.0.1\tlocalhost\n::1\tlocalhost\n";
    fs::write(&path, base).unwrap();

    let locker_child = spawn("locker", &path);
    let writers: Vec<Child> = (0..WRITERS).map(|p| spawn(&p.to_string(), &path)).collect();
    for mut w in writers {
        assert!(w.wait().unwrap().success(), "a writer failed");
    }
    fs::write(dir.path().join("stop"), "").unwrap();
    let out = locker_child.wait_with_output().unwrap();
    assert!(out.status.success(), "the locker failed");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rounds: usize = stdout
        .split("locker-rounds=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        rounds > 0,
        "the POSIX locker never held its lock while the writers ran"
    );

    let content = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = content.lines().collect();
    let unique: HashSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), lines.len(), "duplicated lines");
    let mut expected: HashSet<String> = base.lines().map(str::to_string).collect();
    for p in 0..WRITERS {
        for i in (0..PAIRS).filter(|&i| kept(i)) {
            let e = entry(p, i);
            expected.insert(format!("{}\t{}", e.ip, e.names[0]));
        }
    }
    let got: HashSet<String> = unique.iter().map(|s| s.to_string()).collect();
    let lost: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "lost {lost:?}, unexpected {extra:?}"
    );
    assert_eq!(lines.len(), 2 + WRITERS * PAIRS / 4);
    assert!(content.starts_with(base));
    eprintln!(
        "{} lines as expected; the POSIX locker held its lock {rounds} times",
        lines.len()
    );
}
