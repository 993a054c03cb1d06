//! Is this process rootless, and what does a rootless container tool need
//! to know about its user: id maps, subordinate ids and runtime directory.
//!
//! This is the piece of podman's `pkg/rootless` and containers/storage's
//! `homedir`/`idtools` that a network layer needs, with explained answers:
//! [`classify`] says *why* a process is rootless or not, runtime directory
//! failures list every candidate tried, subordinate id files report overlaps.
//!
//! Every outside input (`/proc/self/uid_map`, `/proc/self/ns/user`,
//! `/etc/subuid`, `/etc/subgid`, the user database, `$XDG_RUNTIME_DIR`,
//! `$TMPDIR`, `$_CONTAINERS_ROOTLESS_UID`) is a field of [`Host`]; the free
//! functions use [`Host::system`].
//!
//! Requires: Linux with `/proc` mounted. No privileges; nothing is written
//! except `$TMPDIR/storage-run-UID` when it is the chosen runtime directory.
//!
//! ```
//! use rootless_detect::{available_id_maps, classify, is_rootless, rootless_uid, runtime_dir};
//!
//! # fn main() -> Result<(), rootless_detect::Error> {
//! println!("{}", classify()?); // e.g. "rootless: effective uid 1000 is not 0"
//! if is_rootless() {
//!     let uid = rootless_uid();
//!     println!("runtime dir for {uid}: {}", runtime_dir()?.display());
//!     let maps = available_id_maps(&uid.to_string())?;
//!     println!("subuids: {:?}", maps.uid_maps);
//!     for problem in &maps.problems {
//!         eprintln!("warning: {problem}");
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod classify;
mod error;
mod host;
mod idmap;
mod runtime_dir;
mod split;
mod subid;

pub use classify::{
    classify, classify_facts, is_rootless, rootless_uid, Classification, ProcessKind,
    INITIAL_USER_NS_INODE,
};
pub use error::Error;
pub use host::{Host, UserDb};
pub use idmap::{parse_id_map, read_id_map, IdMapping};
pub use runtime_dir::{runtime_dir, CandidateFailure, CandidateFailures};
pub use split::{maybe_split_mappings, SplitMappings};
pub use subid::{available_id_maps, parse_subids, AvailableIdMaps, SubIdProblem, SubIdRange};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
