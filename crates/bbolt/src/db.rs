//! The database file: bbolt's `flock`, transactions, and the ordered, synced commit.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::bucket::{Bucket, Iter};
use crate::commit;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::format::{Meta, PageHeader, FREELIST_PAGE, LEAF_PAGE};
use crate::load::{self, Loaded, DEFAULT_PAGE_SIZE};

/// An open bbolt file, locked as bbolt locks it for as long as the value lives: an
/// exclusive `flock` when opened for writing, a shared one when read-only. Open it per
/// operation, as containers/common does, so podman is not kept waiting.
#[derive(Debug)]
pub struct Db {
    file: Flock<File>,
    path: PathBuf,
    writable: bool,
}

/// A read-only view of one version of the file.
#[derive(Debug)]
pub struct Tx {
    loaded: Loaded,
}

/// A read-write transaction: changes stay in memory until the closure given to
/// [`Db::update`] returns `Ok`, then are committed at once.
#[derive(Debug)]
pub struct TxMut {
    tx: Tx,
}

impl Db {
    /// Opens `path` for reading and writing, creating an empty database when the file
    /// is missing or empty (mode 0600, as podman creates `ipam.db`). Waits for the
    /// exclusive lock as long as another process holds the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|source| Error::Open {
                path: path.clone(),
                source,
            })?;
        let db = Db::lock(file, path, true)?;
        let len = db
            .file
            .metadata()
            .map_err(|source| db.read_error(source))?
            .len();
        if len == 0 {
            db.init()?;
        }
        Ok(db)
    }

    /// Opens an existing `path` read-only, under a shared lock (bbolt's `ReadOnly`).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Db> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| Error::Open {
            path: path.clone(),
            source,
        })?;
        Db::lock(file, path, false)
    }

    fn lock(file: File, path: PathBuf, writable: bool) -> Result<Db> {
        let arg = if writable {
            FlockArg::LockExclusive
        } else {
            FlockArg::LockShared
        };
        let file = Flock::lock(file, arg).map_err(|(_, source)| Error::Lock {
            path: path.clone(),
            source,
        })?;
        tracing::debug!(path = %path.display(), writable, "bbolt file locked");
        Ok(Db {
            file,
            path,
            writable,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_error(&self, source: std::io::Error) -> Error {
        Error::Read {
            path: self.path.clone(),
            source,
        }
    }

    fn write_error(&self, source: std::io::Error) -> Error {
        Error::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// bbolt's `init`: two metas (txid 0 and 1), an empty freelist (page 2) and an empty
    /// root leaf (page 3), written and synced before anyone can read them.
    fn init(&self) -> Result<()> {
        let ps = DEFAULT_PAGE_SIZE;
        let mut buf = vec![0u8; 4 * ps];
        for txid in 0..2u64 {
            let meta = Meta {
                page_size: ps as u32,
                flags: 0,
                root: 3,
                root_sequence: 0,
                freelist: 2,
                high_water: 4,
                txid,
            };
            let at = txid as usize * ps;
            buf[at..at + ps].copy_from_slice(&meta.page());
        }
        for (id, flags) in [(2u64, FREELIST_PAGE), (3, LEAF_PAGE)] {
            let header = PageHeader {
                id,
                flags,
                count: 0,
                overflow: 0,
            };
            header.write(&mut buf[id as usize * ps..]);
        }
        self.file
            .write_all_at(&buf, 0)
            .and_then(|()| self.file.sync_data())
            .map_err(|source| self.write_error(source))?;
        tracing::debug!(path = %self.path.display(), "bbolt file initialised");
        Ok(())
    }

    fn begin(&self) -> Result<Tx> {
        let len = self.file.metadata().map_err(|e| self.read_error(e))?.len();
        let mut data = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut data, 0)
            .map_err(|source| self.read_error(source))?;
        let loaded = load::load(&data).map_err(|reason| Error::Corrupt {
            path: self.path.clone(),
            reason,
        })?;
        Ok(Tx { loaded })
    }

    /// Runs `f` on the current version of the file.
    pub fn view<T, E: From<Error>>(&self, f: impl FnOnce(&Tx) -> Result<T, E>) -> Result<T, E> {
        let tx = self.begin()?;
        f(&tx)
    }

    /// Runs `f` in a read-write transaction and commits its changes when it returns
    /// `Ok`; on `Err` nothing is written.
    pub fn update<T, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&mut TxMut) -> Result<T, E>,
    ) -> Result<T, E> {
        if !self.writable {
            return Err(Error::ReadOnly {
                path: self.path.clone(),
            }
            .into());
        }
        let mut tx = TxMut { tx: self.begin()? };
        let out = f(&mut tx)?;
        self.commit(tx)?;
        Ok(out)
    }

    /// Writes the changed pages and the new freelist, syncs, then writes the meta page
    /// of the other slot and syncs again (see the crate doc for why this is safe).
    fn commit(&mut self, tx: TxMut) -> Result<()> {
        let Tx { mut loaded } = tx.tx;
        let mut root = std::mem::take(&mut loaded.root);
        let Some(plan) = commit::plan(&loaded, &mut root) else {
            return Ok(());
        };
        let ps = u64::from(plan.meta.page_size);
        let len = self.file.metadata().map_err(|e| self.read_error(e))?.len();
        // bbolt keeps the file one page past the high water mark.
        let want = (plan.meta.high_water + 1) * ps;
        let write = |r: std::io::Result<()>| r.map_err(|source| self.write_error(source));
        if len < want {
            write(self.file.set_len(want))?;
        }
        for (id, page) in &plan.pages {
            write(self.file.write_all_at(page, id * ps))?;
        }
        write(self.file.sync_data())?;
        failpoint::hit("after-data");
        let meta = plan.meta.page();
        let at = (plan.meta.txid % 2) * ps;
        failpoint::torn_meta(&self.file, &meta, at);
        write(self.file.write_all_at(&meta, at))?;
        write(self.file.sync_data())?;
        tracing::debug!(
            path = %self.path.display(),
            txid = plan.meta.txid,
            pages = plan.pages.len(),
            "bbolt commit"
        );
        Ok(())
    }

    /// Problems bbolt's `tx.Check()` would report that reading tolerates: pages below
    /// the high water mark neither in use nor free (leaked space). Structural damage is
    /// an `Err` (the same one every transaction gets).
    pub fn check(&self) -> Result<Vec<String>> {
        let tx = self.begin()?;
        Ok(tx
            .loaded
            .leaked
            .iter()
            .map(|id| format!("page {id}: unreachable unfreed"))
            .collect())
    }
}

impl Tx {
    /// The top-level bucket `name`.
    pub fn bucket(&self, name: &[u8]) -> Option<&Bucket> {
        self.loaded.root.bucket(name)
    }

    /// The top-level buckets in key order.
    pub fn buckets(&self) -> Iter<'_> {
        self.loaded.root.iter()
    }

    /// The id of the version this transaction reads.
    pub fn txid(&self) -> u64 {
        self.loaded.meta.txid
    }

    /// The file's page size.
    pub fn page_size(&self) -> u32 {
        self.loaded.meta.page_size
    }
}

impl std::ops::Deref for TxMut {
    type Target = Tx;

    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl TxMut {
    /// The top-level bucket `name`, to change it.
    pub fn bucket_mut(&mut self, name: &[u8]) -> Option<&mut Bucket> {
        self.tx.loaded.root.bucket_mut(name)
    }

    /// Creates the top-level bucket `name`; refused when it exists.
    pub fn create_bucket(&mut self, name: &[u8]) -> Result<&mut Bucket> {
        self.tx.loaded.root.create_bucket(name)
    }

    /// The top-level bucket `name`, created empty when absent.
    pub fn create_bucket_if_not_exists(&mut self, name: &[u8]) -> Result<&mut Bucket> {
        self.tx.loaded.root.create_bucket_if_not_exists(name)
    }

    /// Deletes the top-level bucket `name` and everything in it.
    pub fn delete_bucket(&mut self, name: &[u8]) -> Result<()> {
        self.tx.loaded.root.delete_bucket(name)
    }
}
