//! Turns input streams into line-aligned chunks for the workers, numbering lines and
//! offsets, removing a leading BOM, and cutting lines longer than the limit.

use super::convert::{Decoder, Record, Records};
use super::multiline::Multiline;
use super::{Input, InputError, decompress};
use crate::event::{Origin, Rejection};
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How many bytes of a too-long line the dead letter keeps.
pub(crate) const LONG_LINE_PREFIX: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChunkKind {
    /// Whole lines (the last may lack its `\n` at the end of an input).
    Lines,
    /// Records a decoder made of the input (`-i json`, csv, tsv, zeek), one per line: each was
    /// measured against `--max-line-bytes` by its input bytes, not by the JSON made of it.
    Records,
    /// One line or record that reading rejected already (too long, or a decoder's bad
    /// record): `data` holds it without its line end, or only its first bytes when too long.
    /// `len` counts all its bytes with its line end.
    Rejected { len: u64, why: Rejection },
}

#[derive(Debug)]
pub(crate) struct Chunk {
    pub seq: u64,
    pub file: u32,
    pub first_line: u64,
    pub first_offset: u64,
    pub data: Vec<u8>,
    pub kind: ChunkKind,
    /// A read error that ended this input after this chunk.
    pub error: Option<InputError>,
    /// With `--multiline-start`: each record's end in `data` and how many lines it joins.
    pub records: Option<Vec<(u32, u32)>>,
    /// With `--merge`: where each line came from (lines of several inputs interleave).
    pub origins: Option<Vec<crate::event::Origin>>,
    /// From a decoder (`-i csv`, tsv, zeek, json): the bytes of the input read since the last
    /// chunk, which its records' JSON text does not measure.
    pub input_bytes: Option<u64>,
}

impl Chunk {
    /// A chunk that carries only a read error of input `file`: the engine reports it.
    pub(crate) fn error(file: u32, error: InputError) -> Chunk {
        Chunk {
            seq: 0,
            file,
            first_line: 1,
            first_offset: 0,
            data: Vec::new(),
            kind: ChunkKind::Lines,
            error: Some(error),
            records: None,
            origins: None,
            input_bytes: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ReadConfig {
    pub chunk_size: usize,
    pub max_line_bytes: usize,
    pub format: super::InputFormat,
    /// `--multiline-start`: a line matching this starts a record; others continue it.
    pub multiline: Option<regex::Regex>,
    /// With `-i auto`: what each input was read as.
    pub chosen: Arc<super::auto::Chosen>,
    /// `-v`: say what `-i auto` chose for each input.
    pub verbose: bool,
    /// `--follow`: files are read on as they grow (see [`super::follow`]).
    pub follow: bool,
    /// `--until` with `--merge` on NDJSON: the merged lines are in time order, so reading
    /// stops at the first line at or after this time.
    pub until: Option<f64>,
    /// `--memory-limit`: what a decompressor may hold of an input's history.
    pub memory_limit: usize,
}

/// Reads every input in order, handing chunks to `send`; stops early when `send`
/// returns false or `stop` is set. With `--follow`, files are then read on as they grow.
pub(crate) fn read_all(
    inputs: &[Input],
    cfg: &ReadConfig,
    raw_bytes: Arc<AtomicU64>,
    stop: &AtomicBool,
    send: &mut dyn FnMut(Chunk) -> bool,
) {
    // Chunks are numbered as they leave, since multi-line records regroup them.
    let mut out_seq = 0;
    let mut numbered = |mut c: Chunk| {
        c.seq = out_seq;
        out_seq += 1;
        send(c)
    };
    if cfg.follow {
        return super::follow::follow_all(inputs, cfg, raw_bytes, stop, &mut numbered);
    }
    for (i, input) in inputs.iter().enumerate() {
        if !read_one(input, i as u32, cfg, raw_bytes.clone(), stop, &mut numbered) || stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// Reads one input to its end; false when the run stops.
pub(super) fn read_one(
    input: &Input,
    file: u32,
    cfg: &ReadConfig,
    raw_bytes: Arc<AtomicU64>,
    stop: &AtomicBool,
    send: &mut dyn FnMut(Chunk) -> bool,
) -> bool {
    let mut framer = Framer::new(cfg, &input.name, file);
    let mut multiline = cfg
        .multiline
        .as_ref()
        .map(|re| Multiline::new(re, cfg.max_line_bytes, file));
    let mut to_send = |c: Chunk| match multiline.as_mut() {
        Some(m) => m.push(c).into_iter().all(&mut *send),
        None => send(c),
    };
    let ok = match decompress::open(input, raw_bytes, cfg.memory_limit) {
        Ok(r) => {
            // A decoder's records are JSON made of the input: its bytes are counted as read.
            let read = Arc::new(AtomicU64::new(0));
            let r = decompress::counted(r, read.clone());
            match super::auto::decoder(cfg, file, &input.name, r) {
                Decoder::Lines(r) => framer.run(r, stop, &mut to_send),
                Decoder::Records(records) => framer.run_records(records, &read, stop, &mut to_send),
            }
        }
        Err(e) => framer.send_chunk(
            Vec::new(),
            ChunkKind::Lines,
            Some(InputError::open(input, e)),
            &mut to_send,
        ),
    };
    ok && multiline
        .as_mut()
        .map(Multiline::flush)
        .unwrap_or_default()
        .into_iter()
        .all(send)
}

/// Cuts one input's bytes into chunks of whole lines, numbering them.
pub(super) struct Framer<'a> {
    cfg: &'a ReadConfig,
    name: &'a str,
    file: u32,
    /// Number of the next line to send.
    line: u64,
    /// Offset of the next byte to send, in the decompressed input.
    offset: u64,
    /// Bytes read and not yet sent: the start of a line, after whole lines of a short chunk.
    buf: Vec<u8>,
    /// Nothing was read yet that rules out a BOM at the start.
    at_start: bool,
    /// The over-long line being dropped, if any.
    skipping: Option<Skipping>,
}

/// What one read gave.
pub(super) enum Read1 {
    /// `n` bytes; `short`: fewer than asked for.
    Data { n: usize, short: bool },
    /// Nothing: the end of the input, or of what a followed file holds now.
    End,
    /// A read error, as a message.
    Failed(InputError),
}

impl<'a> Framer<'a> {
    pub(super) fn new(cfg: &'a ReadConfig, name: &'a str, file: u32) -> Framer<'a> {
        Framer {
            cfg,
            name,
            file,
            line: 1,
            offset: 0,
            buf: Vec::new(),
            at_start: true,
            skipping: None,
        }
    }

    /// The input's number.
    pub(super) fn file(&self) -> u32 {
        self.file
    }

    /// How many bytes of a line with no newline yet are held.
    pub(super) fn unfinished(&self) -> u64 {
        self.buf.len() as u64 + self.skipping.as_ref().map_or(0, |s| s.len)
    }

    /// Starts again at line 1, offset 0: a followed file was replaced or truncated.
    pub(super) fn restart(&mut self) {
        *self = Framer::new(self.cfg, self.name, self.file);
    }

    fn send_chunk(
        &mut self,
        data: Vec<u8>,
        kind: ChunkKind,
        error: Option<InputError>,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> bool {
        let (lines, len) = match &kind {
            ChunkKind::Lines | ChunkKind::Records => {
                let n = memchr::memchr_iter(b'\n', &data).count() as u64;
                (
                    n + u64::from(!data.is_empty() && data.last() != Some(&b'\n')),
                    data.len() as u64,
                )
            }
            ChunkKind::Rejected { len, .. } => (1, *len),
        };
        let chunk = Chunk {
            seq: 0,
            file: self.file,
            first_line: self.line,
            first_offset: self.offset,
            data,
            kind,
            error,
            records: None,
            origins: None,
            input_bytes: None,
        };
        self.line += lines;
        self.offset += len;
        send(chunk)
    }

    fn run(&mut self, mut r: Box<dyn Read + Send>, stop: &AtomicBool, send: &mut dyn FnMut(Chunk) -> bool) -> bool {
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let ok = match self.read(&mut *r) {
                Read1::Data { short, .. } => self.take(short, send),
                Read1::End => return self.finish(None, send),
                Read1::Failed(e) => return self.finish(Some(e), send),
            };
            if !ok {
                return false;
            }
        }
    }

    /// Reads once into the buffer, retrying when interrupted.
    pub(super) fn read(&mut self, r: &mut dyn Read) -> Read1 {
        let size = self.cfg.chunk_size.max(1);
        loop {
            let old = self.buf.len();
            let want = size.saturating_sub(old).max(size.min(64 << 10));
            self.buf.resize(old + want, 0);
            let got = r.read(&mut self.buf[old..]);
            self.buf.truncate(old + got.as_ref().map_or(0, |n| *n));
            return match got {
                Ok(0) => Read1::End,
                Ok(n) => Read1::Data { n, short: n < want },
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Read1::Failed(InputError::Read {
                    name: self.name.to_string(),
                    after: Some(self.offset + self.buf.len() as u64),
                    source: e,
                }),
            };
        }
    }

    /// Takes the `n` bytes just read: removes a BOM at the start, drops what is too long, and
    /// sends whole lines when the chunk is full or the read came up `short` (a pipe, or the end
    /// of a file), so slow streams flow line by line. False when the run stops.
    pub(super) fn take(&mut self, short: bool, send: &mut dyn FnMut(Chunk) -> bool) -> bool {
        // Decided as soon as the input cannot start with a BOM any more: a BOM
        // later in the input is data, however the reads were cut.
        if self.at_start && (self.buf.len() >= super::UTF8_BOM.len() || !super::UTF8_BOM.starts_with(&self.buf)) {
            self.at_start = false;
            if self.buf.starts_with(super::UTF8_BOM) {
                self.buf.drain(..3);
                self.offset += 3;
            }
        }
        if let Some(mut sk) = self.skipping.take() {
            match memchr::memchr(b'\n', &self.buf) {
                Some(pos) => {
                    sk.take(&self.buf[..pos]);
                    self.buf.drain(..=pos);
                    let (data, kind) = sk.marker(true, self.cfg.max_line_bytes);
                    if !self.send_chunk(data, kind, None, send) {
                        return false;
                    }
                }
                None => {
                    sk.take(&self.buf);
                    self.buf.clear();
                    self.skipping = Some(sk);
                    return true;
                }
            }
        }
        if (self.buf.len() >= self.cfg.chunk_size.max(1) || short) && !self.send_lines(send) {
            return false;
        }
        // One byte of slack: a `\r` before the `\n` is not part of the line.
        if self.buf.len() > self.cfg.max_line_bytes.saturating_add(1) && memchr::memchr(b'\n', &self.buf).is_none() {
            let mut sk = Skipping::default();
            sk.take(&self.buf);
            self.skipping = Some(sk);
            self.buf.clear();
        }
        true
    }

    /// Sends the whole lines in the buffer, keeping the start of a line that has no newline yet.
    pub(super) fn send_lines(&mut self, send: &mut dyn FnMut(Chunk) -> bool) -> bool {
        let Some(pos) = memchr::memrchr(b'\n', &self.buf) else {
            return true;
        };
        let rest = self.buf.split_off(pos + 1);
        let full = std::mem::replace(&mut self.buf, rest);
        self.send_chunk(full, ChunkKind::Lines, None, send)
    }

    /// Sends the records of a decoded input (`-i json`, `csv`, `tsv`) in chunks that list
    /// each record's end and origin; a bad record's raw text may span lines.
    /// Sends the records a decoder makes; `read` counts the bytes it reads of the input.
    fn run_records(
        &mut self,
        mut records: Box<dyn Records>,
        read: &AtomicU64,
        stop: &AtomicBool,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> bool {
        let sent = std::cell::Cell::new(0);
        // Each chunk counts the bytes read since the one before it.
        let mut send = |mut c: Chunk| {
            let now = read.load(Ordering::Relaxed);
            c.input_bytes = Some(now - sent.replace(now));
            send(c)
        };
        let send: &mut dyn FnMut(Chunk) -> bool = &mut send;
        let mut batch = RecordBatch::default();
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let mut record = match records.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let ok = self.send_records(&mut batch, None, send);
                    // Bytes no record holds (a header, comments) after the last chunk.
                    let rest = read.load(Ordering::Relaxed) - sent.get();
                    return ok && (rest == 0 || self.send_chunk(Vec::new(), ChunkKind::Records, None, send));
                }
                Err(e) => {
                    let e = InputError::Corrupt {
                        name: self.input_name().to_string(),
                        source: e,
                    };
                    return self.send_records(&mut batch, Some(e), send);
                }
            };
            let ok = match record.rejected.take() {
                Some((len, why)) => {
                    let mut one = RecordBatch {
                        kind: ChunkKind::Rejected { len, why },
                        ..RecordBatch::default()
                    };
                    one.push(&record, self.file);
                    // A rejected record is held without a line end.
                    one.data.pop();
                    self.send_records(&mut batch, None, send) && self.send_records(&mut one, None, send)
                }
                None => {
                    let room = u32::MAX as usize - batch.data.len();
                    if record.text.len() >= room && !self.send_records(&mut batch, None, send) {
                        return false;
                    }
                    batch.push(&record, self.file);
                    let full = batch.data.len() >= self.cfg.chunk_size || !records.buffered();
                    !full || self.send_records(&mut batch, None, send)
                }
            };
            if !ok {
                return false;
            }
        }
    }

    /// Sends the batch, if it holds records or an error comes with it.
    fn send_records(
        &mut self,
        batch: &mut RecordBatch,
        error: Option<InputError>,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> bool {
        let batch = std::mem::take(batch);
        let Some(first) = batch.origins.first().copied() else {
            return error.is_none() || self.send_chunk(Vec::new(), ChunkKind::Lines, error, send);
        };
        let rejected = matches!(batch.kind, ChunkKind::Rejected { .. });
        let chunk = Chunk {
            seq: 0,
            file: self.file,
            first_line: first.line,
            first_offset: first.offset,
            data: batch.data,
            kind: batch.kind,
            error,
            records: (!rejected).then_some(batch.ends),
            origins: (!rejected).then_some(batch.origins),
            input_bytes: None,
        };
        send(chunk)
    }

    fn input_name(&self) -> &str {
        self.name
    }

    /// At the end of the input (or of a followed file that was replaced or truncated): sends
    /// what is left, a last line without its newline included.
    pub(super) fn finish(&mut self, error: Option<InputError>, send: &mut dyn FnMut(Chunk) -> bool) -> bool {
        let buf = std::mem::take(&mut self.buf);
        match self.skipping.take() {
            Some(sk) => {
                let (data, kind) = sk.marker(false, self.cfg.max_line_bytes);
                self.send_chunk(data, kind, error, send)
            }
            None if !buf.is_empty() || error.is_some() => {
                // A lone BOM is not a line.
                let mut buf = if self.line == 1 && buf == super::UTF8_BOM {
                    Vec::new()
                } else {
                    buf
                };
                match error {
                    // The read error cut the last line short: whatever it holds, it is not the line.
                    Some(e) if buf.last().is_some_and(|&b| b != b'\n') => {
                        let cut = memchr::memrchr(b'\n', &buf).map_or(0, |p| p + 1);
                        let last = buf.split_off(cut);
                        let kind = ChunkKind::Rejected {
                            len: last.len() as u64,
                            why: super::cut::cut_off_by(&e),
                        };
                        (buf.is_empty() || self.send_chunk(buf, ChunkKind::Lines, None, send))
                            && self.send_chunk(last, kind, Some(e), send)
                    }
                    error => self.send_chunk(buf, ChunkKind::Lines, error, send),
                }
            }
            None => true,
        }
    }
}

/// Records on their way into one chunk.
struct RecordBatch {
    data: Vec<u8>,
    /// Each record's end in `data` (after its newline), and that it counts as one line.
    ends: Vec<(u32, u32)>,
    origins: Vec<Origin>,
    kind: ChunkKind,
}

impl Default for RecordBatch {
    fn default() -> Self {
        RecordBatch {
            data: Vec::new(),
            ends: Vec::new(),
            origins: Vec::new(),
            kind: ChunkKind::Records,
        }
    }
}

impl RecordBatch {
    fn push(&mut self, r: &Record, file: u32) {
        self.data.extend_from_slice(&r.text);
        self.data.push(b'\n');
        self.ends.push((u32::try_from(self.data.len()).unwrap_or(u32::MAX), 1));
        self.origins.push(Origin::line(file, r.line, r.offset));
    }
}

/// An over-long line being dropped: how many bytes so far, its first bytes, and
/// whether the last byte so far is a `\r`.
#[derive(Default)]
struct Skipping {
    len: u64,
    prefix: Vec<u8>,
    cr: bool,
}

impl Skipping {
    fn take(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        let room = LONG_LINE_PREFIX.saturating_sub(self.prefix.len()).min(bytes.len());
        self.prefix.extend_from_slice(&bytes[..room]);
        if let Some(&b) = bytes.last() {
            self.cr = b == b'\r';
        }
    }

    /// The marker chunk's data and kind. The line is described as if it had fit in a
    /// chunk (without its `\r`, the prefix as long as the pipeline would keep), so its
    /// dead letter does not depend on how the input was read.
    fn marker(mut self, newline: bool, max: usize) -> (Vec<u8>, ChunkKind) {
        let line_len = self.len - u64::from(self.cr);
        self.prefix.truncate(usize::try_from(line_len).unwrap_or(usize::MAX));
        let kind = ChunkKind::Rejected {
            len: self.len + u64::from(newline),
            why: Rejection::too_long(line_len, max),
        };
        (self.prefix, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Source;

    fn chunks_of(data: &[u8], chunk_size: usize, max_line: usize) -> Vec<Chunk> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("in");
        std::fs::write(&p, data).unwrap();
        let inputs = vec![Input {
            name: "in".into(),
            source: Source::File(p),
            walked: false,
        }];
        let cfg = ReadConfig {
            chunk_size,
            max_line_bytes: max_line,
            format: crate::input::InputFormat::Ndjson,
            multiline: None,
            chosen: Arc::default(),
            verbose: false,
            follow: false,
            until: None,
            memory_limit: 1 << 30,
        };
        let mut out = Vec::new();
        read_all(&inputs, &cfg, Arc::default(), &AtomicBool::new(false), &mut |c| {
            out.push(c);
            true
        });
        out
    }

    #[test]
    fn chunks_end_on_line_boundaries_and_number_lines() {
        let cs = chunks_of(b"a\nbb\nccc\ndddd", 4, 100);
        let joined: Vec<u8> = cs.iter().flat_map(|c| c.data.clone()).collect();
        assert_eq!(joined, b"a\nbb\nccc\ndddd");
        for c in &cs[..cs.len() - 1] {
            assert_eq!(c.data.last(), Some(&b'\n'));
        }
        let last = cs.last().unwrap();
        assert_eq!(last.first_line, 4);
        assert_eq!(last.first_offset, 9);
    }

    #[test]
    fn bom_is_removed_and_counted_in_offsets() {
        let cs = chunks_of(b"\xEF\xBB\xBF{}\n", 1024, 100);
        assert_eq!(cs[0].data, b"{}\n");
        assert_eq!(cs[0].first_offset, 3);
    }

    #[test]
    fn too_long_lines_become_markers() {
        let mut data = b"{}\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 10_000));
        data.extend(b"\n{}\n");
        let cs = chunks_of(&data, 64, 100);
        let long: Vec<&Chunk> = cs
            .iter()
            .filter(|c| matches!(c.kind, ChunkKind::Rejected { .. }))
            .collect();
        assert_eq!(long.len(), 1);
        assert_eq!(
            long[0].kind,
            ChunkKind::Rejected {
                len: 10_001,
                why: Rejection::too_long(10_000, 100)
            }
        );
        assert_eq!(long[0].data.len(), LONG_LINE_PREFIX);
        assert_eq!(long[0].first_line, 2);
        let after = cs.iter().find(|c| c.first_line == 3).unwrap();
        assert_eq!(after.data, b"{}\n");
        assert_eq!(after.first_offset, 3 + 10_001);
    }
}
