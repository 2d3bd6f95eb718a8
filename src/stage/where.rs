//! `where EXPR`: keeps events for which EXPR is true (message filter).

use super::{Describe, Flow, PerEvent, Step};
use crate::event::Event;
use crate::lang::{Env, Expr, Needles};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone)]
pub(crate) struct Where {
    cond: Expr,
    /// Raised once the stage passed an event, on any thread.
    passed: Arc<AtomicBool>,
}

impl Where {
    pub(crate) fn new(cond: Expr) -> Self {
        Where {
            cond,
            passed: Arc::default(),
        }
    }

    /// Raised once the stage passed an event, for the end-of-run check of texts compared in
    /// another case than the data's.
    pub(crate) fn passed(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.passed)
    }

    /// The condition, for the end-of-run check of comparisons that never held.
    pub(crate) fn cond(&self) -> &Expr {
        &self.cond
    }

    /// The texts a line must hold for the condition to hold, if it needs any.
    pub(crate) fn needles(&self) -> Option<Needles> {
        Needles::of(&self.cond)
    }

    pub(crate) fn apply(&self, ev: &Event, env: &Env) -> Flow {
        if self.cond.test(ev, env) {
            if !self.passed.load(Ordering::Relaxed) {
                self.passed.store(true, Ordering::Relaxed);
            }
            Flow::Pass
        } else {
            Flow::Filtered
        }
    }
}

impl Describe for Where {
    fn expressions(&self) -> Vec<&Expr> {
        vec![&self.cond]
    }

    fn name(&self) -> &'static str {
        "where"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("false: filtered")
    }
}

impl PerEvent for Where {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        Step::of(self.apply(ev, env))
    }
}
