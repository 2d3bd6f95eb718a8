//! `tail N`: the last N events, held in a ring of N until the end of input.

use super::Emit;
use crate::event::{Event, Fate, Meta};
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;

/// An event kept as its JSON text.
#[derive(Debug, Clone)]
struct Held {
    json: String,
    meta: Meta,
    topic: Option<Arc<str>>,
    /// An extra copy made by `route all`.
    copy: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Tail {
    limit: usize,
    ring: VecDeque<Held>,
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
        let held = Held {
            json: ev.json_string(),
            meta: ev.meta,
            topic: ev.topic.clone(),
            copy: ev.copy,
        };
        if let Some(h) = self.hold(held) {
            out.record_held(h.meta, h.copy, Fate::Skipped);
        }
    }

    fn hold(&mut self, h: Held) -> Option<Held> {
        if self.limit == 0 {
            return Some(h);
        }
        self.ring.push_back(h);
        if self.ring.len() > self.limit {
            return self.ring.pop_front();
        }
        None
    }

    /// Releases the events held, oldest first.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        while let Some(h) = self.ring.pop_front() {
            out.push_text(&h.json, h.meta, h.topic, h.copy);
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }
}
