//! Turns input streams into line-aligned chunks for the workers, numbering lines and
//! offsets, removing a leading BOM, and cutting lines longer than the limit.

use super::convert::{Decoder, Record, Records};
use super::multiline::Multiline;
use super::{Input, decompress};
use crate::event::Meta;
use crate::messages::io_message;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// How many bytes of a too-long line the dead letter keeps.
pub(crate) const LONG_LINE_PREFIX: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChunkKind {
    /// Whole lines (the last may lack its `\n` at the end of an input).
    Lines,
    /// One line longer than `--max-line-bytes`: `data` holds its first bytes only.
    /// `len` counts all its bytes with its line end; `line_len` those of the line.
    TooLong { len: u64, line_len: u64 },
}

#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub seq: u64,
    pub file: u32,
    pub first_line: u64,
    pub first_offset: u64,
    pub data: Vec<u8>,
    pub kind: ChunkKind,
    /// A read error that ended this input after this chunk.
    pub error: Option<String>,
    /// With `--multiline-start`: each record's end in `data` and how many lines it joins.
    pub records: Option<Vec<(u32, u32)>>,
    /// With `--merge`: where each line came from (lines of several inputs interleave).
    pub metas: Option<Vec<crate::event::Meta>>,
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
}

/// Reads every input in order, handing chunks to `send`; stops early when `send`
/// returns false or `stop` is set.
pub(crate) fn read_all(
    inputs: &[Input],
    cfg: &ReadConfig,
    raw_bytes: Arc<AtomicU64>,
    stop: &AtomicBool,
    send: &mut dyn FnMut(Chunk) -> bool,
) {
    let mut seq = 0;
    // Chunks are numbered as they leave, since multi-line records regroup them.
    let mut out_seq = 0;
    let mut numbered = |mut c: Chunk| {
        c.seq = out_seq;
        out_seq += 1;
        send(c)
    };
    for (i, input) in inputs.iter().enumerate() {
        let mut framer = Framer {
            cfg,
            name: &input.name,
            file: i as u32,
            seq: &mut seq,
            line: 1,
            offset: 0,
        };
        let mut multiline = cfg
            .multiline
            .as_ref()
            .map(|re| Multiline::new(re, cfg.max_line_bytes, i as u32));
        let mut to_send = |c: Chunk| match multiline.as_mut() {
            Some(m) => m.push(c).into_iter().all(&mut numbered),
            None => numbered(c),
        };
        let ok = match decompress::open(input, raw_bytes.clone()) {
            Ok(r) => match super::auto::decoder(cfg, i as u32, &input.name, r) {
                Decoder::Lines(r) => framer.run(r, stop, &mut to_send),
                Decoder::Records(records) => framer.run_records(records, stop, &mut to_send),
            },
            Err(e) => framer.send_chunk(
                Vec::new(),
                ChunkKind::Lines,
                Some(format!("{}: {}", input.name, io_message(&e))),
                &mut to_send,
            ),
        };
        let ok = ok && multiline.as_mut().and_then(Multiline::flush).is_none_or(&mut numbered);
        if !ok || stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

struct Framer<'a> {
    cfg: &'a ReadConfig,
    name: &'a str,
    file: u32,
    seq: &'a mut u64,
    /// Number of the next line to send.
    line: u64,
    /// Offset of the next byte to send, in the decompressed input.
    offset: u64,
}

impl Framer<'_> {
    fn send_chunk(
        &mut self,
        data: Vec<u8>,
        kind: ChunkKind,
        error: Option<String>,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> bool {
        let (lines, len) = match kind {
            ChunkKind::Lines => {
                let n = memchr::memchr_iter(b'\n', &data).count() as u64;
                (
                    n + u64::from(!data.is_empty() && data.last() != Some(&b'\n')),
                    data.len() as u64,
                )
            }
            ChunkKind::TooLong { len, .. } => (1, len),
        };
        let chunk = Chunk {
            seq: *self.seq,
            file: self.file,
            first_line: self.line,
            first_offset: self.offset,
            data,
            kind,
            error,
            records: None,
            metas: None,
        };
        *self.seq += 1;
        self.line += lines;
        self.offset += len;
        send(chunk)
    }

    fn run(&mut self, mut r: Box<dyn Read + Send>, stop: &AtomicBool, send: &mut dyn FnMut(Chunk) -> bool) -> bool {
        let size = self.cfg.chunk_size.max(1);
        let mut buf: Vec<u8> = Vec::with_capacity(size);
        let mut at_start = true;
        let mut skipping: Option<Skipping> = None;
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let old = buf.len();
            let want = size.saturating_sub(old).max(size.min(64 << 10));
            buf.resize(old + want, 0);
            let n = match r.read(&mut buf[old..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    buf.truncate(old);
                    continue;
                }
                Err(e) => {
                    buf.truncate(old);
                    let msg = format!(
                        "{}: {} after {} bytes",
                        self.input_name(),
                        io_message(&e),
                        self.offset + buf.len() as u64
                    );
                    return self.finish(buf, skipping, Some(msg), send);
                }
            };
            buf.truncate(old + n);
            if n == 0 {
                return self.finish(buf, skipping, None, send);
            }
            // Decided as soon as the input cannot start with a BOM any more: a BOM
            // later in the input is data, however the reads were cut.
            if at_start && (buf.len() >= 3 || !b"\xEF\xBB\xBF".starts_with(&buf)) {
                at_start = false;
                if buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                    self.offset += 3;
                }
            }
            if let Some(mut sk) = skipping.take() {
                match memchr::memchr(b'\n', &buf) {
                    Some(pos) => {
                        sk.take(&buf[..pos]);
                        buf.drain(..=pos);
                        let (data, kind) = sk.marker(true);
                        if !self.send_chunk(data, kind, None, send) {
                            return false;
                        }
                    }
                    None => {
                        sk.take(&buf);
                        buf.clear();
                        skipping = Some(sk);
                        continue;
                    }
                }
            }
            // Send when the chunk is full, or whenever a read came up short (a pipe), so
            // slow streams flow line by line.
            if buf.len() >= size || n < want {
                if let Some(pos) = memchr::memrchr(b'\n', &buf) {
                    let rest = buf.split_off(pos + 1);
                    let full = std::mem::replace(&mut buf, rest);
                    if !self.send_chunk(full, ChunkKind::Lines, None, send) {
                        return false;
                    }
                }
            }
            // One byte of slack: a `\r` before the `\n` is not part of the line.
            if buf.len() > self.cfg.max_line_bytes.saturating_add(1) && memchr::memchr(b'\n', &buf).is_none() {
                let mut sk = Skipping::default();
                sk.take(&buf);
                skipping = Some(sk);
                buf.clear();
            }
        }
    }

    /// Sends the records of a decoded input (`-i json`, `csv`, `tsv`) in chunks that list
    /// each record's end and origin; a bad record's raw text may span lines.
    fn run_records(
        &mut self,
        mut records: Box<dyn Records>,
        stop: &AtomicBool,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> bool {
        let mut batch = RecordBatch::default();
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let record = match records.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => return self.send_records(&mut batch, None, send),
                Err(e) => {
                    let msg = format!("{}: {}", self.input_name(), io_message(&e));
                    return self.send_records(&mut batch, Some(msg), send);
                }
            };
            let ok = match record.too_long {
                Some(len) => {
                    let mut one = RecordBatch {
                        kind: ChunkKind::TooLong { len, line_len: len },
                        ..RecordBatch::default()
                    };
                    one.push(&record, self.file);
                    // A too-long marker holds the record's first bytes, without a line end.
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
        error: Option<String>,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> bool {
        let batch = std::mem::take(batch);
        let Some(first) = batch.metas.first().copied() else {
            return error.is_none() || self.send_chunk(Vec::new(), ChunkKind::Lines, error, send);
        };
        let too_long = matches!(batch.kind, ChunkKind::TooLong { .. });
        let chunk = Chunk {
            seq: *self.seq,
            file: self.file,
            first_line: first.line,
            first_offset: first.offset,
            data: batch.data,
            kind: batch.kind,
            error,
            records: (!too_long).then_some(batch.ends),
            metas: (!too_long).then_some(batch.metas),
        };
        *self.seq += 1;
        send(chunk)
    }

    fn input_name(&self) -> &str {
        self.name
    }

    fn finish(
        &mut self,
        buf: Vec<u8>,
        skipping: Option<Skipping>,
        error: Option<String>,
        send: &mut dyn FnMut(Chunk) -> bool,
    ) -> bool {
        match skipping {
            Some(sk) => {
                let (data, kind) = sk.marker(false);
                self.send_chunk(data, kind, error, send)
            }
            None if !buf.is_empty() || error.is_some() => {
                // A lone BOM is not a line.
                let buf = if self.line == 1 && buf == b"\xEF\xBB\xBF" {
                    Vec::new()
                } else {
                    buf
                };
                self.send_chunk(buf, ChunkKind::Lines, error, send)
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
    metas: Vec<Meta>,
    kind: ChunkKind,
}

impl Default for RecordBatch {
    fn default() -> Self {
        RecordBatch {
            data: Vec::new(),
            ends: Vec::new(),
            metas: Vec::new(),
            kind: ChunkKind::Lines,
        }
    }
}

impl RecordBatch {
    fn push(&mut self, r: &Record, file: u32) {
        self.data.extend_from_slice(&r.text);
        self.data.push(b'\n');
        self.ends.push((u32::try_from(self.data.len()).unwrap_or(u32::MAX), 1));
        self.metas.push(Meta {
            file,
            line: r.line,
            offset: r.offset,
        });
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
    fn marker(mut self, newline: bool) -> (Vec<u8>, ChunkKind) {
        let line_len = self.len - u64::from(self.cr);
        self.prefix.truncate(usize::try_from(line_len).unwrap_or(usize::MAX));
        let kind = ChunkKind::TooLong {
            len: self.len + u64::from(newline),
            line_len,
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
        }];
        let cfg = ReadConfig {
            chunk_size,
            max_line_bytes: max_line,
            format: crate::input::InputFormat::Ndjson,
            multiline: None,
            chosen: Arc::default(),
            verbose: false,
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
            .filter(|c| matches!(c.kind, ChunkKind::TooLong { .. }))
            .collect();
        assert_eq!(long.len(), 1);
        assert_eq!(
            long[0].kind,
            ChunkKind::TooLong {
                len: 10_001,
                line_len: 10_000
            }
        );
        assert_eq!(long[0].data.len(), LONG_LINE_PREFIX);
        assert_eq!(long[0].first_line, 2);
        let after = cs.iter().find(|c| c.first_line == 3).unwrap();
        assert_eq!(after.data, b"{}\n");
        assert_eq!(after.first_offset, 3 + 10_001);
    }
}
