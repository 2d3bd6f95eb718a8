//! `dedupe [by KEYS] [within DUR]`: the idempotent receiver. The first event of each key passes;
//! later events with the same key are dropped with the fate `duplicate`.
//!
//! - Keys compare by value, as group keys do (`1`, `1.0` and `1E0` are one key; see
//!   [`crate::agg::key`]), and are stored exactly, as their canonical bytes: two different keys
//!   are never taken for one another.
//! - An event with a key that is null or missing is never a duplicate and is not remembered:
//!   an event is only dropped for repeating all of its keys.
//! - Without `within`, every key is remembered until the end of input, up to `--max-groups`
//!   keys; past that the run fails (exit 3) rather than forget keys and let repeats through.
//! - With `within DUR`, a repeat is an event whose key was kept less than DUR before (or, out
//!   of order, after) it in event time, in whole microseconds; a duplicate does not extend the
//!   window (as in Vector's `dedupe` and idempotent receivers generally), so a key repeated
//!   forever passes once every DUR. Keys are forgotten once the newest event time seen is 2 DUR
//!   past the time they were kept, so memory holds only the keys of the last 2 DUR: an event
//!   less than DUR older than the newest time can repeat only keys kept since. An event DUR or
//!   more older than the newest time that repeats no key held within DUR of it is a dead letter
//!   (`late`): its key may have been forgotten, so whether it repeats one cannot be told.
//!   Events without a parsable time are dead letters (`no_time`).

use super::group::SEP;
use super::{Describe, Emit, Ordered, StageError, TimeField};
use crate::agg::Acc;
use crate::agg::key::write_canonical;
use crate::agg::table::{Layout, Table};
use crate::event::{Event, Fate, Needs, Reason, Rejection};
use crate::lang::{Env, Expr};
use hashbrown::HashTable;
use std::collections::VecDeque;
use std::hash::BuildHasher;

#[derive(Debug, Clone)]
pub(crate) struct Dedupe {
    keys: Vec<Expr>,
    time: TimeField,
    /// The most keys held (`--max-groups`).
    limit: usize,
    seen: Seen,
    /// The canonical key of the current event (kept to reuse its allocation).
    key: Vec<u8>,
}

/// The keys remembered.
#[derive(Debug, Clone)]
enum Seen {
    /// Without `within`: every key kept, stored compactly (no allocation per key).
    All(Table),
    /// With `within`: the keys of the last DUR of event time.
    Window(Window),
}

/// What became of one event's key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Kept,
    Duplicate,
    /// The key would be one more than the limit.
    Full,
    /// The event is too old for the window to tell: why.
    Late(Rejection),
}

impl Dedupe {
    pub(crate) fn new(keys: Vec<Expr>, within: Option<f64>, time: TimeField, limit: usize) -> Dedupe {
        let seen = match within {
            Some(span) => Seen::Window(Window::new(span)),
            None => Seen::All(Table::default()),
        };
        Dedupe {
            keys,
            time,
            limit,
            seen,
            key: Vec::new(),
        }
    }

    fn overflow(&self) -> StageError {
        let (what, or) = match self.seen {
            Seen::All(_) => ("keys", " or bound the window with 'within DUR'"),
            Seen::Window(_) => ("keys within the window", " or shorten the window"),
        };
        StageError::TooMany {
            stage: "dedupe",
            limit: self.limit,
            what,
            or,
        }
    }
}

impl Describe for Dedupe {
    fn expressions(&self) -> Vec<&Expr> {
        self.keys.iter().collect()
    }

    fn needs(&self, n: &mut Needs) {
        self.keys.iter().for_each(|e| n.add_expr(e));
        if matches!(self.seen, Seen::Window(_)) {
            self.time.needs(n);
        }
    }

    fn name(&self) -> &'static str {
        "dedupe"
    }

    fn counts(&self) -> Option<&'static str> {
        Some(match self.seen {
            Seen::All(_) => "repeat: duplicate",
            Seen::Window(_) => {
                "repeat: duplicate; older than DUR before the newest time: dead letter (late); no time: dead letter (no_time)"
            }
        })
    }
}

impl Ordered for Dedupe {
    fn push(&mut self, ev: Event, out: &mut Emit) {
        let time = match &self.seen {
            Seen::All(_) => 0.0,
            Seen::Window(_) => match self.time.of(&ev, out.env()) {
                Some(t) => t,
                None => return out.dead(&ev, Reason::NoTime),
            },
        };
        if !write_keys(&self.keys, &ev, out.env(), &mut self.key) {
            // Without a key the event is not remembered, but its time is the newest seen.
            if let Seen::Window(w) = &mut self.seen {
                w.see(time);
            }
            return out.push(ev);
        }
        let verdict = match &mut self.seen {
            Seen::All(table) => remember(table, &self.key, self.limit),
            Seen::Window(w) => w.check(&self.key, time, self.limit),
        };
        match verdict {
            Verdict::Kept => out.push(ev),
            Verdict::Duplicate => out.record(&ev, Fate::Duplicate),
            Verdict::Full => {
                out.fail(self.overflow());
                out.record(&ev, Fate::Skipped);
            }
            Verdict::Late(why) => out.dead(&ev, why),
        }
    }

    fn holds_events(&self) -> bool {
        false
    }

    fn sees_every_event(&self) -> bool {
        false
    }
}

/// Whether `key` is in the table; adds it when it is not.
fn remember(table: &mut Table, key: &[u8], limit: usize) -> Verdict {
    let layout = Layout {
        aggs: 0,
        prefix: 0,
        limit,
    };
    let before = table.len();
    match table.find_or_insert(&layout, key, key, std::iter::empty::<Acc>) {
        None => Verdict::Full,
        Some(g) if g < before => Verdict::Duplicate,
        Some(_) => Verdict::Kept,
    }
}

/// Writes the canonical bytes of the keys' values (as group keys compare them), separated as in
/// group keys. False when a value is null or missing (what is written is then incomplete).
fn write_keys(keys: &[Expr], ev: &Event, env: &Env, out: &mut Vec<u8>) -> bool {
    out.clear();
    for (i, k) in keys.iter().enumerate() {
        let v = k.eval(ev, env);
        if v.is_null() {
            return false;
        }
        if i > 0 {
            out.push(SEP);
        }
        // Writing to a Vec cannot fail.
        let _ = write_canonical(&v, out);
    }
    true
}

/// The keys kept within the last two spans of event time, with the time each was kept. Times
/// are whole microseconds ([`crate::time::micros`]), so that a span compares exactly: `.002`
/// is 2ms after `.000`, as written.
#[derive(Debug, Clone)]
struct Window {
    span: i64,
    /// Each key held, with the time it was kept, found by the hash of the key.
    held: HashTable<(Box<[u8]>, i64)>,
    hasher: foldhash::fast::RandomState,
    /// The time and hash of each key kept, in arrival order: what to forget next.
    queue: VecDeque<(i64, u64)>,
    newest: i64,
}

impl Window {
    fn new(span: f64) -> Window {
        Window {
            span: crate::time::micros(span),
            held: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            queue: VecDeque::new(),
            newest: i64::MIN,
        }
    }

    /// Why an event too old for the window is a dead letter.
    fn late(&self) -> Rejection {
        let span = self.span as f64 / 1e6;
        Rejection::new(
            Reason::Late,
            format!(
                "{span}s or more older than the newest time seen: dedupe within {span}s may have forgotten its key; \
                 put reorder before it or widen the window"
            ),
        )
    }

    /// An event at or before this time is too old to tell whether it repeats a key.
    fn horizon(&self) -> i64 {
        self.newest.saturating_sub(self.span)
    }

    /// Keys kept at or before this time are forgotten: an event after [`Window::horizon`]
    /// repeats only keys kept after it.
    fn forget_horizon(&self) -> i64 {
        self.horizon().saturating_sub(self.span)
    }

    /// An event at time `t`: the newest time seen moves on.
    fn see(&mut self, t: f64) {
        self.newest = self.newest.max(crate::time::micros(t));
    }

    fn check(&mut self, key: &[u8], t: f64, limit: usize) -> Verdict {
        self.see(t);
        let t = crate::time::micros(t);
        let forget = self.forget_horizon();
        self.expire(forget);
        let hash = self.hasher.hash_one(key);
        let (span, horizon) = (self.span, self.horizon());
        let held = self.held.find_mut(hash, |(k, _)| **k == *key);
        // A key forgotten but not yet removed (its time is behind a later one in the queue)
        // counts as forgotten, so that the verdict does not depend on when it is removed.
        let kept = held.as_ref().map(|(_, kept)| *kept).filter(|kept| *kept > forget);
        // A repeat is within the span of when its key was kept, before or after (out of order).
        if kept.is_some_and(|kept| (t - kept).abs() < span) {
            return Verdict::Duplicate;
        }
        if t <= horizon {
            // Older than the window: a key it repeats may be forgotten already.
            return Verdict::Late(self.late());
        }
        if let Some((_, kept)) = held {
            // Kept longer ago than the span (or forgotten, not yet removed): kept anew, unless
            // it was kept at a later time, which later events compare with.
            if t > *kept {
                *kept = t;
                self.queue.push_back((t, hash));
            }
            return Verdict::Kept;
        }
        if self.held.len() >= limit {
            self.held.retain(|(_, kept)| *kept > forget);
            if self.held.len() >= limit {
                return Verdict::Full;
            }
        }
        let hasher = &self.hasher;
        self.held
            .insert_unique(hash, (key.into(), t), |(k, _)| hasher.hash_one(k));
        self.queue.push_back((t, hash));
        Verdict::Kept
    }

    /// Forgets the keys kept at or before `horizon`, in arrival order. A key whose time is
    /// behind a later one in the queue stays held a little longer; `check` treats it as
    /// forgotten. A queue entry removes its key only if the key was not kept anew since.
    fn expire(&mut self, horizon: i64) {
        let hasher = &self.hasher;
        while let Some(&(t, hash)) = self.queue.front() {
            if t > horizon {
                break;
            }
            self.queue.pop_front();
            let this_key = |(k, kept): &(Box<[u8]>, i64)| *kept == t && hasher.hash_one(k) == hash;
            if let Ok(entry) = self.held.find_entry(hash, this_key) {
                entry.remove();
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::StageOptions;
    use crate::stage::testing::{Recorded, run_stage};

    fn run(stage: &str, max_groups: Option<usize>, lines: &[&str]) -> Recorded {
        let opts = StageOptions {
            max_groups,
            ..StageOptions::default()
        };
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        run_stage(stage, &opts, &lines)
    }

    #[test]
    fn repeats_of_id_by_value_are_duplicates_and_null_ids_never_are() {
        let r = run(
            "dedupe",
            None,
            &[
                r#"{"id":1}"#,
                r#"{"id":2}"#,
                r#"{"id":1.0}"#,
                r#"{"id":"1"}"#,
                r#"{"id":null}"#,
                r#"{"x":1}"#,
                r#"{"id":null}"#,
                r#"{"id":1E0,"n":2}"#,
                r#"{"id":{"b":1,"a":2}}"#,
                r#"{"id":{"a":2,"b":1}}"#,
            ],
        );
        assert_eq!(r.lines(Fate::Duplicate), [3, 8, 10]);
        assert_eq!(r.lines(Fate::Emitted), [1, 2, 4, 5, 6, 7, 9]);
    }

    #[test]
    fn two_keys_are_one_identity_and_a_missing_one_exempts_the_event() {
        let r = run(
            "dedupe by a, b.c",
            None,
            &[
                r#"{"a":1,"b":{"c":"x"}}"#,
                r#"{"a":1,"b":{"c":"y"}}"#,
                r#"{"a":1,"b":{"c":"x"},"n":1}"#,
                r#"{"a":1}"#,
                r#"{"a":1}"#,
                r#"{"a":"1\u001e","b":{"c":"x"}}"#,
            ],
        );
        assert_eq!(r.lines(Fate::Duplicate), [3]);
        assert_eq!(r.out.len(), 5);
    }

    #[test]
    fn within_a_window_repeats_are_dropped_and_later_ones_kept() {
        let r = run(
            "dedupe within 10s",
            None,
            &[
                r#"{"id":"a","ts":100}"#,
                r#"{"id":"a","ts":105}"#,
                // A duplicate does not extend the window: 110 is 10s after the kept 100.
                r#"{"id":"a","ts":110}"#,
                r#"{"id":"a","ts":119.5}"#,
                r#"{"id":"b","ts":"1970-01-01T00:02:00Z"}"#,
                r#"{"id":"a","ts":120}"#,
                r#"{"id":"b","ts":121}"#,
                r#"{"id":"c"}"#,
            ],
        );
        assert_eq!(r.lines(Fate::Emitted), [1, 3, 5, 6]);
        assert_eq!(r.lines(Fate::Duplicate), [2, 4, 7]);
        assert_eq!(r.lines(Fate::Dead(Reason::NoTime)), [8]);
    }

    /// The newest time seen counts every event, also one without the key: the repeat at 100
    /// is then too old for the window to tell, a dead letter, not passed as new.
    #[test]
    fn an_event_without_the_key_moves_the_window_on() {
        let lines = [r#"{"ts":100,"b":2}"#, r#"{"ts":200}"#, r#"{"ts":100,"b":2}"#];
        let r = run("dedupe by b within 3s", None, &lines);
        assert_eq!(r.lines(Fate::Emitted), [1, 2]);
        assert_eq!(r.lines(Fate::Dead(Reason::Late)), [3]);
    }

    /// An event the window cannot judge is never passed as new: one within the span of when the
    /// window kept its key is a duplicate, any other a dead letter (`late`).
    #[test]
    fn an_event_older_than_the_window_is_late_unless_its_key_is_held() {
        let lines = [
            r#"{"id":9,"ts":160}"#,
            r#"{"id":3,"ts":100}"#,
            r#"{"id":3,"ts":100}"#,
            r#"{"id":9,"ts":100}"#,
            r#"{"id":4,"ts":151}"#,
            r#"{"id":4,"ts":150}"#,
        ];
        let r = run("dedupe within 10s", None, &lines);
        assert_eq!(r.lines(Fate::Emitted), [1, 5]);
        assert_eq!(r.lines(Fate::Duplicate), [6]);
        assert_eq!(r.lines(Fate::Dead(Reason::Late)), [2, 3, 4]);
    }

    /// A repeat is measured from when its key was kept, whatever other keys moved the newest
    /// time to; and spans compare as written, not as doubles (`.002 - .000` is 2ms).
    #[test]
    fn a_repeat_is_within_the_span_of_its_key_whatever_other_keys_did() {
        let lines = [r#"{"id":1,"ts":100}"#, r#"{"id":2,"ts":110}"#, r#"{"id":1,"ts":109}"#];
        let r = run("dedupe by id within 10s", None, &lines);
        assert_eq!(r.lines(Fate::Duplicate), [3]);
        let lines: Vec<String> = (0..5)
            .map(|i| format!(r#"{{"id":1,"ts":"2026-11-01T00:00:05.00{}Z"}}"#, 2 * i))
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let r = run("dedupe within 2ms", None, &lines);
        assert_eq!(r.lines(Fate::Emitted), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn out_of_order_times_compare_with_the_newest_time() {
        let r = run(
            "dedupe within 10s",
            None,
            &[
                r#"{"id":"a","ts":100}"#,
                r#"{"id":"b","ts":200}"#,
                // Key a is forgotten: the newest time is 200.
                r#"{"id":"a","ts":101}"#,
                r#"{"id":"b","ts":195}"#,
                r#"{"id":"c","ts":199}"#,
                r#"{"id":"c","ts":198}"#,
            ],
        );
        assert_eq!(r.lines(Fate::Duplicate), [4, 6]);
    }

    #[test]
    fn a_window_holds_only_the_keys_of_two_spans() {
        let mut w = Window::new(10.0);
        for i in 0..100_000u32 {
            let key = i.to_le_bytes();
            assert_eq!(w.check(&key, f64::from(i) / 100.0, usize::MAX), Verdict::Kept);
            assert!(w.len() <= 2001, "{} keys held at {i}", w.len());
        }
        assert!(w.queue.len() <= 2001);
    }

    #[test]
    fn past_max_groups_the_run_fails_naming_the_stage() {
        let r = run(
            "dedupe",
            Some(2),
            &[
                r#"{"id":1}"#,
                r#"{"id":2}"#,
                r#"{"id":1}"#,
                r#"{"id":3}"#,
                r#"{"id":4}"#,
            ],
        );
        assert_eq!(
            r.failed.as_deref(),
            Some("dedupe: more than 2 keys; raise the limit with --max-groups N or bound the window with 'within DUR'")
        );
        assert_eq!(r.lines(Fate::Skipped), [4, 5]);
        assert_eq!(r.lines(Fate::Duplicate), [3]);
    }

    #[test]
    fn a_full_window_first_forgets_expired_keys() {
        let mut w = Window::new(10.0);
        // Out of order: key 0 at time 50 stays queued behind key 1 at time 100.
        assert_eq!(w.check(b"1", 100.0, 2), Verdict::Kept);
        assert_eq!(w.check(b"0", 95.0, 2), Verdict::Kept);
        assert_eq!(w.check(b"2", 115.5, 2), Verdict::Kept, "key 0 is forgotten at 115");
        assert_eq!(w.check(b"3", 116.0, 2), Verdict::Full);
        assert_eq!(w.check(b"1", 109.0, 2), Verdict::Duplicate);
    }
}

/// The window against the rule as the man page states it, kept in the plainest way: every key
/// with its kept time, forgotten once the newest time is 2 DUR past it.
#[cfg(test)]
mod reference {
    use super::{Verdict, Window};
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// What the rule says of each event `(key, time in ms)`, with a span of `span` ms.
    fn rule(events: &[(u8, i64)], span: i64) -> Vec<&'static str> {
        let mut held: HashMap<u8, i64> = HashMap::new();
        let mut newest = i64::MIN;
        let mut verdicts = Vec::new();
        for &(key, t) in events {
            newest = newest.max(t);
            held.retain(|_, kept| *kept > newest - 2 * span);
            let verdict = match held.get(&key) {
                Some(kept) if (t - kept).abs() < span => "duplicate",
                _ if t <= newest - span => "late",
                Some(&kept) => {
                    held.insert(key, kept.max(t));
                    "kept"
                }
                None => {
                    held.insert(key, t);
                    "kept"
                }
            };
            verdicts.push(verdict);
        }
        verdicts
    }

    proptest! {
        #[test]
        fn dedupe_within_follows_its_rule_in_a_disordered_stream(
            jitter in proptest::collection::vec((0u8..6, 0i64..3000), 1..400),
            span in 1i64..1500,
        ) {
            let events: Vec<(u8, i64)> =
                jitter.iter().enumerate().map(|(i, &(k, back))| (k, i as i64 * 50 - back)).collect();
            let mut w = Window::new(span as f64 / 1000.0);
            let got: Vec<&str> = events
                .iter()
                .map(|&(k, t)| match w.check(&[k], t as f64 / 1000.0, usize::MAX) {
                    Verdict::Kept => "kept",
                    Verdict::Duplicate => "duplicate",
                    Verdict::Late(_) => "late",
                    Verdict::Full => "full",
                })
                .collect();
            prop_assert_eq!(got, rule(&events, span));
        }
    }
}
