//! Formatted output on its way to stdout: whole records back to back, and for each record
//! where it ends and whose line it is. The writer decides a line's fate, `emitted` or
//! `skipped`, when it writes the record or cannot, so `--stats` counts what stdout got, and
//! an output file cut after a failed write ends at a record's end, not inside a record that
//! spans lines (`-o pretty`, `-r` of a string with newlines).

use super::Printer;
use crate::event::Event;
use crate::lang::Env;

/// Records of output text. The tabular formats' records are row lines that stdout gathers.
#[derive(Debug, Default, Clone)]
pub(crate) struct Printed {
    pub(crate) bytes: Vec<u8>,
    pub(crate) records: Vec<Record>,
}

/// One event's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    /// Where it ends in [`Printed::bytes`].
    pub(crate) end: usize,
    /// The input whose line the event is; none for an event a stage made or copied, whose
    /// writing is not a line's fate.
    pub(crate) input: Option<u32>,
}

impl Printed {
    /// Appends one event's output.
    pub(crate) fn push(&mut self, printer: &Printer, ev: &Event, env: &Env, input: Option<u32>) {
        printer.write_event(ev, env, &mut self.bytes);
        self.records.push(Record {
            end: self.bytes.len(),
            input,
        });
    }

    /// The first `n` records, as pieces of whole records of about `max` bytes each (a
    /// record longer than `max` is a piece of its own).
    pub(crate) fn pieces(&self, n: usize, max: usize) -> Pieces<'_> {
        Pieces {
            printed: self,
            records: &self.records[..n.min(self.records.len())],
            start: 0,
            max,
        }
    }
}

/// See [`Printed::pieces`].
pub(crate) struct Pieces<'a> {
    printed: &'a Printed,
    /// The records not yet given.
    records: &'a [Record],
    /// Where the first of them starts.
    start: usize,
    max: usize,
}

/// Some whole records.
pub(crate) struct Piece<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) records: &'a [Record],
    /// Where each record ends in `bytes`.
    pub(crate) ends: Vec<usize>,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let limit = self.start.saturating_add(self.max);
        let fit = self.records.partition_point(|r| r.end <= limit).max(1);
        let (records, rest) = self.records.split_at(fit.min(self.records.len()));
        let end = records.last()?.end;
        let piece = Piece {
            bytes: &self.printed.bytes[self.start..end],
            records,
            ends: records.iter().map(|r| r.end - self.start).collect(),
        };
        self.records = rest;
        self.start = end;
        Some(piece)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(records: &[&str]) -> Printed {
        let mut p = Printed::default();
        for (i, r) in records.iter().enumerate() {
            p.bytes.extend_from_slice(r.as_bytes());
            p.records.push(Record {
                end: p.bytes.len(),
                input: u32::try_from(i).ok(),
            });
        }
        p
    }

    fn pieces(p: &Printed, n: usize, max: usize) -> Vec<(String, usize)> {
        p.pieces(n, max)
            .map(|piece| {
                assert_eq!(piece.ends.len(), piece.records.len());
                assert_eq!(
                    piece.ends.last(),
                    Some(&piece.bytes.len()),
                    "the last record ends the piece"
                );
                (String::from_utf8_lossy(piece.bytes).into_owned(), piece.records.len())
            })
            .collect()
    }

    #[test]
    fn pieces_are_whole_records_of_at_most_max_bytes_unless_one_record_is_longer() {
        let p = printed(&["{\n  \"a\": 1\n}\n", "{}\n", "{\n  \"b\": 22222\n}\n", "x\n"]);
        assert_eq!(
            pieces(&p, 4, 16),
            [
                ("{\n  \"a\": 1\n}\n{}\n".to_string(), 2),
                ("{\n  \"b\": 22222\n}\n".to_string(), 1),
                ("x\n".to_string(), 1)
            ]
        );
        assert_eq!(
            pieces(&p, 4, 1).len(),
            4,
            "each record longer than max is its own piece"
        );
        assert_eq!(pieces(&p, 4, 1000).len(), 1, "all in one");
    }

    #[test]
    fn only_the_first_n_records_are_given() {
        let p = printed(&["a\n", "b\n", "c\n"]);
        assert_eq!(pieces(&p, 2, 100), [("a\nb\n".to_string(), 2)]);
        assert!(pieces(&p, 0, 100).is_empty());
        assert_eq!(pieces(&p, 9, 100), [("a\nb\nc\n".to_string(), 3)]);
    }

    #[test]
    fn a_record_of_no_bytes_is_still_a_record() {
        let p = printed(&["", "a\n", ""]);
        assert_eq!(pieces(&p, 3, 100), [("a\n".to_string(), 3)]);
    }
}
