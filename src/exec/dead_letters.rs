//! The one path of dead letters: every rejected line, whether a worker or an ordered stage
//! rejected it, is written to `--dead-letter FILE` or, without one, quoted on stderr (the
//! first few) at the end of the run. This file also counts them for `--max-errors`.

use crate::event::Reason;
use crate::messages;
use crate::output::OutputError;
use crate::output::whole_lines::{Output, WholeLines};
use crate::pipeline::DeadLetter;
use crate::stats::Stats;
use std::fs::File;
use std::io;

use std::path::{Path, PathBuf};

/// How many dead letters are quoted on stderr when they are not kept in a file.
const EXAMPLES: usize = 3;

/// How many bytes of records are held before they are written to the file.
const BUFFER: usize = 64 << 10;

pub(super) struct DeadLetters {
    /// `--dead-letter FILE`.
    file: Option<(PathBuf, WholeLines<File>)>,
    /// A write to the file failed: it takes no more records.
    failed: bool,
    /// Records not yet written, where each ends, and the dead letters they are.
    pending: Vec<u8>,
    ends: Vec<usize>,
    letters: Vec<Letter>,
    /// The first few, for stderr, without a file.
    examples: Vec<String>,
    /// How many were sent, for `--max-errors`.
    seen: u64,
}

/// What the accounts need of a dead letter once its fate is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Letter {
    pub(super) file: u32,
    pub(super) line: u64,
    pub(super) reason: Reason,
    pub(super) made: bool,
}

impl From<&DeadLetter> for Letter {
    fn from(d: &DeadLetter) -> Letter {
        Letter {
            file: d.file,
            line: d.line,
            reason: d.reason,
            made: d.made,
        }
    }
}

/// Dead letters whose fate is now known: kept (written to the file, or quoted and counted
/// without one), or lost by a failed write, which the error names.
#[derive(Debug, Default)]
pub(super) struct Settled {
    pub(super) kept: Vec<Letter>,
    pub(super) lost: Vec<Letter>,
    pub(super) error: Option<OutputError>,
}

impl DeadLetters {
    /// Creates the `--dead-letter` file, if there is one; the error names it.
    pub(super) fn open(path: Option<&Path>) -> Result<DeadLetters, OutputError> {
        let file = match path {
            Some(p) => match crate::output::safe_path::create_output(p) {
                // A failed write (disk full, `ulimit -f`) cuts the file back to a whole record.
                Ok(f) => {
                    let cut = f.try_clone().ok();
                    Some((p.to_path_buf(), WholeLines::new(f, cut)))
                }
                Err(source) => return Err(dead_letter(p, source)),
            },
            None => None,
        };
        Ok(DeadLetters {
            file,
            failed: false,
            pending: Vec::new(),
            ends: Vec::new(),
            letters: Vec::new(),
            examples: Vec::new(),
            seen: 0,
        })
    }

    /// Counts a dead letter the run is about to send: true when it is more than `--max-errors`
    /// (or `--strict`) allows.
    pub(super) fn over(&mut self, strict: bool, max: Option<u64>) -> bool {
        self.seen += 1;
        strict || max.is_some_and(|m| self.seen > m)
    }

    /// How many more dead letters `--strict` or `--max-errors` allows before the run stops
    /// (`None`: any number).
    pub(super) fn allowed(&self, strict: bool, max: Option<u64>) -> Option<u64> {
        if strict {
            Some(0)
        } else {
            max.map(|m| m.saturating_sub(self.seen))
        }
    }

    /// How many were counted.
    pub(super) fn seen(&self) -> u64 {
        self.seen
    }

    /// Holds one record for the file (`--dead-letter`), written with those before it once
    /// they fill the buffer; without a file, keeps its example, if it has one, for stderr.
    /// After a failed write the file takes no more records, and theirs are lost.
    pub(super) fn send(&mut self, d: &DeadLetter, example: impl FnOnce() -> Option<String>) -> Settled {
        if self.file.is_none() {
            if self.examples.len() < EXAMPLES {
                self.examples.extend(example());
            }
            return Settled {
                kept: vec![d.into()],
                ..Settled::default()
            };
        }
        if self.failed {
            return Settled {
                lost: vec![d.into()],
                ..Settled::default()
            };
        }
        self.pending.extend_from_slice(&d.record);
        self.ends.push(self.pending.len());
        self.letters.push(d.into());
        if self.pending.len() < BUFFER {
            return Settled::default();
        }
        self.flush()
    }

    /// Writes the records held so far to the file (when the buffer is full, when input is
    /// idle under `--follow`, at the end). After a failed write, the file is cut back to its
    /// last whole record and takes no more.
    pub(super) fn flush(&mut self) -> Settled {
        let mut letters = std::mem::take(&mut self.letters);
        let written = match self.file.as_mut() {
            Some((path, f)) if !self.pending.is_empty() => f
                .write_records(&self.pending, &self.ends)
                .map_err(|kept| (kept.records, dead_letter(path, kept.error))),
            _ => Ok(()),
        };
        self.pending.clear();
        self.ends.clear();
        match written {
            Ok(()) => Settled {
                kept: letters,
                ..Settled::default()
            },
            Err((kept, error)) => {
                self.failed = true;
                let lost = letters.split_off(kept.min(letters.len()));
                Settled {
                    kept: letters,
                    lost,
                    error: Some(error),
                }
            }
        }
    }

    /// Without a file, prints the summary of what was rejected, at the end of the run.
    pub(super) fn summary(&self, total: &Stats) {
        let dead = total.dead_letters();
        if dead > 0 && self.file.is_none() {
            messages::alert(format_args!(
                "{} ({}); keep them with --dead-letter FILE",
                messages::counted(dead, "dead letter", "dead letters"),
                total.dead_summary()
            ));
            for e in &self.examples {
                messages::error(e);
            }
        }
    }
}

/// The error of the `--dead-letter` file at `path`.
fn dead_letter(path: &Path, source: io::Error) -> OutputError {
    OutputError::DeadLetter {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_errors_allows_that_many_and_strict_none() {
        let mut d = DeadLetters::open(None).unwrap();
        let over: Vec<bool> = (0..4).map(|_| d.over(false, Some(2))).collect();
        assert_eq!(over, [false, false, true, true]);
        assert_eq!(d.seen(), 4);
        let mut d = DeadLetters::open(None).unwrap();
        assert!(d.over(true, None));
        let mut d = DeadLetters::open(None).unwrap();
        assert!((0..1000).all(|_| !d.over(false, None)));
    }

    /// A dead letter of line `line` whose record is `record`.
    fn letter(line: u64, record: &str) -> DeadLetter {
        DeadLetter {
            file: 0,
            line,
            reason: Reason::InvalidJson,
            error: String::new(),
            record: record.as_bytes().to_vec(),
            made: false,
        }
    }

    fn lines(letters: &[Letter]) -> Vec<u64> {
        letters.iter().map(|l| l.line).collect()
    }

    #[test]
    fn without_a_file_only_the_first_few_are_kept_as_examples() {
        let mut d = DeadLetters::open(None).unwrap();
        let mut asked = 0;
        for i in 0..5 {
            let example = || {
                asked += 1;
                Some(format!("example {i}"))
            };
            let settled = d.send(&letter(i, "{}\n"), example);
            assert_eq!(lines(&settled.kept), [i], "counted when sent");
        }
        assert_eq!(d.examples, ["example 0", "example 1", "example 2"]);
        assert_eq!(asked, EXAMPLES, "an example is made only when it is kept");
    }

    #[test]
    fn with_a_file_every_record_is_written_in_order_and_kept_once_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.ndjson");
        let mut d = DeadLetters::open(Some(&path)).unwrap();
        for (line, r) in [(1, "{\"line\":1}\n"), (2, "{\"line\":2}\n")] {
            let settled = d.send(&letter(line, r), || unreachable!("no example with a file"));
            assert!(settled.kept.is_empty(), "held until written");
        }
        let settled = d.flush();
        assert_eq!(lines(&settled.kept), [1, 2]);
        assert!(settled.lost.is_empty() && settled.error.is_none());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"line\":1}\n{\"line\":2}\n");
        assert!(d.examples.is_empty());
    }

    #[test]
    fn a_full_buffer_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.ndjson");
        let mut d = DeadLetters::open(Some(&path)).unwrap();
        let record = format!("{}\n", "x".repeat(1000));
        let kept: usize = (0..100).map(|i| d.send(&letter(i, &record), || None).kept.len()).sum();
        assert_eq!(kept, BUFFER.div_ceil(record.len()), "written when the buffer filled");
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, kept * record.len());
    }

    #[test]
    fn a_file_that_cannot_be_created_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing/dead.ndjson");
        let Err(e) = DeadLetters::open(Some(&path)) else {
            panic!("a file in a missing directory was created");
        };
        assert!(
            matches!(&e, OutputError::DeadLetter { path: p, .. } if *p == path),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "--dead-letter {}: No such file or directory; there is no directory {}",
                path.display(),
                dir.path().join("missing").display()
            )
        );
    }

    #[test]
    fn records_a_failed_write_did_not_keep_are_lost_and_the_file_takes_no_more() {
        let Ok(mut d) = DeadLetters::open(Some(Path::new("/dev/full"))) else {
            return; // no /dev/full on this system
        };
        let settled = d.send(&letter(1, "{}\n"), || Some(String::new()));
        assert!(
            settled.kept.is_empty() && settled.error.is_none(),
            "held, not yet written"
        );
        let settled = d.flush();
        let e = settled.error.expect("/dev/full is full");
        assert_eq!(e.to_string(), "--dead-letter /dev/full: No space left on device");
        assert_eq!((lines(&settled.kept), lines(&settled.lost)), (vec![], vec![1]));
        let settled = d.send(&letter(2, "{}\n"), || Some("kept".to_string()));
        assert_eq!(lines(&settled.lost), [2], "no file is left to take it");
        assert!(settled.error.is_none(), "the failure was reported once");
        assert!(d.examples.is_empty());
    }
}
