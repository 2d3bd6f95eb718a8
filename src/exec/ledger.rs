//! The run's accounts: lines, bytes and fates per input and in all, and the events written.
//! Fates are recorded where they are decided (workers, ordered stages) and arrive here as
//! tallies; at the end every input's lines must equal its fates.

use crate::stats::{self, Stats, Tally};
use serde_json::Value;

pub(super) struct Ledger {
    pub(super) total: Stats,
    per_input: Vec<Stats>,
    pub(super) events_out: u64,
}

impl Ledger {
    pub(super) fn new(inputs: usize) -> Ledger {
        Ledger {
            total: Stats::default(),
            per_input: vec![Stats::default(); inputs],
            events_out: 0,
        }
    }

    pub(super) fn add(&mut self, tally: &Tally) {
        tally.add_to(&mut self.total, &mut self.per_input);
    }

    /// Every line read has exactly one fate, in each input's counts and the run's: the
    /// message for the first that does not add up (a wrong count, hence a bug).
    pub(super) fn check(&self, names: &[&str]) -> Result<(), String> {
        let inputs = names.iter().copied().zip(&self.per_input);
        match inputs
            .chain([("all inputs", &self.total)])
            .find(|(_, s)| s.lines != s.fates())
        {
            Some((name, s)) => Err(format!("{name}: {} lines read, {} fates", s.lines, s.fates())),
            None => Ok(()),
        }
    }

    /// The `--stats` report.
    pub(super) fn report(&self, names: &[&str], elapsed: f64) -> Value {
        let files: Vec<(String, Stats)> = names
            .iter()
            .map(|n| n.to_string())
            .zip(self.per_input.iter().cloned())
            .collect();
        stats::report(&self.total, &files, elapsed, self.events_out)
    }
}
