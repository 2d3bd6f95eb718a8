//! Input formats that are not one event per line (`-i json`, `-i csv`, `-i tsv`) are decoded
//! into records as they are read: a good record becomes one NDJSON line, and a bad one keeps
//! its raw text, so that it becomes a dead letter at its own line while decoding goes on with
//! the next record. `line()` and `offset()` are where each record starts in the input.

use super::InputFormat;
use super::cut::CutShort;
use super::json_records::JsonRecords;
use super::reader::LONG_LINE_PREFIX;
use super::zeek::ZeekRecords;
use crate::event::{Reason, Rejection};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read};

/// The largest record kept whole, whatever `--max-line-bytes` says: chunks index records with u32.
const MAX_RECORD: usize = 1 << 31;

/// One record of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// One NDJSON line without its newline, or the raw text of a bad record (which fails to
    /// parse as JSON or is not UTF-8, so that the engine dead-letters it).
    pub text: Vec<u8>,
    pub line: u64,
    pub offset: u64,
    /// A record rejected while decoding (too long, or a quote left open): its length with its
    /// line end, and why. `text` holds its first bytes when it is too long.
    pub rejected: Option<(u64, Rejection)>,
}

impl Record {
    pub(super) fn event(v: &Value, line: u64, offset: u64) -> Record {
        Record {
            text: serde_json::to_vec(v).unwrap_or_default(),
            line,
            offset,
            rejected: None,
        }
    }

    pub(crate) fn bad(text: Vec<u8>, line: u64, offset: u64) -> Record {
        Record {
            text,
            line,
            offset,
            rejected: None,
        }
    }

    /// Text that is not valid JSON where it stands (`why`), though it may parse on its own.
    pub(crate) fn rejected(text: Vec<u8>, line: u64, offset: u64, why: String) -> Record {
        let len = text.len() as u64;
        Record {
            text,
            line,
            offset,
            rejected: Some((len, Rejection::new(Reason::InvalidJson, why))),
        }
    }
}

/// A source of records.
pub(crate) trait Records: Send {
    /// The next record; `None` at the end of the input.
    fn next_record(&mut self) -> io::Result<Option<Record>>;

    /// Whether more input is in memory already: when not, the next record may wait for a
    /// read, so what was decoded is sent on first (a slow pipe flows record by record).
    fn buffered(&self) -> bool {
        true
    }
}

/// How an input's bytes are cut: into lines by the framer, or into records here.
pub(crate) enum Decoder {
    Lines(Box<dyn Read + Send>),
    Records(Box<dyn Records>),
}

/// The decoder for `format` over a decompressed input.
pub(crate) fn decoder(format: InputFormat, r: Box<dyn Read + Send>, max_line_bytes: usize) -> Decoder {
    let max = max_line_bytes.min(MAX_RECORD);
    match format {
        InputFormat::Json | InputFormat::Zeek | InputFormat::Tsv | InputFormat::Csv => {
            Decoder::Records(Box::new(CutShort::new(r, |r| records(format, r, max))))
        }
        _ => Decoder::Lines(r),
    }
}

/// The records of `r` in one of the decoded formats.
fn records(format: InputFormat, r: Box<dyn Read + Send>, max: usize) -> Box<dyn Records> {
    match format {
        InputFormat::Json => Box::new(JsonRecords::new(BufReader::with_capacity(64 << 10, r), max)),
        InputFormat::Zeek => Box::new(ZeekRecords::new(BufReader::with_capacity(64 << 10, r), max)),
        InputFormat::Tsv => {
            let mut r = BufReader::with_capacity(64 << 10, r);
            match is_zeek(&mut r) {
                true => Box::new(ZeekRecords::new(r, max)),
                false => csv_records(format, Box::new(r), max),
            }
        }
        _ => csv_records(format, r, max),
    }
}

/// Whether the input starts with Zeek's `#separator` header (a read error is reported later).
fn is_zeek(r: &mut impl BufRead) -> bool {
    r.fill_buf()
        .is_ok_and(|b| b.strip_prefix(super::UTF8_BOM).unwrap_or(b).starts_with(b"#separator "))
}

/// A TSV field as `-o tsv` (and Miller) writes it: `\t`, `\n`, `\r` and `\\` stand for a tab, a
/// newline, a carriage return and a backslash; any other backslash is itself.
fn tsv_unescape(field: &str) -> Cow<'_, str> {
    if !field.contains('\\') {
        return Cow::Borrowed(field);
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let rest = chars.as_str();
        match rest.chars().next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    Cow::Owned(out)
}

/// The decoder of CSV, or of TSV (no quoting).
fn csv_records(format: InputFormat, r: Box<dyn Read + Send>, max: usize) -> Box<dyn Records> {
    let delimiter = if format == InputFormat::Csv { b',' } else { b'\t' };
    Box::new(CsvRecords {
        reader: csv_reader(delimiter, format == InputFormat::Csv, true, r),
        headers: None,
        record: csv::ByteRecord::new(),
        delimiter,
        max,
        base: (0, 0),
        next_line: 1,
        rest: Rest::default(),
        after: (1, Rest::default()),
        blanks: 0..0,
        held: None,
        ended: false,
    })
}

fn csv_reader(delimiter: u8, quoting: bool, headers: bool, r: Box<dyn Read + Send>) -> csv::Reader<Kept> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .quoting(quoting)
        .has_headers(headers)
        .flexible(true)
        .from_reader(Kept::new(r))
}

/// The bytes a CSV reader took from its input, from about the record being read on, so that
/// a record that a quote left open to the end of input can be read again line by line.
struct Kept {
    inner: Box<dyn Read + Send>,
    bytes: Vec<u8>,
    /// The input offset of `bytes[0]`.
    from: u64,
    /// The input ended.
    eof: bool,
}

/// Bytes kept before the current record are let go past this many.
const KEPT_SLACK: usize = 1 << 16;

impl Kept {
    fn new(inner: Box<dyn Read + Send>) -> Kept {
        Kept {
            inner,
            bytes: Vec::new(),
            from: 0,
            eof: false,
        }
    }

    /// Lets go of the bytes before input offset `at` (some of them, now and then).
    fn forget_before(&mut self, at: u64) {
        let n = usize::try_from(at.saturating_sub(self.from))
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if n > KEPT_SLACK {
            self.bytes.drain(..n);
            self.from += n as u64;
        }
    }

    /// Where the record the reader placed at line `line`, offset `at`, starts: the reader
    /// places a record after a CRLF at that line's `\n`, still on the line before.
    fn past_line_ends(&self, mut line: u64, mut at: u64) -> (u64, u64) {
        let start = usize::try_from(at.saturating_sub(self.from)).unwrap_or(usize::MAX);
        for &b in self.bytes.get(start..).unwrap_or_default() {
            match b {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
            at += 1;
        }
        (line, at)
    }

    /// The bytes from input offset `at` to what was read so far, if still kept.
    fn tail_from(&self, at: u64) -> &[u8] {
        let start = usize::try_from(at.saturating_sub(self.from)).unwrap_or(usize::MAX);
        self.bytes.get(start..).unwrap_or_default()
    }

    /// The bytes from input offset `at` to `end`, if still kept.
    fn span(&self, at: u64, end: u64) -> Option<&[u8]> {
        let start = usize::try_from(at.checked_sub(self.from)?).ok()?;
        let end = usize::try_from(end.checked_sub(self.from)?).ok()?;
        self.bytes.get(start..end)
    }

    /// The bytes from input offset `at` to the end of input, once it ended there.
    fn rest_from(&self, at: u64, end: u64) -> Option<&[u8]> {
        let start = usize::try_from(at.checked_sub(self.from)?).ok()?;
        (self.eof && end == self.from + self.bytes.len() as u64).then(|| self.bytes.get(start..))?
    }
}

impl Read for Kept {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.eof |= n == 0 && !buf.is_empty();
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Whether CSV text `raw`, read from a record's start, ends inside a quoted field.
pub(crate) fn ends_in_quotes(raw: &[u8], delimiter: u8) -> bool {
    let (mut quoted, mut field_start) = (false, true);
    let mut bytes = raw.iter().peekable();
    while let Some(&b) = bytes.next() {
        if quoted {
            if b == b'"' && bytes.next_if_eq(&&b'"').is_none() {
                quoted = false;
            }
        } else if field_start && b == b'"' {
            quoted = true;
        }
        field_start = !quoted && (matches!(b, b'\n' | b'\r') || b == delimiter);
    }
    quoted
}

/// A record's text while it is read, keeping at most one byte more than the limit.
pub(crate) struct Capped {
    bytes: Vec<u8>,
    len: u64,
    max: usize,
}

impl Capped {
    pub(crate) fn new(max: usize) -> Capped {
        Capped {
            bytes: Vec::new(),
            len: 0,
            max,
        }
    }

    pub(crate) fn push(&mut self, b: u8) {
        self.len += 1;
        if self.bytes.len() <= self.max {
            self.bytes.push(b);
        }
    }

    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        let room = (self.max + 1).saturating_sub(self.bytes.len()).min(bytes.len());
        self.bytes.extend_from_slice(&bytes[..room]);
        self.len += bytes.len() as u64;
    }

    /// Whether the byte `n` places after the text so far is kept.
    pub(crate) fn keeps(&self, n: usize) -> bool {
        self.len + n as u64 <= self.max as u64
    }

    pub(crate) fn too_long(&self) -> bool {
        self.len > self.max as u64
    }

    /// How many bytes the text has, kept or not.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Takes the bytes from `at` on out of the text (none may have been cut).
    pub(crate) fn split_off(&mut self, at: usize) -> Vec<u8> {
        let tail = self.bytes.split_off(at.min(self.bytes.len()));
        self.len -= tail.len() as u64;
        tail
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The record of a bad value (trailing whitespace is not part of it), or of a too long one.
    pub(crate) fn into_bad(mut self, line: u64, offset: u64) -> Record {
        if self.too_long() {
            self.bytes.truncate(LONG_LINE_PREFIX);
            return Record {
                text: self.bytes,
                line,
                offset,
                rejected: Some((self.len, Rejection::too_long(self.len, self.max))),
            };
        }
        let end = self
            .bytes
            .iter()
            .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        self.bytes.truncate(end.map_or(0, |i| i + 1));
        Record::bad(self.bytes, line, offset)
    }

    /// The record of a good value that is out of place (`why`): its text as read.
    pub(crate) fn into_rejected(self, why: String, line: u64, offset: u64) -> Record {
        if self.too_long() {
            return self.into_bad(line, offset);
        }
        Record::rejected(self.bytes, line, offset, why)
    }

    /// The record of a good value.
    pub(crate) fn into_event(self, v: &Value, line: u64, offset: u64) -> Record {
        match self.too_long() {
            true => self.into_bad(line, offset),
            false => Record::event(v, line, offset),
        }
    }
}

/// A header row, then one event per record; values that look like JSON numbers become numbers.
/// A row with more fields than the header names the extra ones `_4`, `_5`…; a row with fewer
/// lacks the missing keys. A row that is not UTF-8 keeps its bytes (as CSV) for its dead letter.
/// A quote left open to the end of input would take every line after it into one field:
/// that record's first line is a bad record instead, and the lines after it are read again.
/// The header row's lines and blank lines are empty records, counted as blank, so that the
/// fates add up to the lines read (as for Zeek's `#` lines).
struct CsvRecords {
    reader: csv::Reader<Kept>,
    headers: Option<Vec<String>>,
    record: csv::ByteRecord,
    delimiter: u8,
    max: usize,
    /// The line (less one) and offset where `reader`'s input starts in the whole input.
    base: (u64, u64),
    /// The first line of the whole input that no record has accounted for, and where in
    /// `reader`'s input the bytes not accounted for start.
    next_line: u64,
    rest: Rest,
    /// `next_line` and `rest` once the record just read is handed out.
    after: (u64, Rest),
    /// Lines with no record (the header's, blank ones) still to hand out, before `held`.
    blanks: std::ops::Range<u64>,
    held: Option<Record>,
    /// The input ended, and its last lines were accounted for.
    ended: bool,
}

/// Where the bytes no record accounted for start: at `at` in the reader's input, within the
/// line of the record before them (`mid`: its line end is among them) or at a line's start.
#[derive(Debug, Clone, Copy, Default)]
struct Rest {
    at: u64,
    mid: bool,
}

/// Column names as keys: an empty name becomes `_N` (its column's number) and a repeated one
/// `NAME_2`, `NAME_3`…, so that no column's value takes another's place.
pub(crate) fn unique_names(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut taken = std::collections::HashSet::new();
    // The last number each repeated name took, so that the next repeat starts past it.
    let mut last = std::collections::HashMap::new();
    for (i, name) in names.enumerate() {
        let base = if name.is_empty() { format!("_{}", i + 1) } else { name };
        let mut unique = base.clone();
        if taken.contains(&unique) {
            let n = last.entry(base.clone()).or_insert(1);
            loop {
                *n += 1;
                unique = format!("{base}_{n}");
                if !taken.contains(&unique) {
                    break;
                }
            }
        }
        taken.insert(unique.clone());
        out.push(unique);
    }
    out
}

/// The names of a row's `n` fields: the header's, then for each field past it `_N` (its
/// column's number), made unique against the header's names as they are among themselves.
pub(crate) fn row_names(headers: &[String], n: usize) -> Cow<'_, [String]> {
    if n <= headers.len() {
        return Cow::Borrowed(headers);
    }
    let extra = std::iter::repeat_n(String::new(), n - headers.len());
    Cow::Owned(unique_names(headers.iter().cloned().chain(extra)))
}

fn csv_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        kind => io::Error::new(io::ErrorKind::InvalidData, format!("{kind:?}")),
    }
}

impl Records for CsvRecords {
    fn next_record(&mut self) -> io::Result<Option<Record>> {
        if let Some(line) = self.blanks.next() {
            let offset = self.held.as_ref().map_or(0, |r| r.offset);
            return Ok(Some(Record::bad(Vec::new(), line, offset)));
        }
        if let Some(r) = self.held.take() {
            return Ok(Some(r));
        }
        let record = self.read()?;
        let upto = match &record {
            Some(r) => r.line,
            None if self.ended => return Ok(None),
            None => {
                self.ended = true;
                self.next_line + self.lines_left()
            }
        };
        self.blanks = self.next_line..upto.max(self.next_line);
        if record.is_some() {
            (self.next_line, self.rest) = self.after;
        }
        if self.blanks.is_empty() {
            return Ok(record);
        }
        self.held = record;
        self.next_record()
    }
}

impl CsvRecords {
    /// The next row as a record, past the header row and blank lines.
    fn read(&mut self) -> io::Result<Option<Record>> {
        if self.headers.is_none() {
            let names = self.reader.byte_headers().map_err(csv_error)?;
            let at = names.position().map_or(0, csv::Position::byte);
            if std::str::from_utf8(names.as_slice()).is_err() {
                let nuls = memchr::memchr_iter(0, names.as_slice()).count();
                let from = if nuls * 3 >= names.as_slice().len() {
                    "UTF-16"
                } else {
                    "latin1"
                };
                let why = format!(
                    "the header row is not valid UTF-8: convert the file first, such as with iconv -f {from} -t UTF-8"
                );
                return Err(io::Error::new(io::ErrorKind::InvalidData, why));
            }
            // A header row whose quoted names hold line ends is one line read, as a row is.
            let inner: usize = names.iter().map(|h| memchr::memchr_iter(b'\n', h).count()).sum();
            self.next_line += inner as u64;
            let tsv = self.delimiter == b'\t';
            self.headers = Some(unique_names(names.iter().map(|h| {
                let name = String::from_utf8_lossy(h);
                if tsv {
                    tsv_unescape(&name).into_owned()
                } else {
                    name.into_owned()
                }
            })));
            let end = self.reader.position().byte();
            if self
                .reader
                .get_ref()
                .rest_from(at, end)
                .is_some_and(|raw| ends_in_quotes(raw, self.delimiter))
            {
                let why = "the header row opens a quote that never closes: it would take in every line after it";
                return Err(io::Error::new(io::ErrorKind::InvalidData, why));
            }
        }
        if !self.reader.read_byte_record(&mut self.record).map_err(csv_error)? {
            return Ok(None);
        }
        let (line, at) = self.record.position().map_or((1, 0), |p| (p.line(), p.byte()));
        let (line, at) = self.reader.get_ref().past_line_ends(line, at);
        let end = self.reader.position().byte();
        if let Some(bad) = self.open_quote(line, at, end) {
            self.after = (bad.line + 1, Rest::default());
            return Ok(Some(bad));
        }
        self.after = self.after_row(self.base.0 + line, at, end);
        let (line, offset) = (self.base.0 + line, self.base.1 + at);
        let text = self.row_text(at, end);
        if text.len() > self.max {
            return Ok(Some(self.too_long(line, offset, at, end)));
        }
        let blank = text.iter().all(|b| matches!(b, b' ' | b'\t'));
        self.reader.get_mut().forget_before(at);
        if blank {
            // Only whitespace: a blank line, as in every format.
            return Ok(Some(Record::bad(Vec::new(), line, offset)));
        }
        let names = row_names(self.headers.as_deref().unwrap_or_default(), self.record.len());
        let mut m = Map::new();
        for (field, key) in self.record.iter().zip(names.iter()) {
            let Ok(field) = std::str::from_utf8(field) else {
                // A dead letter keeps the row's bytes as read.
                return Ok(Some(Record::bad(self.row_text(at, end).to_vec(), line, offset)));
            };
            let field = if self.delimiter == b'\t' {
                tsv_unescape(field)
            } else {
                Cow::Borrowed(field)
            };
            m.insert(key.clone(), crate::parse::typed(&field));
        }
        Ok(Some(Record::event(&Value::Object(m), line, offset)))
    }

    /// The text of the row from input offset `at` to `end`, without its line end.
    fn row_text(&self, at: u64, end: u64) -> &[u8] {
        let raw = self.reader.get_ref().span(at, end).unwrap_or_default();
        let text = raw.strip_suffix(b"\n").unwrap_or(raw);
        text.strip_suffix(b"\r").unwrap_or(text)
    }

    /// Where accounting goes on after the row at line `line`, from input offset `at` to `end`:
    /// at its last line's end (a quoted field may span lines).
    fn after_row(&self, line: u64, at: u64, end: u64) -> (u64, Rest) {
        let text = self.row_text(at, end);
        let inside = memchr::memchr_iter(b'\n', text).count() as u64;
        let rest = Rest {
            at: at + text.len() as u64,
            mid: true,
        };
        (line + inside + 1, rest)
    }

    /// At the end of input, the lines after the last row (the header's, blank ones).
    fn lines_left(&self) -> u64 {
        let tail = self.reader.get_ref().tail_from(self.rest.at);
        // A byte order mark alone is no line (the reader skips it before a header).
        let tail = match self.rest.at {
            0 => tail.strip_prefix(super::UTF8_BOM).unwrap_or(tail),
            _ => tail,
        };
        let mut lines = memchr::memchr_iter(b'\n', tail).count() as u64;
        if tail.last().is_some_and(|&b| b != b'\n') {
            lines += 1;
        }
        // The first line end ends the last row's line.
        lines.saturating_sub(u64::from(self.rest.mid))
    }

    /// A row (from input offset `at` to `end`, line end included) longer than
    /// `--max-line-bytes`: its first bytes, its length and its rejection.
    fn too_long(&mut self, line: u64, offset: u64, at: u64, end: u64) -> Record {
        let text = self.row_text(at, end);
        let record = Record {
            text: text[..text.len().min(LONG_LINE_PREFIX)].to_vec(),
            line,
            offset,
            rejected: Some((end.saturating_sub(at), Rejection::too_long(text.len() as u64, self.max))),
        };
        self.reader.get_mut().forget_before(end);
        record
    }

    /// When the record read from input offset `at` to `end` (its first line `line`) was a
    /// quote left open to the end of input: its first line as a bad record, with the lines
    /// after it to be read again.
    fn open_quote(&mut self, line: u64, at: u64, end: u64) -> Option<Record> {
        let raw = self.reader.get_ref().rest_from(at, end)?;
        if !ends_in_quotes(raw, self.delimiter) {
            return None;
        }
        let cut = memchr::memchr(b'\n', raw).map_or(raw.len(), |i| i + 1);
        let (first, rest) = raw.split_at(cut);
        let text = first.strip_suffix(b"\n").unwrap_or(first);
        let text = text.strip_suffix(b"\r").unwrap_or(text).to_vec();
        let why = "a quote opened in this row never closes; the lines after it are read as rows again";
        let bad = Record {
            rejected: Some((cut as u64, Rejection::new(Reason::Parse, why))),
            ..Record::bad(text, self.base.0 + line, self.base.1 + at)
        };
        let rest: Box<dyn Read + Send> = Box::new(io::Cursor::new(rest.to_vec()));
        self.reader = csv_reader(self.delimiter, true, false, rest);
        self.base = (self.base.0 + line, self.base.1 + at + cut as u64);
        Some(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(format: InputFormat, input: &[u8]) -> Vec<Record> {
        let Decoder::Records(mut r) = decoder(format, Box::new(io::Cursor::new(input.to_vec())), 1 << 20) else {
            panic!("{format:?} is decoded into records");
        };
        std::iter::from_fn(|| r.next_record().unwrap()).collect()
    }

    fn lines(format: InputFormat, input: &str) -> String {
        convert(format, input.as_bytes())
            .into_iter()
            .map(|r| String::from_utf8(r.text).unwrap() + "\n")
            .collect()
    }

    /// Repeated and empty names are numbered past every name taken, genuine ones included.
    #[test]
    fn column_names_are_made_unique() {
        let names = ["a", "a_2", "a", "", "a", "a_3", "b", "b"].map(String::from);
        assert_eq!(
            unique_names(names.into_iter()),
            ["a", "a_2", "a_3", "_4", "a_4", "a_3_2", "b", "b_2"]
        );
    }

    #[test]
    fn json_documents_and_arrays_become_lines() {
        let input = "{\n  \"a\": 1,\n  \"n\": 18446744073709551615\n}\n[{\"b\":2},{\"c\":3}] {\"d\":1.0}";
        assert_eq!(
            lines(InputFormat::Json, input),
            "{\"a\":1,\"n\":18446744073709551615}\n{\"b\":2}\n{\"c\":3}\n{\"d\":1.0}\n"
        );
    }

    #[test]
    fn repeated_and_empty_column_names_keep_every_value() {
        assert_eq!(
            lines(InputFormat::Csv, "a,a,,b,a\n1,2,3,4,5\n"),
            "\n{\"a\":1,\"a_2\":2,\"_3\":3,\"b\":4,\"a_3\":5}\n"
        );
    }

    #[test]
    fn tsv_fields_and_names_read_back_the_escapes_tsv_output_writes() {
        assert_eq!(
            lines(InputFormat::Tsv, "a\\tb\tc\nx\\ty\tl1\\nl2\\\\n\\r C:\\data\\\n"),
            "\n{\"a\\tb\":\"x\\ty\",\"c\":\"l1\\nl2\\\\n\\r C:\\\\data\\\\\"}\n",
            "the header row is a blank record; \\d is kept as written"
        );
        assert_eq!(tsv_unescape("plain"), "plain");
        assert_eq!(tsv_unescape("\\\\t"), "\\t", "an escaped backslash before t");
        assert_eq!(tsv_unescape("end\\"), "end\\");
    }

    #[test]
    fn csv_and_tsv_use_the_header_row() {
        let csv = "name,n,note\n\"Smith, J\",42,\"say \"\"hi\"\"\"\nx,007,\n";
        assert_eq!(
            lines(InputFormat::Csv, csv),
            "\n{\"name\":\"Smith, J\",\"n\":42,\"note\":\"say \\\"hi\\\"\"}\n{\"name\":\"x\",\"n\":\"007\",\"note\":\"\"}\n"
        );
        assert_eq!(
            lines(InputFormat::Tsv, "a\tb\n1\t\"q\"\n"),
            "\n{\"a\":1,\"b\":\"\\\"q\\\"\"}\n"
        );
    }

    #[test]
    fn a_quote_left_open_to_the_end_loses_only_its_line() {
        let records = convert(InputFormat::Csv, b"a,b\r\n1,\"oops\r\n2,x\r\n3,y\r\n");
        let got: Vec<(String, u64, u64)> = records
            .into_iter()
            .map(|r| (String::from_utf8(r.text).unwrap(), r.line, r.offset))
            .collect();
        // The header row is a blank record (counted as blank).
        let want = [
            ("", 1, 5),
            ("1,\"oops", 2, 5),
            ("{\"a\":2,\"b\":\"x\"}", 3, 14),
            ("{\"a\":3,\"b\":\"y\"}", 4, 19),
        ];
        let want: Vec<(String, u64, u64)> = want.iter().map(|&(t, l, o)| (t.to_string(), l, o)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn quoted_fields_that_close_are_untouched() {
        assert!(!ends_in_quotes(b"1,\"a\nb\",\"c\"\"d\"\n", b','));
        assert!(
            !ends_in_quotes(b"1,a\"b\n", b','),
            "a quote inside a field is a character"
        );
        assert!(ends_in_quotes(b"1,\"a\"\"\n2,b\n", b','));
        assert!(ends_in_quotes(b"\"", b','));
    }

    #[test]
    fn tsv_that_starts_with_a_zeek_header_is_read_as_zeek() {
        assert_eq!(
            lines(
                InputFormat::Tsv,
                "#separator \\x09\n#fields\ta\tb\n#types\tcount\tbool\n5\tT\n"
            ),
            "\n\n\n{\"a\":5,\"b\":true}\n"
        );
        assert_eq!(lines(InputFormat::Tsv, "#a\tb\n5\tT\n"), "\n{\"#a\":5,\"b\":\"T\"}\n");
    }

    #[test]
    fn a_csv_row_that_is_not_utf8_keeps_its_bytes_and_the_next_row_is_read() {
        let rs = convert(InputFormat::Csv, b"a,b\n1,2\n\"x\xff\",3\n4,5\n");
        assert_eq!(rs.len(), 4);
        assert_eq!(
            (rs[2].line, rs[2].offset, rs[2].text.as_slice()),
            (3, 8, &b"\"x\xff\",3"[..])
        );
        assert_eq!(rs[3].text, b"{\"a\":4,\"b\":5}");
        let rs = convert(InputFormat::Tsv, b"a\tb\n\"x\"y\xff\tc\r\n4\t5\n");
        assert_eq!(rs[1].text, b"\"x\"y\xff\tc", "as read, without its line end");
        assert_eq!(rs[2].text, b"{\"a\":4,\"b\":5}");
    }

    /// The header row's lines, blank lines and the lines a quoted field spans are accounted
    /// for: each line is a record (blank ones empty) or part of one, wherever it is.
    #[test]
    fn every_csv_line_is_accounted_for() {
        let blanks_and_lines = |input: &str| {
            let rs = convert(InputFormat::Csv, input.as_bytes());
            let lines: Vec<u64> = rs.iter().map(|r| r.line).collect();
            let blank = rs.iter().filter(|r| r.text.is_empty()).count();
            (blank, lines)
        };
        assert_eq!(blanks_and_lines("a,b\n1,2\n\n3,4\n"), (2, vec![1, 2, 3, 4]));
        assert_eq!(blanks_and_lines("a,b\n1,2\n\n3,4"), (2, vec![1, 2, 3, 4]));
        assert_eq!(
            blanks_and_lines("\n\na,b\r\n1,2\r\n\r\n\n"),
            (5, vec![1, 2, 3, 4, 5, 6])
        );
        assert_eq!(blanks_and_lines("a,b\n1,\"x\ny\"\n\n2,3\n"), (2, vec![1, 2, 4, 5]));
        assert_eq!(blanks_and_lines("a,b\n"), (1, vec![1]));
        assert_eq!(blanks_and_lines("a,b"), (1, vec![1]));
        assert_eq!(blanks_and_lines(""), (0, vec![]));
    }

    #[test]
    fn ragged_csv_rows_keep_every_value() {
        assert_eq!(
            lines(InputFormat::Csv, "a,b\n1\n1,2,3\n"),
            "\n{\"a\":1}\n{\"a\":1,\"b\":2,\"_3\":3}\n"
        );
    }

    #[test]
    fn records_longer_than_the_limit_are_marked() {
        let Decoder::Records(mut r) = decoder(
            InputFormat::Json,
            Box::new(io::Cursor::new(b"[1,\"abcdef\",2]".to_vec())),
            4,
        ) else {
            panic!("json is decoded into records");
        };
        let rs: Vec<Record> = std::iter::from_fn(|| r.next_record().unwrap()).collect();
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[1].rejected, Some((8, Rejection::too_long(8, 4))));
        assert_eq!(rs[1].text, b"\"abcd");
        assert_eq!(rs[2].text, b"2");
    }
}
