//! Compact storage of groups and their accumulators, with no allocation per group: a million
//! one-key `count` groups take about 80 bytes each (the key's bytes, 16 bytes of offsets, the
//! key's 8-byte hash, a 32-byte counter and a few bytes of hash index).
//!
//! A group is found by its canonical key (the bytes of [`super::key`], after an opaque prefix
//! such as a window number) and remembers the text its keys had when first seen, which is what
//! its row prints. Groups are numbered in first-seen order; merging appends the later table's
//! new groups in its order, so results do not depend on how the input was split.

use super::Acc;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use std::hash::BuildHasher;
use std::sync::LazyLock;

/// Hashes canonical keys: seeded once per process, so input cannot be made to collide, and
/// the same in every table, so that merging tables reuses the hashes they hold.
static HASHER: LazyLock<foldhash::fast::RandomState> = LazyLock::new(foldhash::fast::RandomState::default);

/// The shape of one stage's groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Layout {
    /// Accumulators per group.
    pub aggs: usize,
    /// Bytes at the start of a canonical key that are not part of its text (a window number).
    pub prefix: usize,
    /// The most groups a table holds.
    pub limit: usize,
}

/// Groups in first-seen order. Each group's bytes in `arena` are its canonical key followed by
/// its first-seen text when that differs from the key after its prefix: in a `count by k`
/// over strings, the key is the text and is stored once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    /// Group numbers, found by the hash of their canonical key.
    index: HashTable<u32>,
    arena: Vec<u8>,
    /// Per group: where its bytes start in `arena` and where its first-seen text starts, which
    /// is where its bytes end (the next group's start) when the text is the canonical key.
    spans: Vec<(usize, usize)>,
    /// Per group: the hash of its canonical key, so that growing the index reads no key.
    hashes: Vec<u64>,
    /// `Layout::aggs` accumulators for each group in turn.
    accs: Vec<Acc>,
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The group of canonical key `canon`, made with first-seen `text` and the accumulators
    /// `accs` gives when it is new; `None` when a new group would pass the limit.
    pub(crate) fn find_or_insert<I: IntoIterator<Item = Acc>>(
        &mut self,
        l: &Layout,
        canon: &[u8],
        text: &[u8],
        accs: impl FnOnce() -> I,
    ) -> Option<usize> {
        self.find_or_insert_hashed(l, HASHER.hash_one(canon), canon, text, accs)
    }

    /// [`Table::find_or_insert`] for a key whose hash is known.
    fn find_or_insert_hashed<I: IntoIterator<Item = Acc>>(
        &mut self,
        l: &Layout,
        hash: u64,
        canon: &[u8],
        text: &[u8],
        accs: impl FnOnce() -> I,
    ) -> Option<usize> {
        let Table {
            index,
            arena,
            spans,
            hashes,
            ..
        } = self;
        let g = spans.len();
        let slot = match index.entry(hash, |&g| canon_of(arena, spans, g) == canon, |&g| hashes[g as usize]) {
            Entry::Occupied(found) => return Some(*found.get() as usize),
            Entry::Vacant(slot) => slot,
        };
        let id = u32::try_from(g).ok().filter(|_| g < l.limit)?;
        slot.insert(id);
        hashes.push(hash);
        let start = arena.len();
        arena.extend_from_slice(canon);
        let mid = arena.len();
        if text != canon.get(l.prefix..).unwrap_or_default() {
            arena.extend_from_slice(text);
        }
        spans.push((start, mid));
        self.accs.extend(accs());
        Some(g)
    }

    /// The accumulators of group `g`.
    pub(crate) fn accs(&self, l: &Layout, g: usize) -> &[Acc] {
        &self.accs[g * l.aggs..(g + 1) * l.aggs]
    }

    pub(crate) fn accs_mut(&mut self, l: &Layout, g: usize) -> &mut [Acc] {
        &mut self.accs[g * l.aggs..(g + 1) * l.aggs]
    }

    /// The canonical key of group `g`, prefix included.
    pub(crate) fn canon(&self, g: usize) -> &[u8] {
        let (start, mid) = self.spans[g];
        &self.arena[start..mid]
    }

    /// The text of group `g`'s keys as first seen.
    pub(crate) fn text(&self, l: &Layout, g: usize) -> &[u8] {
        let (start, mid) = self.spans[g];
        let end = self.spans.get(g + 1).map_or(self.arena.len(), |s| s.0);
        if mid == end {
            &self.arena[(start + l.prefix).min(mid)..mid]
        } else {
            &self.arena[mid..end]
        }
    }

    /// Moves group `g` of `from` with its accumulators `accs` into this table, merging them
    /// when it has the group. False when the group is new and would pass the limit.
    fn take_group(&mut self, l: &Layout, from: &Table, g: usize, accs: impl Iterator<Item = Acc>) -> bool {
        let canon = from.canon(g);
        let hash = from.hashes.get(g).copied().unwrap_or_else(|| HASHER.hash_one(canon));
        self.add_hashed(l, hash, canon, from.text(l, g), accs)
    }

    /// Adds the group of canonical key `canon` and first-seen `text` with its accumulators
    /// `accs`, merging them (as the later ones) when the table has the group. False when the
    /// group is new and would pass the limit.
    pub(crate) fn add_group(&mut self, l: &Layout, canon: &[u8], text: &[u8], accs: impl Iterator<Item = Acc>) -> bool {
        self.add_hashed(l, HASHER.hash_one(canon), canon, text, accs)
    }

    fn add_hashed(
        &mut self,
        l: &Layout,
        hash: u64,
        canon: &[u8],
        text: &[u8],
        accs: impl Iterator<Item = Acc>,
    ) -> bool {
        let mut fresh = Some(accs);
        let found = self.find_or_insert_hashed(l, hash, canon, text, || fresh.take().into_iter().flatten());
        // Unless the group was new and took them, the accumulators are merged or (past the
        // limit) dropped: either way used up, so the next group's come next.
        let Some(accs) = fresh else { return true };
        match found {
            Some(i) => {
                for (a, b) in self.accs_mut(l, i).iter_mut().zip(accs) {
                    a.merge(b);
                }
                true
            }
            None => {
                accs.for_each(drop);
                false
            }
        }
    }

    /// Merges the groups of events that came later in input order. False when some of its new
    /// groups would pass the limit (they are left out).
    pub(crate) fn merge(&mut self, l: &Layout, mut later: Table) -> bool {
        if self.is_empty() {
            *self = later;
            return true;
        }
        let mut accs = std::mem::take(&mut later.accs).into_iter();
        let mut all = true;
        for g in 0..later.len() {
            all &= self.take_group(l, &later, g, accs.by_ref().take(l.aggs));
        }
        all
    }

    /// Removes and returns the groups whose canonical key's prefix `done` accepts.
    pub(crate) fn split_off(&mut self, l: &Layout, done: impl Fn(&[u8]) -> bool) -> Table {
        let mut old = std::mem::take(self);
        let mut out = Table::default();
        let mut accs = std::mem::take(&mut old.accs).into_iter();
        for g in 0..old.len() {
            let prefix = old.canon(g).get(..l.prefix).unwrap_or_default();
            let to = if done(prefix) { &mut out } else { &mut *self };
            // Neither part holds more groups than the whole did.
            to.take_group(l, &old, g, accs.by_ref().take(l.aggs));
        }
        out
    }

    /// A copy of the groups whose canonical key's prefix `keep` accepts, in the same order.
    pub(crate) fn copy_where(&self, l: &Layout, keep: impl Fn(&[u8]) -> bool) -> Table {
        let mut out = Table::default();
        for g in 0..self.len() {
            if keep(self.canon(g).get(..l.prefix).unwrap_or_default()) {
                // The copy holds no more groups than this table.
                out.take_group(l, self, g, self.accs(l, g).iter().cloned());
            }
        }
        out
    }

    /// Frees the hash index (and the keys' hashes): no group can be found or added after this, only read by number.
    pub(crate) fn drop_index(&mut self) {
        self.index = HashTable::new();
        self.hashes = Vec::new();
    }

    /// The heap bytes the table holds.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.index.allocation_size()
            + self.arena.capacity()
            + self.spans.capacity() * std::mem::size_of::<(usize, usize)>()
            + self.hashes.capacity() * std::mem::size_of::<u64>()
            + self.accs.capacity() * std::mem::size_of::<Acc>()
    }
}

fn canon_of<'a>(arena: &'a [u8], spans: &[(usize, usize)], g: u32) -> &'a [u8] {
    let (start, mid) = spans[g as usize];
    &arena[start..mid]
}
