//! The merge of a sort's spilled runs, within the memory limit. Each run being read needs a read buffer, so
//! one merge reads at most `fan_in` runs, chosen so that their buffers and a write buffer fit in
//! `--memory-limit`. While more runs remain, a pass merges them `fan_in` at a time into fewer, longer runs
//! in a new file (and closes the old one); the last merge streams to the stage's output.

use super::spill::{RunFile, RunReader};
use super::{Item, compare};
use crate::lang::Expr;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io;

/// Smallest and largest read buffer: small enough that a tiny limit still merges two runs at a time,
/// large enough that reads are few.
const MIN_BUFFER: usize = 4 << 10;
const MAX_BUFFER: usize = 64 << 10;
/// The read buffer of a last merge of more runs than `fan_in`, when a pass could not be written.
const MIN_MERGE_BUFFER: usize = 512;
/// What one run being merged holds beside its buffer: its current item (a typical event; a longer one is
/// held whole whatever the limit).
const PER_RUN: usize = 1 << 10;
/// More runs per merge save no pass worth having: 1024 runs of a 16 MiB limit already hold 16 GiB.
const MAX_FAN_IN: usize = 1024;

/// How many runs one merge reads, and the size of each read and write buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Budget {
    pub(super) fan_in: usize,
    pub(super) buffer: usize,
}

impl Budget {
    /// `fan_in` read buffers and one write buffer fit in `limit`, with at least two runs per merge.
    pub(super) fn new(limit: usize) -> Budget {
        let buffer = (limit / 64).clamp(MIN_BUFFER, MAX_BUFFER);
        let fan_in = (limit / (buffer + PER_RUN)).saturating_sub(1).clamp(2, MAX_FAN_IN);
        Budget { fan_in, buffer }
    }
}

/// Merges every run of `runs`, and the items `held` in memory (sorted), into `out`, in sorted order.
pub(super) fn merge(
    keys: &[(Expr, bool)],
    mut runs: RunFile,
    held: Vec<Item>,
    budget: Budget,
    out: &mut dyn FnMut(Item) -> io::Result<()>,
) -> io::Result<()> {
    let mut buffer = budget.buffer;
    while runs.runs().len() > budget.fan_in {
        match pass(keys, &runs, budget) {
            Ok(next) => runs = next,
            Err(_) => {
                // No room for another pass (a full disk): one merge of every run, with smaller buffers,
                // rather than losing the events.
                buffer = MIN_MERGE_BUFFER.max(budget.buffer * budget.fan_in / runs.runs().len());
                break;
            }
        }
    }
    let mut sources: Vec<Source<'_>> = runs
        .runs()
        .iter()
        .map(|r| Source::Run(runs.reader(*r, buffer)))
        .collect();
    if !held.is_empty() {
        sources.push(Source::Held(held.into_iter()));
    }
    merge_sources(keys, sources, out)
}

/// Merges the runs of `from` `fan_in` at a time into the runs of a new file.
fn pass(keys: &[(Expr, bool)], from: &RunFile, budget: Budget) -> io::Result<RunFile> {
    let mut next = RunFile::new()?;
    for group in from.runs().chunks(budget.fan_in) {
        let sources = group
            .iter()
            .map(|r| Source::Run(from.reader(*r, budget.buffer)))
            .collect();
        let mut w = next.writer(budget.buffer);
        merge_sources(keys, sources, &mut |item| w.push(&item))?;
        w.finish()?;
    }
    Ok(next)
}

/// Sorted items: a run on disk, or the events a sort still held in memory.
enum Source<'a> {
    Run(RunReader<'a>),
    Held(std::vec::IntoIter<Item>),
}

impl Source<'_> {
    fn next_item(&mut self) -> io::Result<Option<Item>> {
        match self {
            Source::Run(r) => r.next_item(),
            Source::Held(items) => Ok(items.next()),
        }
    }
}

/// A k-way merge of `sources`.
fn merge_sources(
    keys: &[(Expr, bool)],
    mut sources: Vec<Source<'_>>,
    out: &mut dyn FnMut(Item) -> io::Result<()>,
) -> io::Result<()> {
    let mut heap = BinaryHeap::with_capacity(sources.len());
    for (source, s) in sources.iter_mut().enumerate() {
        if let Some(item) = s.next_item()? {
            heap.push(Head { item, source, keys });
        }
    }
    while let Some(Head { item, source, .. }) = heap.pop() {
        if let Some(next) = sources.get_mut(source).map(Source::next_item).transpose()?.flatten() {
            heap.push(Head {
                item: next,
                source,
                keys,
            });
        }
        out(item)?;
    }
    Ok(())
}

/// A source's smallest item; the heap is a max-heap, so the order is reversed.
struct Head<'k> {
    item: Item,
    source: usize,
    keys: &'k [(Expr, bool)],
}

impl PartialEq for Head<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head<'_> {}
impl PartialOrd for Head<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        compare(self.keys, &o.item, &self.item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_buffers_fit_in_the_limit() {
        for limit in [64 << 10, 1 << 20, 16 << 20, 64 << 20, 1 << 30] {
            let b = Budget::new(limit);
            assert!((b.fan_in + 1) * (b.buffer + PER_RUN) <= limit, "{limit}: {b:?}");
            assert!(b.fan_in >= 2, "{limit}: {b:?}");
        }
        assert_eq!(Budget::new(16 << 20).buffer, MAX_BUFFER);
        assert_eq!(Budget::new(1 << 30).fan_in, MAX_FAN_IN);
    }

    #[test]
    fn budget_merges_two_runs_at_least_whatever_the_limit() {
        for limit in [0, 1, 1000, MIN_BUFFER] {
            assert_eq!(
                Budget::new(limit),
                Budget {
                    fan_in: 2,
                    buffer: MIN_BUFFER
                }
            );
        }
    }
}
