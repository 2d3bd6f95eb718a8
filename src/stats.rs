//! Accounting: every line read ends in exactly one fate, and the fates add up.

use crate::event::{Fate, Reason};
use serde_json::{Value, json};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub lines: u64,
    pub bytes: u64,
    pub emitted: u64,
    pub filtered: u64,
    pub blank: u64,
    /// Dropped by `head` or `tail`.
    pub skipped: u64,
    /// Consumed by an aggregate (`count`, `stats`, `top`, `distinct`).
    pub aggregated: u64,
    /// `explode` met an empty array, or no array.
    pub exploded_empty: u64,
    /// Dropped by `sample`.
    pub sampled_out: u64,
    /// Failed an `assert` (the run ends there).
    pub failed: u64,
    /// Repeats dropped by `dedupe`.
    pub duplicate: u64,
    /// Over a `throttle` limit.
    pub throttled: u64,
    /// Event time outside `--since`/`--until`.
    pub out_of_range: u64,
    /// Extra copies made by `route all` and `explode` (not line fates).
    pub copies: u64,
    /// Events `join` found no record for (not a fate: they pass on).
    pub unmatched_join: u64,
    pub dead: [u64; Reason::ALL.len()],
    /// Dead letters of events a stage made or copied (an aggregate's rows, `route all` and
    /// `explode` copies): not line fates, since their lines have one of their own.
    pub made_dead: [u64; Reason::ALL.len()],
}

impl Stats {
    pub(crate) fn add(&mut self, o: &Stats) {
        self.lines += o.lines;
        self.bytes += o.bytes;
        self.emitted += o.emitted;
        self.filtered += o.filtered;
        self.blank += o.blank;
        self.skipped += o.skipped;
        self.aggregated += o.aggregated;
        self.exploded_empty += o.exploded_empty;
        self.sampled_out += o.sampled_out;
        self.failed += o.failed;
        self.duplicate += o.duplicate;
        self.throttled += o.throttled;
        self.out_of_range += o.out_of_range;
        self.copies += o.copies;
        self.unmatched_join += o.unmatched_join;
        for (a, b) in self.dead.iter_mut().zip(o.dead) {
            *a += b;
        }
        for (a, b) in self.made_dead.iter_mut().zip(o.made_dead) {
            *a += b;
        }
    }

    /// Counts one line's fate.
    pub(crate) fn record(&mut self, fate: Fate) {
        self.record_n(fate, 1);
    }

    /// Counts the same fate of `n` lines.
    pub(crate) fn record_n(&mut self, fate: Fate, n: u64) {
        *match fate {
            Fate::Emitted => &mut self.emitted,
            Fate::Filtered => &mut self.filtered,
            Fate::Blank => &mut self.blank,
            Fate::Skipped => &mut self.skipped,
            Fate::Aggregated => &mut self.aggregated,
            Fate::ExplodedEmpty => &mut self.exploded_empty,
            Fate::SampledOut => &mut self.sampled_out,
            Fate::Failed => &mut self.failed,
            Fate::Duplicate => &mut self.duplicate,
            Fate::Throttled => &mut self.throttled,
            Fate::OutOfRange => &mut self.out_of_range,
            Fate::Dead(reason) => &mut self.dead[reason.index()],
        } += n;
    }

    pub(crate) fn dead_total(&self) -> u64 {
        self.dead.iter().sum()
    }

    /// The sum of all fates; equals `lines` when nothing was lost.
    pub(crate) fn fates(&self) -> u64 {
        self.emitted
            + self.filtered
            + self.blank
            + self.skipped
            + self.aggregated
            + self.exploded_empty
            + self.sampled_out
            + self.failed
            + self.duplicate
            + self.throttled
            + self.out_of_range
            + self.dead_total()
    }

    pub(crate) fn dead_json(&self) -> Value {
        let m: serde_json::Map<String, Value> = Reason::ALL
            .iter()
            .zip(self.dead)
            .map(|(r, n)| (r.name().to_string(), json!(n)))
            .collect();
        Value::Object(m)
    }

    /// Every dead letter: the lines' and those of events stages made.
    pub(crate) fn dead_letters(&self) -> u64 {
        self.dead_total() + self.made_dead.iter().sum::<u64>()
    }

    /// Reasons with their counts (of all dead letters), most frequent first, for the stderr
    /// summary.
    pub(crate) fn dead_summary(&self) -> String {
        let mut v: Vec<(u64, &str)> = Reason::ALL
            .iter()
            .zip(self.dead.iter().zip(self.made_dead).map(|(a, b)| a + b))
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| (n, r.name()))
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.0));
        v.iter().map(|(n, r)| format!("{n} {r}")).collect::<Vec<_>>().join(", ")
    }
}

/// Counts kept apart per input, for a piece of work that may span inputs (`--merge`
/// interleaves them); nearly always one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PerInput<T>(Vec<(u32, T)>);

impl<T> Default for PerInput<T> {
    fn default() -> Self {
        PerInput(Vec::new())
    }
}

impl<T: Default> PerInput<T> {
    /// The counts of input `file`.
    pub(crate) fn of(&mut self, file: u32) -> &mut T {
        let at = match self.0.iter().rposition(|(f, _)| *f == file) {
            Some(i) => i,
            None => {
                // Nearly always one input: a chunk's segments hold counts each, at most one
                // per line, so none gets room for more it will not use.
                self.0.reserve_exact(1);
                self.0.push((file, T::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    /// Each input's counts.
    pub(crate) fn files(&self) -> impl Iterator<Item = (u32, &T)> {
        self.0.iter().map(|(file, s)| (*file, s))
    }
}

/// Every count of each input.
pub(crate) type Tally = PerInput<Stats>;

/// What a segment read of each input.
pub(crate) type Reads = PerInput<LinesRead>;

/// The lines and bytes a segment read of one input; the lines' fates, and the copies and
/// join misses their events made, are logged apart (see [`FateLog`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LinesRead {
    pub lines: u64,
    pub bytes: u64,
}

impl Reads {
    /// The lines read, of every input.
    pub(crate) fn lines(&self) -> u64 {
        self.0.iter().map(|(_, r)| r.lines).sum()
    }
}

impl Stats {
    /// Adds what a segment read.
    pub(crate) fn add_read(&mut self, r: &LinesRead) {
        self.lines += r.lines;
        self.bytes += r.bytes;
    }
}

impl Tally {
    /// Records one line's fate for the input it came from.
    pub(crate) fn record(&mut self, file: u32, fate: Fate) {
        self.of(file).record(fate);
    }

    /// Adds `other`'s counts to these.
    pub(crate) fn absorb(&mut self, other: &Tally) {
        for (file, stats) in &other.0 {
            self.of(*file).add(stats);
        }
    }
}

/// The fates a worker decided for the lines of a segment, each placed after the events the
/// segment handed on before it: the ordered side takes those events in order and may stop
/// at any of them (a satisfied `head`, a failed `assert`, a dead letter past `--strict`), and
/// the lines after the event it stopped at were read but not taken, so they are skipped.
/// Consecutive lines with the same place and fate share one entry.
/// The copies (`route all`, `explode`) and join misses of the segment's events are logged the
/// same way: they count only when the ordered side took the event they were made for.
#[derive(Debug, Default)]
pub(crate) struct FateLog {
    fates: Vec<(Place<Fate>, u64)>,
    /// Copies (true) and join misses (false).
    extras: Vec<(Place<bool>, u64)>,
}

/// What happened to lines or events of input `file` after `events` events of their chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place<T> {
    events: usize,
    file: u32,
    what: T,
}

/// Counts one more at `place`: with the run before when it is at the same place.
fn add_run<T: PartialEq>(runs: &mut Vec<(Place<T>, u64)>, place: Place<T>) {
    match runs.last_mut() {
        Some((last, n)) if *last == place => *n += 1,
        _ => runs.push((place, 1)),
    }
}

impl FateLog {
    /// Records the fate of a line of input `file` that comes after the chunk's first `events`
    /// events.
    pub(crate) fn record(&mut self, events: usize, file: u32, fate: Fate) {
        add_run(
            &mut self.fates,
            Place {
                events,
                file,
                what: fate,
            },
        );
    }

    /// Records a copy of an event of input `file` (`copy`), or an event join found no record
    /// for, that would be the chunk's event after its first `events`.
    pub(crate) fn extra(&mut self, events: usize, file: u32, copy: bool) {
        add_run(
            &mut self.extras,
            Place {
                events,
                file,
                what: copy,
            },
        );
    }

    /// Each input's copies and join misses of the events the ordered side took (those before
    /// `taken`), in `stats`' counts.
    pub(crate) fn settle_extras(&self, taken: usize, mut count: impl FnMut(u32, &dyn Fn(&mut Stats))) {
        for &(e, n) in self.extras.iter().filter(|(e, _)| e.events < taken) {
            match e.what {
                true => count(e.file, &|s| s.copies += n),
                false => count(e.file, &|s| s.unmatched_join += n),
            }
        }
    }

    /// Each input's lines with the fate to record for them, when the ordered side took the
    /// chunk's events before `taken`: theirs for the lines before that event, skipped for
    /// the lines after it.
    pub(crate) fn settled(&self, taken: usize) -> impl Iterator<Item = (u32, Fate, u64)> + '_ {
        self.fates.iter().map(move |&(l, lines)| {
            let fate = if l.events < taken { l.what } else { Fate::Skipped };
            (l.file, fate, lines)
        })
    }
}

/// Where the lines went: these add up to the lines read, for the run and for each input.
fn fates(s: &Stats) -> Value {
    json!({
        "emitted": s.emitted,
        "filtered": s.filtered,
        "blank": s.blank,
        "skipped": s.skipped,
        "aggregated": s.aggregated,
        "exploded_empty": s.exploded_empty,
        "sampled_out": s.sampled_out,
        "failed": s.failed,
        "duplicate": s.duplicate,
        "throttled": s.throttled,
        "out_of_range": s.out_of_range,
        "dead_letter": s.dead_json(),
    })
}

/// The `--stats` report.
pub(crate) fn report(total: &Stats, files: &[(String, Stats)], elapsed: f64, out_events: u64) -> Value {
    let per_file: Vec<Value> = files
        .iter()
        .map(|(name, s)| {
            json!({"file": name, "lines": s.lines, "bytes": s.bytes, "emitted": s.emitted,
                   "dead_letters": s.dead_total(), "fates": fates(s)})
        })
        .collect();
    json!({
        "lines_read": total.lines,
        "bytes_read": total.bytes,
        "fates": fates(total),
        "copies": total.copies,
        "made_dead_letters": total.made_dead.iter().sum::<u64>(),
        "unmatched_join": total.unmatched_join,
        "events_out": out_events,
        "files": per_file,
        "elapsed_s": (elapsed * 1000.0).round() / 1000.0,
        "throughput_mb_s": if elapsed > 0.0 { ((total.bytes as f64 / 1e6 / elapsed) * 10.0).round() / 10.0 } else { 0.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fate_log_skips_the_lines_after_the_last_event_taken() {
        let mut log = FateLog::default();
        for (events, file, fate) in [
            (0, 0, Fate::Filtered),
            (0, 0, Fate::Filtered),
            (1, 0, Fate::Blank),
            (1, 1, Fate::Blank),
            (2, 0, Fate::SampledOut),
        ] {
            log.record(events, file, fate);
        }
        assert_eq!(log.fates.len(), 4, "repeats share an entry");
        let settled = |taken| log.settled(taken).collect::<Vec<_>>();
        assert_eq!(
            settled(usize::MAX),
            [
                (0, Fate::Filtered, 2),
                (0, Fate::Blank, 1),
                (1, Fate::Blank, 1),
                (0, Fate::SampledOut, 1)
            ]
        );
        // The chain took the first event only: the lines after it are skipped.
        assert_eq!(
            settled(1),
            [
                (0, Fate::Filtered, 2),
                (0, Fate::Skipped, 1),
                (1, Fate::Skipped, 1),
                (0, Fate::Skipped, 1)
            ]
        );
    }

    /// A chunk of short lines that are all dead letters holds one tally per line.
    #[test]
    fn a_tally_holds_room_for_the_inputs_it_counts_only() {
        let mut t = Tally::default();
        t.of(3).lines += 1;
        assert_eq!(t.0.capacity(), 1);
        t.of(3).lines += 1;
        t.of(4).lines += 1;
        assert_eq!(
            t.files().map(|(f, s)| (f, s.lines)).collect::<Vec<_>>(),
            [(3, 2), (4, 1)]
        );
    }

    #[test]
    fn fates_add_across_merges() {
        let mut a = Stats {
            lines: 3,
            emitted: 1,
            blank: 1,
            ..Stats::default()
        };
        a.dead[0] = 1;
        let mut t = Stats::default();
        t.add(&a);
        t.add(&a);
        assert_eq!(t.lines, 6);
        assert_eq!(t.fates(), 6);
        assert_eq!(t.dead_summary(), "2 invalid_json");
    }
}
