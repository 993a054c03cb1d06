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
//! // ip netns exec blue true          (by name, in the default pin directory)
//! let blue_again = NetNs::open_by_name("blue")?;
//! // ip netns identify                (the calling thread's own namespace)
//! let mine = NetNs::current_thread()?;
//! // ip -n blue link show             (a NETLINK_ROUTE socket opened inside, used here)
//! let links: Vec<netns::Link> = blue.route_socket()?.links()?;
//! // ip netns list                    (the directory and a liveness check)
//! let dir = netns::run_dir()?;
//! let live = netns::is_netns(dir.join("blue"));
//! // (no ip equivalent) remove pins whose mount is gone after a crash
//! let swept: Vec<std::path::PathBuf> = netns::sweep(&dir)?;
//! // ip netns del blue / ip netns del red
//! blue.remove()?;
//! netns::remove("/tmp/pins/red")?;
//! # let _ = (anon, anon2, dev, status, status2, again, blue_again, mine, links, live, swept);
//! # Ok(()) }
//! ```
//!
//! # Seeing a namespace from a thread inside it: the sysfs pitfall
//!
//! `/sys/class/net` lists the interfaces of the namespace its sysfs was *mounted* in, and
//! `/proc/self/net/...` those of the process's main thread: on a [`NetNs::run_in`] thread
//! both still show the caller's namespace. Read `/proc/thread-self/net/...` there, or ask
//! a netlink socket opened inside ([`NetNs::route_socket`]), or, for a command, mount a
//! fresh sysfs in a new mount namespace (what `ip netns exec` does:
//! `unshare -m sh -c 'mount -t sysfs sysfs /sys && ...'` run through [`NetNs::command`]).
//!
//! # From async code (tokio)
//!
//! The crate has no async API and needs none: namespace work happens on a thread that
//! dies afterwards, never on a runtime worker (which would carry the namespace into every
//! task it runs later). Three patterns, each tested in `tests/embed.rs`:
//!
//! - **Sockets opened inside, used outside** (preferred). A socket belongs to the
//!   namespace it was created in, whatever thread uses it. Create it in `run_in` as a
//!   std socket, set it non-blocking, and hand it to the caller's runtime
//!   (`tokio::net::TcpListener::from_std`, `UdpSocket::from_std`). Registering it with the
//!   reactor inside `run_in` needs the caller's handle entered there
//!   (`let _guard = handle.enter();`), else tokio panics "there is no reactor running";
//!   the same holds for a library that opens a netlink connection with tokio inside the
//!   closure. [`NetNs::route_socket`] is this pattern for rtnetlink: a
//!   `NETLINK_ROUTE` socket made inside, answering for the namespace from any thread.
//! - **A netns-bound task**: a current-thread runtime on the `run_in` thread, for async
//!   code that must itself open connections inside. Call it from a blocking task so the
//!   caller's reactor keeps running.
//! - **Blocking calls** (`create`, `remove`, `links`) from async code go through
//!   `tokio::task::spawn_blocking`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let runtime = tokio::runtime::Runtime::new()?;
//! # runtime.block_on(async {
//! let ns = std::sync::Arc::new(netns::NetNs::open_by_name("blue")?);
//! // sockets opened inside, driven by this runtime
//! let std_listener = ns.run_in(|| -> std::io::Result<_> {
//!     let listener = std::net::TcpListener::bind("127.0.0.1:8080")?;
//!     listener.set_nonblocking(true)?;
//!     Ok(listener)
//! })??;
//! let listener = tokio::net::TcpListener::from_std(std_listener)?;
//! // a netns-bound task: a current-thread runtime on the namespace's own thread
//! let inside = ns.clone();
//! let reply = tokio::task::spawn_blocking(move || {
//!     inside.run_in(|| -> std::io::Result<String> {
//!         let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//!         rt.block_on(async { Ok(format!("{:?}", tokio::net::lookup_host("localhost:80").await?.next())) })
//!     })
//! })
//! .await??;
//! # let _ = (listener, reply?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })
//! # }
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
mod route;
mod rundir;
mod userns;

pub use command::CommandExt;
pub use error::{Error, Holder, Holders};
pub use netns::NetNs;
pub use remove::{is_netns, remove, sweep};
pub use rootless_detect::IdMapping;
pub use route::{Link, RouteSocket};
pub use rundir::{run_dir, ROOTFUL_RUN_DIR};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
