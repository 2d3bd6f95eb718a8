//! Sorted runs on disk. Every run of a sort goes back to back into one anonymous temporary file (it has no
//! name, so it is gone when closed, also after SIGKILL), and each run is read through its own buffer at its
//! own offset: a sort holds one descriptor however many runs it spills, and never meets the open-file limit.
//!
//! A record is `u64 length, header, u64 length, event text`, lengths little-endian; the header is the JSON
//! array `[keys, seq, origin, topic]`.

use super::Item;
use crate::event::{Origin, OwnedEvent};
use serde_json::Value;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Where one run lies in its file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    start: u64,
    end: u64,
}

/// A temporary file of sorted runs.
#[derive(Debug)]
pub(super) struct RunFile {
    file: File,
    runs: Vec<Run>,
    /// Bytes written so far: where the next run starts.
    len: u64,
}

impl RunFile {
    pub(super) fn new() -> io::Result<RunFile> {
        Ok(RunFile {
            file: tempfile::tempfile()?,
            runs: Vec::new(),
            len: 0,
        })
    }

    pub(super) fn runs(&self) -> &[Run] {
        &self.runs
    }

    /// Appends one run of `items`, already in order, through a write buffer of `buffer` bytes.
    pub(super) fn write_run<'i>(&mut self, items: impl IntoIterator<Item = &'i Item>, buffer: usize) -> io::Result<()> {
        let mut w = self.writer(buffer);
        for item in items {
            w.push(item)?;
        }
        w.finish()
    }

    /// A writer of the next run. Writes go through the file's own offset, which stays at the end, as
    /// reads use positioned reads.
    pub(super) fn writer(&mut self, buffer: usize) -> RunWriter<'_> {
        let start = self.len;
        RunWriter {
            out: BufWriter::with_capacity(buffer, &self.file),
            runs: &mut self.runs,
            len: &mut self.len,
            start,
            header: Vec::new(),
        }
    }

    /// A reader of `run` (one of this file's) through a read buffer of `buffer` bytes.
    pub(super) fn reader(&self, run: Run, buffer: usize) -> RunReader<'_> {
        let extent = Extent {
            file: &self.file,
            pos: run.start,
            end: run.end,
        };
        RunReader {
            src: BufReader::with_capacity(buffer, extent),
            left: run.end.saturating_sub(run.start),
        }
    }
}

/// Writes one run's records.
pub(super) struct RunWriter<'a> {
    out: BufWriter<&'a File>,
    runs: &'a mut Vec<Run>,
    len: &'a mut u64,
    start: u64,
    header: Vec<u8>,
}

impl RunWriter<'_> {
    pub(super) fn push(&mut self, item: &Item) -> io::Result<()> {
        self.header.clear();
        let ev = &item.ev;
        let header = (&item.keys, item.seq, ev.origin, ev.topic.as_deref());
        serde_json::to_writer(&mut self.header, &header)?;
        for part in [&self.header[..], ev.text.as_bytes()] {
            self.out.write_all(&(part.len() as u64).to_le_bytes())?;
            self.out.write_all(part)?;
            *self.len += 8 + part.len() as u64;
        }
        Ok(())
    }

    /// Flushes the run and adds it to its file's list.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.out.flush()?;
        self.runs.push(Run {
            start: self.start,
            end: *self.len,
        });
        Ok(())
    }
}

/// A byte range of a file, read with positioned reads.
struct Extent<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for Extent<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        let n = self.file.read_at(&mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Reads one run's records back.
pub(super) struct RunReader<'a> {
    src: BufReader<Extent<'a>>,
    /// Bytes of the run not read yet: no length read from the file may claim more.
    left: u64,
}

type Header = (Vec<Value>, u64, Origin, Option<String>);

impl RunReader<'_> {
    /// The next item, `None` at the end of the run.
    pub(super) fn next_item(&mut self) -> io::Result<Option<Item>> {
        if self.left == 0 {
            return Ok(None);
        }
        let header = self.part()?;
        let (keys, seq, origin, topic): Header = serde_json::from_slice(&header)?;
        let text = String::from_utf8(self.part()?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let ev = OwnedEvent {
            text: text.into_boxed_str(),
            origin,
            topic: topic.map(Arc::from),
        };
        Ok(Some(Item { keys, seq, ev }))
    }

    /// One length-prefixed part of a record.
    fn part(&mut self) -> io::Result<Vec<u8>> {
        let mut len = [0; 8];
        self.src.read_exact(&mut len)?;
        let len = u64::from_le_bytes(len);
        self.left = (len.checked_add(8).and_then(|n| self.left.checked_sub(n))).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "a spilled record runs past the end of its run",
            )
        })?;
        let mut part = vec![0; usize::try_from(len).map_err(io::Error::other)?];
        self.src.read_exact(&mut part)?;
        Ok(part)
    }
}
