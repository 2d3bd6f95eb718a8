//! `sample RATE [by EXPR]`: keeps a reproducible share of the events.
//!
//! Each event gets a 64-bit xxHash64 (seeded with `--seed`, default 0) and is kept when
//! `hash / 2^64 < RATE`. Without `by`, the hash is of the event's input (its index in the
//! run's list of inputs), line number and byte offset (records of one line, as `-i json`
//! reads a top-level array, each have their own), so the kept lines are the same for every
//! `-j` and every run with the same inputs and seed. A copy (`explode`, `route all`) also
//! hashes its copy number and text, so each is picked on its own. With `by`, it is of the key's canonical
//! bytes (`agg::key`: `1`, `1.0` and `1E0` are one key), so a key's events are kept or
//! dropped together, on every machine. Dropped events have the fate `sampled_out`.

use super::{Describe, PerEvent, Step};
use crate::agg::key::seeded_canonical_hash;
use crate::event::Event;
use crate::event::Fate;
use crate::lang::ast::Rate;
use crate::lang::{Env, Expr};
use std::hash::Hasher;

#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Hashes below this are kept: `RATE * 2^64`, rounded down.
    threshold: u128,
    by: Option<Expr>,
    seed: u64,
}

impl Sample {
    pub(crate) fn new(rate: &Rate, by: Option<Expr>, seed: u64) -> Self {
        // `num <= den < 2^64`, so the shift cannot overflow and a rate of 1 keeps every hash.
        let threshold = (u128::from(rate.num) << 64) / u128::from(rate.den.max(1));
        Sample { threshold, by, seed }
    }

    pub(crate) fn apply<'a>(&self, ev: &Event<'a>, env: &Env) -> Step<'a> {
        let hash = match &self.by {
            Some(key) => seeded_canonical_hash(&key.eval(ev, env), self.seed),
            None => place_hash(ev, self.seed),
        };
        if u128::from(hash) < self.threshold {
            Step::Pass
        } else {
            Step::Drop(Fate::SampledOut)
        }
    }
}

impl Describe for Sample {
    fn expressions(&self) -> Vec<&Expr> {
        self.by.iter().collect()
    }

    fn name(&self) -> &'static str {
        "sample"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("left out: sampled_out")
    }
}

impl PerEvent for Sample {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        self.apply(ev, env)
    }
}

/// The hash of where the event came from: xxHash64 of its input's index (4 bytes), line
/// number and byte offset (8 bytes each), little-endian; for an event a stage made or copied
/// (an aggregate's row, an `explode` element), which shares its place with others, also its
/// copy number and text.
fn place_hash(ev: &Event, seed: u64) -> u64 {
    let origin = ev.origin;
    let mut h = twox_hash::XxHash64::with_seed(seed);
    h.write(&origin.file.to_le_bytes());
    h.write(&origin.line.to_le_bytes());
    h.write(&origin.offset.to_le_bytes());
    if !origin.owns_fate() {
        h.write(&origin.copy.to_le_bytes());
        h.write(ev.json_string().as_bytes());
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Needs;
    use crate::event::Origin;
    use crate::lang::parser::parse_expr;

    fn rate(num: u64, den: u64) -> Rate {
        Rate {
            num,
            den,
            text: String::new(),
        }
    }

    fn kept(s: &Sample, lines: &[String]) -> Vec<usize> {
        let mut needs = Needs::default();
        s.needs(&mut needs);
        let env = Env::default();
        (0..lines.len())
            .filter(|&i| {
                let origin = Origin::line(0, i as u64 + 1, 0);
                let ev = Event::parse(&lines[i], origin, &needs).expect("valid JSON");
                matches!(s.apply(&ev, &env), Step::Pass)
            })
            .collect()
    }

    fn lines(n: usize) -> Vec<String> {
        (0..n).map(|i| format!(r#"{{"k":{}}}"#, i % 50)).collect()
    }

    #[test]
    fn events_a_stage_made_are_sampled_each_on_its_own() {
        let s = Sample::new(&rate(1, 2), None, 0);
        let env = Env::default();
        let rows: Vec<String> = (0..1000).map(|k| format!(r#"{{"k":{k},"count":1}}"#)).collect();
        let kept = rows
            .iter()
            .filter(|row| {
                let ev = Event::derived(row, serde_json::from_str(row).expect("valid JSON"));
                matches!(s.apply(&ev, &env), Step::Pass)
            })
            .count();
        assert!((400..600).contains(&kept), "{kept} of 1000 rows kept");
    }

    #[test]
    fn the_rate_roughly_holds_and_the_seed_changes_the_lines() {
        let evs = lines(10_000);
        let a = kept(&Sample::new(&rate(1, 10), None, 0), &evs);
        assert!((800..1200).contains(&a.len()), "{}", a.len());
        assert_eq!(a, kept(&Sample::new(&rate(1, 10), None, 0), &evs));
        assert_ne!(a, kept(&Sample::new(&rate(1, 10), None, 7), &evs));
    }

    #[test]
    fn all_and_nothing_rates() {
        let evs = lines(500);
        assert_eq!(kept(&Sample::new(&rate(1, 1), None, 3), &evs).len(), 500);
        let by = parse_expr("k").ok();
        assert_eq!(kept(&Sample::new(&rate(100, 100), by, 0), &evs).len(), 500);
    }

    #[test]
    fn by_keeps_a_key_whole_whatever_its_number_text() {
        let by = || parse_expr("k").ok();
        let s = Sample::new(&rate(1, 2), by(), 0);
        let evs = lines(1000);
        let keys: std::collections::BTreeSet<usize> = kept(&s, &evs).iter().map(|i| i % 50).collect();
        assert!(!keys.is_empty() && keys.len() < 50, "{keys:?}");
        for i in kept(&s, &evs) {
            assert!(keys.contains(&(i % 50)));
        }
        assert_eq!(kept(&s, &evs).len(), keys.len() * 20, "every event of a kept key");
        let forms = [r#"{"k":1}"#, r#"{"k":1.0}"#, r#"{"k":1E0}"#].map(String::from);
        let counts: Vec<usize> = (0..16)
            .map(|seed| kept(&Sample::new(&rate(1, 2), by(), seed), &forms).len())
            .collect();
        assert!(counts.iter().all(|n| *n == 0 || *n == 3), "{counts:?}");
        assert!(counts.contains(&3) && counts.contains(&0), "{counts:?}");
    }
}
