//! A writer for line files others can see (stdout redirected to a file, the dead-letter file)
//! that, when a write fails part way (disk full, `ulimit -f`), cuts a regular file back to the end
//! of its last whole line, as topic files are: a file evq writes never ends inside a line. When
//! its writer says where records end (a record of `-o pretty` spans lines), it cuts back to the
//! end of the last whole record instead.

use std::fs::File;
use std::io::{self, ErrorKind, Seek, SeekFrom, Write};
use std::os::fd::AsFd;

/// Counts what reaches the file, and where its last whole line ends. After a failed write it
/// writes nothing more: a retry of the rest of a line (a `BufWriter` flushing as it is dropped)
/// would land after the cut and leave a line's end without its start.
pub(crate) struct WholeLines<W> {
    inner: W,
    /// The same open file as `inner`, when it is a regular file that can be cut.
    file: Option<File>,
    written: u64,
    /// Where the last whole line (or record) ends: what a failed write cuts the file back to.
    line_end: u64,
    /// Within a record begun by [`Output::begin_record`]: newlines do not end lines.
    in_record: bool,
    /// A write failed with this kind of error.
    failed: Option<ErrorKind>,
}

/// The process's stdout, written straight to its file descriptor (std's own line buffer would hide
/// which bytes reached the file) and cut back to a whole line after a failed write when it is a
/// regular file; std's stdout if the descriptor cannot be duplicated.
pub(crate) fn stdout() -> Box<dyn Output> {
    let dup = || io::stdout().as_fd().try_clone_to_owned().map(File::from);
    match (dup(), dup()) {
        (Ok(out), Ok(file)) => Box::new(WholeLines::new(super::pipe::StdoutFile::new(out), Some(file))),
        _ => Box::new(io::stdout()),
    }
}

impl<W: Write> WholeLines<W> {
    /// `file` is the open file `inner` writes to (a duplicate descriptor), if known.
    pub(crate) fn new(inner: W, file: Option<File>) -> WholeLines<W> {
        let file = file.filter(|f| f.metadata().is_ok_and(|m| m.is_file()));
        WholeLines {
            inner,
            file,
            written: 0,
            line_end: 0,
            in_record: false,
            failed: None,
        }
    }

    fn note(&mut self, wrote: &[u8]) {
        if let Some(i) = memchr::memrchr(b'\n', wrote).filter(|_| !self.in_record) {
            self.line_end = self.written + i as u64 + 1;
        }
        self.written += wrote.len() as u64;
    }

    /// A write failed: the file is cut back to its last whole line and takes nothing more.
    fn fail(&mut self, e: io::Error) -> io::Error {
        self.cut();
        self.failed = Some(e.kind());
        e
    }

    /// Removes the start of a line that the failed write left at the file's position (its end with
    /// `>>`), and moves the position back there, so that later writes (stderr with `2>&1`) leave
    /// no gap. Best effort: the write error is what gets reported.
    fn cut(&mut self) {
        let torn = self.written - self.line_end;
        let Some(mut f) = self.file.as_ref().filter(|_| torn > 0) else {
            return;
        };
        if let Ok(end) = f.stream_position() {
            let to = end.saturating_sub(torn);
            let _ = f.set_len(to).and_then(|()| f.seek(SeekFrom::Start(to)));
            self.written = self.line_end;
        }
    }
}

/// Stdout as the output writes it: lines, or records that may span lines.
pub(crate) trait Output: Write + Send {
    /// Writes whole records, each ending at one of `ends` (offsets in `bytes`, ascending, the
    /// last at its end). After a failed write, a file the writer cuts is cut back to the end of
    /// the last record it got whole, not to its last newline; the error tells how many those are.
    fn write_records(&mut self, bytes: &[u8], ends: &[usize]) -> Result<(), Kept> {
        let _ = ends;
        self.write_all(bytes).map_err(|error| Kept { error, records: 0 })
    }

    /// What is written from here to [`Output::end_record`] is one record, of many lines (a
    /// whole table, a JSON array): a failed write in between cuts the file back to here.
    fn begin_record(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Ends the record [`Output::begin_record`] began.
    fn end_record(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A failed [`Output::write_records`]: the error, and how many of the records the output
/// holds whole.
#[derive(Debug)]
pub(crate) struct Kept {
    pub(crate) error: io::Error,
    pub(crate) records: usize,
}

impl<W: Write + Send> Output for WholeLines<W> {
    fn write_records(&mut self, bytes: &[u8], ends: &[usize]) -> Result<(), Kept> {
        let base = self.written;
        let mut rest = bytes;
        while !rest.is_empty() {
            if let Some(kind) = self.failed {
                let error = io::Error::new(kind, "an earlier write failed");
                return Err(Kept { error, records: 0 });
            }
            let error = match self.inner.write(rest) {
                Ok(0) => io::Error::from(ErrorKind::WriteZero),
                Ok(n) => {
                    self.written += n as u64;
                    rest = &rest[n..];
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => e,
            };
            let done = (self.written - base) as usize;
            let records = ends.partition_point(|&e| e <= done);
            self.line_end = base + records.checked_sub(1).map_or(0, |last| ends[last]) as u64;
            return Err(Kept {
                error: self.fail(error),
                records,
            });
        }
        self.line_end = self.written;
        Ok(())
    }

    fn begin_record(&mut self) -> io::Result<()> {
        self.in_record = true;
        self.line_end = self.written;
        Ok(())
    }

    fn end_record(&mut self) -> io::Result<()> {
        self.in_record = false;
        self.line_end = self.written;
        Ok(())
    }
}

impl<O: Output + ?Sized> Output for Box<O> {
    fn write_records(&mut self, bytes: &[u8], ends: &[usize]) -> Result<(), Kept> {
        (**self).write_records(bytes, ends)
    }

    fn begin_record(&mut self) -> io::Result<()> {
        (**self).begin_record()
    }

    fn end_record(&mut self) -> io::Result<()> {
        (**self).end_record()
    }
}

/// A buffer in front: what it holds is written first, then the records straight through.
impl<W: Output> Output for io::BufWriter<W> {
    fn write_records(&mut self, bytes: &[u8], ends: &[usize]) -> Result<(), Kept> {
        self.flush().map_err(|error| Kept { error, records: 0 })?;
        self.get_mut().write_records(bytes, ends)
    }

    fn begin_record(&mut self) -> io::Result<()> {
        self.flush()?;
        self.get_mut().begin_record()
    }

    fn end_record(&mut self) -> io::Result<()> {
        self.flush()?;
        self.get_mut().end_record()
    }
}

impl Output for io::Stdout {}

impl Output for io::Sink {}

impl<W: Write> Write for WholeLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(kind) = self.failed {
            return Err(io::Error::new(kind, "an earlier write failed"));
        }
        match self.inner.write(buf) {
            Ok(n) => {
                self.note(&buf[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(kind) = self.failed {
            return Err(io::Error::new(kind, "an earlier write failed"));
        }
        self.inner.flush().map_err(|e| self.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufWriter;

    /// A file that takes only `room` more bytes, then fails like a full disk.
    struct Full {
        file: File,
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(libc::EFBIG));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.file.write(&buf[..n])
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn write_until_full(before: &str, room: usize, lines: &[&str]) -> (io::Result<()>, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        std::fs::write(&path, before).unwrap();
        let file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        let full = Full {
            file: file.try_clone().unwrap(),
            room,
        };
        let mut w = BufWriter::with_capacity(8, WholeLines::new(full, Some(file)));
        let res = lines
            .iter()
            .try_for_each(|l| w.write_all(l.as_bytes()))
            .and_then(|()| w.flush());
        drop(w);
        (res, std::fs::read_to_string(&path).unwrap())
    }

    #[test]
    fn a_failed_write_leaves_the_file_on_its_last_whole_line() {
        let (res, text) = write_until_full("", 13, &["first line\n", "second line\n", "third\n"]);
        assert_eq!(res.unwrap_err().raw_os_error(), Some(libc::EFBIG));
        assert_eq!(text, "first line\n");
    }

    #[test]
    fn written_as_records_a_failed_write_cuts_back_to_the_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let file = File::create(&path).unwrap();
        let full = Full {
            file: file.try_clone().unwrap(),
            room: 30,
        };
        let mut w = io::BufWriter::new(WholeLines::new(full, Some(file)));
        w.write_all(b"[\n").unwrap();
        let (a, b) = ("{\n  \"a\": 1\n}\n", "{\n  \"b\": 2\n}\n");
        w.write_records(a.as_bytes(), &[a.len()]).unwrap();
        let ab = format!("{a}{b}");
        let kept = w.write_records(ab.as_bytes(), &[a.len(), ab.len()]).unwrap_err();
        assert_eq!((kept.error.raw_os_error(), kept.records), (Some(libc::EFBIG), 1));
        drop(w);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("[\n{a}{a}"),
            "not the next record's first lines"
        );
    }

    #[test]
    fn what_the_file_held_before_is_kept() {
        let (res, text) = write_until_full("old\n", 3, &["new line\n"]);
        assert!(res.is_err());
        assert_eq!(text, "old\n");
    }

    #[test]
    fn a_write_that_fits_is_untouched() {
        let (res, text) = write_until_full("", 100, &["a\n", "b\n"]);
        assert!(res.is_ok());
        assert_eq!(text, "a\nb\n");
    }

    /// A disk that is full once, then has room again (the cut freed some).
    struct FullOnce {
        file: File,
        room: usize,
        failed: bool,
    }

    impl Write for FullOnce {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 && !self.failed {
                self.failed = true;
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let n = if self.failed {
                buf.len()
            } else {
                buf.len().min(self.room)
            };
            self.room -= n.min(self.room);
            self.file.write(&buf[..n])
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn nothing_is_written_after_a_failed_write_not_even_the_rest_of_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.ndjson");
        let file = File::create(&path).unwrap();
        let disk = FullOnce {
            file: file.try_clone().unwrap(),
            room: 15,
            failed: false,
        };
        let mut w = BufWriter::with_capacity(64, WholeLines::new(disk, Some(file)));
        w.write_all(b"first line\nsecond line\n").unwrap();
        assert!(w.flush().is_err(), "the disk was full");
        assert!(w.write_all(b"third line\n").and_then(|()| w.flush()).is_err());
        // Dropping a BufWriter flushes what it holds, ignoring errors.
        drop(w);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first line\n");
    }
}
