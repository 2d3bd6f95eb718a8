//! `head N`: the first N events; once they are out, evq stops reading input.

use super::Emit;
use crate::event::{Event, Fate};

#[derive(Debug, Clone)]
pub(crate) struct Head {
    limit: u64,
    seen: u64,
}

impl Head {
    pub(crate) fn new(limit: u64) -> Self {
        Head { limit, seen: 0 }
    }

    pub(crate) fn push(&mut self, ev: Event, out: &mut Emit) {
        if self.seen < self.limit {
            self.seen += 1;
            out.push(ev);
        } else {
            out.record(&ev, Fate::Skipped);
        }
    }

    /// True once no further event can pass.
    pub(crate) fn is_done(&self) -> bool {
        self.seen >= self.limit
    }
}
