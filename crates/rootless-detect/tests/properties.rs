//! Property tests: `maybe_split_mappings` against a brute-force oracle over
//! small id spaces, and `parse_id_map` round trips.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use rootless_detect::{maybe_split_mappings, parse_id_map, IdMapping};

fn mapping(max_start: u32, max_size: u32) -> impl Strategy<Value = IdMapping> {
    (0..max_start, 0..max_start, 1..max_size).prop_map(|(container_id, host_id, size)| IdMapping {
        container_id,
        host_id,
        size,
    })
}

/// Ids available in the namespace, by brute force.
fn available_ids(available: &[IdMapping]) -> BTreeSet<u32> {
    available
        .iter()
        .flat_map(|a| a.container_id..a.container_id + a.size)
        .collect()
}

/// Every (container id, host id) pair of a list of mappings.
fn pairs(maps: &[IdMapping]) -> Vec<(u32, u32)> {
    maps.iter()
        .flat_map(|m| (0..m.size).map(move |i| (m.container_id + i, m.host_id + i)))
        .collect()
}

proptest! {
    #[test]
    fn split_partitions_the_request(
        requested in prop::collection::vec(mapping(200, 40), 0..5),
        available in prop::collection::vec(mapping(200, 60), 0..5),
    ) {
        let before = available.clone();
        let got = maybe_split_mappings(&requested, &available);
        prop_assert_eq!(&available, &before);
        let ids = available_ids(&available);

        // Mapped and unmapped pieces together are exactly the request, in order.
        let mut all: Vec<IdMapping> = got.mappings.iter().chain(&got.unmapped).copied().collect();
        all.sort_by_key(|m| (m.container_id, m.host_id));
        let mut want = pairs(&requested);
        want.sort_unstable();
        let mut have = pairs(&all);
        have.sort_unstable();
        prop_assert_eq!(have, want);

        // Mapped host ids are available, unmapped ones are not.
        for (_, host) in pairs(&got.mappings) {
            prop_assert!(ids.contains(&host));
        }
        for (_, host) in pairs(&got.unmapped) {
            prop_assert!(!ids.contains(&host));
        }
        // Each mapped piece lies inside one available range.
        for m in &got.mappings {
            let last = m.host_id + m.size - 1;
            prop_assert!(available.iter().any(|a| {
                a.container_id <= m.host_id && last < a.container_id + a.size
            }), "{:?} spans ranges of {:?}", m, available);
            prop_assert!(m.size > 0);
        }
    }

    #[test]
    fn kernel_format_round_trips(maps in prop::collection::vec(mapping(u32::MAX / 2, u32::MAX / 2), 0..6)) {
        let text: String = maps
            .iter()
            .map(|m| format!("{:>10} {:>10} {:>10}\n", m.container_id, m.host_id, m.size))
            .collect();
        prop_assert_eq!(parse_id_map(&text).unwrap(), maps);
    }
}
