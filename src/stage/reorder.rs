//! `reorder by EXPR within DUR|N`: the resequencer. Restores the order of a slightly disordered
//! stream with a bounded buffer: events wait in a min-heap by key and leave it in key order.
//!
//! - The key is EXPR read as an event time, as `--time-field` is read (RFC 3339 and the other
//!   time formats, or a number: seconds, or milli-, micro- or nanoseconds by its size); a plain
//!   sequence number up to 253402300799 (seconds) is taken as it is. Events whose key is null, missing or not a
//!   time are dead letters (`no_time`).
//! - `within DUR`: an event is released once the largest key seen is DUR past its key. Output is
//!   in order whenever no event arrives more than DUR behind the largest key before it.
//! - `within N`: at most N events wait; one more releases the smallest.
//! - Either way, the events held never take more than `--memory-limit`: past it the smallest
//!   are released early.
//! - Equal keys leave in arrival order. An event whose key is below the last key released can no
//!   longer be put in its place: it is a dead letter (`late`). At the end of input, everything
//!   held is released in order.

use super::{Describe, Emit, Ordered};
use crate::event::{Event, Fate, OwnedEvent, Reason, Rejection};
use crate::lang::Expr;
use crate::lang::ast::Bound;
use crate::lang::func::time_of;
use crate::time::micros;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::ControlFlow;

/// What holding one event costs beyond its text: its place in the heap and its allocation.
const OVERHEAD: usize = std::mem::size_of::<Held>() + 16;

#[derive(Debug, Clone)]
pub(crate) struct Reorder {
    by: Expr,
    bound: Bound,
    memory_limit: usize,
    heap: BinaryHeap<Reverse<Held>>,
    /// Bytes the held events take (see [`Held::bytes`]).
    held_bytes: usize,
    /// The largest key seen.
    newest: f64,
    /// The key of the last event released.
    released: Option<f64>,
    /// The largest key released before its time because the events held passed
    /// `--memory-limit`: an event late behind it is late for that reason.
    forced: Option<f64>,
    /// Arrival number of the next event, to keep equal keys in arrival order.
    seq: u64,
}

/// One event waiting, ordered by key, then arrival.
#[derive(Debug, Clone)]
struct Held {
    key: f64,
    seq: u64,
    ev: OwnedEvent,
}

impl Held {
    fn bytes(&self) -> usize {
        self.ev.text.len() + self.ev.topic.as_ref().map_or(0, |t| t.len()) + OVERHEAD
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Held) -> Ordering {
        self.key.total_cmp(&other.key).then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Held) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Held {
    fn eq(&self, other: &Held) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Held {}

impl Reorder {
    pub(crate) fn new(by: Expr, bound: Bound, memory_limit: usize) -> Reorder {
        Reorder {
            by,
            bound,
            memory_limit,
            heap: BinaryHeap::new(),
            held_bytes: 0,
            newest: f64::NEG_INFINITY,
            released: None,
            forced: None,
            seq: 0,
        }
    }

    /// Whether the smallest event held is to go: `Some(true)` when only `--memory-limit` makes
    /// it go.
    fn ready(&self) -> Option<bool> {
        let Reverse(first) = self.heap.peek()?;
        let due = match self.bound {
            // In whole microseconds, so that a span compares as the times are written.
            Bound::Span(d) => micros(self.newest).saturating_sub(micros(first.key)) >= micros(d),
            Bound::Events(n) => self.heap.len() as u64 > n,
        };
        (due || self.held_bytes > self.memory_limit).then_some(!due)
    }

    /// Hands on the smallest event held.
    fn release(&mut self, out: &mut Emit) {
        if let Some(Reverse(h)) = self.heap.pop() {
            self.held_bytes -= h.bytes();
            self.released = Some(h.key);
            out.push_owned(h.ev);
        }
    }

    /// Why an event whose key is below the last released is a dead letter.
    fn late(&self, key: f64) -> Rejection {
        match self.forced {
            Some(f) if key < f => Rejection::new(
                Reason::Late,
                "older than what was already output, which reorder released before its time as the events \
                 held passed --memory-limit: raise --memory-limit or shorten the window",
            ),
            _ => Reason::Late.into(),
        }
    }
}

impl Describe for Reorder {
    fn expressions(&self) -> Vec<&Expr> {
        vec![&self.by]
    }

    fn name(&self) -> &'static str {
        "reorder"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("older than what went out: dead letter (late); no time: dead letter (no_time)")
    }
}

impl Ordered for Reorder {
    /// Holds the event, then releases the events that can no longer be overtaken.
    fn push(&mut self, ev: Event, out: &mut Emit) {
        let Some(key) = time_of(&self.by.eval(&ev, out.env()), out.env()) else {
            return out.dead(&ev, Reason::NoTime);
        };
        if self.released.is_some_and(|r| key < r) {
            return out.dead(&ev, self.late(key));
        }
        let held = Held {
            key,
            seq: self.seq,
            ev: ev.to_owned(),
        };
        self.seq += 1;
        self.held_bytes += held.bytes();
        self.heap.push(Reverse(held));
        self.newest = self.newest.max(key);
        while let Some(forced) = self.ready() {
            if forced {
                self.forced = self.heap.peek().map(|Reverse(h)| h.key);
            }
            self.release(out);
        }
    }

    /// The run stopped before the end of input: the events held are skipped.
    fn abandon(&mut self, out: &mut Emit) {
        for Reverse(h) in self.heap.drain() {
            out.record_owned(&h.ev, Fate::Skipped);
        }
        self.held_bytes = 0;
    }

    /// Releases every event held, in order.
    fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        while !self.heap.is_empty() {
            self.release(out);
            out.go_on()?;
        }
        ControlFlow::Continue(())
    }

    fn sees_every_event(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Fate;
    use crate::stage::StageOptions;
    use crate::stage::testing::{Recorded, run_stage};

    fn run(stage: &str, memory_limit: usize, lines: &[String]) -> Recorded {
        let opts = StageOptions {
            memory_limit,
            ..StageOptions::default()
        };
        run_stage(stage, &opts, lines)
    }

    fn keyed(keys: &[&str]) -> Vec<String> {
        keys.iter()
            .enumerate()
            .map(|(i, k)| format!(r#"{{"t":{k},"i":{i}}}"#))
            .collect()
    }

    /// The `i` of each event output.
    fn order(r: &Recorded) -> Vec<u64> {
        r.out
            .iter()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON output");
                v["i"].as_u64().expect("i")
            })
            .collect()
    }

    #[test]
    fn a_disordered_stream_comes_out_sorted_and_stable() {
        let lines = keyed(&["3", "1", "2", "2", "6", "4", "5", "9", "7", "8", "7"]);
        let r = run("reorder by t within 3s", usize::MAX, &lines);
        assert_eq!(order(&r), [1, 2, 3, 0, 5, 6, 4, 8, 10, 9, 7]);
    }

    /// A span compares as the times are written: `.110` is 2ms after `.108` (as doubles,
    /// a hair less), so `.108` goes then and `.107` after it is late.
    #[test]
    fn a_span_compares_as_the_times_are_written() {
        let lines = keyed(&[
            "\"2026-11-01T00:00:00.108Z\"",
            "\"2026-11-01T00:00:00.110Z\"",
            "\"2026-11-01T00:00:00.107Z\"",
        ]);
        let r = run("reorder by t within 2ms", usize::MAX, &lines);
        assert_eq!(r.lines(Fate::Dead(Reason::Late)), [3]);
        assert_eq!(order(&r), [0, 1]);
    }

    #[test]
    fn events_below_the_last_released_are_late() {
        // 20 releases 10; 12 is then due at once; a key equal to the last released is in order.
        let lines = keyed(&["10", "20", "12", "9", "12", "30", "19"]);
        let r = run("reorder by t within 5s", usize::MAX, &lines);
        assert_eq!(order(&r), [0, 2, 4, 1, 5]);
        assert_eq!(r.lines(Fate::Dead(Reason::Late)), [4, 7]);
    }

    #[test]
    fn within_n_holds_n_events() {
        let lines = keyed(&["5", "4", "3", "2", "1", "6"]);
        let r = run("reorder by t within 2", usize::MAX, &lines);
        // Holding 2, the third event releases the smallest (3); then 2 and 1 are late.
        assert_eq!(order(&r), [2, 1, 0, 5]);
        assert_eq!(r.lines(Fate::Dead(Reason::Late)), [4, 5]);
    }

    #[test]
    fn times_in_any_format_are_keys_and_other_values_are_dead_letters() {
        let lines: Vec<String> = [
            r#"{"t":"2026-01-01T00:00:02Z","i":0}"#,
            r#"{"t":1767225601000,"i":1}"#,
            r#"{"t":"later","i":2}"#,
            r#"{"i":3}"#,
            r#"{"t":"2026-01-01T00:00:00.5+00:00","i":4}"#,
        ]
        .map(String::from)
        .to_vec();
        let r = run("reorder by t within 1m", usize::MAX, &lines);
        assert_eq!(order(&r), [4, 1, 0]);
        assert_eq!(r.lines(Fate::Dead(Reason::NoTime)), [3, 4]);
    }

    #[test]
    fn past_the_memory_limit_the_smallest_are_released_early() {
        let lines = keyed(&["5", "4", "3", "2", "1"]);
        let one = lines[0].len() + OVERHEAD;
        let r = run("reorder by t within 1h", 2 * one, &lines);
        // Two fit; the third releases the smallest (3), and 2 and 1 are then late: the
        // dead letters say why, since the window alone would have held them.
        assert_eq!(order(&r), [2, 1, 0]);
        assert_eq!(r.lines(Fate::Dead(Reason::Late)), [4, 5]);
        assert!(r.errors[&4].contains("released before its time as the events held passed --memory-limit"));
        let r = run("reorder by t within 1", usize::MAX, &lines);
        assert_eq!(r.errors[&3], Reason::Late.explain());
    }
}
