//! `--follow` (`-F`): reads files on as they grow, as `tail -F` does. The inputs are first
//! read to their ends in the order given; then each file is looked at again every
//! [`POLL`] while nothing new came. A file follows its path across rotation (the path now
//! names another file: the old one is read to its end, then the new one from its start) and
//! truncation (the file is shorter than what was read: it is read again from its start).
//! A last line without its newline waits for it, unless its file is replaced or truncated.
//! Stdin, FIFOs and compressed files are read to their end and not followed; the files of a
//! directory are those it held at the start.
//!
//! Polling, not inotify: it needs no dependency, works the same on network and container
//! filesystems where change notices never come, and one `stat` per file a few times a
//! second costs nothing next to reading.

use super::decompress::{Compression, detect};
use super::multiline::Multiline;
use super::reader::{Chunk, Framer, Read1, ReadConfig, read_one};
use super::{Input, InputError, Source};
use crate::messages;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// How long the reader waits, when no file grew, before it looks again.
pub(crate) const POLL: Duration = Duration::from_millis(200);

/// A file, by device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(m: &Metadata) -> FileId {
        FileId {
            dev: m.dev(),
            ino: m.ino(),
        }
    }
}

/// What became of a followed file since it was last read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// The same file, as long as what was read or longer: read on.
    Same,
    /// Shorter than what was read: read it again from its start.
    Truncated,
    /// The path names another file: finish this one, then read that one from its start.
    Rotated,
    /// Nothing at the path (renamed away, not yet created again): read on and wait.
    Missing,
}

/// The file being read (`reading`, read up to `read_to`, now `len` bytes long) compared with
/// what its path names now (`at_path`).
pub(super) fn change(reading: FileId, read_to: u64, len: u64, at_path: Option<FileId>) -> Change {
    match at_path {
        Some(id) if id != reading => Change::Rotated,
        _ if len < read_to => Change::Truncated,
        None => Change::Missing,
        Some(_) => Change::Same,
    }
}

/// Reads every input, then follows the files until `stop` is set or `send` refuses a chunk.
/// Returns at once, as without `--follow`, when no input can be followed.
pub(super) fn follow_all(
    inputs: &[Input],
    cfg: &ReadConfig,
    raw_bytes: Arc<AtomicU64>,
    stop: &AtomicBool,
    send: &mut dyn FnMut(Chunk) -> bool,
) {
    let mut tails: Vec<Tail> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| Tail::new(input, i as u32, cfg))
        .collect();
    follow_until_stopped(&mut tails, &raw_bytes, stop, send);
    if crate::exit::signalled() {
        for t in &tails {
            t.note_unfinished_line();
        }
    }
}

/// Follows the files until `stop` is set or `send` refuses a chunk.
fn follow_until_stopped(
    tails: &mut [Tail],
    raw_bytes: &Arc<AtomicU64>,
    stop: &AtomicBool,
    send: &mut dyn FnMut(Chunk) -> bool,
) {
    // Looks in a row that found nothing new.
    let mut idle = 0;
    loop {
        let mut grew = false;
        for t in tails.iter_mut() {
            match t.poll(raw_bytes, stop, send) {
                Some(g) => grew |= g,
                None => return,
            }
        }
        idle = if grew { 0 } else { idle + 1 };
        if grew {
            continue;
        }
        // Nothing came for a whole pause: a multi-line record waiting for the line that
        // starts the next one goes out as it is.
        if idle > 1 && !tails.iter_mut().all(|t| t.flush_record(send)) {
            return;
        }
        if tails.iter().all(|t| t.done) || !pause(stop) {
            return;
        }
    }
}

/// Sleeps for [`POLL`], in steps so that a stop is seen promptly; false when stopped.
fn pause(stop: &AtomicBool) -> bool {
    for _ in 0..4 {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(POLL / 4);
    }
    !stop.load(Ordering::Relaxed)
}

/// A file open for following, and how far it was read.
struct Open {
    file: File,
    id: FileId,
    pos: u64,
}

/// One input under `--follow`.
struct Tail<'a> {
    input: &'a Input,
    cfg: &'a ReadConfig,
    framer: Framer<'a>,
    multiline: Option<Multiline<'a>>,
    open: Option<Open>,
    /// The input was opened once (or found missing and said so).
    started: bool,
    /// Read to its end, not followed: stdin, a FIFO, a compressed file, or a read error.
    done: bool,
}

impl<'a> Tail<'a> {
    fn new(input: &'a Input, file: u32, cfg: &'a ReadConfig) -> Tail<'a> {
        Tail {
            input,
            cfg,
            framer: Framer::new(cfg, &input.name, file),
            multiline: cfg
                .multiline
                .as_ref()
                .map(|re| Multiline::new(re, cfg.max_line_bytes, file)),
            open: None,
            started: false,
            done: false,
        }
    }

    /// Reads what the file holds now and notices rotation and truncation. `Some(true)` when
    /// something happened, `None` when the run stops.
    fn poll(&mut self, raw: &Arc<AtomicU64>, stop: &AtomicBool, send: &mut dyn FnMut(Chunk) -> bool) -> Option<bool> {
        if self.done {
            return Some(false);
        }
        let path = match &self.input.source {
            Source::File(p) => p,
            // A nats:// input has a consumer of its own (`--features nats`) and never comes here.
            Source::Stdin | Source::Nats(_) => return self.read_whole(raw, stop, send),
        };
        if self.open.is_none() {
            match self.reopen(path) {
                Ok(true) => {}
                Ok(false) => return Some(false),
                Err(e) => return self.fail(e, send),
            }
        }
        if self.done {
            // Not a plain file, or compressed.
            return self.read_whole(raw, stop, send);
        }
        let grew = self.drain(raw, stop, send)?;
        Some(self.check(path, raw, stop, send)? || grew)
    }

    /// At the end of what the open file holds: follows a rotation or truncation. `Some(true)`
    /// when there was one, `None` when the run stops.
    fn check(
        &mut self,
        path: &Path,
        raw: &Arc<AtomicU64>,
        stop: &AtomicBool,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> Option<bool> {
        let Some(open) = &self.open else { return Some(true) };
        let len = open.file.metadata().map_or(open.pos, |m| m.len());
        let at_path = std::fs::metadata(path).ok().map(|m| FileId::of(&m));
        match change(open.id, open.pos, len, at_path) {
            Change::Same | Change::Missing => Some(false),
            Change::Rotated => {
                // What was written to the old file before the new one appeared is read first.
                self.drain(raw, stop, send)?;
                self.end_file(send)?;
                self.open = None;
                Some(true)
            }
            Change::Truncated => {
                self.end_file(send)?;
                let Some(open) = self.open.as_mut() else {
                    return Some(true);
                };
                open.pos = 0;
                match open.file.seek(SeekFrom::Start(0)) {
                    Ok(_) => Some(true),
                    Err(e) => self.fail(e, send),
                }
            }
        }
    }

    /// Opens the file at `path`; false while there is none. FIFOs, devices and compressed
    /// files met at the start are marked to be read whole instead.
    fn reopen(&mut self, path: &Path) -> io::Result<bool> {
        let first = !self.started;
        self.started = true;
        // A FIFO or device named on the command line is read whole, opened once, as without -F.
        if first && std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            self.done = true;
            return Ok(true);
        }
        let opened = File::open(path).and_then(|mut file| {
            let m = file.metadata()?;
            let mut head = [0u8; 6];
            let n = if m.is_file() {
                read_head(&mut file, &mut head)?
            } else {
                0
            };
            Ok((file, m, detect(&head[..n])))
        });
        match opened {
            Ok((file, m, kind)) => {
                self.done = first && (!m.is_file() || kind != Compression::None);
                self.open = Some(Open {
                    file,
                    id: FileId::of(&m),
                    pos: 0,
                });
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if first {
                    messages::note(format_args!(
                        "{}: no such file yet; --follow waits for it",
                        messages::shown(&self.input.name)
                    ));
                }
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the input to its end, as without `--follow`.
    fn read_whole(
        &mut self,
        raw: &Arc<AtomicU64>,
        stop: &AtomicBool,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> Option<bool> {
        self.done = true;
        self.open = None;
        let file = self.framer.file();
        read_one(self.input, file, self.cfg, raw.clone(), stop, send).then_some(true)
    }

    /// Reads the open file to its current end, sending whole lines; `Some(true)` when it
    /// had grown, `None` when the run stops.
    fn drain(&mut self, raw: &Arc<AtomicU64>, stop: &AtomicBool, send: &mut dyn FnMut(Chunk) -> bool) -> Option<bool> {
        let mut grew = false;
        loop {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let Some(open) = self.open.as_mut() else {
                return Some(grew);
            };
            let (framer, multiline) = (&mut self.framer, &mut self.multiline);
            let mut via = |c: Chunk| via(multiline, send, c);
            let ok = match framer.read(&mut open.file) {
                Read1::Data { n, short } => {
                    open.pos += n as u64;
                    raw.fetch_add(n as u64, Ordering::Relaxed);
                    grew = true;
                    framer.take(short, &mut via)
                }
                // At the end of what it holds now: its whole lines go out now.
                Read1::End => return framer.send_lines(&mut via).then_some(grew),
                Read1::Failed(msg) => {
                    self.done = true;
                    self.open = None;
                    return (framer.finish(Some(msg), &mut via) && self.flush_record(send)).then_some(true);
                }
            };
            if !ok {
                return None;
            }
        }
    }

    /// The file being read ends here (replaced or truncated): its last line goes out, with or
    /// without a newline, and numbering starts again for what comes next.
    fn end_file(&mut self, send: &mut dyn FnMut(Chunk) -> bool) -> Option<()> {
        let (framer, multiline) = (&mut self.framer, &mut self.multiline);
        let ok = framer.finish(None, &mut |c| via(multiline, send, c)) && self.flush_record(send);
        self.framer.restart();
        ok.then_some(())
    }

    /// A read error ends this input (reported as its error); the others are followed on.
    fn fail(&mut self, e: io::Error, send: &mut dyn FnMut(Chunk) -> bool) -> Option<bool> {
        self.done = true;
        self.open = None;
        let msg = InputError::Read {
            name: self.input.name.clone(),
            after: None,
            source: e,
        };
        let (framer, multiline) = (&mut self.framer, &mut self.multiline);
        framer
            .finish(Some(msg), &mut |c| via(multiline, send, c))
            .then_some(true)
    }

    /// Says that a signal stopped the run with the start of a line read and left unread: the
    /// writer may be in the middle of it.
    fn note_unfinished_line(&self) {
        let held = self.framer.unfinished();
        if held > 0 {
            messages::note(format_args!(
                "{}: the run stopped with {held} bytes of an unfinished last line unread (no newline yet)",
                messages::shown(&self.input.name)
            ));
        }
    }

    /// Sends the multi-line record held back for the line that would start the next one.
    fn flush_record(&mut self, send: &mut dyn FnMut(Chunk) -> bool) -> bool {
        self.multiline
            .as_mut()
            .map(Multiline::flush)
            .unwrap_or_default()
            .into_iter()
            .all(send)
    }
}

/// Sends a chunk, through `--multiline-start`'s regrouping when there is one.
fn via(multiline: &mut Option<Multiline<'_>>, send: &mut dyn FnMut(Chunk) -> bool, c: Chunk) -> bool {
    match multiline.as_mut() {
        Some(m) => m.push(c).into_iter().all(send),
        None => send(c),
    }
}

/// Reads the first bytes of a file for its magic number, and goes back to its start.
fn read_head(file: &mut File, head: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(n)
}

#[cfg(test)]
mod tests;
