//! `tail N`: the last N events, held in a ring of N until the end of input.

use crate::event::Meta;
use std::collections::VecDeque;
use std::sync::Arc;

/// An event kept as its JSON text.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub json: String,
    pub meta: Meta,
    pub topic: Option<Arc<str>>,
    /// An extra copy made by `route all`.
    pub copy: bool,
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

    /// Holds the event; returns the one that no longer fits (the oldest, or this one
    /// for `tail 0`), whose fate is then decided.
    pub(crate) fn push(&mut self, h: Held) -> Option<Held> {
        if self.limit == 0 {
            return Some(h);
        }
        self.ring.push_back(h);
        if self.ring.len() > self.limit {
            return self.ring.pop_front();
        }
        None
    }

    pub(crate) fn drain(&mut self) -> Vec<Held> {
        self.ring.drain(..).collect()
    }
}
