//! The one path of dead letters: every rejected line, whether a worker or an ordered stage
//! rejected it, is written to `--dead-letter FILE` or, without one, quoted on stderr (the
//! first few) at the end of the run. This file also counts them for `--max-errors`.

use crate::messages;
use crate::messages::io_message;
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
    pub(super) fn open(path: Option<&Path>) -> Result<DeadLetters, String> {
        let file = match path {
            Some(p) => match File::create(p) {
                // A failed write (disk full, `ulimit -f`) cuts the file back to a whole line.
                Ok(f) => {
                    let cut = f.try_clone().ok();
                    Some((p.to_path_buf(), BufWriter::new(WholeLines::new(f, cut))))
                }
                Err(e) => return Err(format!("{}: {}", p.display(), io_message(&e))),
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

    /// How many were counted.
    pub(super) fn seen(&self) -> u64 {
        self.seen
    }

    /// Writes one record (`--dead-letter`) or keeps its example for stderr. A failed write
    /// is reported naming the file, which then takes no more records.
    pub(super) fn send(&mut self, record: &[u8], example: impl FnOnce() -> String) -> Result<(), ()> {
        match self.file.as_mut() {
            Some((path, f)) => {
                let Err(e) = f.write_all(record) else {
                    return Ok(());
                };
                messages::error(format_args!("{}: {}", path.display(), io_message(&e)));
                self.file = None;
                Err(())
            }
            None => {
                if self.examples.len() < EXAMPLES {
                    self.examples.push(example());
                }
                Ok(())
            }
        }
    }

    /// Hands what was written on to the file; a failure is reported as for [`Self::send`].
    pub(super) fn flush(&mut self) -> Result<(), ()> {
        let Some((path, f)) = self.file.as_mut() else {
            return Ok(());
        };
        let Err(e) = f.flush() else {
            return Ok(());
        };
        messages::error(format_args!("{}: {}", path.display(), io_message(&e)));
        self.file = None;
        Err(())
    }

    /// Flushes the file; without one, prints the summary of what was rejected.
    pub(super) fn finish(&mut self, total: &Stats, kept: bool) -> io::Result<()> {
        if let Some((path, mut f)) = self.file.take() {
            return f.flush().inspect_err(|e| {
                messages::error(format_args!("{}: {}", path.display(), io_message(e)));
            });
        }
        let dead = total.dead_total();
        if dead > 0 && !kept {
            messages::alert(format_args!(
                "{dead} dead letter{} ({}); keep them with --dead-letter FILE",
                if dead == 1 { "" } else { "s" },
                total.dead_summary()
            ));
            for e in &self.examples {
                messages::error(e);
            }
        }
        Ok(())
    }
}
