//! `--multiline-start REGEX`: joins every line that does not match REGEX to the
//! record before it (stack traces, tracebacks, indented continuations). Records
//! keep the number of their first line. A record that grows past `--max-line-bytes`
//! is one `too_long` dead letter, as a too-long line is: never pieces that look like
//! records of their own.

use super::InputError;
use super::reader::{Chunk, ChunkKind, LONG_LINE_PREFIX};
use crate::event::{Reason, Rejection};
use regex::Regex;

/// How many bytes end `line`: 2 for CRLF, 1 for LF, none for a last line without an end.
fn line_end(line: &[u8]) -> usize {
    match line {
        [.., b'\r', b'\n'] => 2,
        [.., b'\n'] => 1,
        _ => 0,
    }
}

pub(crate) struct Multiline<'r> {
    start: &'r Regex,
    max: usize,
    file: u32,
    /// The record being built, its line count, first line number and offset.
    carry: Vec<u8>,
    carry_lines: u32,
    carry_line: u64,
    carry_offset: u64,
    /// Set once the record went past the cap: its length in bytes. `carry` then keeps only
    /// the record's first bytes, for its dead letter.
    too_long: Option<u64>,
    /// The length of the record's text so far: its lines joined by line feeds, without their
    /// line ends, as its event holds it.
    carry_text: u64,
    /// Set when a read error cut the record's last line short: why the record is a dead letter.
    cut: Option<Rejection>,
}

/// Complete records waiting to be sent as one chunk.
struct Batch {
    data: Vec<u8>,
    marks: Vec<(u32, u32)>,
    first_line: u64,
    first_offset: u64,
}

impl<'r> Multiline<'r> {
    pub(crate) fn new(start: &'r Regex, max: usize, file: u32) -> Self {
        Multiline {
            start,
            max,
            file,
            carry: Vec::new(),
            carry_lines: 0,
            carry_line: 1,
            carry_offset: 0,
            too_long: None,
            carry_text: 0,
            cut: None,
        }
    }

    /// Adds a line to the record being built.
    fn add(&mut self, line: &[u8]) {
        // Past the cap a record takes in every line up to the next start: never wrap.
        let joint = u64::from(self.carry_lines > 0);
        self.carry_lines = self.carry_lines.saturating_add(1);
        self.carry_text += joint + (line.len() - line_end(line)) as u64;
        if self.too_long.is_none() && self.carry_text <= self.max as u64 {
            return self.carry.extend_from_slice(line);
        }
        let len = self.too_long.unwrap_or(self.carry.len() as u64) + line.len() as u64;
        self.too_long = Some(len);
        let room = LONG_LINE_PREFIX.saturating_sub(self.carry.len()).min(line.len());
        self.carry.extend_from_slice(&line[..room]);
        self.carry.truncate(LONG_LINE_PREFIX);
    }

    /// Ends the record being built: into the batch, or, past the cap, as a chunk of its own
    /// after the batch's records.
    fn end_record(&mut self, batch: &mut Option<Batch>, out: &mut Vec<Chunk>) {
        let cut = self.cut.take();
        let len = match (self.too_long.take(), &cut) {
            (Some(len), _) => len,
            (None, Some(_)) => self.carry.len() as u64,
            (None, None) => return self.take_carry(batch),
        };
        out.extend(self.chunk(batch.take(), None));
        let mut data = std::mem::take(&mut self.carry);
        if data.len() as u64 == len {
            // Whole: held without its line end, as a rejected line is.
            if data.last() == Some(&b'\n') {
                data.pop();
            }
        }
        out.push(Chunk {
            seq: 0,
            file: self.file,
            first_line: self.carry_line,
            first_offset: self.carry_offset,
            data,
            kind: ChunkKind::Rejected {
                len,
                why: cut.unwrap_or_else(|| Rejection::record_too_long(self.carry_text, self.carry_lines, self.max)),
            },
            error: None,
            records: None,
            origins: None,
            input_bytes: None,
        });
        self.carry_line += u64::from(self.carry_lines);
        self.carry_offset += len;
        self.carry_lines = 0;
        self.carry_text = 0;
    }

    fn take_carry(&mut self, batch: &mut Option<Batch>) {
        if self.carry.is_empty() {
            return;
        }
        let b = batch.get_or_insert_with(|| Batch {
            data: Vec::new(),
            marks: Vec::new(),
            first_line: self.carry_line,
            first_offset: self.carry_offset,
        });
        b.data.extend_from_slice(&self.carry);
        b.marks.push((b.data.len() as u32, self.carry_lines));
        self.carry_line += u64::from(self.carry_lines);
        self.carry_offset += self.carry.len() as u64;
        self.carry.clear();
        self.carry_lines = 0;
        self.carry_text = 0;
    }

    fn chunk(&self, batch: Option<Batch>, error: Option<InputError>) -> Option<Chunk> {
        if batch.is_none() && error.is_none() {
            return None;
        }
        let b = batch.unwrap_or(Batch {
            data: Vec::new(),
            marks: Vec::new(),
            first_line: self.carry_line,
            first_offset: self.carry_offset,
        });
        Some(Chunk {
            seq: 0,
            file: self.file,
            first_line: b.first_line,
            first_offset: b.first_offset,
            data: b.data,
            kind: ChunkKind::Lines,
            error,
            records: Some(b.marks),
            origins: None,
            input_bytes: None,
        })
    }

    /// Regroups a chunk of lines into whole records; the last record is held back
    /// until a line starts the next one.
    pub(crate) fn push(&mut self, c: Chunk) -> Vec<Chunk> {
        let mut batch = None;
        let mut out = Vec::new();
        if let ChunkKind::Rejected { why, .. } = &c.kind {
            let continues = why.reason == Reason::Truncated
                && !self.carry.is_empty()
                && !self.start.is_match(&String::from_utf8_lossy(&c.data));
            if continues {
                // The line the damage cut continues the record before it: the record is cut.
                self.add(&c.data);
                self.cut = Some(why.clone());
                self.end_record(&mut batch, &mut out);
                out.extend(self.chunk(batch, c.error));
                return out;
            }
        }
        if let ChunkKind::Rejected { len, .. } = c.kind {
            self.end_record(&mut batch, &mut out);
            out.extend(self.chunk(batch, None));
            self.carry_line = c.first_line + 1;
            self.carry_offset = c.first_offset + len;
            out.push(c);
            return out;
        }
        if self.carry.is_empty() {
            self.carry_line = c.first_line;
            self.carry_offset = c.first_offset;
        }
        for line in c.data.split_inclusive(|b| *b == b'\n') {
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if !self.carry.is_empty() && self.start.is_match(&String::from_utf8_lossy(text)) {
                self.end_record(&mut batch, &mut out);
            }
            self.add(line);
        }
        if c.error.is_some() {
            self.end_record(&mut batch, &mut out);
        }
        out.extend(self.chunk(batch, c.error));
        out
    }

    /// The last record, at the end of the input.
    pub(crate) fn flush(&mut self) -> Vec<Chunk> {
        let mut batch = None;
        let mut out = Vec::new();
        self.end_record(&mut batch, &mut out);
        out.extend(self.chunk(batch, None));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_chunk(first_line: u64, first_offset: u64, data: &str) -> Chunk {
        Chunk {
            seq: 0,
            file: 0,
            first_line,
            first_offset,
            data: data.as_bytes().to_vec(),
            kind: ChunkKind::Lines,
            error: None,
            records: None,
            origins: None,
            input_bytes: None,
        }
    }

    fn records(chunks: &[Chunk]) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for c in chunks {
            let mut start = 0;
            let mut line = c.first_line;
            for &(end, n) in c.records.as_ref().unwrap() {
                out.push((line, String::from_utf8_lossy(&c.data[start..end as usize]).into_owned()));
                start = end as usize;
                line += u64::from(n);
            }
        }
        out
    }

    /// The chunks of `out` that hold a rejected record.
    fn rejected_in(out: &[Chunk]) -> Vec<&Chunk> {
        out.iter()
            .filter(|c| matches!(c.kind, ChunkKind::Rejected { .. }))
            .collect()
    }

    #[test]
    fn continuation_lines_join_across_chunks() {
        let re = Regex::new(r"^\d{4}-").unwrap();
        let mut m = Multiline::new(&re, 1 << 20, 0);
        let mut out = m.push(lines_chunk(1, 0, "2026-01 start\n  at a\n"));
        out.extend(m.push(lines_chunk(3, 21, "  at b\n2026-02 next\n")));
        out.extend(m.flush());
        assert_eq!(
            records(&out),
            [
                (1, "2026-01 start\n  at a\n  at b\n".to_string()),
                (4, "2026-02 next\n".to_string())
            ]
        );
        assert_eq!(out.last().unwrap().first_offset, 28);
    }

    /// A line a read error cut short that continues a record makes the whole record a
    /// `truncated` dead letter; one that starts a record is one on its own.
    #[test]
    fn a_cut_continuation_line_makes_its_record_truncated() {
        let re = Regex::new(r"^S").unwrap();
        let cut = |first_line, first_offset, data: &str| Chunk {
            kind: ChunkKind::Rejected {
                len: data.len() as u64,
                why: Rejection::new(Reason::Truncated, "cut"),
            },
            ..lines_chunk(first_line, first_offset, data)
        };
        let mut m = Multiline::new(&re, 1 << 20, 0);
        let mut out = m.push(lines_chunk(1, 0, "S1\nS2\n  a\n"));
        out.extend(m.push(cut(4, 10, "  b")));
        out.extend(m.flush());
        let rejected = rejected_in(&out);
        assert_eq!(rejected.len(), 1);
        assert_eq!((rejected[0].first_line, rejected[0].first_offset), (2, 3));
        assert_eq!(rejected[0].data, b"S2\n  a\n  b");
        let ChunkKind::Rejected { len, why } = &rejected[0].kind else {
            unreachable!()
        };
        assert_eq!((*len, why.reason), (10, Reason::Truncated));
        let whole: Vec<_> = out.into_iter().filter(|c| c.kind == ChunkKind::Lines).collect();
        assert_eq!(records(&whole), [(1, "S1\n".to_string())]);

        let mut m = Multiline::new(&re, 1 << 20, 0);
        let mut out = m.push(lines_chunk(1, 0, "S1\n  a\n"));
        out.extend(m.push(cut(3, 8, "S2")));
        let rejected = rejected_in(&out);
        assert_eq!(rejected.len(), 1);
        assert_eq!(
            rejected[0].data, b"S2",
            "a cut line that starts a record is one on its own"
        );
    }

    /// A record past the cap is one rejected chunk, with its first line's number, all its
    /// bytes and lines counted; the records around it are untouched.
    #[test]
    fn a_record_past_the_size_cap_is_rejected_whole() {
        let re = Regex::new(r"^S").unwrap();
        let mut m = Multiline::new(&re, 10, 0);
        let mut out = m.push(lines_chunk(1, 0, "S1\nS2\nxxxx\nyyyy\n"));
        out.extend(m.push(lines_chunk(5, 16, "zzzz\nS3\n")));
        out.extend(m.flush());
        let rejected = rejected_in(&out);
        assert_eq!(rejected.len(), 1);
        let r = rejected[0];
        assert_eq!((r.first_line, r.first_offset), (2, 3));
        assert_eq!(r.data, b"S2\nxxxx\nyyyy\nzzzz");
        let ChunkKind::Rejected { len, why } = &r.kind else {
            unreachable!()
        };
        assert_eq!(*len, 18);
        assert!(
            why.error.contains("17 bytes in 4 lines"),
            "its text, without the last line end: {}",
            why.error
        );
        let whole: Vec<_> = out.into_iter().filter(|c| c.kind == ChunkKind::Lines).collect();
        assert_eq!(records(&whole), [(1, "S1\n".to_string()), (6, "S3\n".to_string())]);
    }
}
