//! The bbolt on-disk format: page headers, elements, bucket headers and the meta page.
//!
//! ```text
//! page (page_size bytes, or (overflow + 1) * page_size when it spills over):
//!   0  id u64 | 8 flags u16 | 10 count u16 | 12 overflow u32 | 16 body...
//! branch body: count elements { pos u32, ksize u32, pgid u64 } then the keys
//! leaf body:   count elements { flags u32, pos u32, ksize u32, vsize u32 } then key+value
//!              (pos counts from the element's own first byte; flags 0x01 = a bucket)
//! bucket value: { root pgid u64, sequence u64 } and, when root == 0 (an inline bucket),
//!              a whole leaf page (header with id 0 + elements + data) right after it
//! meta (page 0 and 1, at offset 16): magic u32 0xED0CDAED, version u32 2, page_size u32,
//!   flags u32, root bucket {pgid u64, sequence u64}, freelist pgid u64, high water mark
//!   pgid u64, txid u64, checksum u64 = FNV-1a 64 of the 56 bytes before it
//! freelist body: count u64 page ids, sorted; when count >= 0xFFFF the header says 0xFFFF
//!   and the real count is a u64 before the ids
//! ```
//! All integers little endian (bbolt writes its in-memory structs; amd64 and arm64 are
//! little endian, which is all podman runs on).

/// Bytes of a page header.
pub(crate) const PAGE_HEADER: usize = 16;
/// Bytes of a branch or a leaf element (both are 16).
pub(crate) const ELEMENT: usize = 16;
/// Bytes of the bucket header that starts every bucket value.
pub(crate) const BUCKET_HEADER: usize = 16;
/// Offset of the checksum inside the meta: the checksum covers the bytes before it.
const META_CHECKSUM_AT: usize = 56;
const META_LEN: usize = 64;

pub(crate) const MAGIC: u32 = 0xED0C_DAED;
pub(crate) const VERSION: u32 = 2;
pub(crate) const BRANCH_PAGE: u16 = 0x01;
pub(crate) const LEAF_PAGE: u16 = 0x02;
pub(crate) const META_PAGE: u16 = 0x04;
pub(crate) const FREELIST_PAGE: u16 = 0x10;
pub(crate) const BUCKET_LEAF_FLAG: u32 = 0x01;
/// The freelist pgid of a file written with bbolt's `NoFreelistSync`.
pub(crate) const NO_FREELIST: u64 = u64::MAX;
/// bbolt's `MaxKeySize`.
pub(crate) const MAX_KEY_SIZE: usize = 32768;
/// bbolt's `MaxValueSize`.
pub(crate) const MAX_VALUE_SIZE: usize = (1 << 31) - 2;

pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// A page header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageHeader {
    pub id: u64,
    pub flags: u16,
    pub count: u16,
    pub overflow: u32,
}

impl PageHeader {
    pub(crate) fn parse(b: &[u8]) -> Option<PageHeader> {
        Some(PageHeader {
            id: u64_at(b, 0)?,
            flags: u16_at(b, 8)?,
            count: u16_at(b, 10)?,
            overflow: u32_at(b, 12)?,
        })
    }

    pub(crate) fn write(&self, b: &mut [u8]) {
        b[0..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..10].copy_from_slice(&self.flags.to_le_bytes());
        b[10..12].copy_from_slice(&self.count.to_le_bytes());
        b[12..16].copy_from_slice(&self.overflow.to_le_bytes());
    }
}

/// The meta record of page 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub page_size: u32,
    pub flags: u32,
    pub root: u64,
    pub root_sequence: u64,
    pub freelist: u64,
    /// First page id past the end of the used file (bbolt's `meta.pgid`).
    pub high_water: u64,
    pub txid: u64,
}

/// FNV-1a, 64 bit: bbolt's meta checksum (`hash/fnv.New64a`).
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Meta {
    /// Decodes and validates a meta from the body of a meta page; `Err` says which rule
    /// it breaks (bbolt's `meta.validate`: magic, version, checksum).
    pub(crate) fn parse(body: &[u8]) -> Result<Meta, &'static str> {
        let b = body.get(..META_LEN).ok_or("meta page is truncated")?;
        let field = |at| u64_at(b, at).ok_or("meta page is truncated");
        let word = |at| u32_at(b, at).ok_or("meta page is truncated");
        if word(0)? != MAGIC {
            return Err("meta magic is not bbolt's");
        }
        if word(4)? != VERSION {
            return Err("meta version is not 2");
        }
        let checksum = field(META_CHECKSUM_AT)?;
        // bbolt accepts a zero checksum (files from before checksums existed).
        if checksum != 0 && checksum != fnv1a64(&b[..META_CHECKSUM_AT]) {
            return Err("meta checksum does not match");
        }
        Ok(Meta {
            page_size: word(8)?,
            flags: word(12)?,
            root: field(16)?,
            root_sequence: field(24)?,
            freelist: field(32)?,
            high_water: field(40)?,
            txid: field(48)?,
        })
    }

    /// The whole meta page (slot `txid % 2`), checksum included.
    pub(crate) fn page(&self) -> Vec<u8> {
        let mut p = vec![0u8; self.page_size as usize];
        PageHeader {
            id: self.txid % 2,
            flags: META_PAGE,
            count: 0,
            overflow: 0,
        }
        .write(&mut p);
        let m = &mut p[PAGE_HEADER..PAGE_HEADER + META_LEN];
        m[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        m[4..8].copy_from_slice(&VERSION.to_le_bytes());
        m[8..12].copy_from_slice(&self.page_size.to_le_bytes());
        m[12..16].copy_from_slice(&self.flags.to_le_bytes());
        m[16..24].copy_from_slice(&self.root.to_le_bytes());
        m[24..32].copy_from_slice(&self.root_sequence.to_le_bytes());
        m[32..40].copy_from_slice(&self.freelist.to_le_bytes());
        m[40..48].copy_from_slice(&self.high_water.to_le_bytes());
        m[48..56].copy_from_slice(&self.txid.to_le_bytes());
        let sum = fnv1a64(&m[..META_CHECKSUM_AT]);
        m[56..64].copy_from_slice(&sum.to_le_bytes());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_vectors() {
        // From the FNV reference test suite (isthe.com/chongo/tech/comp/fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn a_meta_page_parses_back_and_a_flipped_byte_is_refused() {
        let m = Meta {
            page_size: 4096,
            flags: 0,
            root: 3,
            root_sequence: 7,
            freelist: 2,
            high_water: 4,
            txid: 5,
        };
        let page = m.page();
        assert_eq!(PageHeader::parse(&page).map(|h| h.id), Some(1));
        assert_eq!(Meta::parse(&page[PAGE_HEADER..]), Ok(m));
        let mut torn = page.clone();
        torn[PAGE_HEADER + 41] ^= 1;
        assert_eq!(
            Meta::parse(&torn[PAGE_HEADER..]),
            Err("meta checksum does not match")
        );
    }
}
