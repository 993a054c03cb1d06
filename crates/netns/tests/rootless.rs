//! Rootless: run by `cargo xtask integration` as the unprivileged user `podnet-ci` (with
//! `XDG_RUNTIME_DIR` set). Outside a user namespace creation must fail and say what to do;
//! inside one of its own (`unshare -Urm`, with the user's subuid range mapped as well) the
//! user creates, enters and removes namespaces under `$XDG_RUNTIME_DIR/netns`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{is_inner, ns_inode, skip};
use netns::{Error, IdMapping, NetNs};

const INNER_ENV: &str = "PODNET_NETNS_TEST_INNER";

fn unprivileged(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        skip(
            test,
            "must run as an unprivileged user (`cargo xtask integration` runs it as podnet-ci)",
        );
        return false;
    }
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        skip(test, "XDG_RUNTIME_DIR is not set");
        return false;
    }
    true
}

fn expected_run_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR").unwrap()).join("netns")
}

fn listed(dir: &std::path::Path) -> Vec<String> {
    if dir.exists() {
        common::names(dir)
    } else {
        Vec::new()
    }
}

#[test]
fn outside_a_user_namespace_creation_says_why_and_what_to_do() {
    let test = "outside_a_user_namespace_creation_says_why_and_what_to_do";
    if !unprivileged(test) {
        return;
    }
    let dir = netns::run_dir().unwrap();
    assert_eq!(dir, expected_run_dir());
    let name = format!("pntnsrl{}", std::process::id());
    let existed = dir.exists();
    let before = listed(&dir);
    let attempts = [
        NetNs::create_named(&name).map(drop),
        NetNs::create().map(drop),
        NetNs::create_with_userns(
            &dir,
            &name,
            &[IdMapping {
                container_id: 0,
                host_id: 200_000,
                size: 10,
            }],
            &[IdMapping {
                container_id: 0,
                host_id: 200_000,
                size: 10,
            }],
        )
        .map(drop),
    ];
    for attempt in attempts {
        let err = attempt.unwrap_err();
        assert!(matches!(err, Error::NotPermitted { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("CAP_SYS_ADMIN"), "says why: {msg}");
        assert!(msg.contains("unshare -Urm"), "says what to do: {msg}");
    }
    assert_eq!(listed(&dir), before, "nothing left behind");
    assert_eq!(dir.exists(), existed, "not even the directory");
}

/// The current user's first subordinate uid and gid ranges, if any.
fn subid_range(file: &str) -> Option<(u32, u32)> {
    let user = std::env::var("USER").ok()?;
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == user).then_some(())?;
        Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
    })
}

#[test]
fn inside_its_own_user_namespace_a_user_creates_enters_and_removes() {
    let test = "inside_its_own_user_namespace_a_user_creates_enters_and_removes";
    if is_inner(test) {
        inner();
        return;
    }
    if !unprivileged(test) {
        return;
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user", "--mount"]);
    let subids = (subid_range("/etc/subuid"), subid_range("/etc/subgid"));
    if let (Some((u, uc)), Some((g, gc))) = subids {
        cmd.arg(format!("--map-users={u},1,{uc}"));
        cmd.arg(format!("--map-groups={g},1,{gc}"));
    } else {
        skip(
            test,
            "no /etc/subuid or /etc/subgid range: mapping a single id only",
        );
    }
    let out = cmd
        .arg(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(INNER_ENV, test)
        .output()
        .unwrap();
    testkit::assert_child_ran(test, &out);
}

fn inner() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "root in our own user namespace"
    );
    assert!(rootless_detect::is_rootless(), "and still rootless");
    let dir = netns::run_dir().unwrap();
    assert_eq!(dir, expected_run_dir());
    let existed = dir.exists();
    let before = listed(&dir);
    let ours = ns_inode("/proc/thread-self/ns/net");

    let name = format!("pntnsrl{}", std::process::id());
    let ns = NetNs::create_named(&name).unwrap();
    assert!(netns::is_netns(dir.join(&name)));
    let (inside, dev) = ns
        .run_in(|| {
            (
                ns_inode("/proc/thread-self/ns/net"),
                std::fs::read_to_string("/proc/thread-self/net/dev").unwrap(),
            )
        })
        .unwrap();
    assert_ne!(inside, ours);
    assert_eq!(dev.lines().count(), 3, "only lo: {dev}");
    let out = ns
        .command("readlink")
        .unwrap()
        .arg("/proc/self/ns/net")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("net:[{inside}]")
    );
    assert_eq!(ns_inode("/proc/thread-self/ns/net"), ours);
    ns.remove().unwrap();
    assert!(!dir.join(&name).exists());

    let random = NetNs::create().unwrap();
    assert!(random.name().unwrap().starts_with("netns-"));
    assert_eq!(
        random.path().parent(),
        Some(std::fs::canonicalize(&dir).unwrap().as_path())
    );
    random.remove().unwrap();

    // several ranges, all within what our own namespace has mapped
    let mapped_ids = std::fs::read_to_string("/proc/self/uid_map").unwrap();
    let maps: Vec<IdMapping> = if mapped_ids.lines().count() > 1 {
        vec![
            IdMapping {
                container_id: 0,
                host_id: 0,
                size: 1,
            },
            IdMapping {
                container_id: 1,
                host_id: 1,
                size: 1000,
            },
            IdMapping {
                container_id: 2000,
                host_id: 5000,
                size: 100,
            },
        ]
    } else {
        vec![IdMapping {
            container_id: 0,
            host_id: 0,
            size: 1,
        }]
    };
    let pod = NetNs::create_with_userns(&dir, &format!("{name}-pod"), &maps, &maps).unwrap();
    let owner = nix::sys::stat::fstat(pod.owner_userns().unwrap())
        .unwrap()
        .st_ino;
    assert_ne!(owner, ns_inode("/proc/self/ns/user"));
    pod.remove().unwrap();

    assert!(netns::sweep(&dir).unwrap().is_empty());
    assert_eq!(listed(&dir), before, "pin dir as before");
    if !existed {
        // the self-bind lives only in this mount namespace; take it off to rmdir
        nix::mount::umount2(&dir, nix::mount::MntFlags::MNT_DETACH).unwrap();
        std::fs::remove_dir(&dir).unwrap();
    }
}
