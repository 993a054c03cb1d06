//! `maybe_split_mappings`: fit requested id mappings onto the ids available
//! in the current user namespace, splitting where a request spans ranges.

use crate::IdMapping;

/// The outcome of [`maybe_split_mappings`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SplitMappings {
    /// Mappings the kernel can accept: each host range lies inside one
    /// available range. Same order as the request.
    pub mappings: Vec<IdMapping>,
    /// Parts of the request whose host ids are not available in this
    /// namespace, in request order. Empty when everything could be mapped.
    pub unmapped: Vec<IdMapping>,
}

/// Splits `requested` mappings so each piece's `host_id..host_id+size` lies
/// inside a single range of `available`.
///
/// `available` is the current namespace's own id map (e.g. parsed from
/// `/proc/self/uid_map`): an id is available when some entry's
/// `container_id..container_id+size` (the ids as seen *in this namespace*)
/// contains it. The kernel refuses a map line whose lower range spans two
/// parent ranges, so such requests must be split.
///
/// Unlike podman's `MaybeSplitMappings`, this never reorders the caller's
/// data and never falls back silently to the original request: ids that no
/// available range covers are returned in [`SplitMappings::unmapped`].
pub fn maybe_split_mappings(requested: &[IdMapping], available: &[IdMapping]) -> SplitMappings {
    // Available ranges as [start, end) in u64, sorted; a private copy.
    let mut ranges: Vec<(u64, u64)> = available
        .iter()
        .map(|a| {
            let start = u64::from(a.container_id);
            (start, start + u64::from(a.size))
        })
        .collect();
    ranges.sort_unstable();
    // Make them disjoint (a real map never overlaps, but the input is not
    // checked): drop ranges inside an earlier one, trim partial overlaps.
    // Each remaining range stays inside one original range.
    let mut disjoint: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        let start = disjoint
            .last()
            .map_or(start, |&(_, prev_end)| start.max(prev_end));
        if start < end {
            disjoint.push((start, end));
        }
    }
    let ranges = disjoint;

    let mut out = SplitMappings::default();
    for req in requested {
        let mut container = u64::from(req.container_id);
        let mut host = u64::from(req.host_id);
        let end = host + u64::from(req.size);
        while host < end {
            // Last range starting at or before `host`.
            let idx = ranges.partition_point(|&(start, _)| start <= host);
            let covering = idx
                .checked_sub(1)
                .map(|i| ranges[i])
                .filter(|&(_, r_end)| host < r_end);
            let (take, mapped) = match covering {
                Some((_, r_end)) => (r_end.min(end) - host, true),
                None => {
                    // Up to the next range start (or the end of the request).
                    let next = ranges.get(idx).map_or(end, |&(start, _)| start.min(end));
                    (next - host, false)
                }
            };
            // Pieces lie within the request's own ranges, which fit u32 for
            // any mapping parse_id_map accepts; a hand-built request running
            // past u32::MAX is clamped.
            let piece = IdMapping {
                container_id: u32::try_from(container).unwrap_or(u32::MAX),
                host_id: u32::try_from(host).unwrap_or(u32::MAX),
                size: u32::try_from(take).unwrap_or(u32::MAX),
            };
            if mapped {
                out.mappings.push(piece);
            } else {
                out.unmapped.push(piece);
            }
            container += take;
            host += take;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(container_id: u32, host_id: u32, size: u32) -> IdMapping {
        IdMapping {
            container_id,
            host_id,
            size,
        }
    }

    #[test]
    fn request_inside_one_range_is_unchanged() {
        let avail = [m(0, 1000, 1), m(1, 200000, 65536)];
        let got = maybe_split_mappings(&[m(0, 1, 1000)], &avail);
        assert_eq!(got.mappings, vec![m(0, 1, 1000)]);
        assert!(got.unmapped.is_empty());
    }

    #[test]
    fn request_spanning_two_ranges_is_split() {
        // Rootless podman's namespace: 0 is the user, 1..65537 the subuids.
        let avail = [m(0, 1000, 1), m(1, 200000, 65536)];
        let got = maybe_split_mappings(&[m(0, 0, 65537)], &avail);
        assert_eq!(got.mappings, vec![m(0, 0, 1), m(1, 1, 65536)]);
        assert!(got.unmapped.is_empty());
    }

    #[test]
    fn ids_outside_any_range_are_reported() {
        let avail = [m(0, 1000, 1), m(1, 200000, 65536)];
        let got = maybe_split_mappings(&[m(0, 65530, 100)], &avail);
        assert_eq!(got.mappings, vec![m(0, 65530, 7)]);
        assert_eq!(got.unmapped, vec![m(7, 65537, 93)]);
    }

    #[test]
    fn gap_between_ranges_is_reported_and_mapping_resumes() {
        let avail = [m(10, 0, 5), m(20, 0, 5)];
        let got = maybe_split_mappings(&[m(100, 8, 20)], &avail);
        assert_eq!(got.mappings, vec![m(102, 10, 5), m(112, 20, 5)]);
        assert_eq!(
            got.unmapped,
            vec![m(100, 8, 2), m(107, 15, 5), m(117, 25, 3)]
        );
    }

    #[test]
    fn callers_data_is_not_reordered() {
        let avail = vec![m(1, 200000, 65536), m(0, 1000, 1)];
        let before = avail.clone();
        let requested = vec![m(5, 5, 1), m(0, 0, 1)];
        let got = maybe_split_mappings(&requested, &avail);
        assert_eq!(avail, before);
        assert_eq!(got.mappings, requested);
    }

    #[test]
    fn overlapping_available_ranges_are_tolerated() {
        let avail = [m(98, 0, 30), m(99, 0, 1), m(120, 0, 20)];
        let got = maybe_split_mappings(&[m(0, 115, 30)], &avail);
        assert_eq!(got.mappings, vec![m(0, 115, 13), m(13, 128, 12)]);
        assert_eq!(got.unmapped, vec![m(25, 140, 5)]);
    }

    #[test]
    fn nothing_available_means_all_unmapped() {
        let got = maybe_split_mappings(&[m(0, 0, 10)], &[]);
        assert!(got.mappings.is_empty());
        assert_eq!(got.unmapped, vec![m(0, 0, 10)]);
    }

    #[test]
    fn top_of_id_space_does_not_overflow() {
        let avail = [m(0, 0, u32::MAX)];
        let got = maybe_split_mappings(&[m(0, u32::MAX - 1, 2)], &avail);
        assert_eq!(got.mappings, vec![m(0, u32::MAX - 1, 1)]);
        assert_eq!(got.unmapped, vec![m(1, u32::MAX, 1)]);
    }
}
