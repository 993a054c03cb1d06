//! Persistent network namespaces, as `ip netns` and podman make them: create, pin, enter,
//! remove, rootful and rootless, plus namespaces owned by their own user namespace.
//!
//! A namespace is *pinned* by bind-mounting it onto an empty file in a pin directory
//! (`/run/netns`, or `$XDG_RUNTIME_DIR/netns` rootless), so it outlives the process that
//! made it. Every creation locks the directory, makes it a shared mount, creates the pin
//! with `O_EXCL` and undoes its own work on failure; removal detach-unmounts and unlinks
//! and never spins on EBUSY. Namespaces are entered only on a throwaway thread
//! ([`NetNs::run_in`]) or in a child between fork and exec ([`CommandExt`]).
//!
//! A failed creation removes everything that call made: the pin file, its mount, the
//! directory's self-bind and the directory itself when the call created them. A process
//! killed between creating a pin file and mounting it leaves an empty file that
//! [`sweep`] removes; [`remove`] refuses anything that is neither a mounted namespace nor
//! such an empty file.
//!
//! Requires: Linux ≥ 5.8 (pidfd, `statx` mount ids) with `/proc` mounted; root, or an unprivileged user inside its own
//! user and mount namespace (`unshare -Urm`, `podman unshare`) for anything that creates,
//! enters or removes. [`create_with_userns`](NetNs::create_with_userns) as a non-root user
//! uses `newuidmap`/`newgidmap` (package uidmap).
//!
//! # One example per operation (with the `ip netns` equivalent)
//!
//! ```no_run
//! use netns::{CommandExt, NetNs};
//! use std::process::Command;
//!
//! # fn main() -> Result<(), netns::Error> {
//! // ip netns add blue               (in /run/netns, or $XDG_RUNTIME_DIR/netns rootless)
//! let blue = NetNs::create_named("blue")?;
//! // ip netns add netns-<uuid>        (a random free name, as podman picks)
//! let anon = NetNs::create()?;
//! // ip netns add red                 (with /tmp/pins in place of /run/netns)
//! let red = NetNs::create_in("/tmp/pins", "red")?;
//! // ip netns add netns-<uuid>        (random name, with /tmp/pins in place of /run/netns)
//! let anon2 = NetNs::create_random_in("/tmp/pins")?;
//! // ip netns exec blue ...           (for Rust code: runs on a thread that dies after)
//! let dev = blue.run_in(|| std::fs::read_to_string("/proc/thread-self/net/dev"))?;
//! // ip netns exec blue ip link show  (setns between fork and exec)
//! let status = blue.command("ip")?.args(["link", "show"]).status();
//! let status2 = Command::new("ip").netns(&red)?.args(["addr"]).status();
//! // ip netns exec red true           (open an existing pin, or /proc/PID/ns/net)
//! let again = NetNs::open("/tmp/pins/red")?;
//! // ip netns list                    (the directory and a liveness check)
//! let dir = netns::run_dir()?;
//! let live = netns::is_netns(dir.join("blue"));
//! // (no ip equivalent) remove pins whose mount is gone after a crash
//! let swept: Vec<std::path::PathBuf> = netns::sweep(&dir)?;
//! // ip netns del blue / ip netns del red
//! blue.remove()?;
//! netns::remove("/tmp/pins/red")?;
//! # let _ = (anon, anon2, dev, status, status2, again, live, swept);
//! # Ok(()) }
//! ```
//!
//! A namespace owned by a new user namespace (containerd's pinned-userns design; `ip` has
//! no equivalent, the nearest is `unshare -U --map-users=... -n` plus `ip netns attach`):
//!
//! ```no_run
//! use netns::{IdMapping, NetNs};
//!
//! # fn main() -> Result<(), netns::Error> {
//! let uids = [IdMapping { container_id: 0, host_id: 100_000, size: 65_536 }];
//! let gids = uids;
//! let pod = NetNs::create_with_userns("/run/netns", "pod1", &uids, &gids)?;
//! let userns = pod.owner_userns()?; // an fd of the user namespace, for setns(2)
//! # let _ = userns;
//! # Ok(()) }
//! ```

mod command;
mod create;
mod error;
mod mountinfo;
mod name;
mod netns;
mod pindir;
mod remove;
mod rundir;
mod userns;

pub use command::CommandExt;
pub use error::{Error, Holder, Holders};
pub use netns::NetNs;
pub use remove::{is_netns, remove, sweep};
pub use rootless_detect::IdMapping;
pub use rundir::{run_dir, ROOTFUL_RUN_DIR};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
