//! Overlap check between mappings on every address (`""`) and mappings on a
//! specific address: an O(1) range min/max query (sparse table) over the
//! host-to-container offsets of the every-address runs, so the whole check
//! stays O(n log n).

use crate::canonical::Seg;
use crate::protocol::Protocol;

/// The merged every-address runs of each protocol, indexed for overlap queries.
pub(crate) struct Wildcards<'a> {
    tables: Vec<(Protocol, Table<'a>)>,
}

/// Disjoint runs sorted by host port, with min/max offset sparse tables.
struct Table<'a> {
    runs: Vec<&'a Seg>,
    /// `min[k][i]` = smallest offset among `runs[i..i + 2^k]`.
    min: Vec<Vec<i32>>,
    /// `max[k][i]` = largest offset among `runs[i..i + 2^k]`.
    max: Vec<Vec<i32>>,
}

impl<'a> Wildcards<'a> {
    /// `runs` must be canonical runs sorted by (ip, protocol, host, container).
    pub(crate) fn new(runs: &'a [Seg]) -> Self {
        let mut tables: Vec<(Protocol, Table<'a>)> = Vec::new();
        for run in runs.iter().filter(|r| r.every && r.host != 0) {
            match tables.last_mut() {
                Some((proto, table)) if *proto == run.proto => table.runs.push(run),
                _ => tables.push((
                    run.proto,
                    Table {
                        runs: vec![run],
                        min: Vec::new(),
                        max: Vec::new(),
                    },
                )),
            }
        }
        for (_, table) in &mut tables {
            table.build();
        }
        Self { tables }
    }

    /// The first every-address run that shares a host port with `run` but
    /// sends it elsewhere, and the first such port.
    pub(crate) fn disagreeing(&self, run: &Seg) -> Option<(&'a Seg, u16)> {
        let (_, table) = self.tables.iter().find(|(p, _)| *p == run.proto)?;
        let runs = &table.runs;
        let lo = runs.partition_point(|w| w.host_end() < run.host);
        let hi = runs.partition_point(|w| w.host <= run.host_end());
        if lo >= hi {
            return None;
        }
        let want = run.offset();
        if table.min_max(lo, hi) == (want, want) {
            return None;
        }
        let wild = runs[lo..hi].iter().find(|w| w.offset() != want)?;
        Some((wild, wild.host.max(run.host)))
    }
}

impl Table<'_> {
    fn build(&mut self) {
        let offsets: Vec<i32> = self.runs.iter().map(|r| r.offset()).collect();
        self.min = vec![offsets.clone()];
        self.max = vec![offsets];
        let mut width = 1;
        while width * 2 <= self.runs.len() {
            let (prev_min, prev_max) =
                (&self.min[self.min.len() - 1], &self.max[self.max.len() - 1]);
            let n = prev_min.len() - width;
            let next_min = (0..n)
                .map(|i| prev_min[i].min(prev_min[i + width]))
                .collect();
            let next_max = (0..n)
                .map(|i| prev_max[i].max(prev_max[i + width]))
                .collect();
            self.min.push(next_min);
            self.max.push(next_max);
            width *= 2;
        }
    }

    /// Smallest and largest offset among `runs[lo..hi]` (`lo < hi`).
    fn min_max(&self, lo: usize, hi: usize) -> (i32, i32) {
        let len = hi - lo;
        let level = (usize::BITS - 1 - len.leading_zeros()) as usize;
        let width = 1usize << level;
        let (min, max) = (&self.min[level], &self.max[level]);
        (min[lo].min(min[hi - width]), max[lo].max(max[hi - width]))
    }
}
