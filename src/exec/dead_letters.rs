//! The one path of dead letters: every rejected line, whether a worker or an ordered stage
//! rejected it, is written to `--dead-letter FILE` or, without one, quoted on stderr (the
//! first few) at the end of the run. This file also counts them for `--max-errors`.

use crate::messages;
use crate::output::OutputError;
use crate::output::whole_lines::WholeLines;
use crate::stats::Stats;
use std::fs::File;
use std::io::{self, BufWriter, Write};

use std::path::{Path, PathBuf};

/// How many dead letters are quoted on stderr when they are not kept in a file.
const EXAMPLES: usize = 3;

pub(super) struct DeadLetters {
    /// `--dead-letter FILE`, until a write to it fails.
    file: Option<(PathBuf, BufWriter<WholeLines<File>>)>,
    /// The first few, for stderr, without a file.
    examples: Vec<String>,
    /// How many were sent, for `--max-errors`.
    seen: u64,
}

impl DeadLetters {
    /// Creates the `--dead-letter` file, if there is one; the error names it.
    pub(super) fn open(path: Option<&Path>) -> Result<DeadLetters, OutputError> {
        let file = match path {
            Some(p) => match crate::output::safe_path::create_output(p) {
                // A failed write (disk full, `ulimit -f`) cuts the file back to a whole line.
                Ok(f) => {
                    let cut = f.try_clone().ok();
                    Some((p.to_path_buf(), BufWriter::new(WholeLines::new(f, cut))))
                }
                Err(source) => return Err(dead_letter(p, source)),
            },
            None => None,
        };
        Ok(DeadLetters {
            file,
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

    /// Writes one record (`--dead-letter`) or keeps its example, if it has one, for stderr.
    /// After a failed write the file takes no more records.
    pub(super) fn send(&mut self, record: &[u8], example: impl FnOnce() -> Option<String>) -> Result<(), OutputError> {
        match self.file.as_mut() {
            Some((path, f)) => {
                let Err(source) = f.write_all(record) else {
                    return Ok(());
                };
                let e = dead_letter(path, source);
                self.file = None;
                Err(e)
            }
            None => {
                if self.examples.len() < EXAMPLES {
                    self.examples.extend(example());
                }
                Ok(())
            }
        }
    }

    /// Writes the records buffered so far to the file (input is idle under `--follow`). After
    /// a failed write the file takes no more records.
    pub(super) fn flush(&mut self) -> Result<(), OutputError> {
        let Some((path, f)) = self.file.as_mut() else {
            return Ok(());
        };
        let Err(source) = f.flush() else { return Ok(()) };
        let e = dead_letter(path, source);
        self.file = None;
        Err(e)
    }

    /// Flushes the file; without one, prints the summary of what was rejected.
    pub(super) fn finish(&mut self, total: &Stats, kept: bool) -> Result<(), OutputError> {
        if let Some((path, mut f)) = self.file.take() {
            return f.flush().map_err(|source| dead_letter(&path, source));
        }
        let dead = total.dead_letters();
        if dead > 0 && !kept {
            messages::alert(format_args!(
                "{} ({}); keep them with --dead-letter FILE",
                messages::counted(dead, "dead letter", "dead letters"),
                total.dead_summary()
            ));
            for e in &self.examples {
                messages::error(e);
            }
        }
        Ok(())
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

    #[test]
    fn without_a_file_only_the_first_few_are_kept_as_examples() {
        let mut d = DeadLetters::open(None).unwrap();
        let mut asked = 0;
        for i in 0..5 {
            let example = || {
                asked += 1;
                Some(format!("example {i}"))
            };
            assert!(d.send(b"{}\n", example).is_ok());
        }
        assert_eq!(d.examples, ["example 0", "example 1", "example 2"]);
        assert_eq!(asked, EXAMPLES, "an example is made only when it is kept");
    }

    #[test]
    fn with_a_file_every_record_is_written_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.ndjson");
        let mut d = DeadLetters::open(Some(&path)).unwrap();
        for r in ["{\"line\":1}\n", "{\"line\":2}\n"] {
            assert!(d.send(r.as_bytes(), || unreachable!("no example with a file")).is_ok());
        }
        d.finish(&Stats::default(), true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"line\":1}\n{\"line\":2}\n");
        assert!(d.examples.is_empty());
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
            format!("--dead-letter {}: No such file or directory", path.display())
        );
    }

    #[test]
    fn a_file_that_fails_takes_no_more_records() {
        let Ok(mut d) = DeadLetters::open(Some(Path::new("/dev/full"))) else {
            return; // no /dev/full on this system
        };
        assert!(
            d.send(b"{}\n", || Some(String::new())).is_ok(),
            "buffered, not yet written"
        );
        let e = d.flush().expect_err("/dev/full is full");
        assert_eq!(e.to_string(), "--dead-letter /dev/full: No space left on device");
        assert!(d.file.is_none());
        assert!(d.flush().is_ok(), "no file is left to fail");
        assert!(d.send(b"{}\n", || Some("kept".to_string())).is_ok());
        assert_eq!(d.examples, ["kept"]);
    }
}
