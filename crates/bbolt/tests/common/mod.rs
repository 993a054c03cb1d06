//! Shared by the integration tests: the Go peer (built once per test binary against
//! Debian's go.etcd.io/bbolt in GOPATH mode), and a plain model of a database's content
//! (`Tree`, the JSON the peer reads and writes) with conversions from and to this crate.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use serde::{Deserialize, Serialize};

const BBOLT_SOURCE: &str = "/usr/share/gocode/src/go.etcd.io/bbolt/db.go";

/// One bucket: sequence, values and nested buckets, keys and values in hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    pub seq: u64,
    pub values: BTreeMap<String, String>,
    pub buckets: BTreeMap<String, Tree>,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Says why the Go peer is missing; a failure under CI, where it must be there.
pub fn skip(test: &str, reason: &str) {
    testkit::skip(test, reason);
}

/// Removes what earlier test processes built in `work` (entries named `*-PID` whose
/// process is gone).
pub fn sweep(work: &Path) {
    let Ok(entries) = std::fs::read_dir(work) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, pid)) = name.rsplit_once('-') else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let path = entry.path();
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
    }
}

fn build_peer() -> Result<PathBuf, String> {
    if Command::new("go").arg("version").output().is_err() {
        return Err("no `go` toolchain (golang-go)".into());
    }
    if !Path::new(BBOLT_SOURCE).exists() {
        return Err(format!(
            "no bbolt source at {BBOLT_SOURCE} (golang-github-coreos-bbolt-dev)"
        ));
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bbolt-go-peer");
    // One GOPATH and binary per test process (test binaries may build at once); one
    // shared build cache.
    sweep(&work);
    let gopath = work.join(format!("gopath-{}", std::process::id()));
    let src = gopath.join("src/bboltpeer");
    std::fs::create_dir_all(&src).map_err(|e| e.to_string())?;
    // through the crates directory, so podnet's suites can include this file too
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bbolt/tests/go_peer/main.go");
    std::fs::copy(here, src.join("main.go")).map_err(|e| e.to_string())?;
    let bin = work.join(format!("peer-{}", std::process::id()));
    testkit::GoBuild {
        target: "bboltpeer",
        out: &bin,
        gopath: Some(&gopath),
        cache: &work.join("cache"),
        dir: None,
    }
    .run()?;
    Ok(bin)
}

/// The Go peer, or `None` (after [`skip`]) when it cannot be built here.
pub fn peer(test: &str) -> Option<&'static Path> {
    static PEER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PEER.get_or_init(build_peer) {
        Ok(p) => Some(p),
        Err(reason) => {
            skip(test, reason);
            None
        }
    }
}

/// bbolt's `tx.Check()` (and a Get of every key) on `db`; panics with Go's findings.
pub fn go_check(peer: &Path, db: &Path) {
    let out = Command::new(peer).arg("check").arg(db).output().unwrap();
    assert!(
        out.status.success(),
        "bbolt's check of {} failed:\n{}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The content of `db` as bbolt reads it.
pub fn go_dump(peer: &Path, db: &Path) -> Tree {
    let out = Command::new(peer).arg("dump").arg(db).output().unwrap();
    assert!(
        out.status.success(),
        "bbolt's dump of {} failed:\n{}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Makes bbolt replace the content of `db` by `tree` (page size `page_size` if it
/// creates the file, 0 for bbolt's default).
pub fn go_load(peer: &Path, db: &Path, tree: &Tree, page_size: u32) {
    let mut child = Command::new(peer)
        .arg("load")
        .arg(db)
        .arg(page_size.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(tree).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "bbolt's load of {} failed:\n{}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tree_of(b: &bbolt::Bucket) -> Tree {
    let mut t = Tree {
        seq: b.sequence(),
        ..Tree::default()
    };
    for (k, entry) in b.iter() {
        match entry {
            bbolt::Entry::Value(v) => {
                t.values.insert(hex(k), hex(v));
            }
            bbolt::Entry::Bucket(child) => {
                t.buckets.insert(hex(k), tree_of(child));
            }
        }
    }
    t
}

/// The content of `db` as this crate reads it.
pub fn rust_dump(db: &Path) -> Tree {
    let db = bbolt::Db::open_read_only(db).unwrap();
    db.view(|tx| {
        let mut root = Tree::default();
        for (k, entry) in tx.buckets() {
            if let bbolt::Entry::Bucket(b) = entry {
                root.buckets.insert(hex(k), tree_of(b));
            }
        }
        Ok::<_, bbolt::Error>(root)
    })
    .unwrap()
}

fn fill(b: &mut bbolt::Bucket, t: &Tree) {
    for (k, v) in &t.values {
        b.put(&unhex(k), &unhex(v)).unwrap();
    }
    for (k, child) in &t.buckets {
        fill(b.create_bucket(&unhex(k)).unwrap(), child);
    }
    b.set_sequence(t.seq);
}

/// Makes this crate replace the content of `db` by `tree` in one transaction.
pub fn rust_load(db: &mut bbolt::Db, tree: &Tree) {
    db.update(|tx| {
        let names: Vec<Vec<u8>> = tx.buckets().map(|(k, _)| k.to_vec()).collect();
        for name in names {
            tx.delete_bucket(&name)?;
        }
        for (k, child) in &tree.buckets {
            fill(tx.create_bucket(&unhex(k))?, child);
        }
        Ok::<_, bbolt::Error>(())
    })
    .unwrap();
}

/// Enters private mount and network namespaces on this thread, with tmpfs where rootful
/// podman keeps its network state (`ipam.db`, netavark's config) and over `/run/netns`.
/// Processes spawned from the thread inherit them.
pub fn isolate() {
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET).unwrap();
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .unwrap();
    for dir in ["/run/containers/networks", "/run/netns"] {
        std::fs::create_dir_all(dir).unwrap();
        mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("mode=0755"),
        )
        .unwrap();
    }
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(up.success());
}

/// Prepares `base` for a podman of its own: a `containers.conf` (the system's plus a
/// `network_config_dir` of `base/networks`) and a busybox root filesystem in
/// `base/rootfs`.
pub fn podman_base(base: &Path) {
    let system = std::fs::read_to_string("/etc/containers/containers.conf").unwrap_or_default();
    assert!(
        !system.contains("[network]"),
        "the system containers.conf has a [network] table"
    );
    let netconf = base.join("networks");
    std::fs::create_dir_all(&netconf).unwrap();
    std::fs::write(
        base.join("containers.conf"),
        format!(
            "{system}\n[network]\nnetwork_config_dir = \"{}\"\n",
            netconf.display()
        ),
    )
    .unwrap();
    let rootfs = base.join("rootfs/bin");
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("busybox")).unwrap();
}

/// podman with its own `--root`, `--runroot`, `--tmpdir` and `CONTAINERS_CONF` under
/// `base` (see [`podman_base`]).
pub fn podman_command(base: &Path) -> Command {
    let mut c = Command::new("podman");
    c.arg("--root")
        .arg(base.join("root"))
        .arg("--runroot")
        .arg(base.join("runroot"))
        .arg("--tmpdir")
        .arg(base.join("tmp"))
        .arg("--storage-driver")
        .arg("vfs")
        .env("CONTAINERS_CONF", base.join("containers.conf"));
    c
}
