//! Privileged: create, pin, enter, remove, sweep, each in a throwaway mount namespace.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use common::{in_private_mount_ns, isolated, mounts_at, names, ns_inode, Isolation};
use netns::{CommandExt, Error, NetNs};

fn fd_inode(ns: &NetNs) -> u64 {
    nix::sys::stat::fstat(ns.as_fd()).unwrap().st_ino
}

#[test]
fn create_in_pins_and_remove_unpins() {
    in_private_mount_ns("create_in_pins_and_remove_unpins", |dir| {
        let ns = NetNs::create_in(dir, "pntns-a").unwrap();
        let pin = dir.join("pntns-a");
        assert_eq!(
            ns.path(),
            std::fs::canonicalize(dir).unwrap().join("pntns-a")
        );
        assert!(netns::is_netns(&pin));
        let ino = ns_inode(&pin);
        assert_eq!(fd_inode(&ns), ino, "fd and pin are the same namespace");
        assert_ne!(
            ino,
            ns_inode("/proc/self/ns/net"),
            "a new namespace, not ours"
        );
        let pin_canon = ns.path().to_path_buf();
        assert_eq!(mounts_at(&pin_canon), vec![(format!("net:[{ino}]"), true)]);
        let again = NetNs::open(&pin).unwrap();
        assert_eq!(fd_inode(&again), ino);
        ns.remove().unwrap();
        assert!(!pin.exists());
        assert!(mounts_at(&pin_canon).is_empty());
        // idempotent: removing what is gone is success
        netns::remove(&pin).unwrap();
        assert!(names(dir).is_empty());
    });
}

#[test]
fn pin_dir_is_bound_once_and_shared() {
    in_private_mount_ns("pin_dir_is_bound_once_and_shared", |dir| {
        std::fs::create_dir(dir).unwrap();
        assert!(mounts_at(dir).is_empty(), "not a mount point before");
        let a = NetNs::create_in(dir, "a").unwrap();
        let b = NetNs::create_in(dir, "b").unwrap();
        let c = NetNs::create_random_in(dir).unwrap();
        let at = mounts_at(dir);
        assert_eq!(at.len(), 1, "bound onto itself exactly once: {at:?}");
        assert!(at[0].1, "shared propagation: {at:?}");
        for ns in [a, b, c] {
            ns.remove().unwrap();
        }
    });
}

#[test]
fn pins_propagate_to_a_copied_mount_namespace() {
    in_private_mount_ns("pins_propagate_to_a_copied_mount_namespace", |dir| {
        // make the directory shared first, then start a process with a copy of our mounts
        NetNs::create_in(dir, "first").unwrap().remove().unwrap();
        let mut peer = Command::new("unshare")
            .args(["--mount", "--propagation", "unchanged", "sleep", "30"])
            .spawn()
            .unwrap();
        // wait until the peer runs `sleep`: its mount namespace copy exists by then
        let comm = format!("/proc/{}/comm", peer.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_to_string(&comm).unwrap().trim() != "sleep" {
            assert!(std::time::Instant::now() < deadline, "peer never started");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_ne!(
            std::fs::read_link(format!("/proc/{}/ns/mnt", peer.id())).unwrap(),
            std::fs::read_link("/proc/self/ns/mnt").unwrap()
        );
        let peer_info = format!("/proc/{}/mountinfo", peer.id());
        let ns = NetNs::create_in(dir, "late").unwrap();
        let ino = fd_inode(&ns);
        let seen = std::fs::read_to_string(&peer_info).unwrap();
        assert!(
            seen.contains(&format!("net:[{ino}]")),
            "the peer sees the new pin"
        );
        ns.remove().unwrap();
        let seen = std::fs::read_to_string(&peer_info).unwrap();
        assert!(!seen.contains(&format!("net:[{ino}]")), "and its removal");
        peer.kill().unwrap();
        peer.wait().unwrap();
    });
}

#[test]
fn random_names_are_distinct_and_prefixed() {
    in_private_mount_ns("random_names_are_distinct_and_prefixed", |dir| {
        let all: Vec<NetNs> = (0..3)
            .map(|_| NetNs::create_random_in(dir).unwrap())
            .collect();
        let mut got: Vec<String> = all.iter().map(|n| n.name().unwrap().to_string()).collect();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), 3);
        assert!(
            got.iter().all(|n| n.starts_with("netns-") && n.len() == 42),
            "{got:?}"
        );
        assert_eq!(names(dir), got);
        for ns in all {
            ns.remove().unwrap();
        }
        assert!(names(dir).is_empty());
    });
}

#[test]
fn existing_name_is_refused_and_left_intact() {
    in_private_mount_ns("existing_name_is_refused_and_left_intact", |dir| {
        let first = NetNs::create_in(dir, "taken").unwrap();
        let ino = fd_inode(&first);
        match NetNs::create_in(dir, "taken") {
            Err(Error::CreatePin { source, .. }) => {
                assert_eq!(source.raw_os_error(), Some(libc::EEXIST))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ns_inode(dir.join("taken")),
            ino,
            "the first pin is untouched"
        );
        assert_eq!(mounts_at(first.path()).len(), 1);
        assert!(matches!(
            NetNs::create_in(dir, "../escape"),
            Err(Error::InvalidName { .. })
        ));
        first.remove().unwrap();
        assert!(names(dir).is_empty());
    });
}

#[test]
fn failed_creation_leaves_no_file_and_no_mount() {
    // a user namespace of our own whose limit of network namespaces is 0: unshare fails
    // after the pin file exists, and the call must take the file away again
    isolated(
        "failed_creation_leaves_no_file_and_no_mount",
        Isolation::UserAndMountNs,
        |dir| {
            std::fs::write("/proc/sys/user/max_net_namespaces", "0").unwrap();
            let before = common::mountinfo();
            // the directory does not exist yet: the call makes it, binds it, then fails
            let err = NetNs::create_in(dir, "doomed").unwrap_err();
            assert!(matches!(err, Error::Unshare { .. }), "{err:?}");
            assert!(!dir.exists(), "the directory this call made is gone again");
            assert_eq!(
                common::mountinfo(),
                before,
                "no mount left, not even the self-bind"
            );
            // an existing plain directory: left as it was, empty and not a mount
            std::fs::create_dir(dir).unwrap();
            let err = NetNs::create_random_in(dir).unwrap_err();
            assert!(matches!(err, Error::Unshare { .. }), "{err:?}");
            assert!(names(dir).is_empty(), "no pin file left");
            assert_eq!(common::mountinfo(), before);
            // an existing shared pin directory keeps its set-up
            std::fs::write("/proc/sys/user/max_net_namespaces", "10").unwrap();
            NetNs::create_in(dir, "ok").unwrap().remove().unwrap();
            std::fs::write("/proc/sys/user/max_net_namespaces", "0").unwrap();
            let set_up = common::mountinfo();
            assert!(NetNs::create_in(dir, "doomed").is_err());
            assert_eq!(common::mountinfo(), set_up);
            assert!(names(dir).is_empty());
        },
    );
}

#[test]
fn run_in_enters_on_a_fresh_thread_only() {
    in_private_mount_ns("run_in_enters_on_a_fresh_thread_only", |dir| {
        let ns = NetNs::create_in(dir, "enter").unwrap();
        let ours = ns_inode("/proc/thread-self/ns/net");
        let me = std::thread::current().id();
        let (inside, dev, tid1) = ns
            .run_in(|| {
                (
                    ns_inode("/proc/thread-self/ns/net"),
                    std::fs::read_to_string("/proc/thread-self/net/dev").unwrap(),
                    std::thread::current().id(),
                )
            })
            .unwrap();
        let tid2 = ns.run_in(|| std::thread::current().id()).unwrap();
        assert_eq!(inside, fd_inode(&ns));
        let ifaces: Vec<&str> = dev
            .lines()
            .skip(2)
            .map(|l| l.split(':').next().unwrap().trim())
            .collect();
        assert_eq!(ifaces, ["lo"], "a fresh namespace has only loopback");
        assert_ne!(tid1, me);
        assert_ne!(tid1, tid2, "a new thread per call");
        assert_eq!(
            ns_inode("/proc/thread-self/ns/net"),
            ours,
            "caller never moved"
        );
        ns.remove().unwrap();
    });
}

#[test]
fn run_in_reports_a_panic_as_an_error() {
    in_private_mount_ns("run_in_reports_a_panic_as_an_error", |dir| {
        let ns = NetNs::create_in(dir, "panicky").unwrap();
        let ours = ns_inode("/proc/thread-self/ns/net");
        let r: Result<(), Error> = ns.run_in(|| panic!("boom in netns"));
        match r {
            Err(Error::Panicked { message, path }) => {
                assert_eq!(message, "boom in netns");
                assert_eq!(path, ns.path());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ns_inode("/proc/thread-self/ns/net"), ours);
        ns.remove().unwrap();
    });
}

#[test]
fn commands_run_inside_the_namespace() {
    in_private_mount_ns("commands_run_inside_the_namespace", |dir| {
        let ns = NetNs::create_in(dir, "cmd").unwrap();
        let ino = fd_inode(&ns);
        let out = ns
            .command("readlink")
            .unwrap()
            .arg("/proc/self/ns/net")
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("net:[{ino}]")
        );
        let out = Command::new("ip")
            .netns(&ns)
            .unwrap()
            .args(["-o", "link"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains(": lo:"), "{text}");
        // the parent is where it was
        assert_ne!(ns_inode("/proc/self/ns/net"), ino);
        ns.remove().unwrap();
    });
}

#[test]
fn remove_takes_off_stacked_duplicate_mounts() {
    in_private_mount_ns("remove_takes_off_stacked_duplicate_mounts", |dir| {
        let ns = NetNs::create_in(dir, "dup").unwrap();
        let pin = ns.path().to_path_buf();
        let flags = nix::mount::MsFlags::MS_BIND;
        nix::mount::mount(Some(&pin), &pin, None::<&str>, flags, None::<&str>).unwrap();
        assert_eq!(mounts_at(&pin).len(), 2);
        ns.remove().unwrap();
        assert!(mounts_at(&pin).is_empty());
        assert!(!pin.exists());
    });
}

#[test]
fn remove_refuses_what_is_not_a_pin() {
    in_private_mount_ns("remove_refuses_what_is_not_a_pin", |dir| {
        std::fs::create_dir_all(dir).unwrap();
        let data = dir.join("data");
        std::fs::write(&data, "x").unwrap();
        assert!(matches!(netns::remove(&data), Err(Error::NotAPin { .. })));
        assert!(matches!(
            netns::remove("/proc/self/ns/net"),
            Err(Error::NotAPin { .. })
        ));
        assert!(matches!(netns::remove(dir), Err(Error::NotAPin { .. })));
        assert!(data.exists());
    });
}

#[test]
fn sweep_removes_only_stale_pins() {
    in_private_mount_ns("sweep_removes_only_stale_pins", |dir| {
        let live = NetNs::create_in(dir, "live").unwrap();
        // what a creator killed between creating the file and mounting leaves behind
        std::fs::File::create(dir.join("stale")).unwrap();
        let removed = netns::sweep(dir).unwrap();
        assert_eq!(removed, vec![dir.join("stale")]);
        assert_eq!(names(dir), ["live"]);
        assert!(netns::is_netns(live.path()));
        assert!(!netns::is_netns(dir.join("stale")));
        live.remove().unwrap();
        assert!(netns::sweep(dir).unwrap().is_empty());
    });
}

/// Runs in a user + mount namespace where the pin's mount is locked (inherited from a more
/// privileged mount namespace): the unmount cannot take it off, unlink stays EBUSY.
const BUSY_PIN_ENV: &str = "PODNET_NETNS_BUSY_PIN";

#[test]
fn busy_pin_is_reported_with_its_holders() {
    if let Ok(pin) = std::env::var(BUSY_PIN_ENV) {
        let pin = Path::new(&pin);
        match netns::remove(pin) {
            Err(Error::Busy {
                holders, attempts, ..
            }) => {
                assert!(attempts > 1);
                let me = std::process::id() as i32;
                assert!(
                    holders
                        .0
                        .iter()
                        .any(|h| h.pid == me && h.mount_point == pin),
                    "{holders}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(netns::is_netns(pin), "still pinned");
        return;
    }
    in_private_mount_ns("busy_pin_is_reported_with_its_holders", |dir| {
        let ns = NetNs::create_in(dir, "busy").unwrap();
        let out = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount"])
            .arg(std::env::current_exe().unwrap())
            .args([
                "busy_pin_is_reported_with_its_holders",
                "--exact",
                "--nocapture",
            ])
            .env_remove("PODNET_NETNS_TEST_INNER")
            .env(BUSY_PIN_ENV, ns.path())
            .output()
            .unwrap();
        testkit::assert_child_ran("busy_pin_is_reported_with_its_holders", &out);
        assert_eq!(ns.path().metadata().unwrap().ino(), fd_inode(&ns));
        ns.remove().unwrap();
        assert!(names(dir).is_empty());
    });
}

#[test]
fn concurrent_creators_bind_the_dir_once_and_never_clash() {
    in_private_mount_ns(
        "concurrent_creators_bind_the_dir_once_and_never_clash",
        |dir| {
            let made: Vec<NetNs> = std::thread::scope(|s| {
                let workers: Vec<_> = (0..6)
                    .map(|w| {
                        s.spawn(move || {
                            (0..10)
                                .map(|i| match i % 2 {
                                    0 => NetNs::create_random_in(dir).unwrap(),
                                    _ => NetNs::create_in(dir, &format!("w{w}-{i}")).unwrap(),
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap())
                    .collect()
            });
            assert_eq!(made.len(), 60);
            assert_eq!(names(dir).len(), 60, "60 distinct pins");
            let at = mounts_at(&std::fs::canonicalize(dir).unwrap());
            assert_eq!(
                at.len(),
                1,
                "the directory was bound onto itself once: {at:?}"
            );
            let mut inodes: Vec<u64> = made.iter().map(fd_inode).collect();
            inodes.sort();
            inodes.dedup();
            assert_eq!(inodes.len(), 60, "60 distinct namespaces");
            for ns in made {
                ns.remove().unwrap();
            }
            assert!(names(dir).is_empty());
            assert!(common::mounts_under(dir).is_empty());
        },
    );
}

#[test]
fn run_dir_pins_interoperate_with_ip_netns() {
    in_private_mount_ns("run_dir_pins_interoperate_with_ip_netns", |_dir| {
        // a tmpfs over /run, in this throwaway mount namespace only
        let flags = nix::mount::MsFlags::empty();
        nix::mount::mount(Some("tmpfs"), "/run", Some("tmpfs"), flags, None::<&str>).unwrap();
        assert_eq!(netns::run_dir().unwrap(), Path::new("/run/netns"));
        // unique names: the host may have its own pins (shadowed by the tmpfs, still listed
        // in mountinfo), and only ours are checked
        let (ours_name, theirs_name) = (
            format!("pntns-ours-{}", std::process::id()),
            format!("pntns-theirs-{}", std::process::id()),
        );
        let ours = NetNs::create_named(&ours_name).unwrap();
        let anon = NetNs::create().unwrap();
        let anon_name = anon.name().unwrap().to_string();
        assert_eq!(ours.path(), Path::new("/run/netns").join(&ours_name));
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().unwrap();
            assert!(out.status.success(), "ip {args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        // iproute2 sees and enters our pins
        let listed = ip(&["netns", "list"]);
        assert!(listed.contains(&ours_name), "{listed}");
        assert!(listed.contains(&anon_name), "{listed}");
        let inside = ip(&["netns", "exec", &ours_name, "readlink", "/proc/self/ns/net"]);
        assert_eq!(inside.trim(), format!("net:[{}]", fd_inode(&ours)));
        // and we open and remove what iproute2 made
        ip(&["netns", "add", &theirs_name]);
        let theirs = NetNs::open(Path::new("/run/netns").join(&theirs_name)).unwrap();
        theirs.remove().unwrap();
        ours.remove().unwrap();
        anon.remove().unwrap();
        let mine = [&ours_name, &anon_name, &theirs_name];
        let listed = ip(&["netns", "list"]);
        assert!(
            mine.iter().all(|n| !listed.contains(n.as_str())),
            "{listed}"
        );
        let left: Vec<String> = common::mounts_under(Path::new("/run/netns"))
            .into_iter()
            .filter(|m| mine.iter().any(|n| m.ends_with(&format!("/{n}"))))
            .collect();
        assert!(left.is_empty(), "our pins are still mounted: {left:?}");
    });
}

#[test]
fn a_shadowed_mount_listed_at_the_same_path_is_not_mistaken_for_the_dir() {
    let test = "a_shadowed_mount_listed_at_the_same_path_is_not_mistaken_for_the_dir";
    in_private_mount_ns(test, |dir| {
        // a mount at `dir`, then a new filesystem over its parent: mountinfo still lists
        // the first mount at `dir`, but path lookup reaches a plain directory
        let parent = dir.parent().unwrap().join("shadow");
        let dir = parent.join("netns");
        std::fs::create_dir_all(&dir).unwrap();
        let flags = nix::mount::MsFlags::empty();
        nix::mount::mount(Some("tmpfs"), &dir, Some("tmpfs"), flags, None::<&str>).unwrap();
        nix::mount::mount(Some("tmpfs"), &parent, Some("tmpfs"), flags, None::<&str>).unwrap();
        std::fs::create_dir(&dir).unwrap();
        assert_eq!(
            mounts_at(&dir).len(),
            1,
            "the shadowed mount is still listed"
        );
        let ns = NetNs::create_in(&dir, "x").unwrap();
        assert!(netns::is_netns(ns.path()));
        let at = mounts_at(&dir);
        assert_eq!(
            at.len(),
            2,
            "the shadowed one plus the new self-bind: {at:?}"
        );
        assert!(at[1].1, "the reachable one is shared");
        ns.remove().unwrap();
        assert!(names(&dir).is_empty());
    });
}
