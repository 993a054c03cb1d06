//! Read and write bbolt (go.etcd.io/bbolt) database files compatibly with bbolt 1.3,
//! and podman's netavark IPAM database (`ipam.db`) on top ([`podman_ipam`]).
//!
//! Requires: Linux (`flock`, `pwrite`, `fdatasync`); no privileges beyond access to the
//! file.
//!
//! ```
//! # fn main() -> Result<(), bbolt::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let mut db = bbolt::Db::open(dir.path().join("demo.db"))?;
//! db.update(|tx| {
//!     let net = tx.create_bucket_if_not_exists(b"podman")?;
//!     let ids = net.create_bucket_if_not_exists(b"ids")?;
//!     ids.put(b"c0ffee", br#"["10.88.0.2"]"#)?;
//!     Ok::<_, bbolt::Error>(())
//! })?;
//! db.view(|tx| {
//!     let ids = tx.bucket(b"podman").and_then(|b| b.bucket(b"ids")).unwrap();
//!     for (key, entry) in ids.iter() {
//!         assert_eq!(key, b"c0ffee");
//!         assert!(matches!(entry, bbolt::Entry::Value(v) if v == br#"["10.88.0.2"]"#));
//!     }
//!     Ok::<_, bbolt::Error>(())
//! })?;
//! # Ok(()) }
//! ```
//!
//! # Why not an existing crate
//!
//! Of the registry's candidates, `jammdb` is "heavily inspired by bolt, but not 100%
//! file compatible" (its maintainer, pjtatlow/jammdb#32); `nut` and `boltdb` are
//! unmaintained early ports; `bbolt-rs` (1.3.10) is a full port by one author with no
//! license in its registry metadata and a dozen runtime dependencies (clap, anyhow,
//! fake, bumpalo...). podman's `ipam.db` needs little of bbolt (small files, one writer
//! at a time), so this crate implements that part, small and tested against bbolt
//! itself.
//!
//! # The file format facts this crate relies on
//!
//! The layout of pages, elements, bucket values, the meta and the freelist is drawn at
//! the top of `format.rs`. In short: pages of the size the meta says (4096 when this
//! crate creates a file); page 0 and 1 hold a meta each, the current version is the
//! valid meta (magic, version 2, FNV-1a 64 checksum) with the higher txid; every bucket
//! is a b+tree of branch and leaf pages (a page that does not fit spills into overflow
//! pages), or, when small and without nested buckets, an inline page inside its
//! parent's value; the freelist page lists the free page ids (bbolt writes the pending
//! ones too, so the list on disk is complete), or the meta says there is none
//! (`NoFreelistSync`) and the free pages are those not reachable.
//!
//! # How a version is read and written
//!
//! A transaction reads the whole file and decodes every bucket, checking on the way
//! what bbolt's `tx.Check()` checks (each page in bounds, of the right type, referenced
//! once, not free) plus key order; a damaged file is an [`Error::Corrupt`] naming the
//! rule it breaks. This suits small databases such as `ipam.db` (kilobytes); it is not
//! meant for large ones.
//!
//! A commit is copy on write: in every changed bucket, each leaf page holding a changed
//! key is written again (filled up to a page, so it may split), untouched leaves keep
//! their pages, and the branch pages above, and the path of buckets up to the root, are
//! written again; all to pages allocated from the freelist as it was when the
//! transaction began, or past the high water mark. Small buckets without nested buckets
//! are written inline, as bbolt does. Leaves are not merged when they empty out (bbolt's
//! rebalance; an emptied leaf is dropped), which bbolt's `tx.Check()` does not require.
//! Then, in this order:
//!
//! 1. the file is extended if needed, the new pages and the new freelist are written,
//!    and `fdatasync` is called;
//! 2. the meta of the other slot (`txid % 2`) is written, naming the new root, freelist
//!    and txid + 1, and `fdatasync` is called again.
//!
//! # Why a crash leaves a consistent file
//!
//! Until step 2 completes, the current meta is the previous one, and nothing reachable
//! from it was written: step 1 writes only pages that were free in that version (pages
//! freed by this transaction are not reused until the next one). So a crash before or
//! during step 1 leaves the previous version whole (the new pages are free space to
//! it). A crash during step 2 leaves either the new meta complete (the new version,
//! whose pages step 1 synced before), or a torn meta whose checksum fails, and then the
//! previous meta, in the other slot and untouched, is used. The previous version's own
//! pages are intact too: the transaction that wrote it never overwrote pages of the
//! version before it that it still needed. This is bbolt's own argument, and the same
//! order of writes and syncs; the `crash` test kills writers at random points and with
//! failpoints between the steps and checks the file with bbolt's `tx.Check()`.
//!
//! Concurrency is bbolt's: a writer holds an exclusive `flock` on the file for as long
//! as the [`Db`] lives, a read-only [`Db`] a shared one, so podman and this crate never
//! write at the same time and a reader never sees a half-written version.

mod bucket;
mod commit;
mod db;
mod error;
mod failpoint;
mod format;
mod load;

pub use bucket::{Bucket, Entry, Iter};
pub use db::{Db, Tx, TxMut};
pub use error::{Error, Result};
pub mod podman_ipam;

#[cfg(test)]
mod tests;
