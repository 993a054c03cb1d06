//! Locked, in-place, crash-safe edits of a container's `/etc/hosts` and `resolv.conf`,
//! with the same bytes as containers/common's `libnetwork/etchosts` and
//! `libnetwork/resolvconf` (what podman writes).
//!
//! Requires: Linux 3.15+ (open file description locks); no privileges; the directory
//! holding the target must be writable (the journal lives beside the file).
//!
//! ```
//! use etchosts::{hosts, resolvconf, HostEntry};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // a container's directory (podman: /run/containers/storage/overlay-containers/ID/userdata)
//! let userdata = tempfile::tempdir()?;
//! let dir = userdata.path();
//! hosts::new(&hosts::HostsParams {
//!     base_file: Some(hosts::DEFAULT_HOSTS_FILE.into()),
//!     extra_hosts: vec!["db;db.local:10.0.0.7".into()],
//!     container_ips: vec![HostEntry::new("10.88.0.5".parse().unwrap(), ["web", "abc123"])],
//!     host_containers_internal_ip: Some("10.88.0.1".parse().unwrap()),
//!     target_file: dir.join("hosts"),
//! })?;
//! // `podman network connect`: one more address for the same names.
//! hosts::add_if_exists(
//!     dir.join("hosts"),
//!     &[HostEntry::new("10.88.0.5".parse().unwrap(), ["web"])],
//!     &[HostEntry::new("10.89.0.9".parse().unwrap(), ["web", "abc123"])],
//! )?;
//! resolvconf::new(&resolvconf::ResolvParams::new(dir.join("resolv.conf")))?;
//! resolvconf::add_nameservers(dir.join("resolv.conf"), &["10.89.0.1".parse().unwrap()])?;
//! let hosts = std::fs::read_to_string(dir.join("hosts"))?;
//! assert!(hosts.contains("10.89.0.9\tweb abc123\n"), "{hosts}");
//! assert!(std::fs::read_to_string(dir.join("resolv.conf"))?.contains("nameserver 10.89.0.1\n"));
//! # Ok(()) }
//! ```
//!
//! # How a file is edited
//!
//! Every call that writes a target (`new`, `add`, `add_if_exists`, `remove`,
//! `add_nameservers`, `remove_nameservers`, `repair`):
//!
//! 1. opens it with `O_NOFOLLOW` and refuses anything but a regular file (a symlink,
//!    e.g. one planted to point out of the container's directory, or a directory);
//! 2. takes an exclusive open file description lock (`F_OFD_SETLKW`) on the whole file
//!    and holds it, in a guard value, until the call returns. OFD locks conflict with
//!    the classic `fcntl` record locks podman takes, and survive the closing of other
//!    descriptors of the file, which classic locks do not;
//! 3. finishes an interrupted earlier edit if a journal is there (see below);
//! 4. reads the file once, computes the new content, and if it differs:
//! 5. writes the new content to a journal beside the file (`.NAME.etchosts-journal`,
//!    written as `.tmp`, fsync'd, renamed, directory fsync'd);
//! 6. writes the content over the file from offset 0, truncates it to the new length,
//!    fsyncs it. The inode never changes (the file is bind-mounted into the container)
//!    and a reader never sees it empty (it may briefly see the new content followed by
//!    the tail of a longer old one);
//! 7. removes the journal. A crash anywhere leaves either no journal (the file is
//!    untouched, or complete) or a complete journal that the next call copies over.
//!
//! `new` on a missing target creates it complete instead: the content goes to a temp
//! file beside it (`.NAME.etchosts-new.PID.N`), is fsync'd and hard-linked into place,
//! so no one ever sees a new file empty; if another writer created it first, the call
//! falls back to the locked in-place rewrite above.
//!
//! # Differences from containers/common
//!
//! Output is byte-for-byte the same for the same inputs, except:
//!
//! - **resolv.conf `options`**: containers/common keeps only the last `options` line of
//!   the host file; the resolver (glibc) honours all of them, so all are kept, joined on
//!   one `options` line in file order.
//! - **resolv.conf `domain`**: dropped by containers/common, so a host that sets its
//!   search domain with `domain` loses it in containers. Kept: the last `domain` line is
//!   written first, whenever the host's search domains are used (no explicit searches,
//!   or `keep_host_searches`). A `search` line still wins over it, as in the resolver.
//! - **resolv.conf `sortlist`**: dropped by containers/common; the last one is kept
//!   (written after the nameservers) whenever the host file is read.
//! - **`add_nameservers` skips duplicates**: containers/common prepends the servers even
//!   if they are already listed, so a repeated connect lists a server twice. Here each
//!   server appears once, at the front (required by the issue this crate implements).
//! - **Bad input is an error, naming it.** As in containers/common (and its tests
//!   `invalid extra hosts ...`), an extra host without `:`, with an empty name part or an
//!   empty IP is refused, and so is `host-gateway` without a `host.containers.internal`
//!   IP. Refused here but written as they are by containers/common (a corrupt file): an
//!   extra host whose IP does not parse (`db:10.0.0.300`) or whose `;` list holds an empty
//!   name or one with white space or `#` (`a;;b:10.0.0.7`); the same names in any
//!   [`HostEntry`]; an empty, white-space or `#` DNS search domain or option.
//! - **Symlink or directory targets are refused** ([`Error::NotRegularFile`]);
//!   containers/common follows symlinks.
//! - **Non-UTF-8 bytes** in a base hosts file or host resolv.conf are preserved byte for
//!   byte, as containers/common does (Go strings are bytes); fields are split on
//!   Unicode white space exactly like Go's `strings.Fields`.
//! - **Over-long hosts lines**: a base or target hosts file line longer than
//!   [`hosts::MAX_LINE`] bytes is rejected with [`Error::LineTooLong`] naming the file
//!   and line number; containers/common fails on them too (`bufio.Scanner: token too
//!   long`), without saying where.
//! - `add` on a file whose last line lacks a newline appends right after it, joining
//!   the lines, exactly as containers/common does (kept for compatibility).
//!
//! Which containers/common: the current one (libnetwork moved to
//! containers/container-libs, same code). Debian's podman 4.3 is built with 0.50, which
//! predates a few things this crate does as current code does: the
//! `host.docker.internal` name beside `host.containers.internal`, `;`-separated names
//! and `host-gateway` in extra hosts, dropping zoned IPv6 servers when IPv6 is on, and
//! the separate keep-host searches/options switches. For inputs those do not touch,
//! output equals podman 4.3's (checked by `tests/podman_compat.rs` against real
//! containers, and by `tests/go_differential.rs` against the 0.50 Go code itself).
//!
//! Nameserver IPs are typed ([`std::net::IpAddr`]) and written in Rust's canonical form
//! (RFC 5952), the form podman's Go `netip` produces for the same addresses.

mod entry;
mod error;
mod failpoint;
mod fields;
pub mod hosts;
mod journal;
mod locked;
pub mod resolvconf;

pub use entry::HostEntry;
pub use error::Error;

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
