//! `assert EXPR [else "MESSAGE"]`: a check for CI. Events for which EXPR holds pass on; the
//! first that fails ends the run with exit 1 and `evq: FILE:LINE: assertion failed: MESSAGE`.
//! What came before it is output, nothing after it. It runs in input order, so the event that
//! fails is the first in the input whatever `-j`, and it also checks the rows of an aggregate
//! (`stats p99(latency_ms) as p99 | assert p99 < 250`).

use super::{Describe, Emit, Ordered};
use crate::event::{Event, Fate};
use crate::lang::Expr;

#[derive(Debug, Clone)]
pub(crate) struct Assert {
    check: Expr,
    message: String,
    /// Set once an event failed: nothing passes after it.
    failed: bool,
}

impl Assert {
    pub(crate) fn new(check: Expr, message: String) -> Assert {
        Assert {
            check,
            message,
            failed: false,
        }
    }

    /// The condition every event must meet.
    pub(crate) fn check(&self) -> &Expr {
        &self.check
    }
}

impl Describe for Assert {
    fn expressions(&self) -> Vec<&Expr> {
        vec![&self.check]
    }

    fn name(&self) -> &'static str {
        "assert"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("the first event that fails: failed; the lines after it: skipped")
    }
}

impl Ordered for Assert {
    fn push(&mut self, ev: Event, out: &mut Emit) {
        if self.failed {
            return out.record(&ev, Fate::Skipped);
        }
        if self.check.test(&ev, out.env()) {
            return out.push(ev);
        }
        self.failed = true;
        out.stop(&ev, format!("assertion failed: {}", self.message));
        out.record(&ev, Fate::Failed);
    }

    /// Whether an event failed: no later event can pass.
    fn done(&self) -> bool {
        self.failed
    }

    fn holds_events(&self) -> bool {
        false
    }

    fn sees_every_event(&self) -> bool {
        false
    }
}
