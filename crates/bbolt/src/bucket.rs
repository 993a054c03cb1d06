//! A bucket as a transaction sees it: its keys in order, each a value or a nested bucket,
//! plus where its own b+tree lives in the file so a commit knows what it replaces.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{show, Error, Result};
use crate::format::{MAX_KEY_SIZE, MAX_VALUE_SIZE};

/// A run of pages in the file: a page and the overflow pages that follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub id: u64,
    pub overflow: u32,
}

impl Run {
    pub(crate) fn ids(self) -> impl Iterator<Item = u64> {
        self.id..=self.id + u64::from(self.overflow)
    }
}

/// A leaf page of a bucket's b+tree as it is in the file: the first key it holds.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub first: Vec<u8>,
    pub run: Run,
}

#[derive(Debug)]
pub(crate) enum Item {
    Value(Vec<u8>),
    Bucket(Box<Bucket>),
}

/// One entry of a bucket, as iteration yields it.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    /// A plain value.
    Value(&'a [u8]),
    /// A nested bucket.
    Bucket(&'a Bucket),
}

/// A bucket: keys in byte order, each holding a value or a nested bucket.
///
/// Read through `&Bucket` (from [`Tx`](crate::Tx) or [`TxMut`](crate::TxMut)); change
/// through `&mut Bucket`, which only a [`TxMut`](crate::TxMut) hands out.
#[derive(Debug, Default)]
pub struct Bucket {
    /// Root page of its b+tree in the file; 0 when inline or not yet written.
    pub(crate) root: u64,
    /// Leaf pages of its own b+tree in the file, in key order (empty when inline or new).
    pub(crate) leaves: Vec<Leaf>,
    /// Branch pages of its own b+tree in the file.
    pub(crate) branches: Vec<Run>,
    /// Keys put, deleted or whose nested bucket changed: the commit rewrites the leaves
    /// holding them, and only those.
    pub(crate) touched: BTreeSet<Vec<u8>>,
    pub(crate) sequence: u64,
    pub(crate) entries: BTreeMap<Vec<u8>, Item>,
    /// Changed since it was read: the commit rewrites it (copy on write).
    pub(crate) dirty: bool,
    /// Pages of nested buckets deleted in this transaction, freed by the commit.
    pub(crate) graveyard: Vec<Run>,
}

/// Iterator over a bucket's entries in key order (bbolt's cursor `First`/`Next`).
pub struct Iter<'a>(std::collections::btree_map::Range<'a, Vec<u8>, Item>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], Entry<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, item)| (k.as_slice(), entry(item)))
    }
}

fn entry(item: &Item) -> Entry<'_> {
    match item {
        Item::Value(v) => Entry::Value(v),
        Item::Bucket(b) => Entry::Bucket(b),
    }
}

fn check_key(key: &[u8]) -> Result<()> {
    let reason = if key.is_empty() {
        "a key must not be empty"
    } else if key.len() > MAX_KEY_SIZE {
        "a key must be at most 32768 bytes"
    } else {
        return Ok(());
    };
    Err(Error::BadKey {
        key: show(key),
        reason,
    })
}

impl Bucket {
    /// The value under `key`; `None` when absent or when `key` names a nested bucket.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        match self.entries.get(key)? {
            Item::Value(v) => Some(v),
            Item::Bucket(_) => None,
        }
    }

    /// The nested bucket under `name`.
    pub fn bucket(&self, name: &[u8]) -> Option<&Bucket> {
        match self.entries.get(name)? {
            Item::Bucket(b) => Some(b),
            Item::Value(_) => None,
        }
    }

    /// All entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.range::<[u8], _>(..))
    }

    /// The entries whose key is `start` or after, in key order (bbolt's `Cursor.Seek`).
    pub fn iter_from(&self, start: &[u8]) -> Iter<'_> {
        use std::ops::Bound;
        Iter(
            self.entries
                .range::<[u8], _>((Bound::Included(start), Bound::Unbounded)),
        )
    }

    /// How many keys (values and nested buckets) it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bucket's sequence number (bbolt's `Bucket.Sequence`).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Sets `key` to `value`; refused when `key` names a nested bucket.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        check_key(key)?;
        if value.len() > MAX_VALUE_SIZE {
            return Err(Error::BadKey {
                key: show(key),
                reason: "its value must be at most 2^31-2 bytes",
            });
        }
        match self.entries.get_mut(key) {
            Some(Item::Bucket(_)) => return Err(incompatible(key, "bucket")),
            Some(Item::Value(v)) if v.as_slice() == value => return Ok(()),
            Some(Item::Value(v)) => *v = value.to_vec(),
            None => {
                self.entries
                    .insert(key.to_vec(), Item::Value(value.to_vec()));
            }
        }
        self.touch(key);
        Ok(())
    }

    /// Removes `key` if present; refused when `key` names a nested bucket.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        match self.entries.get(key) {
            Some(Item::Bucket(_)) => Err(incompatible(key, "bucket")),
            Some(Item::Value(_)) => {
                self.entries.remove(key);
                self.touch(key);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The nested bucket under `name`, to change it.
    pub fn bucket_mut(&mut self, name: &[u8]) -> Option<&mut Bucket> {
        match self.entries.get_mut(name)? {
            Item::Bucket(b) => Some(b),
            Item::Value(_) => None,
        }
    }

    /// Creates an empty nested bucket; refused when `name` is taken.
    pub fn create_bucket(&mut self, name: &[u8]) -> Result<&mut Bucket> {
        match self.entries.get(name) {
            Some(Item::Bucket(_)) => Err(Error::BucketExists { name: show(name) }),
            Some(Item::Value(_)) => Err(incompatible(name, "value")),
            None => self.create_bucket_if_not_exists(name),
        }
    }

    /// The nested bucket under `name`, created empty when absent.
    pub fn create_bucket_if_not_exists(&mut self, name: &[u8]) -> Result<&mut Bucket> {
        check_key(name)?;
        if !self.entries.contains_key(name) {
            let child = Bucket {
                dirty: true,
                ..Bucket::default()
            };
            self.entries
                .insert(name.to_vec(), Item::Bucket(Box::new(child)));
            self.touch(name);
        }
        match self.entries.get_mut(name) {
            Some(Item::Bucket(b)) => Ok(b),
            _ => Err(incompatible(name, "value")),
        }
    }

    /// Deletes the nested bucket `name` and everything in it.
    pub fn delete_bucket(&mut self, name: &[u8]) -> Result<()> {
        match self.entries.get(name) {
            None => return Err(Error::BucketNotFound { name: show(name) }),
            Some(Item::Value(_)) => return Err(incompatible(name, "value")),
            Some(Item::Bucket(_)) => {}
        }
        if let Some(Item::Bucket(gone)) = self.entries.remove(name) {
            gone.collect_pages(&mut self.graveyard);
        }
        self.touch(name);
        Ok(())
    }

    /// Sets the sequence number (bbolt's `Bucket.SetSequence`).
    pub fn set_sequence(&mut self, sequence: u64) {
        if self.sequence != sequence {
            self.sequence = sequence;
            self.dirty = true;
        }
    }

    /// Increments the sequence number and returns it (bbolt's `Bucket.NextSequence`).
    pub fn next_sequence(&mut self) -> u64 {
        self.set_sequence(self.sequence.wrapping_add(1));
        self.sequence
    }

    /// Marks `key` changed: its leaf, and the bucket, are rewritten by the commit.
    pub(crate) fn touch(&mut self, key: &[u8]) {
        self.touched.insert(key.to_vec());
        self.dirty = true;
    }

    /// Every page run this bucket and its nested buckets hold in the file.
    pub(crate) fn collect_pages(&self, out: &mut Vec<Run>) {
        out.extend(self.leaves.iter().map(|l| l.run));
        out.extend_from_slice(&self.branches);
        out.extend_from_slice(&self.graveyard);
        for item in self.entries.values() {
            if let Item::Bucket(b) = item {
                b.collect_pages(out);
            }
        }
    }
}

fn incompatible(key: &[u8], found: &'static str) -> Error {
    Error::Incompatible {
        key: show(key),
        found,
    }
}
