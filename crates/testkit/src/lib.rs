//! Test support shared by podnet's suites (dev-only, never published).
//!
//! - [`skip`]: the one way a test says it cannot run. Outside CI it prints and passes; under
//!   `cargo xtask ci` (which sets `PODNET_SKIP_FATAL`) it fails unless the machine declared
//!   the skip expected, and every skip is written to the file named by `PODNET_SKIP_LOG` so
//!   xtask counts it.
//! - [`require_root`], [`require_binary`], [`in_user_namespace`]: probes that skip through
//!   [`skip`].
//! - [`free_subnet_v4`], [`free_subnet_v6`], [`free_port`]: addresses and ports chosen at run
//!   time, free on this host, so suites do not collide with what a user has.
//! - [`fuzz_cases`]: how many cases a fuzz target runs (`PODNET_FUZZ_CASES`, 4000 in CI).
//! - [`assert_child_ran`]: a test that re-ran itself in a child checks the child really ran it.
//! - [`Podman`]: a throwaway podman peer with its own storage, networks and configuration.
//! - [`GoBuild`]: an offline `go build` of a Go reference peer against Debian's sources.
//! - [`stdout_of`]: a command's stdout, asserted successful.
//! - [`firewall_leftovers`]: rules left in the current netns, read from iptables, ip6tables
//!   and nftables alike.
//!
//! Requires: nothing for the probes; `iptables-save`, `ip6tables-save` and `nft` for
//! [`firewall_leftovers`].
//!
//! ```
//! let net = testkit::free_subnet_v4();
//! assert!("10.128.0.0/9".parse::<ipnet::Ipv4Net>().unwrap().contains(&net));
//! let port = testkit::free_port(testkit::Protocol::Tcp);
//! std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
//! ```

mod firewall;
mod free;
mod fuzz;
mod go;
mod output;
mod podman;
mod rerun;
mod skip;

pub use firewall::firewall_leftovers;
pub use free::{free_port, free_subnet_v4, free_subnet_v6};
pub use fuzz::fuzz_cases;
pub use go::{GoBuild, GOCODE};
pub use ipnet;
pub use output::stdout_of;
pub use podman::{Podman, BUSYBOX_IMAGE, BUSYBOX_TARBALL};
pub use portmap::Protocol;
pub use rerun::assert_child_ran;
pub use skip::{
    in_user_namespace, require_binary, require_root, skip, EXPECTED_ENV, FATAL_ENV, LOG_ENV,
};
