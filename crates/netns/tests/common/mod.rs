//! Harness for the privileged suites: each test re-runs itself inside a throwaway private
//! mount namespace (`unshare -m --propagation private`) with a tmpfs pin directory, so the
//! host's mounts and `/run/netns` are never touched.
#![allow(dead_code, clippy::unwrap_used)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in the re-executed child to the name of the test it runs.
const INNER_ENV: &str = "PODNET_NETNS_TEST_INNER";
/// The directory the outer test made for the child's tmpfs.
const BASE_ENV: &str = "PODNET_NETNS_TEST_BASE";

/// Says why a test cannot run, through the one skip path (a failure under `cargo xtask ci`).
pub fn skip(test: &str, reason: &str) {
    testkit::skip(test, reason);
}

/// Whether this process is the re-executed child for `test`.
pub fn is_inner(test: &str) -> bool {
    std::env::var(INNER_ENV).as_deref() == Ok(test)
}

/// How the child's namespaces are made.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// A private mount namespace (as root).
    MountNs,
    /// A new user namespace mapping root to root, plus a private mount namespace: lets a
    /// test change per-user-namespace limits without touching the host's.
    UserAndMountNs,
}

/// Runs `body(pin_dir)` in a private mount namespace with a fresh tmpfs at `pin_dir`'s
/// parent. `test` must be the test function's name (it is re-run with `--exact`).
pub fn in_private_mount_ns(test: &str, body: impl FnOnce(&Path)) {
    isolated(test, Isolation::MountNs, body);
}

/// As [`in_private_mount_ns`], with the chosen isolation.
pub fn isolated(test: &str, how: Isolation, body: impl FnOnce(&Path)) {
    if is_inner(test) {
        let base = PathBuf::from(std::env::var(BASE_ENV).unwrap());
        nix::mount::mount(
            Some("tmpfs"),
            &base,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some("mode=0755,size=256m"),
        )
        .unwrap();
        body(&base.join("netns"));
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        skip(
            test,
            "needs root (mount namespaces, tmpfs, network namespaces)",
        );
        return;
    }
    let base = tempfile::Builder::new().prefix("pntns").tempdir().unwrap();
    let mut cmd = Command::new("unshare");
    if how == Isolation::UserAndMountNs {
        cmd.args(["--user", "--map-root-user"]);
    }
    cmd.args(["--mount", "--propagation", "private"])
        .arg(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(INNER_ENV, test)
        .env(BASE_ENV, base.path());
    let out = cmd.output().unwrap();
    testkit::assert_child_ran(test, &out);
    // the tmpfs lived only in the child's mount namespace: the host dir is still empty
    assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
}

/// The mountinfo lines of this process.
pub fn mountinfo() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap()
}

/// The mountinfo lines of the mounts at `base` or below it: what a test made in its own
/// directory, whatever other processes mount elsewhere meanwhile.
pub fn mountinfo_of(base: &Path) -> Vec<String> {
    let base = base.to_str().unwrap();
    let below = format!("{base}/");
    mountinfo()
        .lines()
        .filter(|l| {
            l.split(' ')
                .nth(4)
                .is_some_and(|m| m == base || m.starts_with(&below))
        })
        .map(str::to_string)
        .collect()
}

/// Mount points and roots of every mount at `path`, from `/proc/self/mountinfo`.
pub fn mounts_at(path: &Path) -> Vec<(String, bool)> {
    let want = path.to_str().unwrap();
    mountinfo()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[4] == want).then(|| {
                let shared = f[6..]
                    .iter()
                    .take_while(|x| **x != "-")
                    .any(|x| x.starts_with("shared:"));
                (f[3].to_string(), shared)
            })
        })
        .collect()
}

/// Mount points strictly below `dir` (pins), from `/proc/self/mountinfo`.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = format!("{}/", dir.to_str().unwrap());
    mountinfo()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

/// The inode of a namespace file (what `readlink /proc/PID/ns/net` shows in brackets).
pub fn ns_inode(path: impl AsRef<Path>) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

/// Names in a directory, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}
