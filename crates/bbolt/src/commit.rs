//! Turning a write transaction's buckets into pages: copy on write of every changed
//! leaf, page allocation from the freelist, the new freelist and the new meta.
//!
//! In a changed bucket, each leaf page holding a changed key is written again to newly
//! allocated pages (filled up to a page, so it may split), untouched leaves keep their
//! pages, and the branch pages above are written again; a small bucket without nested
//! buckets goes inline in its parent's leaf instead (bbolt's `inlineable`: at most a
//! quarter of a page). Replaced pages, like those of deleted buckets and the old
//! freelist, are freed. An unchanged bucket keeps all its pages. Leaves are not merged
//! when they empty out (bbolt's rebalance is optional for a valid file): an emptied leaf
//! is simply dropped. Pages are only ever allocated from the freelist as it was at
//! the start of the transaction, or past the high water mark, never from pages freed by
//! this transaction: those are still in use by the version on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use crate::bucket::{Bucket, Item, Leaf, Run};
use crate::format::{
    Meta, PageHeader, BRANCH_PAGE, BUCKET_HEADER, BUCKET_LEAF_FLAG, ELEMENT, FREELIST_PAGE,
    LEAF_PAGE, PAGE_HEADER,
};
use crate::load::Loaded;

/// Pages to write, each at its page id; the meta page goes last and separately.
pub(crate) struct Plan {
    pub pages: Vec<(u64, Vec<u8>)>,
    pub meta: Meta,
}

struct Alloc {
    page_size: usize,
    free: BTreeSet<u64>,
    high_water: u64,
    freed: Vec<u64>,
    pages: Vec<(u64, Vec<u8>)>,
}

impl Alloc {
    /// `n` contiguous pages: the first run of the freelist that fits (bbolt's array
    /// freelist does the same), else new pages past the high water mark.
    fn allocate(&mut self, n: u64) -> u64 {
        let mut start = None;
        let mut len = 0;
        let mut prev = None;
        for &id in &self.free {
            if prev.is_some_and(|p| p + 1 == id) {
                len += 1;
            } else {
                start = Some(id);
                len = 1;
            }
            prev = Some(id);
            if len == n {
                break;
            }
        }
        match start {
            Some(first) if len == n => {
                for id in first..first + n {
                    self.free.remove(&id);
                }
                first
            }
            _ => {
                let first = self.high_water;
                self.high_water += n;
                first
            }
        }
    }

    fn release(&mut self, run: Run) {
        self.freed.extend(run.ids());
    }

    /// Allocates pages for `bytes` (a page built with id 0), sets its id and overflow,
    /// pads it to whole pages and queues it for writing.
    fn place(&mut self, mut bytes: Vec<u8>) -> Run {
        let n = bytes.len().div_ceil(self.page_size).max(1);
        bytes.resize(n * self.page_size, 0);
        let id = self.allocate(n as u64);
        let overflow = (n - 1) as u32;
        let mut header = PageHeader::parse(&bytes).unwrap_or(PageHeader {
            id: 0,
            flags: 0,
            count: 0,
            overflow: 0,
        });
        header.id = id;
        header.overflow = overflow;
        header.write(&mut bytes);
        self.pages.push((id, bytes));
        Run { id, overflow }
    }
}

/// A leaf page (id 0, unpadded) holding `elems` as (key, flags, value).
fn leaf_page(elems: &[(&[u8], u32, &[u8])]) -> Vec<u8> {
    let data_at = PAGE_HEADER + ELEMENT * elems.len();
    let mut p = vec![0u8; data_at];
    PageHeader {
        id: 0,
        flags: LEAF_PAGE,
        count: elems.len() as u16,
        overflow: 0,
    }
    .write(&mut p);
    for (i, (key, flags, value)) in elems.iter().enumerate() {
        let at = PAGE_HEADER + ELEMENT * i;
        let pos = (p.len() - at) as u32;
        p[at..at + 4].copy_from_slice(&flags.to_le_bytes());
        p[at + 4..at + 8].copy_from_slice(&pos.to_le_bytes());
        p[at + 8..at + 12].copy_from_slice(&(key.len() as u32).to_le_bytes());
        p[at + 12..at + 16].copy_from_slice(&(value.len() as u32).to_le_bytes());
        p.extend_from_slice(key);
        p.extend_from_slice(value);
    }
    p
}

/// A branch page (id 0, unpadded) pointing at `children` as (first key, page).
fn branch_page(children: &[(Vec<u8>, u64)]) -> Vec<u8> {
    let mut p = vec![0u8; PAGE_HEADER + ELEMENT * children.len()];
    PageHeader {
        id: 0,
        flags: BRANCH_PAGE,
        count: children.len() as u16,
        overflow: 0,
    }
    .write(&mut p);
    for (i, (key, child)) in children.iter().enumerate() {
        let at = PAGE_HEADER + ELEMENT * i;
        let pos = (p.len() - at) as u32;
        p[at..at + 4].copy_from_slice(&pos.to_le_bytes());
        p[at + 4..at + 8].copy_from_slice(&(key.len() as u32).to_le_bytes());
        p[at + 8..at + 16].copy_from_slice(&child.to_le_bytes());
        p.extend_from_slice(key);
    }
    p
}

/// Splits items of the given sizes into runs that fill a page each (an item larger
/// than a page gets a run of its own, written with overflow pages).
fn groups(sizes: impl Iterator<Item = usize>, page_size: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut fill) = (0, PAGE_HEADER);
    let mut n = 0;
    for (i, size) in sizes.enumerate() {
        if i > start && fill + size > page_size {
            out.push(start..i);
            start = i;
            fill = PAGE_HEADER;
        }
        fill += size;
        n = i + 1;
    }
    out.push(start..n);
    out
}

/// The bytes a parent stores for `b`: its header, plus its page when inline.
fn bucket_value(b: &Bucket) -> Vec<u8> {
    let mut v = Vec::with_capacity(BUCKET_HEADER);
    v.extend_from_slice(&b.root.to_le_bytes());
    v.extend_from_slice(&b.sequence.to_le_bytes());
    if b.root == 0 {
        let elems: Vec<(&[u8], u32, &[u8])> = b
            .entries
            .iter()
            .filter_map(|(k, item)| match item {
                Item::Value(v) => Some((k.as_slice(), 0, v.as_slice())),
                Item::Bucket(_) => None,
            })
            .collect();
        v.extend_from_slice(&leaf_page(&elems));
    }
    v
}

fn inlineable(b: &Bucket, page_size: usize) -> bool {
    let mut size = PAGE_HEADER;
    for (k, item) in &b.entries {
        match item {
            Item::Bucket(_) => return false,
            Item::Value(v) => size += ELEMENT + k.len() + v.len(),
        }
        if size > page_size / 4 {
            return false;
        }
    }
    true
}

/// Writes the leaves for the entries of `range` (values and nested buckets' values),
/// filling pages in key order; records them in `leaves` and `level`.
fn write_leaves(
    entries: &BTreeMap<Vec<u8>, Item>,
    range: (Bound<&[u8]>, Bound<&[u8]>),
    a: &mut Alloc,
    leaves: &mut Vec<Leaf>,
    level: &mut Vec<(Vec<u8>, u64)>,
) {
    let children: Vec<Vec<u8>> = entries
        .range::<[u8], _>(range)
        .filter_map(|(_, item)| match item {
            Item::Bucket(child) => Some(bucket_value(child)),
            Item::Value(_) => None,
        })
        .collect();
    let mut child_values = children.iter();
    let elems: Vec<(&[u8], u32, &[u8])> = entries
        .range::<[u8], _>(range)
        .map(|(k, item)| match item {
            Item::Value(v) => (k.as_slice(), 0, v.as_slice()),
            Item::Bucket(_) => {
                let v = child_values.next().map_or(&[][..], Vec::as_slice);
                (k.as_slice(), BUCKET_LEAF_FLAG, v)
            }
        })
        .collect();
    if elems.is_empty() {
        return;
    }
    let sizes = elems.iter().map(|(k, _, v)| ELEMENT + k.len() + v.len());
    for group in groups(sizes, a.page_size) {
        let first = elems[group.start].0.to_vec();
        let run = a.place(leaf_page(&elems[group]));
        leaves.push(Leaf {
            first: first.clone(),
            run,
        });
        level.push((first, run.id));
    }
}

/// Writes `b` again if it or a bucket inside it changed; returns whether it did.
///
/// Only the leaves holding touched keys are rewritten (an untouched leaf keeps its page),
/// then every branch page above them.
fn spill(b: &mut Bucket, a: &mut Alloc, is_root: bool) -> bool {
    let mut changed = b.dirty;
    for (key, item) in b.entries.iter_mut() {
        if let Item::Bucket(child) = item {
            if spill(child, a, false) {
                b.touched.insert(key.clone());
                changed = true;
            }
        }
    }
    if !changed {
        return false;
    }
    for run in b.graveyard.drain(..).chain(b.branches.drain(..)) {
        a.release(run);
    }
    let touched = std::mem::take(&mut b.touched);
    let old = std::mem::take(&mut b.leaves);
    b.dirty = false;
    b.root = 0;
    if !is_root && inlineable(b, a.page_size) {
        for leaf in old {
            a.release(leaf.run);
        }
        return true;
    }
    let mut level: Vec<(Vec<u8>, u64)> = Vec::new();
    if old.is_empty() {
        let all = (Bound::Unbounded, Bound::Unbounded);
        write_leaves(&b.entries, all, a, &mut b.leaves, &mut level);
    }
    for (i, leaf) in old.iter().enumerate() {
        let lo = match i {
            0 => Bound::Unbounded,
            _ => Bound::Included(leaf.first.as_slice()),
        };
        let hi = old.get(i + 1).map_or(Bound::Unbounded, |next| {
            Bound::Excluded(next.first.as_slice())
        });
        if touched.range::<[u8], _>((lo, hi)).next().is_none() {
            b.leaves.push(leaf.clone());
            level.push((leaf.first.clone(), leaf.run.id));
        } else {
            a.release(leaf.run);
            write_leaves(&b.entries, (lo, hi), a, &mut b.leaves, &mut level);
        }
    }
    if level.is_empty() {
        let run = a.place(leaf_page(&[]));
        b.leaves.push(Leaf {
            first: Vec::new(),
            run,
        });
        level.push((Vec::new(), run.id));
    }
    while level.len() > 1 {
        let sizes = level.iter().map(|(k, _)| ELEMENT + k.len());
        let mut up = Vec::new();
        for range in groups(sizes, a.page_size) {
            let first = level[range.start].0.clone();
            let run = a.place(branch_page(&level[range]));
            b.branches.push(run);
            up.push((first, run.id));
        }
        level = up;
    }
    b.root = level[0].1;
    true
}

/// The pages and meta that make `root` the next version of the file described by
/// `loaded`; `None` when nothing changed.
pub(crate) fn plan(loaded: &Loaded, root: &mut Bucket) -> Option<Plan> {
    let page_size = loaded.meta.page_size as usize;
    let mut a = Alloc {
        page_size,
        free: loaded.free.clone(),
        high_water: loaded.meta.high_water,
        freed: Vec::new(),
        pages: Vec::new(),
    };
    if !spill(root, &mut a, true) {
        return None;
    }
    if let Some(run) = loaded.freelist_run {
        a.release(run);
    }
    // Sized before its own allocation, as bbolt does: at most one id too many.
    let count = a.free.len() + a.freed.len();
    let bytes = PAGE_HEADER + 8 * count + if count >= 0xFFFF { 8 } else { 0 };
    let n = bytes / page_size + 1;
    let id = a.allocate(n as u64);
    let mut ids: Vec<u64> = a
        .free
        .iter()
        .copied()
        .chain(a.freed.iter().copied())
        .collect();
    ids.sort_unstable();
    let mut p = vec![0u8; n * page_size];
    PageHeader {
        id,
        flags: FREELIST_PAGE,
        count: ids.len().min(0xFFFF) as u16,
        overflow: (n - 1) as u32,
    }
    .write(&mut p);
    let mut at = PAGE_HEADER;
    if ids.len() >= 0xFFFF {
        p[at..at + 8].copy_from_slice(&(ids.len() as u64).to_le_bytes());
        at += 8;
    }
    for free in ids {
        p[at..at + 8].copy_from_slice(&free.to_le_bytes());
        at += 8;
    }
    a.pages.push((id, p));
    a.pages.sort_by_key(|(id, _)| *id);
    let meta = Meta {
        root: root.root,
        root_sequence: root.sequence,
        freelist: id,
        high_water: a.high_water,
        txid: loaded.meta.txid + 1,
        ..loaded.meta
    };
    Some(Plan {
        pages: a.pages,
        meta,
    })
}
