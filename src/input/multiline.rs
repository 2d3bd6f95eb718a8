//! `--multiline-start REGEX`: joins every line that does not match REGEX to the
//! record before it (stack traces, tracebacks, indented continuations). Records
//! keep the number of their first line; one is cut once it reaches the size cap.

use super::InputError;
use super::reader::{Chunk, ChunkKind};
use regex::Regex;

pub(crate) struct Multiline<'r> {
    start: &'r Regex,
    max: usize,
    file: u32,
    /// The record being built, its line count, first line number and offset.
    carry: Vec<u8>,
    carry_lines: u32,
    carry_line: u64,
    carry_offset: u64,
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
        }
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
        })
    }

    /// Regroups a chunk of lines into whole records; the last record is held back
    /// until a line starts the next one.
    pub(crate) fn push(&mut self, c: Chunk) -> Vec<Chunk> {
        let mut batch = None;
        if let ChunkKind::Rejected { len, .. } = c.kind {
            self.take_carry(&mut batch);
            let mut out: Vec<Chunk> = self.chunk(batch, None).into_iter().collect();
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
            let starts = self.start.is_match(&String::from_utf8_lossy(text));
            if !self.carry.is_empty() && (starts || self.carry.len() + line.len() > self.max) {
                self.take_carry(&mut batch);
            }
            self.carry.extend_from_slice(line);
            self.carry_lines += 1;
        }
        if c.error.is_some() {
            self.take_carry(&mut batch);
        }
        self.chunk(batch, c.error).into_iter().collect()
    }

    /// The last record, at the end of the input.
    pub(crate) fn flush(&mut self) -> Option<Chunk> {
        let mut batch = None;
        self.take_carry(&mut batch);
        self.chunk(batch, None)
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

    #[test]
    fn records_are_cut_at_the_size_cap() {
        let re = Regex::new(r"^S").unwrap();
        let mut m = Multiline::new(&re, 10, 0);
        let mut out = m.push(lines_chunk(1, 0, "S1\nxxxx\nyyyy\nzzzz\n"));
        out.extend(m.flush());
        let r = records(&out);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], (1, "S1\nxxxx\n".to_string()));
        assert_eq!(r[1], (3, "yyyy\nzzzz\n".to_string()));
    }
}
