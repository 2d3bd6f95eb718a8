//! `-i json`: any JSON text (pretty-printed documents, concatenated values, a top-level
//! array) cut into records without holding more than one record in memory. A record that is
//! not valid JSON keeps its raw text, so it becomes a dead letter at its own line, and
//! decoding resumes after it: after its closing bracket when its brackets balance, else at the
//! next line that starts a value at most as indented as the bad one did (inside a top-level
//! array, the next element or the array's `]`). A top-level array's commas are checked as
//! JSON has them: a comma with no element before it or after it (`[,1]`, `[1,,2]`, `[1,]`) is
//! a dead letter of its own, and an element with no comma before it (`[1 2]`) is one too.

use super::convert::{Capped, Record, Records};
use std::io::{self, BufRead, BufReader, ErrorKind, Read};

/// How many line starts a scan notes for [`Memo`] (32 bytes each); past them, it notes none,
/// and a record that would end past them is scanned again (noting the next as many).
const MAX_NOTED_STARTS: usize = 1 << 16;

#[derive(Debug, Clone, Copy, Default)]
struct Pos {
    line: u64,
    col: u64,
    offset: u64,
}

pub(crate) struct JsonRecords<R> {
    r: BufReader<R>,
    pos: Pos,
    max: usize,
    /// Where the open top-level array's `[` is.
    array: Option<Pos>,
    /// What the open array takes next, and where its last comma is.
    next: Next,
    comma: Pos,
    started: bool,
    /// Bytes taken back after a broken record, read again before `r`.
    pending: Vec<u8>,
    pending_at: usize,
    /// What the scan that broke before them learnt about the bytes taken back.
    memo: Option<Memo>,
    /// Whether to use [`Memo`]s (tests read without them to compare).
    memoize: bool,
}

/// What a broken value's scan learnt about the text after its first restart line, which is
/// read again. The scan from a bracket that was still open where it broke breaks at the same
/// byte (inside the text, strings and brackets read alike from any line start), so the record
/// from there ends at its own next restart line, found here without reading the text again.
/// Damaged input with many unclosed lines is read in linear time, not quadratic.
struct Memo {
    /// Offsets of the line-starting brackets still open where the scan broke, ascending.
    open: Vec<u64>,
    /// Each line's first byte that may start or end a record (`{`, `[`, `]`), with its place;
    /// the first [`MAX_NOTED_STARTS`] of them.
    starts: Vec<(Pos, u8)>,
    /// The offset of the byte after the scanned text.
    end: u64,
}

/// What a top-level array takes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Past its `[`: an element or its `]`.
    First,
    /// Past a comma: an element.
    Element,
    /// Past an element: a comma or the `]`.
    Separator,
    /// Past a broken element, whose end is a guess: any of them.
    Any,
}

/// The scanner's state inside an object, array or string.
struct Brackets {
    /// The closing bracket each open one needs, innermost last.
    closers: Vec<u8>,
    /// Open brackets past the kept text, only counted (the record is too long anyway).
    unchecked: usize,
    in_str: bool,
    escaped: bool,
    /// The next byte that is not whitespace is the first of its line.
    line_start: bool,
    /// The value's column, and whether it is an element of the top-level array.
    col: u64,
    in_array: bool,
    /// Where in the text the first line that [`restarts`] begins.
    restart: Option<(usize, Pos)>,
    /// For [`Memo`]: the first line starts seen, the offsets (and depths) of the line-starting
    /// brackets among them still open, and whether the notes stopped.
    starts: Vec<(Pos, u8)>,
    open_starts: Vec<(u64, usize)>,
    notes_stopped: bool,
}

enum Step {
    Go,
    /// The value ended, with this byte (`take`) or before it.
    Stop {
        take: bool,
        extent: Extent,
    },
}

impl Brackets {
    /// Reads byte `b`, at `pos` and at index `at` of the text (if the text keeps it).
    fn step(&mut self, b: u8, pos: Pos, at: Option<usize>) -> Step {
        if self.line_start && !is_ws(b) {
            self.line_start = false;
            if self.restart.is_none() && restarts(b, pos.col, self.col, self.in_array) {
                self.restart = at.map(|i| (i, pos));
            }
            self.note_start(b, pos);
        }
        self.line_start |= b == b'\n' && !self.in_str;
        let broken = Step::Stop {
            take: true,
            extent: Extent::Broken,
        };
        if self.in_str {
            if b == b'\n' {
                return Step::Stop {
                    take: false,
                    extent: Extent::Broken,
                };
            }
            (self.in_str, self.escaped) = (self.escaped || b != b'"', !self.escaped && b == b'\\');
        } else {
            match b {
                b'"' => self.in_str = true,
                b'{' | b'[' if at.is_some() => {
                    self.closers.push(if b == b'{' { b'}' } else { b']' });
                }
                b'{' | b'[' => self.unchecked += 1,
                b'}' | b']' if self.unchecked > 0 => self.unchecked -= 1,
                b'}' | b']' if self.closers.pop() != Some(b) => return broken,
                b'}' | b']' => {
                    let depth = self.closers.len();
                    while self.open_starts.last().is_some_and(|&(_, d)| d >= depth) {
                        self.open_starts.pop();
                    }
                }
                _ => {}
            }
        }
        match !self.in_str && self.closers.is_empty() && self.unchecked == 0 {
            true => Step::Stop {
                take: true,
                extent: Extent::Whole { scalar: false },
            },
            false => Step::Go,
        }
    }
}

impl Brackets {
    /// The scan that ended with `extent` before offset `end`; if the value broke, with what
    /// the scan learnt.
    fn scan(self, extent: Extent, end: u64) -> Scan {
        Scan {
            restart: self.restart,
            memo: matches!(extent, Extent::Broken).then(|| Memo {
                open: self.open_starts.into_iter().map(|(offset, _)| offset).collect(),
                starts: self.starts,
                end,
            }),
            extent,
        }
    }

    /// Notes a line's first byte `b` for [`Memo`], if it may start or end a record.
    fn note_start(&mut self, b: u8, pos: Pos) {
        self.notes_stopped |= self.starts.len() == MAX_NOTED_STARTS || self.unchecked > 0;
        if !matches!(b, b'{' | b'[' | b']') || self.notes_stopped {
            return;
        }
        self.starts.push((pos, b));
        if b != b']' {
            self.open_starts.push((pos.offset, self.closers.len()));
        }
    }
}

/// The reader's buffered bytes, reading more when there are none; empty at the end.
fn fill<R: Read>(r: &mut BufReader<R>) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => return r.fill_buf(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl Pos {
    fn advance(&mut self, b: u8) {
        self.offset += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 0;
        } else {
            self.col += 1;
        }
    }
}

/// A value's text as scanned: how it ended, where in it the first line that [`restarts`]
/// begins, and what the scan learnt if the value broke.
struct Scan {
    extent: Extent,
    restart: Option<(usize, Pos)>,
    memo: Option<Memo>,
}

impl Scan {
    fn ended(extent: Extent) -> Scan {
        Scan {
            extent,
            restart: None,
            memo: None,
        }
    }
}

/// How a value's text ended.
enum Extent {
    /// Its brackets and quotes balance (or it is a scalar).
    Whole { scalar: bool },
    /// A raw newline in a string, a mismatched bracket, stray punctuation, or the end of input.
    Broken,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn ends_scalar(b: u8) -> bool {
    is_ws(b) || matches!(b, b',' | b']' | b'}' | b'[' | b'{' | b'"' | b':')
}

/// Whether a line's first byte `b`, at column `col`, starts a record after one that started at
/// column `start`: an object or array at most as indented, or (`in_array`) the array's end.
fn restarts(b: u8, col: u64, start: u64, in_array: bool) -> bool {
    col <= start && (matches!(b, b'{' | b'[') || (in_array && b == b']'))
}

impl<R: Read + Send> Records for JsonRecords<R> {
    fn next_record(&mut self) -> io::Result<Option<Record>> {
        if !self.started {
            self.started = true;
            if let Some(bad) = self.skip_bom()? {
                return Ok(Some(bad));
            }
        }
        loop {
            while self.peek()?.is_some_and(is_ws) {
                self.bump()?;
            }
            let Some(b) = self.peek()? else {
                // An array never closed: its `[` is a dead letter ("EOF while parsing a list").
                return Ok(self
                    .array
                    .take()
                    .map(|at| Record::bad(b"[".to_vec(), at.line, at.offset)));
            };
            let at = self.pos;
            match (b, self.array.is_some(), self.next) {
                (b',', true, Next::Separator | Next::Any) => {
                    (self.comma, self.next) = (at, Next::Element);
                    self.bump()?;
                }
                (b',', true, _) => {
                    self.bump()?;
                    let why = "expected an array element before ','".to_string();
                    return Ok(Some(Record::rejected(b",".to_vec(), at.line, at.offset, why)));
                }
                (b']', true, next) => {
                    self.bump()?;
                    self.array = None;
                    if next == Next::Element {
                        let (c, why) = (self.comma, "trailing comma before the array's ']'".to_string());
                        return Ok(Some(Record::rejected(b",".to_vec(), c.line, c.offset, why)));
                    }
                }
                (b'[', false, _) => {
                    (self.array, self.next) = (Some(at), Next::First);
                    self.bump()?;
                }
                (_, in_array, next) => {
                    let (record, good) = self.value(in_array && next == Next::Separator)?;
                    self.next = if good { Next::Separator } else { Next::Any };
                    return Ok(Some(record));
                }
            }
        }
    }

    fn buffered(&self) -> bool {
        self.pending_at < self.pending.len() || !self.r.buffer().is_empty()
    }
}

impl<R: Read> JsonRecords<R> {
    pub(crate) fn new(r: BufReader<R>, max: usize) -> Self {
        JsonRecords {
            r,
            pos: Pos {
                line: 1,
                ..Pos::default()
            },
            max,
            array: None,
            next: Next::First,
            comma: Pos::default(),
            started: false,
            pending: Vec::new(),
            pending_at: 0,
            memo: None,
            memoize: true,
        }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        if let Some(&b) = self.pending.get(self.pending_at) {
            return Ok(Some(b));
        }
        Ok(fill(&mut self.r)?.first().copied())
    }

    /// Consumes the next byte (there is one: it was peeked) and returns it.
    fn bump(&mut self) -> io::Result<()> {
        if let Some(b) = self.peek()? {
            if self.pending_at < self.pending.len() {
                self.pending_at += 1;
            } else {
                self.r.consume(1);
            }
            self.pos.advance(b);
        }
        Ok(())
    }

    fn take(&mut self, b: u8, text: &mut Capped) -> io::Result<()> {
        text.push(b);
        self.bump()
    }

    /// Skips a UTF-8 BOM; the first bytes of a partial one are a record of their own.
    fn skip_bom(&mut self) -> io::Result<Option<Record>> {
        let mut seen = Vec::new();
        for want in [0xEF, 0xBB, 0xBF] {
            if self.peek()? != Some(want) {
                break;
            }
            seen.push(want);
            self.bump()?;
        }
        Ok(match seen.len() {
            0 | 3 => None,
            _ => Some(Record::bad(seen, 1, 0)),
        })
    }

    /// The record starting at the next byte, which is not whitespace, and whether it is a
    /// whole value. `no_comma`: it is an array element with no comma before it.
    fn value(&mut self, no_comma: bool) -> io::Result<(Record, bool)> {
        let start = self.pos;
        let mut text = Capped::new(self.max);
        if let Some((len, restart)) = self.known_break() {
            let end = self.pending_at + len;
            text.extend(&self.pending[self.pending_at..end]);
            (self.pending_at, self.pos) = (end, restart);
            return Ok((text.into_bad(start.line, start.offset), false));
        }
        let Scan { extent, restart, memo } = self.extent(&mut text, start.col)?;
        match extent {
            Extent::Whole { .. } if text.too_long() => {}
            Extent::Whole { .. } if no_comma => {
                let why = "expected ',' or ']' before this array element".to_string();
                return Ok((text.into_rejected(why, start.line, start.offset), true));
            }
            // Numbers keep their text (`1E5` stays `1E5`).
            Extent::Whole { scalar } => match std::str::from_utf8(text.bytes()).ok().map(crate::json::tree) {
                Some(Ok(v)) => return Ok((text.into_event(&v, start.line, start.offset), true)),
                // Junk between top-level values: the rest of its line goes with it.
                _ if scalar && self.array.is_none() => self.resync(start.col, &mut text)?,
                _ => {}
            },
            Extent::Broken => match restart.filter(|_| !text.too_long()) {
                // A record starts inside the broken one's text: read again from there.
                Some((at, pos)) => {
                    self.take_back(text.split_off(at), pos);
                    self.memo = memo.filter(|_| self.memoize);
                }
                None => self.resync(start.col, &mut text)?,
            },
        }
        Ok((text.into_bad(start.line, start.offset), false))
    }

    /// Reads `bytes` again, before the rest of the input, from position `pos`.
    fn take_back(&mut self, mut bytes: Vec<u8>, pos: Pos) {
        bytes.extend_from_slice(&self.pending[self.pending_at..]);
        (self.pending, self.pending_at, self.pos) = (bytes, 0, pos);
    }

    /// When the record at the next byte is known (from [`Memo`]) to break where the scan
    /// before it did: its length, and the place of the line it ends before.
    fn known_break(&self) -> Option<(usize, Pos)> {
        let memo = self.memo.as_ref()?;
        let at = self.pos.offset;
        if at >= memo.end || memo.end - at > self.max as u64 || memo.open.binary_search(&at).is_err() {
            return None;
        }
        let in_array = self.array.is_some();
        let later = memo.starts.partition_point(|(pos, _)| pos.offset <= at);
        let &(restart, _) = memo.starts[later..]
            .iter()
            .find(|&&(pos, b)| restarts(b, pos.col, self.pos.col, in_array))?;
        let len = usize::try_from(restart.offset - at).ok()?;
        (self.pending.len() - self.pending_at >= len).then_some((len, restart))
    }

    /// Takes one value's text: a scalar up to its delimiter, else up to its closing bracket or
    /// quote. Also returns where in the text the first line that [`restarts`] begins, if any,
    /// and, if the value broke, what its scan learnt about the text after that line.
    fn extent(&mut self, text: &mut Capped, col: u64) -> io::Result<Scan> {
        let Some(first) = self.peek()? else {
            return Ok(Scan::ended(Extent::Broken));
        };
        if matches!(first, b']' | b'}' | b',' | b':') {
            self.take(first, text)?;
            return Ok(Scan::ended(Extent::Broken));
        }
        if !matches!(first, b'{' | b'[' | b'"') {
            while let Some(b) = self.peek()?.filter(|&b| !ends_scalar(b)) {
                self.take(b, text)?;
            }
            return Ok(Scan::ended(Extent::Whole { scalar: true }));
        }
        let mut st = Brackets {
            closers: Vec::new(),
            unchecked: 0,
            in_str: false,
            escaped: false,
            line_start: false,
            col,
            in_array: self.array.is_some(),
            restart: None,
            starts: Vec::new(),
            open_starts: Vec::new(),
            notes_stopped: false,
        };
        loop {
            let mut pos = self.pos;
            let (n, stop) = {
                let buf = match self.pending.get(self.pending_at..).filter(|p| !p.is_empty()) {
                    Some(p) => p,
                    None => fill(&mut self.r)?,
                };
                if buf.is_empty() {
                    return Ok(st.scan(Extent::Broken, self.pos.offset));
                }
                let mut n = 0;
                let mut stop = None;
                for &b in buf {
                    let at = text.keeps(n).then_some(text.bytes().len() + n);
                    if let Step::Stop { take, extent } = st.step(b, pos, at) {
                        if take {
                            n += 1;
                            pos.advance(b);
                        }
                        stop = Some(extent);
                        break;
                    }
                    n += 1;
                    pos.advance(b);
                }
                text.extend(&buf[..n]);
                (n, stop)
            };
            if self.pending_at < self.pending.len() {
                self.pending_at += n;
            } else {
                self.r.consume(n);
            }
            self.pos = pos;
            if let Some(extent) = stop {
                return Ok(st.scan(extent, pos.offset));
            }
        }
    }

    /// After a broken value: takes the rest of its line, then every line up to the next one that
    /// starts a value at most as indented as the broken one (or closes the open top-level array).
    fn resync(&mut self, col: u64, text: &mut Capped) -> io::Result<()> {
        while let Some(b) = self.peek()? {
            self.take(b, text)?;
            if b == b'\n' {
                break;
            }
        }
        loop {
            let mut indent = Vec::new();
            while let Some(b) = self.peek()?.filter(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
                indent.push(b);
                self.bump()?;
            }
            let Some(b) = self.peek()? else {
                return Ok(());
            };
            if restarts(b, self.pos.col, col, self.array.is_some()) {
                return Ok(());
            }
            for b in indent {
                text.push(b);
            }
            while let Some(b) = self.peek()? {
                self.take(b, text)?;
                if b == b'\n' {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record as (line, offset, text, bad).
    fn records(input: &str) -> Vec<(u64, u64, String, bool)> {
        let mut r = JsonRecords::new(BufReader::with_capacity(7, input.as_bytes()), 1 << 20);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            let bad = rec.rejected.is_some() || serde_json::from_slice::<serde_json::Value>(&rec.text).is_err();
            out.push((rec.line, rec.offset, String::from_utf8(rec.text).unwrap(), bad));
        }
        out
    }

    fn texts(input: &str) -> Vec<String> {
        records(input).into_iter().map(|r| r.2).collect()
    }

    #[test]
    fn documents_and_array_elements_become_records_at_their_lines() {
        let input = "{\n  \"a\": 1\n}\n[{\"b\":2},\n {\"c\":[3]}]\n\"s\" 4";
        assert_eq!(
            records(input),
            [
                (1, 0, "{\"a\":1}".into(), false),
                (4, 14, "{\"b\":2}".into(), false),
                (5, 24, "{\"c\":[3]}".into(), false),
                (6, 35, "\"s\"".into(), false),
                (6, 39, "4".into(), false),
            ]
        );
    }

    #[test]
    fn a_bad_pretty_document_is_one_record_and_the_next_is_kept() {
        let input = "{\"a\":1}\n{\n  \"b\": \"open\n  \"c\": 2\n}\n{\"d\":3}\n";
        let rs = records(input);
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[1], (2, 8, "{\n  \"b\": \"open\n  \"c\": 2\n}".into(), true));
        assert_eq!(rs[2].2, "{\"d\":3}");
    }

    #[test]
    fn a_balanced_bad_element_is_skipped_alone() {
        assert_eq!(
            texts("[{\"a\":1},{\"b\":oops},{\"c\":3}]"),
            ["{\"a\":1}", "{\"b\":oops}", "{\"c\":3}"]
        );
    }

    #[test]
    fn a_broken_element_resumes_at_the_next_element_line() {
        let input = "[\n  {\"a\": \"x},\n  {\"b\": 2}\n]\n{\"c\":3}";
        assert_eq!(texts(input), ["{\"a\": \"x},", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn junk_lines_go_with_the_bad_record_before_them() {
        assert_eq!(
            texts("{\"a\":1}\nnot json\n}\n{\"b\":2}"),
            ["{\"a\":1}", "not json\n}", "{\"b\":2}"]
        );
    }

    #[test]
    fn an_unclosed_document_ends_where_the_next_one_starts() {
        let input = "{\"a\":1}\n{\"b\":\n{\"c\":3}\n{\n  \"d\": [\n    {\"e\": 4}\n  ]\n}\n";
        let rs = records(input);
        let got: Vec<(u64, &str, bool)> = rs.iter().map(|r| (r.0, r.2.as_str(), r.3)).collect();
        assert_eq!(
            got,
            [
                (1, "{\"a\":1}", false),
                (2, "{\"b\":", true),
                (3, "{\"c\":3}", false),
                (4, "{\"d\":[{\"e\":4}]}", false),
            ]
        );
    }

    #[test]
    fn truncated_values_and_unclosed_arrays_are_bad_records() {
        let rs = records("{\"a\":1}\n{\"b\":");
        assert_eq!((rs[1].0, rs[1].2.as_str(), rs[1].3), (2, "{\"b\":", true));
        let rs = records("[\n{\"a\":1},\n{\"b\":2}");
        assert_eq!(rs.len(), 3);
        assert_eq!((rs[2].0, rs[2].1, rs[2].2.as_str(), rs[2].3), (1, 0, "[", true));
        let rs = records("[{\"a\":1},{\"b\"");
        assert_eq!(texts("[{\"a\":1},{\"b\""), ["{\"a\":1}", "{\"b\"", "["]);
        assert!(rs[1].3 && rs[2].3);
    }

    /// Python's `json` rejects every one of these arrays; each stray or missing comma is a
    /// dead letter of its own, and the elements around it are kept.
    #[test]
    fn an_arrays_commas_are_checked() {
        let bad = |input: &str| -> Vec<(String, bool)> {
            records(input)
                .into_iter()
                .map(|(_, _, text, bad)| (text, bad))
                .collect()
        };
        let good = |t: &str| (t.to_string(), false);
        let stray = |t: &str| (t.to_string(), true);
        assert_eq!(bad("[1,,2]"), [good("1"), stray(","), good("2")]);
        assert_eq!(bad("[,1]"), [stray(","), good("1")]);
        assert_eq!(bad("[1,]"), [good("1"), stray(",")]);
        assert_eq!(bad("[1 2]"), [good("1"), stray("2")]);
        assert_eq!(bad("[{\"a\":1}{\"b\":2}]"), [good("{\"a\":1}"), stray("{\"b\":2}")]);
        assert_eq!(bad("[1,2] [3]"), [good("1"), good("2"), good("3")]);
        assert_eq!(bad("[]"), []);
        // After a bad element, the comma after it is taken as usual.
        assert_eq!(bad("[{\"a\" 1},{\"b\":2}]"), [stray("{\"a\" 1}"), good("{\"b\":2}")]);
    }

    /// Each record as (line, offset, text, bad), read with or without [`Memo`]s.
    fn records_memoized(input: &[u8], max: usize, memoize: bool) -> Vec<(u64, u64, Vec<u8>, bool)> {
        let mut r = JsonRecords::new(BufReader::with_capacity(5, input), max);
        r.memoize = memoize;
        std::iter::from_fn(|| r.next_record().unwrap())
            .map(|rec| (rec.line, rec.offset, rec.text, rec.rejected.is_some()))
            .collect()
    }

    #[test]
    fn unclosed_lines_are_each_a_record_at_its_line() {
        let input = "{\"a\":1\n".repeat(20_000);
        let mut r = JsonRecords::new(BufReader::new(input.as_bytes()), 1 << 26);
        let mut n = 0;
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!((rec.line, rec.offset, &rec.text[..]), (n + 1, 7 * n, &b"{\"a\":1"[..]));
            n += 1;
        }
        assert_eq!(n, 20_000);
        assert!(r.memo.is_some(), "the records after the first were read from its memo");
    }

    #[test]
    fn a_bom_is_skipped_and_counted_in_offsets() {
        assert_eq!(records("\u{feff}{\"a\":1}"), [(1, 3, "{\"a\":1}".into(), false)]);
    }

    #[test]
    fn deep_nesting_ends_without_a_deep_stack() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let rs = records(&format!("{{\"x\":{deep}}}\n{{\"a\":1}}"));
        assert_eq!(rs.len(), 2);
        assert!(rs[0].3);
        assert_eq!(rs[1].2, "{\"a\":1}");
    }

    proptest::proptest! {
            /// Any bytes: decoding ends, every good record is one JSON line, and every bad one is
            /// text that does not parse (so the engine dead-letters it) and is not blank.
            #[test]
            fn any_bytes_become_records_that_are_events_or_dead_letters(
                input in proptest::collection::vec(proptest::sample::select(b"{}[]\"\\,: \n\tax1\xff".to_vec()), 0..200),
            ) {
                let mut r = JsonRecords::new(BufReader::with_capacity(5, &input[..]), 64);
                let mut last = (1, 0);
                while let Some(rec) = r.next_record().unwrap() {
                    let parsed = serde_json::from_slice::<serde_json::Value>(&rec.text);
                    if rec.rejected.is_none() && parsed.is_ok() {
                        proptest::prop_assert!(!rec.text.contains(&b'\n'));
                    } else {
                        proptest::prop_assert!(rec.text.iter().any(|b| !b" \t\r\n".contains(b)));
                    }
                    proptest::prop_assert!(rec.offset as usize <= input.len());
                    proptest::prop_assert!(rec.line >= 1);
                    last = (rec.line, rec.offset);
                }
                let _ = last;
            }

            /// Reading the text a broken value's scan took back from what that scan learnt
            /// gives the records reading it again gives.
            #[test]
            fn memos_give_the_records_a_second_scan_gives(
                lines in proptest::collection::vec(
                    (
                        0..3usize,
                        proptest::sample::select(vec!["{", "{", "[", "]", "}", "", "\"a\":", "{}"]),
                        proptest::sample::select(vec!["", "", "", "", "1,", "]", "}", "\""]),
                    ),
                    0..60,
                ),
                max in proptest::sample::select(vec![40, 1 << 20]),
            ) {
                let input: String = lines.iter().map(|(indent, first, rest)| format!("{:indent$}{first}{rest}\n", "")).collect();
                let input = input.into_bytes();
                proptest::prop_assert_eq!(records_memoized(&input, max, true), records_memoized(&input, max, false));
            }

            /// Valid JSON, pretty or compact, alone or in a top-level array, comes out value for value.
            #[test]
            fn valid_values_come_out_unchanged(
                strings in proptest::collection::vec("[\\[\\]{}\"\\\\,: a\n]{0,8}", 0..6),
                pretty in proptest::bool::ANY,
                in_array in proptest::bool::ANY,
            ) {
                let values: Vec<serde_json::Value> = strings
                    .iter()
                    .enumerate()
                    .map(|(i, s)| serde_json::json!({"s": s, "n": [i, {"t": s}], "e": {}}))
                    .collect();
                let show = |v: &serde_json::Value| if pretty { serde_json::to_string_pretty(v) } else { serde_json::to_string(v) };
                let text = if in_array {
                    show(&serde_json::Value::Array(values.clone())).unwrap()
                } else {
                    values.iter().map(|v| show(v).unwrap()).collect::<Vec<_>>().join("\n")
                };
                let mut r = JsonRecords::new(BufReader::with_capacity(3, text.as_bytes()), 1 << 20);
                let got: Vec<serde_json::Value> = std::iter::from_fn(|| r.next_record().unwrap())
                    .map(|rec| serde_json::from_slice(&rec.text).unwrap())
                    .collect();
                proptest::prop_assert_eq!(got, values);
            }
    }
}
