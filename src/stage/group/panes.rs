//! Sliding windows combined from panes: the groups of each pane (a slide-long piece of time) are
//! kept once, and a window's groups are the merge of its panes' when it is emitted. An event is
//! aggregated once, not once per window, and memory holds one window's groups besides the panes.
//!
//! Only for aggregates whose merge does not depend on the order the parts came in (counts, sums,
//! averages, min, max, variance, distinct counts, percentiles); `first`, `last` and `values` keep
//! a state per window instead. A window's groups come in the order their keys were first seen
//! in the window's events, as with a state per window: group numbers are first-seen order.

use super::{GroupSpec, Groups};
use std::collections::BTreeMap;

/// Pane groups and the windows still to be combined from them.
#[derive(Debug)]
pub(super) struct Panes {
    groups: Groups,
    /// The groups of each pane, in first-seen order.
    by_pane: BTreeMap<i64, Vec<u32>>,
    /// The next window to consider.
    next: i64,
    /// The window after the last to give.
    end: i64,
}

impl Panes {
    /// Windows `from .. end` of the pane groups `groups`: those with at least one event.
    pub(super) fn new(groups: Groups, spec: &GroupSpec, from: i64, end: i64) -> Panes {
        let mut by_pane: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        for g in 0..groups.len() {
            if let Some(p) = groups.window(spec, g) {
                by_pane.entry(p).or_default().push(g as u32);
            }
        }
        Panes {
            groups,
            by_pane,
            next: from,
            end,
        }
    }

    /// The groups of the next window that has events, combined from its panes.
    pub(super) fn next_window(&mut self, spec: &GroupSpec) -> Option<Groups> {
        let win = spec.windows?;
        let (&first, _) = self.by_pane.range(self.next..).next()?;
        let w = self.next.max(win.first_window(first));
        if w >= self.end {
            return None;
        }
        self.next = w.saturating_add(1);
        // Panes before this window are in no later one.
        self.by_pane = self.by_pane.split_off(&w);
        let last = w.saturating_add(win.per_window - 1);
        let mut groups: Vec<u32> = self
            .by_pane
            .range(w..=last)
            .flat_map(|(_, gs)| gs.iter().copied())
            .collect();
        groups.sort_unstable();
        Some(self.combine(spec, w, &groups))
    }

    /// Window `w`'s groups: the pane groups `groups` by key, merged in first-seen order.
    fn combine(&self, spec: &GroupSpec, w: i64, groups: &[u32]) -> Groups {
        let l = &spec.layout;
        let table = &self.groups.table;
        let mut out = Groups::default();
        let mut canon = Vec::new();
        for &g in groups {
            let g = g as usize;
            canon.clear();
            canon.extend_from_slice(&w.to_le_bytes());
            canon.extend_from_slice(table.canon(g).get(l.prefix..).unwrap_or_default());
            let accs = table.accs(l, g).iter().cloned();
            // A window holds no more groups than its panes.
            out.overflow |= !out.table.add_group(l, &canon, table.text(l, g), accs);
        }
        out
    }
}
