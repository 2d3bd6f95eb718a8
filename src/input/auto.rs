//! `-i auto`: each input's format is chosen from its first lines, after decompression. The
//! sample is the first 32 lines that are not blank, or the first 64 KiB, whichever ends first
//! (or the whole input when it is shorter), so the choice never depends on how reads were cut.
//! The sampled bytes are read again by the decoder: nothing is lost, also on stdin.
//!
//! In order, the first that fits wins: Zeek (`#separator` header); NDJSON (the first line, or
//! 80% of the lines, are JSON values, or the first line starts with `{` and the sample is not JSON
//! text) or JSON (one array on one line, or JSON text that spans lines or holds several values on
//! one line); a combined or common access log, syslog or logfmt
//! (80% of the lines parse, as the note for text fed as NDJSON decides); TSV or CSV (a header of
//! two or more names, none empty, longer than 64 bytes or starting with a space, and at least one
//! row, every row as wide); else lines.

use super::InputFormat;
use super::convert::{self, Decoder};
use super::reader::ReadConfig;
use crate::parse::TextFormat;
use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicU8, Ordering};

/// The sample's bounds.
const SAMPLE_BYTES: usize = 64 << 10;
const SAMPLE_LINES: usize = 32;
/// The share of the sampled lines that must fit a line format.
const MATCHING: f64 = 0.8;

/// What `-i auto` chose for an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detected {
    Ndjson,
    Json,
    Zeek,
    Combined,
    Common,
    Syslog,
    Logfmt,
    Tsv,
    Csv,
    Lines,
}

impl Detected {
    const ALL: [Detected; 10] = [
        Detected::Ndjson,
        Detected::Json,
        Detected::Zeek,
        Detected::Combined,
        Detected::Common,
        Detected::Syslog,
        Detected::Logfmt,
        Detected::Tsv,
        Detected::Csv,
        Detected::Lines,
    ];

    /// How the `-v` line names it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Detected::Ndjson => "NDJSON",
            Detected::Json => "JSON",
            Detected::Zeek => "Zeek TSV log",
            Detected::Combined => "combined access log",
            Detected::Common => "common access log",
            Detected::Syslog => "syslog",
            Detected::Logfmt => "logfmt",
            Detected::Tsv => "TSV",
            Detected::Csv => "CSV",
            Detected::Lines => "lines (no format recognised)",
        }
    }

    /// How the input's bytes are decoded: the text formats are read as lines, and parsed per line.
    fn input(self) -> InputFormat {
        match self {
            Detected::Ndjson => InputFormat::Ndjson,
            Detected::Json => InputFormat::Json,
            Detected::Zeek => InputFormat::Zeek,
            Detected::Tsv => InputFormat::Tsv,
            Detected::Csv => InputFormat::Csv,
            Detected::Combined | Detected::Common | Detected::Syslog | Detected::Logfmt | Detected::Lines => {
                InputFormat::Lines
            }
        }
    }

    /// The `parse` format of a text format.
    pub(crate) fn parse_name(self) -> Option<&'static str> {
        match self {
            Detected::Combined => Some("combined"),
            Detected::Common => Some("common"),
            Detected::Syslog => Some("syslog"),
            Detected::Logfmt => Some("logfmt"),
            _ => None,
        }
    }
}

/// What was chosen for each input, set by the reader before it sends the input's first
/// chunk, read by the workers per line.
#[derive(Debug, Default)]
pub(crate) struct Chosen(Box<[AtomicU8]>);

impl Chosen {
    pub(crate) fn new(inputs: usize) -> Chosen {
        Chosen((0..inputs).map(|_| AtomicU8::new(0)).collect())
    }

    fn set(&self, file: u32, d: Detected) {
        if let Some(slot) = self.0.get(file as usize) {
            slot.store(d as u8, Ordering::Relaxed);
        }
    }

    /// What input `file` is read as (NDJSON until it is chosen).
    pub(crate) fn get(&self, file: u32) -> Detected {
        let i = self.0.get(file as usize).map_or(0, |s| s.load(Ordering::Relaxed));
        Detected::ALL.get(i as usize).copied().unwrap_or(Detected::Ndjson)
    }
}

/// The decoder of input `file`: for `-i auto`, of the format its sample shows (said on stderr
/// with `-v`), else of `cfg.format`.
pub(crate) fn decoder(cfg: &ReadConfig, file: u32, name: &str, r: Box<dyn Read + Send>) -> Decoder {
    if cfg.format != InputFormat::Auto {
        return convert::decoder(cfg.format, r, cfg.max_line_bytes);
    }
    let (sample, complete, r) = sample(r);
    let d = detect(&sample, complete);
    cfg.chosen.set(file, d);
    if cfg.verbose {
        crate::messages::note(format!(
            "{}: read as {} (-i auto)",
            crate::messages::shown(name),
            d.describe()
        ));
    }
    convert::decoder(d.input(), r, cfg.max_line_bytes)
}

/// The first bytes of `r` (at least the first `SAMPLE_LINES` lines that are not blank, when it has
/// them within `SAMPLE_BYTES`), whether they are all of it, and a reader of all of `r` again. A read
/// error ends the sample and comes back from the reader after the sample.
fn sample(mut r: Box<dyn Read + Send>) -> (Vec<u8>, bool, Box<dyn Read + Send>) {
    let mut buf = vec![0; SAMPLE_BYTES];
    let mut len = 0;
    let mut failed = None;
    let mut eof = false;
    while len < SAMPLE_BYTES && lines_in(&buf[..len]) < SAMPLE_LINES {
        match r.read(&mut buf[len..]) {
            Ok(0) => {
                eof = true;
                break;
            }
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                failed = Some(e);
                eof = true;
                break;
            }
        }
    }
    buf.truncate(len);
    let again: Box<dyn Read + Send> = match failed {
        Some(e) => Box::new(Cursor::new(buf.clone()).chain(Failed(Some(e)))),
        None => Box::new(Cursor::new(buf.clone()).chain(r)),
    };
    (buf, eof, again)
}

/// A reader whose first read fails with the error the sample met.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// The complete lines of `bytes` that are not blank.
fn lines_in(bytes: &[u8]) -> usize {
    let end = memchr::memrchr(b'\n', bytes).map_or(0, |i| i + 1);
    bytes[..end]
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count()
}

/// The format of an input that starts with `sample`; `eof` when the sample is the whole input.
pub(crate) fn detect(sample: &[u8], eof: bool) -> Detected {
    let sample = sample.strip_prefix(super::UTF8_BOM).unwrap_or(sample);
    if sample.starts_with(b"#separator ") {
        return Detected::Zeek;
    }
    let (whole, complete) = whole_lines(sample, eof);
    let text = String::from_utf8_lossy(whole);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return Detected::Ndjson;
    }
    json(whole, &lines, complete)
        .or_else(|| text_format(&lines))
        .or_else(|| delimited(whole, cut_row(sample, whole), b'\t').then_some(Detected::Tsv))
        .or_else(|| delimited(whole, cut_row(sample, whole), b',').then_some(Detected::Csv))
        .unwrap_or(Detected::Lines)
}

/// The part of the sample that is looked at: up to the end of its `SAMPLE_LINES`th line that is not
/// blank, else its whole lines (all of it at the end of the input, or when it holds no line end), and
/// whether that is the whole input. However reads were cut, this is the same part.
fn whole_lines(sample: &[u8], eof: bool) -> (&[u8], bool) {
    let (mut start, mut seen) = (0, 0);
    for nl in memchr::memchr_iter(b'\n', sample) {
        if !sample[start..nl].iter().all(u8::is_ascii_whitespace) {
            seen += 1;
            if seen == SAMPLE_LINES {
                return (&sample[..=nl], false);
            }
        }
        start = nl + 1;
    }
    match (eof, start) {
        (true, _) => (sample, true),
        (false, 0) => (sample, false),
        (false, _) => (&sample[..start], false),
    }
}

/// The start of the line the sample's end cut off, if the sample ends within the line after
/// `whole`.
fn cut_row<'s>(sample: &'s [u8], whole: &[u8]) -> Option<&'s [u8]> {
    let rest = &sample[whole.len()..];
    (!rest.is_empty() && memchr::memchr(b'\n', rest).is_none()).then_some(rest)
}

/// NDJSON or JSON, when the sample starts like JSON and reads as it.
fn json(sample: &[u8], lines: &[&str], complete: bool) -> Option<Detected> {
    let first = lines.first()?.trim_start();
    if !first.starts_with(['{', '[']) {
        return None;
    }
    let is_json = |l: &str| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok();
    if is_json(first) {
        // One array on one line is a top-level array: one event per element.
        let one_array = lines.len() == 1 && first.starts_with('[');
        return Some(if one_array { Detected::Json } else { Detected::Ndjson });
    }
    // An object on one line longer than the sample is an NDJSON line (an array is JSON text).
    if !complete && first.starts_with('{') && memchr::memchr(b'\n', sample).is_none() {
        return Some(Detected::Ndjson);
    }
    if json_text(sample, complete) {
        return Some(Detected::Json);
    }
    // A text line rarely starts with `{`: broken JSON lines are dead letters, not lines that
    // no filter would ever match.
    let good = lines.iter().filter(|l| is_json(l)).count();
    (first.starts_with('{') || good as f64 >= MATCHING * lines.len() as f64).then_some(Detected::Ndjson)
}

/// Whether `sample` is JSON values one after another (the last may be cut by the sample's end).
fn json_text(sample: &[u8], complete: bool) -> bool {
    let mut values = serde_json::Deserializer::from_slice(sample).into_iter::<serde::de::IgnoredAny>();
    let mut any = false;
    loop {
        match values.next() {
            None => return any,
            Some(Ok(_)) => any = true,
            Some(Err(e)) => return e.is_eof() && !complete,
        }
    }
}

/// The line format most of `lines` match.
fn text_format(lines: &[&str]) -> Option<Detected> {
    let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    crate::sniff::recognise_format(&lines).map(|f| match f {
        TextFormat::Combined => Detected::Combined,
        TextFormat::Common => Detected::Common,
        TextFormat::Syslog { .. } => Detected::Syslog,
        _ => Detected::Logfmt,
    })
}

/// Whether `whole` reads as a header of two or more names and rows as wide, split by `delimiter`
/// (with CSV quoting for commas). The start of a row longer than the sample (`cut`) counts as a
/// row when it holds two or more fields, no more than the header.
fn delimited(whole: &[u8], cut: Option<&[u8]>, delimiter: u8) -> bool {
    let reader_of = |bytes| {
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .quoting(delimiter == b',')
            .flexible(true)
            .has_headers(false)
            .from_reader(bytes)
    };
    let mut reader = reader_of(whole);
    let mut records = reader.byte_records();
    let Some(Ok(header)) = records.next() else {
        return false;
    };
    let width = header.len();
    // Names, not prose: `Hello, world` is not a header.
    let named = header
        .iter()
        .all(|h| !h.trim_ascii().is_empty() && h.len() <= 64 && !h[0].is_ascii_whitespace());
    let mut rows = 0;
    for r in records {
        match r {
            Ok(r) if r.len() == width => rows += 1,
            _ => return false,
        }
    }
    // A row longer than the sample: its fields so far must fit the header, and be two or more.
    if let Some(cut) = cut
        && let Some(Ok(r)) = reader_of(cut).byte_records().next()
        && (2..=width).contains(&r.len())
    {
        rows += 1;
    }
    width >= 2 && named && rows >= 1
}

#[cfg(test)]
mod tests;
