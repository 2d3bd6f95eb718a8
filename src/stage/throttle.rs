//! `throttle N per DUR [by EXPR]`: at most N events per key in each event-time window; the rest
//! are dropped with the fate `throttled`.
//!
//! - Windows are tumbling and fall as `every DUR`'s do ([`Windows`]): on the clock of `--tz`
//!   (UTC by default), whole days from the zone's midnight, weeks from Monday; a window's count
//!   includes only the events that passed.
//! - Without `by`, all events share one key. With `by`, keys compare by value as group keys do;
//!   a null or missing value is one key like any other.
//! - Only the counts of the newest window seen and of the window before it are held, so a
//!   slightly disordered stream is counted right across a window's end. An event for an older
//!   window than those is throttled: its window's counts are gone, and letting it pass could
//!   break the limit.
//! - Events without a parsable time are dead letters (`no_time`).
//! - A window holds at most `--max-groups` keys; past that the run fails (exit 3).

use super::{Describe, Emit, Ordered, StageError, TimeField, Windows};
use crate::agg::key::write_canonical;
use crate::event::{Event, Fate, Needs, Reason};
use crate::lang::Expr;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    limit: u64,
    windows: Windows,
    by: Option<Expr>,
    time: TimeField,
    /// The most keys one window holds (`--max-groups`).
    max_keys: usize,
    /// The newest window seen.
    current: Counts,
    /// The window before `current`.
    previous: Counts,
    /// The canonical key of the current event (kept to reuse its allocation).
    key: Vec<u8>,
}

/// The events passed in one window, per key.
#[derive(Debug, Clone)]
struct Counts {
    window: i64,
    counts: HashMap<Box<[u8]>, u64, foldhash::fast::RandomState>,
}

impl Counts {
    fn new() -> Counts {
        Counts {
            window: i64::MIN,
            counts: HashMap::default(),
        }
    }

    /// Starts window `window` afresh, keeping the allocation.
    fn reset(&mut self, window: i64) {
        self.window = window;
        self.counts.clear();
    }
}

/// What became of one event.
enum Verdict {
    Pass,
    Throttled,
    /// The key would be one more than the window may hold.
    Full,
}

impl Throttle {
    pub(crate) fn new(limit: u64, windows: Windows, by: Option<Expr>, time: TimeField, max_keys: usize) -> Throttle {
        Throttle {
            limit,
            windows,
            by,
            time,
            max_keys,
            current: Counts::new(),
            previous: Counts::new(),
            key: Vec::new(),
        }
    }

    /// Counts the current key's event in `window`, if it is under the limit there.
    fn count(&mut self, window: i64) -> Verdict {
        if window > self.current.window {
            if window == self.current.window.saturating_add(1) {
                std::mem::swap(&mut self.current, &mut self.previous);
            } else {
                // The window before was never seen: nothing passed in it.
                self.previous.reset(window - 1);
            }
            self.current.reset(window);
        }
        let counts = if window == self.current.window {
            &mut self.current.counts
        } else if window == self.previous.window {
            &mut self.previous.counts
        } else {
            return Verdict::Throttled;
        };
        let full = counts.len() >= self.max_keys;
        match counts.get_mut(self.key.as_slice()) {
            Some(n) if *n >= self.limit => Verdict::Throttled,
            Some(n) => {
                *n += 1;
                Verdict::Pass
            }
            None if full => Verdict::Full,
            None => {
                counts.insert(self.key.as_slice().into(), 1);
                Verdict::Pass
            }
        }
    }
}

impl Describe for Throttle {
    fn expressions(&self) -> Vec<&Expr> {
        self.by.iter().collect()
    }

    fn needs(&self, n: &mut Needs) {
        self.by.iter().for_each(|e| n.add_expr(e));
        self.time.needs(n);
    }

    fn name(&self) -> &'static str {
        "throttle"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("over the limit: throttled; no time: dead letter (no_time)")
    }
}

impl Ordered for Throttle {
    fn push(&mut self, ev: Event, out: &mut Emit) {
        let Some(t) = self.time.of(&ev, out.env()) else {
            return out.dead(&ev, Reason::NoTime);
        };
        if let Some(by) = &self.by {
            // A null or missing value is a key too: `null`.
            self.key.clear();
            // Writing to a Vec cannot fail.
            let _ = write_canonical(&by.eval(&ev, out.env()), &mut self.key);
        }
        match self.count(self.windows.pane(t)) {
            Verdict::Pass => out.push(ev),
            Verdict::Throttled => out.record(&ev, Fate::Throttled),
            Verdict::Full => {
                out.fail(StageError::too_many("throttle", self.max_keys, "keys in one window"));
                out.record(&ev, Fate::Skipped);
            }
        }
    }

    fn holds_events(&self) -> bool {
        false
    }

    fn sees_every_event(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::StageOptions;
    use crate::stage::testing::{Recorded, run_stage};

    fn run(stage: &str, max_groups: Option<usize>, lines: &[String]) -> Recorded {
        let opts = StageOptions {
            max_groups,
            ..StageOptions::default()
        };
        run_stage(stage, &opts, lines)
    }

    fn events(list: &[(&str, f64)]) -> Vec<String> {
        list.iter().map(|(k, t)| format!(r#"{{"k":{k},"ts":{t}}}"#)).collect()
    }

    #[test]
    fn at_most_n_per_window_per_key() {
        let lines = events(&[
            ("\"a\"", 0.0),
            ("\"a\"", 1.0),
            ("\"b\"", 2.0),
            ("\"a\"", 3.0),
            ("1", 4.0),
            ("1.0", 5.0),
            ("1E0", 6.0),
            ("null", 7.0),
            ("null", 8.0),
            ("null", 9.0),
            ("\"a\"", 10.0),
            ("\"a\"", 19.9),
            ("\"a\"", 19.95),
        ]);
        let r = run("throttle 2 per 10s by k", None, &lines);
        assert_eq!(r.lines(Fate::Throttled), [4, 7, 10, 13]);
        let r = run("throttle 3 per 10s", None, &lines);
        assert_eq!(r.lines(Fate::Emitted), [1, 2, 3, 11, 12, 13]);
    }

    #[test]
    fn the_window_before_the_newest_still_counts_and_older_ones_are_throttled() {
        let lines = events(&[
            ("1", 9.0),
            ("1", 10.0),
            ("1", 9.5),
            ("1", 9.8),
            ("1", 25.0),
            // Window 1 is the one before window 2: its count is fresh.
            ("1", 19.0),
            // Window 0 is gone.
            ("1", 5.0),
            ("1", 41.0),
            ("1", 25.0),
        ]);
        let r = run("throttle 2 per 10s by k", None, &lines);
        assert_eq!(r.lines(Fate::Throttled), [4, 7, 9]);
    }

    #[test]
    fn events_without_time_are_dead_letters() {
        let lines = vec![r#"{"k":1}"#.to_string(), r#"{"k":1,"ts":"soon"}"#.to_string()];
        let r = run("throttle 1 per 1m", None, &lines);
        assert_eq!(r.lines(Fate::Dead(Reason::NoTime)), [1, 2]);
    }

    #[test]
    fn more_keys_in_a_window_than_max_groups_fail_the_run() {
        let lines = events(&[("1", 0.0), ("2", 1.0), ("3", 2.0), ("1", 3.0), ("4", 20.0)]);
        let r = run("throttle 5 per 10s by k", Some(2), &lines);
        assert_eq!(
            r.failed.as_deref(),
            Some("throttle: more than 2 keys in one window; raise the limit with --max-groups N")
        );
        assert_eq!(r.lines(Fate::Skipped), [3, 4, 5]);
    }
}
