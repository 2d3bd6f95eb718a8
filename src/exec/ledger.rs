//! The run's accounts: lines, bytes and fates per input and in all, and the events written.
//! Fates are recorded where they are decided (workers, ordered stages) and arrive here as
//! tallies; at the end every input's lines must equal its fates.

use super::dead_letters::Letter;
use crate::event::Fate;
use crate::output::printed::Record;
use crate::stats::{self, FateLog, Reads, Stats, Tally};
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

    /// Changes the run's counts and those of input `file` alike: the one place both are kept.
    fn count(&mut self, file: u32, change: impl Fn(&mut Stats)) {
        change(&mut self.total);
        if let Some(s) = self.per_input.get_mut(file as usize) {
            change(s);
        }
    }

    pub(super) fn add(&mut self, tally: &Tally) {
        for (file, stats) in tally.files() {
            self.count(file, |s| s.add(stats));
        }
    }

    /// Adds what a segment read.
    pub(super) fn read(&mut self, reads: &Reads) {
        for (file, r) in reads.files() {
            self.count(file, |s| s.add_read(r));
        }
    }

    /// Records the fate of the lines whose events went into a worker's part of an aggregate
    /// (`lines`, counted as aggregated): theirs when the part was `taken`, else skipped.
    pub(super) fn part(&mut self, lines: &Tally, taken: bool) {
        if taken {
            return self.add(lines);
        }
        for (file, s) in lines.files() {
            self.record_n(file, Fate::Skipped, s.aggregated);
        }
    }

    /// Records the fate of one line of input `file` decided on the ordered side (a worker's
    /// dead letter, sent or skipped).
    pub(super) fn record(&mut self, file: u32, fate: Fate) {
        self.record_n(file, fate, 1);
    }

    /// Records the same fate of `n` lines of input `file`.
    fn record_n(&mut self, file: u32, fate: Fate, n: u64) {
        self.count(file, |s| s.record_n(fate, n));
    }

    /// Records the fates workers decided for a segment's lines, when the ordered side took
    /// the chunk's events before `taken` (see [`FateLog::settled`]).
    pub(super) fn settle(&mut self, log: &FateLog, taken: usize) {
        for (file, fate, n) in log.settled(taken) {
            self.record_n(file, fate, n);
        }
        log.settle_extras(taken, |file, change| self.count(file, change));
    }

    /// Records the fate of the lines whose events are these records of stdout's output:
    /// emitted when stdout took them, skipped when it could not (a failed write, a closed
    /// pipe). Every record is an event written when they were.
    pub(super) fn output(&mut self, records: &[Record], written: bool) {
        let fate = if written { Fate::Emitted } else { Fate::Skipped };
        for input in records.iter().filter_map(|r| r.input) {
            self.record(input, fate);
        }
        if written {
            self.events_out += records.len() as u64;
        }
    }

    /// Records a dead letter's fate, `sent` or skipped: its line's, unless a stage made the
    /// event (then it is counted apart, when sent).
    pub(super) fn dead(&mut self, d: Letter, sent: bool) {
        match (d.made, sent) {
            (false, true) => self.record(d.file, Fate::Dead(d.reason)),
            (false, false) => self.record(d.file, Fate::Skipped),
            (true, true) => self.total.made_dead[d.reason.index()] += 1,
            (true, false) => {}
        }
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
            .map(ToString::to_string)
            .zip(self.per_input.iter().cloned())
            .collect();
        stats::report(&self.total, &files, elapsed, self.events_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Reason;

    /// A tally of `lines` read from input `file`, each with one of `fates`.
    fn tally(file: u32, lines: u64, fates: &[Fate]) -> Tally {
        let mut t = Tally::default();
        t.of(file).lines = lines;
        for f in fates {
            t.record(file, *f);
        }
        t
    }

    #[test]
    fn lines_that_each_have_a_fate_add_up() {
        let mut l = Ledger::new(2);
        l.add(&tally(0, 2, &[Fate::Emitted, Fate::Filtered]));
        l.add(&tally(1, 1, &[Fate::Dead(Reason::InvalidJson)]));
        assert_eq!(l.check(&["a", "b"]), Ok(()));
        assert_eq!((l.total.lines, l.total.fates()), (3, 3));
    }

    #[test]
    fn the_first_input_whose_fates_do_not_add_up_is_named() {
        let mut l = Ledger::new(2);
        l.add(&tally(0, 1, &[Fate::Emitted]));
        l.add(&tally(1, 3, &[Fate::Aggregated, Fate::Skipped]));
        assert_eq!(l.check(&["a", "b"]), Err("b: 3 lines read, 2 fates".to_string()));
        // A fate with no line read is as wrong as a line with none.
        let mut l = Ledger::new(1);
        l.add(&tally(0, 0, &[Fate::Emitted]));
        assert_eq!(l.check(&["a"]), Err("a: 0 lines read, 1 fates".to_string()));
    }

    #[test]
    fn the_run_total_is_checked_beside_each_input() {
        // Counts for an input the run does not list reach only the total.
        let mut l = Ledger::new(1);
        l.add(&tally(0, 1, &[Fate::Emitted]));
        l.add(&tally(5, 1, &[]));
        assert_eq!(l.check(&["a"]), Err("all inputs: 2 lines read, 1 fates".to_string()));
    }

    #[test]
    fn the_report_counts_each_input_apart() {
        let mut l = Ledger::new(2);
        l.add(&tally(0, 2, &[Fate::Emitted, Fate::Emitted]));
        l.add(&tally(1, 1, &[Fate::Dead(Reason::TooLong)]));
        l.events_out = 2;
        let r = l.report(&["a", "b"], 1.0);
        assert_eq!((r["lines_read"].as_u64(), r["events_out"].as_u64()), (Some(3), Some(2)));
        let files = r["files"].as_array().expect("a list of inputs");
        assert_eq!(files[0]["file"], "a");
        assert_eq!(
            (files[0]["emitted"].as_u64(), files[0]["dead_letters"].as_u64()),
            (Some(2), Some(0))
        );
        assert_eq!(
            (files[1]["lines"].as_u64(), files[1]["dead_letters"].as_u64()),
            (Some(1), Some(1))
        );
    }
}
