//! Privileged: network namespaces owned by their own user namespace, and why they matter.
#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Output};

use common::{in_private_mount_ns, mounts_at, names, ns_inode};
use netns::{Error, IdMapping, NetNs};
use nix::sched::{setns, unshare, CloneFlags};

fn maps() -> Vec<IdMapping> {
    vec![
        IdMapping {
            container_id: 0,
            host_id: 200_000,
            size: 1000,
        },
        IdMapping {
            container_id: 1000,
            host_id: 300_000,
            size: 1000,
        },
        IdMapping {
            container_id: 5000,
            host_id: 400_000,
            size: 10,
        },
    ]
}

fn fd_ino(fd: impl AsFd) -> u64 {
    nix::sys::stat::fstat(fd).unwrap().st_ino
}

/// Runs `program` as a process that joined `netns`, then `userns`, then a fresh mount
/// namespace, and (when `sysfs_at` is given) mounted sysfs there before exec.
fn spawn_in(
    netns: &NetNs,
    userns: OwnedFd,
    sysfs_at: Option<&Path>,
    program: &str,
    args: &[&str],
) -> std::io::Result<Output> {
    let net = netns.try_clone_fd().unwrap();
    let target = sysfs_at.map(|p| CString::new(p.to_str().unwrap()).unwrap());
    let sysfs = CString::new("sysfs").unwrap();
    let mut cmd = Command::new(program);
    cmd.args(args);
    let hook = move || -> std::io::Result<()> {
        setns(&net, CloneFlags::CLONE_NEWNET)?;
        setns(&userns, CloneFlags::CLONE_NEWUSER)?;
        unshare(CloneFlags::CLONE_NEWNS)?;
        if let Some(t) = &target {
            nix::mount::mount(
                Some(sysfs.as_c_str()),
                t.as_c_str(),
                Some(sysfs.as_c_str()),
                nix::mount::MsFlags::empty(),
                None::<&std::ffi::CStr>,
            )?;
        }
        Ok(())
    };
    // SAFETY: the hook makes raw syscalls only (setns, unshare, mount) on data prepared
    // before fork; it allocates nothing.
    unsafe { cmd.pre_exec(hook) };
    cmd.output()
}

#[test]
fn userns_owned_netns_has_the_maps_and_its_owner() {
    in_private_mount_ns("userns_owned_netns_has_the_maps_and_its_owner", |dir| {
        let ns = NetNs::create_with_userns(dir, "pod", &maps(), &maps()).unwrap();
        assert!(netns::is_netns(ns.path()));
        assert_eq!(names(dir), ["pod"]);
        let owner = ns.owner_userns().unwrap();
        let owner_ino = fd_ino(&owner);
        assert_ne!(
            owner_ino,
            ns_inode("/proc/self/ns/user"),
            "not our user namespace"
        );
        // the same owner is found again from the pin alone
        let reopened = NetNs::open(ns.path()).unwrap();
        assert_eq!(fd_ino(reopened.owner_userns().unwrap()), owner_ino);
        let out = spawn_in(
            &ns,
            owner,
            None,
            "cat",
            &["/proc/self/uid_map", "/proc/self/gid_map"],
        )
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let want = [
            vec!["0", "200000", "1000"],
            vec!["1000", "300000", "1000"],
            vec!["5000", "400000", "10"],
        ];
        assert_eq!(lines[..3], want[..], "uid_map: {text}");
        assert_eq!(lines[3..], want[..], "gid_map: {text}");
        // root of the initial namespace still enters it like any other
        let dev = ns
            .run_in(|| std::fs::read_to_string("/proc/thread-self/net/dev").unwrap())
            .unwrap();
        assert_eq!(dev.lines().count(), 3, "only lo: {dev}");
        let pin = ns.path().to_path_buf();
        ns.remove().unwrap();
        assert!(names(dir).is_empty());
        assert!(mounts_at(&pin).is_empty());
    });
}

#[test]
fn only_a_userns_owned_netns_lets_its_userns_mount_sysfs() {
    in_private_mount_ns(
        "only_a_userns_owned_netns_lets_its_userns_mount_sysfs",
        |dir| {
            let owned = NetNs::create_with_userns(dir, "owned", &maps(), &maps()).unwrap();
            let plain = NetNs::create_in(dir, "plain").unwrap();
            let target = dir.parent().unwrap().join("sys");
            std::fs::create_dir(&target).unwrap();
            let target_s = target.to_str().unwrap().to_string();
            let ls = format!("{target_s}/class/net");

            // a process in the pod's user namespace, joined to the netns that namespace owns
            let out = spawn_in(
                &owned,
                owned.owner_userns().unwrap(),
                Some(&target),
                "ls",
                &[&ls],
            )
            .expect("mounting sysfs for a userns-owned netns works");
            assert!(out.status.success(), "{out:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                "lo",
                "sysfs of that netns"
            );

            // the same process, joined to a netns owned by the initial user namespace
            let err = spawn_in(
                &plain,
                owned.owner_userns().unwrap(),
                Some(&target),
                "ls",
                &[&ls],
            )
            .expect_err("mounting sysfs for an init-owned netns is refused");
            assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");

            // the mounts lived in the children's mount namespaces only
            assert!(mounts_at(&target).is_empty());
            owned.remove().unwrap();
            plain.remove().unwrap();
            assert!(names(dir).is_empty());
        },
    );
}

#[test]
fn failed_userns_creation_leaves_nothing_behind() {
    in_private_mount_ns("failed_userns_creation_leaves_nothing_behind", |dir| {
        // a range running past the top of the id space: the kernel refuses the map
        let bad = [IdMapping {
            container_id: 0,
            host_id: u32::MAX - 5,
            size: 100,
        }];
        let before = common::mountinfo();
        match NetNs::create_with_userns(dir, "bad", &bad, &maps()) {
            Err(Error::IdMap { which, .. }) => assert_eq!(which, "uid_map"),
            other => panic!("{other:?}"),
        }
        assert!(
            !dir.exists(),
            "no pin file, and not the directory this call made"
        );
        assert_eq!(common::mountinfo(), before, "no mount left");
        // the helper child was reaped: no child (and no zombie) is left
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let children = std::fs::read_to_string(task.unwrap().path().join("children")).unwrap();
            assert!(children.trim().is_empty(), "left children: {children}");
        }
        match NetNs::create_with_userns(dir, "a/b", &maps(), &maps()) {
            Err(Error::InvalidName { .. }) => {}
            other => panic!("{other:?}"),
        }
    });
}

/// The account whose /etc/subuid and /etc/subgid ranges the non-root path maps.
const SUBID_USER: &str = "podnet-ci";
const NEWUIDMAP_ENV: &str = "PODNET_NETNS_NEWUIDMAP_DIR";

/// Creates the test account the way `cargo xtask integration` does, when it is missing.
fn ensure_subid_user() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, SUBID_USER]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    if id("-u").is_none() {
        let ok = Command::new("useradd")
            .args(["-m", "-s", "/bin/bash", SUBID_USER])
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("usermod")
                .args([
                    "--add-subuids",
                    "200000-265535",
                    "--add-subgids",
                    "200000-265535",
                ])
                .arg(SUBID_USER)
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    Some((id("-u")?, id("-g")?))
}

/// The first subordinate range of `SUBID_USER` in `file`.
fn first_subid_range(file: &str) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == SUBID_USER).then_some(())?;
        Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
    })
}

#[test]
fn non_root_caller_maps_several_ranges_through_newuidmap() {
    if let Ok(dir) = std::env::var(NEWUIDMAP_ENV) {
        // here: uid podnet-ci with CAP_SYS_ADMIN only (ambient), so not root: the maps go
        // through newuidmap/newgidmap, which check them against /etc/subuid and /etc/subgid
        assert!(!nix::unistd::geteuid().is_root());
        let (start, count) = first_subid_range("/etc/subuid").unwrap();
        let (gstart, gcount) = first_subid_range("/etc/subgid").unwrap();
        assert!(count >= 2000 && gcount >= 2000);
        let uids = [
            IdMapping {
                container_id: 0,
                host_id: start,
                size: 1000,
            },
            IdMapping {
                container_id: 1000,
                host_id: start + 1000,
                size: 1000,
            },
        ];
        let gids = [
            IdMapping {
                container_id: 0,
                host_id: gstart,
                size: 500,
            },
            IdMapping {
                container_id: 500,
                host_id: gstart + 1500,
                size: 500,
            },
        ];
        let ns = NetNs::create_with_userns(&dir, "subid", &uids, &gids).unwrap();
        let owner = ns.owner_userns().unwrap();
        let out = spawn_in(
            &ns,
            owner,
            None,
            "cat",
            &["/proc/self/uid_map", "/proc/self/gid_map"],
        )
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let got: Vec<String> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let want = [
            format!("0 {start} 1000"),
            format!("1000 {} 1000", start + 1000),
            format!("0 {gstart} 500"),
            format!("500 {} 500", gstart + 1500),
        ];
        assert_eq!(got, want);
        // ranges outside the allocation are refused by newuidmap, and nothing is left
        let outside = [IdMapping {
            container_id: 0,
            host_id: 1,
            size: 10,
        }];
        match NetNs::create_with_userns(&dir, "refused", &outside, &gids) {
            Err(Error::IdMap { which, detail, .. }) => {
                assert_eq!(which, "uid_map");
                assert!(detail.contains("newuidmap"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!Path::new(&dir).join("refused").exists());
        ns.remove().unwrap();
        return;
    }
    in_private_mount_ns(
        "non_root_caller_maps_several_ranges_through_newuidmap",
        |dir| {
            let Some((uid, gid)) = ensure_subid_user() else {
                common::skip(
                    "non_root_caller_maps_several_ranges_through_newuidmap",
                    "cannot create the test account podnet-ci",
                );
                return;
            };
            std::fs::create_dir(dir).unwrap();
            nix::unistd::chown(dir, Some(uid.into()), Some(gid.into())).unwrap();
            // the checkout may sit where podnet-ci cannot read: run a copy from our tmpfs
            let exe = dir.parent().unwrap().join("test-binary");
            std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
            let out = Command::new("setpriv")
                .args([
                    &format!("--reuid={uid}"),
                    &format!("--regid={gid}"),
                    "--clear-groups",
                    "--inh-caps=+sys_admin",
                    "--ambient-caps=+sys_admin",
                ])
                .arg(&exe)
                .args([
                    "non_root_caller_maps_several_ranges_through_newuidmap",
                    "--exact",
                    "--nocapture",
                ])
                .env_remove("PODNET_NETNS_TEST_INNER")
                .env(NEWUIDMAP_ENV, dir)
                .output()
                .unwrap();
            testkit::assert_child_ran(
                "non_root_caller_maps_several_ranges_through_newuidmap",
                &out,
            );
            assert!(names(dir).is_empty());
            assert!(common::mounts_under(dir).is_empty());
        },
    );
}
