//! Privileged: 1,000 create/enter/remove cycles leave mounts, pins, fds and threads as
//! they were. Only the test's own mounts (under its tmpfs) are compared, so other mounts
//! coming and going on the host do not matter.
#![allow(clippy::unwrap_used)]

mod common;

use common::{in_private_mount_ns, names};
use netns::{IdMapping, NetNs};

const CYCLES: usize = 1000;

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn thousand_cycles_leave_mountinfo_and_pin_dir_unchanged() {
    in_private_mount_ns(
        "thousand_cycles_leave_mountinfo_and_pin_dir_unchanged",
        |dir| {
            // the first creation binds the directory onto itself and makes it shared: that is
            // the directory's lasting state, so the snapshot is taken after it
            let base = dir.parent().unwrap();
            let untouched = common::mountinfo_of(base);
            NetNs::create_in(dir, "warmup").unwrap().remove().unwrap();
            let mounts_before = common::mountinfo_of(base);
            let added: Vec<&String> = mounts_before
                .iter()
                .filter(|l| !untouched.contains(l))
                .collect();
            assert_eq!(added.len(), 1, "only the pin dir's self-bind: {added:?}");
            assert_eq!(added[0].split(' ').nth(4), dir.to_str());
            assert!(untouched.iter().all(|u| mounts_before.contains(u)));
            let pins_before = names(dir);
            let fds_before = fd_count();
            let threads_before = thread_count();
            let ours = common::ns_inode("/proc/thread-self/ns/net");
            let maps = [IdMapping {
                container_id: 0,
                host_id: 100_000,
                size: 65_536,
            }];
            for i in 0..CYCLES {
                let ns = match i % 100 {
                    0 => NetNs::create_with_userns(dir, "leak-userns", &maps, &maps).unwrap(),
                    n if n % 2 == 1 => NetNs::create_random_in(dir).unwrap(),
                    _ => NetNs::create_in(dir, "leak").unwrap(),
                };
                let inside = ns
                    .run_in(|| common::ns_inode("/proc/thread-self/ns/net"))
                    .unwrap();
                assert_ne!(inside, ours);
                if i % 100 == 50 {
                    let st = ns.command("true").unwrap().status().unwrap();
                    assert!(st.success());
                }
                ns.remove().unwrap();
            }
            assert_eq!(
                common::mountinfo_of(base),
                mounts_before,
                "our mounts changed"
            );
            assert_eq!(names(dir), pins_before, "pin dir changed");
            assert_eq!(fd_count(), fds_before, "fd leak");
            assert_eq!(thread_count(), threads_before, "thread leak");
            assert_eq!(common::ns_inode("/proc/thread-self/ns/net"), ours);
        },
    );
}
