//! Reading a whole bbolt file into buckets, checking the structure on the way: every
//! page in bounds, of the right type, referenced once, keys in strictly ascending order,
//! and the freelist disjoint from the pages in use.

use std::collections::BTreeSet;

use crate::bucket::{Bucket, Item, Leaf, Run};
use crate::format::{
    u32_at, u64_at, Meta, PageHeader, BRANCH_PAGE, BUCKET_HEADER, BUCKET_LEAF_FLAG, ELEMENT,
    FREELIST_PAGE, LEAF_PAGE, NO_FREELIST, PAGE_HEADER,
};

/// bbolt's page size when meta page 0 cannot tell (Go's `os.Getpagesize()` on amd64).
pub(crate) const DEFAULT_PAGE_SIZE: usize = 4096;

/// A file read into memory: the current meta, its buckets and its page accounting.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub meta: Meta,
    pub root: Bucket,
    /// Free pages (bbolt's freelist), sorted.
    pub free: BTreeSet<u64>,
    /// The freelist's own pages, freed when a commit writes a new one.
    pub freelist_run: Option<Run>,
    /// Pages below the high water mark neither in use nor free (bbolt's "unreachable
    /// unfreed"): a leak, harmless to readers and writers.
    pub leaked: Vec<u64>,
}

/// Picks the current meta: the valid one with the higher txid (bbolt's `db.meta()`).
fn current_meta(data: &[u8]) -> Result<Meta, String> {
    let body = |at: usize| data.get(at + PAGE_HEADER..).unwrap_or_default();
    let m0 = Meta::parse(body(0));
    let page_size = m0.map_or(DEFAULT_PAGE_SIZE, |m| m.page_size as usize);
    let m1 = Meta::parse(body(page_size));
    match (m0, m1) {
        (Ok(a), Ok(b)) => Ok(if b.txid > a.txid { b } else { a }),
        (Ok(m), Err(_)) | (Err(_), Ok(m)) => Ok(m),
        (Err(a), Err(b)) => Err(format!("no valid meta page (page 0: {a}; page 1: {b})")),
    }
}

/// Decodes `data`, the whole file; `Err` names the rule the file breaks.
pub(crate) fn load(data: &[u8]) -> Result<Loaded, String> {
    let meta = current_meta(data)?;
    let page_size = meta.page_size as usize;
    if !(1024..=1 << 20).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!(
            "page size {page_size} is not a power of two in 1 KiB..1 MiB"
        ));
    }
    let mut walker = Walker {
        data,
        page_size,
        high_water: meta.high_water,
        reachable: BTreeSet::from([0, 1]),
        depth: 0,
    };
    let mut root = walker.tree(meta.root)?;
    root.sequence = meta.root_sequence;
    let (free, freelist_run) = if meta.freelist == NO_FREELIST {
        // NoFreelistSync: the free pages are whatever is not reachable (bbolt's freepages).
        let free = (2..meta.high_water)
            .filter(|id| !walker.reachable.contains(id))
            .collect();
        (free, None)
    } else {
        let (run, ids) = walker.freelist(meta.freelist)?;
        (ids, Some(run))
    };
    if let Some(id) = free.iter().find(|id| walker.reachable.contains(id)) {
        return Err(format!("page {id} is both free and in use"));
    }
    let leaked = (0..meta.high_water)
        .filter(|id| !walker.reachable.contains(id) && !free.contains(id))
        .collect();
    Ok(Loaded {
        meta,
        root,
        free,
        freelist_run,
        leaked,
    })
}

struct Walker<'a> {
    data: &'a [u8],
    page_size: usize,
    high_water: u64,
    reachable: BTreeSet<u64>,
    /// Nesting of buckets being read: bounded so a crafted file cannot exhaust the stack.
    depth: usize,
}

/// Deeper nesting than any real database has (podman's is 2).
const MAX_DEPTH: usize = 256;

impl<'a> Walker<'a> {
    /// The page `id` with its overflow pages, marked as reachable.
    fn page(&mut self, id: u64) -> Result<(PageHeader, &'a [u8]), String> {
        let ps = self.page_size as u64;
        if id >= self.high_water {
            return Err(format!(
                "page {id} is past the high water mark {}",
                self.high_water
            ));
        }
        let start = id
            .checked_mul(ps)
            .and_then(|s| usize::try_from(s).ok())
            .ok_or_else(|| format!("page {id} is out of range"))?;
        let header = self
            .data
            .get(start..)
            .and_then(PageHeader::parse)
            .ok_or_else(|| format!("page {id} is past the end of the file"))?;
        if header.id != id {
            return Err(format!("page {id} says it is page {}", header.id));
        }
        let last = id + u64::from(header.overflow);
        if last >= self.high_water {
            return Err(format!(
                "page {id} (+{} overflow) is past the high water mark {}",
                header.overflow, self.high_water
            ));
        }
        let len = (u64::from(header.overflow) + 1) * ps;
        let bytes = self
            .data
            .get(start..start + len as usize)
            .ok_or_else(|| format!("page {id} runs past the end of the file"))?;
        for p in id..=last {
            if !self.reachable.insert(p) {
                return Err(format!("page {p} is referenced twice"));
            }
        }
        Ok((header, bytes))
    }

    fn freelist(&mut self, id: u64) -> Result<(Run, BTreeSet<u64>), String> {
        let (header, bytes) = self.page(id)?;
        if header.flags & FREELIST_PAGE == 0 {
            return Err(format!(
                "freelist page {id} has page flags {:#x}",
                header.flags
            ));
        }
        let (first, count) = if header.count == 0xFFFF {
            let n = u64_at(bytes, PAGE_HEADER).ok_or("freelist count is truncated")?;
            (
                1,
                usize::try_from(n).map_err(|_| "freelist count overflows")?,
            )
        } else {
            (0, usize::from(header.count))
        };
        let mut ids = BTreeSet::new();
        for i in first..first + count {
            let free = u64_at(bytes, PAGE_HEADER + 8 * i)
                .ok_or_else(|| format!("freelist page {id} is shorter than its count"))?;
            if free < 2 || free >= self.high_water {
                return Err(format!(
                    "free page {free} is a meta page or past the high water mark"
                ));
            }
            if !ids.insert(free) {
                return Err(format!("page {free} is freed twice"));
            }
        }
        let run = Run {
            id,
            overflow: header.overflow,
        };
        Ok((run, ids))
    }

    /// The bucket whose b+tree starts at page `root`.
    fn tree(&mut self, root: u64) -> Result<Bucket, String> {
        let mut entries = Vec::new();
        let mut pages = Pages::default();
        self.node(root, &mut entries, &mut pages)?;
        Ok(Bucket {
            root,
            leaves: pages.leaves,
            branches: pages.branches,
            // sorted already: a bulk build, much cheaper than inserting one by one
            entries: entries.into_iter().collect(),
            ..Bucket::default()
        })
    }

    fn node(&mut self, id: u64, entries: &mut Entries, pages: &mut Pages) -> Result<(), String> {
        let (header, bytes) = self.page(id)?;
        let run = Run {
            id,
            overflow: header.overflow,
        };
        if header.flags & BRANCH_PAGE != 0 {
            pages.branches.push(run);
            if header.count == 0 {
                return Err(format!("branch page {id} is empty"));
            }
            for i in 0..usize::from(header.count) {
                let at = PAGE_HEADER + i * ELEMENT;
                let child = u64_at(bytes, at + 8)
                    .ok_or_else(|| format!("branch page {id} is shorter than its count"))?;
                self.node(child, entries, pages)?;
            }
            Ok(())
        } else if header.flags & LEAF_PAGE != 0 {
            let elements = leaf_elements(bytes, header.count, id)?;
            let first = elements.first().map(|e| e.1.to_vec()).unwrap_or_default();
            pages.leaves.push(Leaf { first, run });
            for (flags, key, value) in elements {
                self.insert(entries, flags, key, value, id)?;
            }
            Ok(())
        } else {
            Err(format!(
                "page {id} has page flags {:#x}, not a branch or a leaf",
                header.flags
            ))
        }
    }

    fn insert(
        &mut self,
        entries: &mut Entries,
        flags: u32,
        key: &[u8],
        value: &[u8],
        id: u64,
    ) -> Result<(), String> {
        if let Some((last, _)) = entries.last() {
            if last.as_slice() >= key {
                return Err(format!("keys out of order in page {id}"));
            }
        }
        let item = if flags & BUCKET_LEAF_FLAG != 0 {
            Item::Bucket(Box::new(self.nested(value, id)?))
        } else {
            Item::Value(value.to_vec())
        };
        entries.push((key.to_vec(), item));
        Ok(())
    }

    /// A nested bucket from its value: a header, and an inline page when its root is 0.
    fn nested(&mut self, value: &[u8], id: u64) -> Result<Bucket, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!(
                "buckets nested deeper than {MAX_DEPTH} in page {id}"
            ));
        }
        self.depth += 1;
        let bucket = self.nested_at_depth(value, id);
        self.depth -= 1;
        bucket
    }

    fn nested_at_depth(&mut self, value: &[u8], id: u64) -> Result<Bucket, String> {
        let root = u64_at(value, 0).ok_or_else(|| format!("short bucket value in page {id}"))?;
        let sequence =
            u64_at(value, 8).ok_or_else(|| format!("short bucket value in page {id}"))?;
        let mut bucket = if root != 0 {
            self.tree(root)?
        } else {
            let page = &value[BUCKET_HEADER..];
            let header = PageHeader::parse(page)
                .ok_or_else(|| format!("short inline bucket in page {id}"))?;
            if header.flags & LEAF_PAGE == 0 {
                return Err(format!("inline bucket in page {id} is not a leaf"));
            }
            let mut entries = Vec::new();
            for (flags, key, value) in leaf_elements(page, header.count, id)? {
                self.insert(&mut entries, flags, key, value, id)?;
            }
            Bucket {
                entries: entries.into_iter().collect(),
                ..Bucket::default()
            }
        };
        bucket.sequence = sequence;
        Ok(bucket)
    }
}

/// The pages of one bucket's b+tree, leaves in key order.
#[derive(Default)]
struct Pages {
    leaves: Vec<Leaf>,
    branches: Vec<Run>,
}

/// A bucket's entries in the order the pages hold them (checked ascending).
type Entries = Vec<(Vec<u8>, Item)>;

type LeafElement<'a> = (u32, &'a [u8], &'a [u8]);

/// The elements of the leaf page `bytes` (a file page or an inline bucket's page).
fn leaf_elements(bytes: &[u8], count: u16, id: u64) -> Result<Vec<LeafElement<'_>>, String> {
    let short = || format!("leaf page {id} is shorter than its elements");
    (0..usize::from(count))
        .map(|i| {
            let at = PAGE_HEADER + i * ELEMENT;
            let flags = u32_at(bytes, at).ok_or_else(short)?;
            let pos = u32_at(bytes, at + 4).ok_or_else(short)? as usize;
            let ksize = u32_at(bytes, at + 8).ok_or_else(short)? as usize;
            let vsize = u32_at(bytes, at + 12).ok_or_else(short)? as usize;
            let k = at + pos;
            let key = bytes.get(k..k + ksize).ok_or_else(short)?;
            let value = bytes.get(k + ksize..k + ksize + vsize).ok_or_else(short)?;
            Ok((flags, key, value))
        })
        .collect()
}
