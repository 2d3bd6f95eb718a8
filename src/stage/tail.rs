//! `tail N`: the last N events, held in a ring of N until the end of input.

use super::Emit;
use crate::event::{Event, Fate, OwnedEvent};
use std::collections::VecDeque;
use std::ops::ControlFlow;

#[derive(Debug, Clone)]
pub(crate) struct Tail {
    limit: usize,
    ring: VecDeque<OwnedEvent>,
}

impl Tail {
    pub(crate) fn new(limit: u64) -> Self {
        Tail {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            ring: VecDeque::new(),
        }
    }

    /// Holds the event; the one that no longer fits (the oldest, or this one for `tail 0`)
    /// is skipped.
    pub(crate) fn push(&mut self, ev: Event, out: &mut Emit) {
        if let Some(h) = self.hold(ev.to_owned()) {
            out.record_owned(&h, Fate::Skipped);
        }
    }

    fn hold(&mut self, h: OwnedEvent) -> Option<OwnedEvent> {
        if self.limit == 0 {
            return Some(h);
        }
        self.ring.push_back(h);
        if self.ring.len() > self.limit {
            return self.ring.pop_front();
        }
        None
    }

    /// The run stopped before the end of input: the events held are skipped.
    pub(crate) fn abandon(&mut self, out: &mut Emit) {
        for h in self.ring.drain(..) {
            out.record_owned(&h, Fate::Skipped);
        }
    }

    /// Releases the events held, oldest first.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        while let Some(h) = self.ring.pop_front() {
            out.push_owned(h);
            if out.go_on().is_break() {
                self.abandon(out);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}
