//! `--merge`: reads several inputs that are each ordered by event time and
//! interleaves their lines in time order (a k-way merge holding one line per
//! input), as lnav and hl do for rotated or per-host logs.
//!
//! A line's time is its JSON event time (`--time-field`, or the first of ts, time,
//! timestamp, @timestamp) or, for text, a timestamp at its start (RFC 3339, syslog's
//! `Mmm dd hh:mm:ss`, either after a syslog `<PRI>` and RFC 5424's version), the value of
//! one of those keys in a logfmt line (`ts=…`), or a bracketed Common Log Format time. A
//! line without one keeps the time of the line before it, so continuation lines stay in
//! place; ties go to the input named first. An input none of whose lines has a time is
//! named in a warning: its lines cannot be put in time order.

use super::convert::{Decoder, Records};
use super::reader::{Chunk, ChunkKind, LONG_LINE_PREFIX, ReadConfig};
use super::{Input, InputError, decompress};
use crate::event::TimeField;
use crate::event::{Event, Needs, Origin, Rejection};
use crate::lang::Env;
use crate::parse::Year;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// An input's lines, or its records (`-i json`, `csv`, `tsv`).
enum Feed {
    Lines(BufReader<Box<dyn Read + Send>>),
    Records(Box<dyn Records>),
}

struct Source {
    feed: Feed,
    line: u64,
    offset: u64,
    time: f64,
    year: Year,
    /// The input's time went back once already (and a warning said so).
    went_back: bool,
    /// A line of the input had a time.
    timed: bool,
    /// The read error that cut the input's last line short, sent after that line.
    failed: Option<InputError>,
}

impl Source {
    /// Takes the time of line `line` of input `name`. The first time an input's time goes
    /// back, a warning says so: the merge assumes each input is in time order, and its
    /// output is out of order from there.
    fn take_time(&mut self, t: f64, name: &str, line: u64, warnings: &Warnings) {
        if t < self.time && !self.went_back {
            self.went_back = true;
            warnings.say(format_args!(
                "{}:{line}: time goes back here; --merge needs each input in time order, \
                 so its output is out of order from this line (sort the input first)",
                crate::messages::shown(name)
            ));
        }
        self.time = t;
        self.timed = true;
    }

    /// At the input's end: a warning when it had lines but none had a time, so they were
    /// merged as they came, before every timed line of the other inputs.
    fn end(&self, name: &str, warnings: &Warnings) {
        if !self.timed && self.line > 1 {
            warnings.say(format_args!(
                "{}: no line has a time --merge can read (a JSON time field, or a time at the \
                 line's start, in a logfmt ts= or in brackets), so its lines were not put in time order",
                crate::messages::shown(name)
            ));
        }
    }
}

/// The most warnings about single inputs a merge prints; past them one line counts the rest.
const MAX_WARNINGS: u64 = 10;

/// The merge's warnings about single inputs, of which the first [`MAX_WARNINGS`] are said.
#[derive(Default)]
struct Warnings(std::cell::Cell<u64>);

impl Warnings {
    fn say(&self, message: std::fmt::Arguments) {
        let n = self.0.get() + 1;
        self.0.set(n);
        if n <= MAX_WARNINGS {
            crate::messages::warning(message);
        }
    }

    /// One line for the warnings not said, if any.
    fn end(&self) {
        if let Some(more) = self.0.get().checked_sub(MAX_WARNINGS).filter(|&n| n > 0) {
            crate::messages::warning(format_args!(
                "{more} more inputs were not in time order or had no time --merge can read (not listed)"
            ));
        }
    }
}

/// The next line of an input, with its time and where it came from.
struct Next {
    bytes: Vec<u8>,
    /// A record its decoder rejected: its length and why (`bytes` holds its first bytes).
    rejected: Option<(u64, Rejection)>,
    origin: Origin,
    time: f64,
}

/// A line (with its line end) longer than `--max-line-bytes`: its length and rejection.
fn too_long(line: &[u8], max: usize) -> Option<(u64, Rejection)> {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    (text.len() > max).then(|| (line.len() as u64, Rejection::too_long(text.len() as u64, max)))
}

/// A time as a key that orders like the number (times are finite).
fn key(t: f64) -> i128 {
    (t * 1e9) as i128
}

pub(crate) fn read_merged(
    inputs: &[Input],
    env: &Env,
    cfg: &ReadConfig,
    time: &TimeField,
    raw_bytes: Arc<AtomicU64>,
    stop: &AtomicBool,
    send: &mut dyn FnMut(Chunk) -> bool,
) {
    let mut needs = Needs::default();
    time.needs(&mut needs);
    // A logfmt line's time is under `--time-field`'s key when one is given.
    let logfmt_key = time.0.as_ref().map(ToString::to_string);
    let ctx = Context {
        inputs,
        cfg,
        needs: &needs,
        time,
        logfmt_key: logfmt_key.as_deref(),
        env,
        warnings: Warnings::default(),
    };
    merge(&ctx, raw_bytes, stop, send);
    ctx.warnings.end();
}

fn merge(ctx: &Context, raw_bytes: Arc<AtomicU64>, stop: &AtomicBool, send: &mut dyn FnMut(Chunk) -> bool) {
    let (inputs, cfg, env) = (ctx.inputs, ctx.cfg, ctx.env);
    let mut seq = 0;
    let mut emit = |c: Chunk| {
        let c = Chunk { seq, ..c };
        seq += 1;
        send(c)
    };
    let mut sources: Vec<Option<Source>> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        match decompress::open(input, raw_bytes.clone(), cfg.memory_limit) {
            Ok(r) => sources.push(Some(Source {
                feed: match super::auto::decoder(cfg, i as u32, &input.name, r) {
                    Decoder::Lines(r) => Feed::Lines(BufReader::with_capacity(256 << 10, r)),
                    Decoder::Records(r) => Feed::Records(r),
                },
                line: 1,
                offset: 0,
                time: f64::NEG_INFINITY,
                year: env.year(i as u32),
                went_back: false,
                timed: false,
                failed: None,
            })),
            Err(e) => {
                sources.push(None);
                let e = InputError::open(input, e);
                if !emit(Chunk::error(i as u32, e)) {
                    return;
                }
            }
        }
    }
    let mut heads: Vec<Option<Next>> = Vec::with_capacity(sources.len());
    let mut heap = BinaryHeap::new();
    for i in 0..sources.len() {
        let next = read_next(&mut sources, i, ctx, &mut emit);
        if let Some(n) = &next {
            heap.push(Reverse((key(n.time), i)));
        }
        heads.push(next);
    }
    let mut data = Vec::new();
    let mut origins = Vec::new();
    let mut ends = Vec::new();
    while let Some(Reverse((_, i))) = heap.pop() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // Each input on the heap has its next line in `heads`.
        let Some(n) = heads[i].take() else { continue };
        if cfg.until.is_some_and(|u| n.time >= u) {
            // `--until`: every line after this one is at least as late.
            break;
        }
        if let Some((len, why)) = n.rejected.or_else(|| too_long(&n.bytes, cfg.max_line_bytes)) {
            if !flush(&mut data, &mut origins, &mut ends, &mut emit) {
                return;
            }
            let c = Chunk {
                seq: 0,
                file: n.origin.file,
                first_line: n.origin.line,
                first_offset: n.origin.offset,
                data: n.bytes[..LONG_LINE_PREFIX.min(n.bytes.len())].to_vec(),
                kind: ChunkKind::Rejected { len, why },
                error: None,
                records: None,
                origins: None,
                input_bytes: None,
            };
            if !emit(c) {
                return;
            }
        } else {
            data.extend_from_slice(&n.bytes);
            if !n.bytes.ends_with(b"\n") {
                data.push(b'\n');
            }
            origins.push(n.origin);
            // Each line's end: a bad record's raw text may span lines.
            ends.push((u32::try_from(data.len()).unwrap_or(u32::MAX), 1));
            let full = data.len() >= cfg.chunk_size.min(u32::MAX as usize / 2);
            if full && !flush(&mut data, &mut origins, &mut ends, &mut emit) {
                return;
            }
        }
        heads[i] = read_next(&mut sources, i, ctx, &mut emit);
        if let Some(n) = &heads[i] {
            heap.push(Reverse((key(n.time), i)));
        }
    }
    flush(&mut data, &mut origins, &mut ends, &mut emit);
}

fn flush(
    data: &mut Vec<u8>,
    origins: &mut Vec<Origin>,
    ends: &mut Vec<(u32, u32)>,
    emit: &mut dyn FnMut(Chunk) -> bool,
) -> bool {
    if origins.is_empty() {
        return true;
    }
    let first = origins[0];
    emit(Chunk {
        seq: 0,
        file: first.file,
        first_line: first.line,
        first_offset: first.offset,
        data: std::mem::take(data),
        kind: ChunkKind::Lines,
        error: None,
        records: Some(std::mem::take(ends)),
        origins: Some(std::mem::take(origins)),
        input_bytes: None,
    })
}

/// What reading a line of any input needs.
struct Context<'a> {
    inputs: &'a [Input],
    cfg: &'a ReadConfig,
    /// What the time field reads.
    needs: &'a Needs,
    time: &'a TimeField,
    /// The key of a logfmt line's time: `--time-field`, or (`None`) the first default key.
    logfmt_key: Option<&'a str>,
    /// The run's env, for `--time-format`.
    env: &'a Env,
    warnings: Warnings,
}

/// The next line of input `i`; `None` at its end or after an error (sent as a chunk).
fn read_next(
    sources: &mut [Option<Source>],
    i: usize,
    ctx: &Context,
    emit: &mut dyn FnMut(Chunk) -> bool,
) -> Option<Next> {
    let s = sources[i].as_mut()?;
    if let Some(e) = s.failed.take() {
        sources[i] = None;
        emit(Chunk::error(i as u32, e));
        return None;
    }
    let reader = match &mut s.feed {
        Feed::Lines(r) => r,
        Feed::Records(r) => {
            let next = r.next_record();
            return next_record(sources, i, next, ctx, emit);
        }
    };
    let mut bytes = Vec::new();
    let read = reader.read_until(b'\n', &mut bytes);
    match read {
        Ok(0) => {
            s.end(&ctx.inputs[i].name, &ctx.warnings);
            sources[i] = None;
            None
        }
        Ok(n) => {
            let bom = if s.line == 1 && bytes.starts_with(super::UTF8_BOM) {
                bytes.drain(..3);
                3
            } else {
                0
            };
            let origin = Origin::line(i as u32, s.line, s.offset + bom);
            if let Some(t) = line_time(&bytes, ctx, s.year) {
                s.take_time(t, &ctx.inputs[i].name, s.line, &ctx.warnings);
            }
            s.line += 1;
            s.offset += n as u64;
            Some(Next {
                bytes,
                rejected: None,
                origin,
                time: s.time,
            })
        }
        Err(e) if bytes.is_empty() => {
            let e = read_error(ctx, i, e, s.offset);
            sources[i] = None;
            emit(Chunk::error(i as u32, e));
            None
        }
        Err(e) => {
            // The error cut this line short: it is a dead letter, and the error comes after it.
            let rejected = Some((bytes.len() as u64, super::cut::cut_off(&e)));
            let e = read_error(ctx, i, e, s.offset + bytes.len() as u64);
            let origin = Origin::line(i as u32, s.line, s.offset);
            s.failed = Some(e);
            Some(Next {
                bytes,
                rejected,
                origin,
                time: s.time,
            })
        }
    }
}

/// The next record of a decoded input, as [`read_next`] returns lines.
fn next_record(
    sources: &mut [Option<Source>],
    i: usize,
    next: std::io::Result<Option<super::convert::Record>>,
    ctx: &Context,
    emit: &mut dyn FnMut(Chunk) -> bool,
) -> Option<Next> {
    let s = sources[i].as_mut()?;
    match next {
        Ok(Some(r)) => {
            if r.rejected.is_none() {
                if let Some(t) = line_time(&r.text, ctx, s.year) {
                    s.take_time(t, &ctx.inputs[i].name, r.line, &ctx.warnings);
                }
            }
            let origin = Origin::line(i as u32, r.line, r.offset);
            s.line = r.line + 1;
            Some(Next {
                bytes: r.text,
                rejected: r.rejected,
                origin,
                time: s.time,
            })
        }
        Ok(None) => {
            s.end(&ctx.inputs[i].name, &ctx.warnings);
            sources[i] = None;
            None
        }
        Err(e) => {
            sources[i] = None;
            emit(Chunk::error(i as u32, read_error(ctx, i, e, None)));
            None
        }
    }
}

/// The error of a failed read of input `i`.
fn read_error(ctx: &Context, i: usize, source: std::io::Error, after: impl Into<Option<u64>>) -> InputError {
    InputError::Read {
        name: ctx.inputs[i].name.clone(),
        after: after.into(),
        source,
    }
}

/// The event time of a line, if it has one.
fn line_time(bytes: &[u8], ctx: &Context, year: Year) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?.trim_end_matches(['\n', '\r']);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') && !matches!(ctx.cfg.format, super::InputFormat::Lines) {
        let ev = Event::parse(trimmed, Origin::default(), ctx.needs).ok()?;
        return ctx.time.of(&ev, ctx.env);
    }
    text_time(trimmed, year, ctx.env.time_format.as_deref(), ctx.logfmt_key)
}

/// A timestamp at the start of a text line (after a syslog priority), the time of a logfmt
/// line (under `key`, or the first default time key), or a bracketed CLF time in the line.
fn text_time(text: &str, year: Year, user: Option<&str>, key: Option<&str>) -> Option<f64> {
    let text = after_priority(text);
    if let Some(t) = leading_time(text, year) {
        return Some(t);
    }
    if let Some(t) = logfmt_time(text, user, key) {
        return Some(t);
    }
    let open = text.find('[')?;
    let close = open + text[open..].find(']')?;
    crate::time::parse_clf(&text[open + 1..close])
}

/// The line after a syslog priority (`<13>`) and, in RFC 5424, the version after it (`1 `).
fn after_priority(text: &str) -> &str {
    let Some(rest) = text.strip_prefix('<') else {
        return text;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Some(rest) = rest[digits..].strip_prefix('>').filter(|_| (1..=3).contains(&digits)) else {
        return text;
    };
    let version = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest[version..].strip_prefix(' ') {
        Some(after) if version > 0 => after,
        _ => rest,
    }
}

/// The value of `time_key`, or else of the first time key (ts, time, timestamp, @timestamp), of a logfmt line that
/// holds a time: `ts=2026-01-01T00:00:00Z` or `time="2026-01-01 00:00:00"`.
fn logfmt_time(text: &str, user: Option<&str>, time_key: Option<&str>) -> Option<f64> {
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].rsplit(char::is_whitespace).next().unwrap_or("");
        let after = &rest[eq + 1..];
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').unwrap_or(quoted.len());
                (&quoted[..end], &quoted[(end + 1).min(quoted.len())..])
            }
            None => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        let is_time = match time_key {
            Some(time_key) => key == time_key,
            None => crate::event::TimeField::DEFAULTS.contains(&key),
        };
        if is_time {
            if let Some(t) = crate::time::parse_str(value, user) {
                return Some(t);
            }
        }
        rest = next;
    }
    None
}

/// A timestamp at the start of a text line: RFC 3339 (date and time, or a date), or syslog's
/// `Mmm dd hh:mm:ss`.
fn leading_time(text: &str, year: Year) -> Option<f64> {
    let mut words = text.splitn(3, ' ');
    let first = words.next()?;
    // `date time` before `date` alone, which would mean midnight.
    if let Some(second) = words.next() {
        let both = format!("{first} {second}");
        if let Some(t) = crate::time::parse_rfc3339(both.trim_end_matches(',').as_bytes()) {
            return Some(t);
        }
    }
    if let Some(t) = crate::time::parse_rfc3339(first.trim_start_matches('[').trim_end_matches(']').as_bytes()) {
        return Some(t);
    }
    // Syslog (RFC 3164): `Mmm dd hh:mm:ss`, day padded with a space or not.
    if text.len() >= 15 && text.is_char_boundary(15) {
        let head = text[..15].split_whitespace().collect::<Vec<_>>();
        if let [mon, day, clock] = head.as_slice() {
            let year = year.of_written(mon, day, clock);
            let iso = format!("{day:0>2}/{mon}/{year}:{clock} +0000");
            if let Some(t) = crate::time::parse_clf(&iso) {
                return Some(t);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--time-field at` names the key a logfmt line's time is under.
    #[test]
    fn a_logfmt_time_is_under_the_time_field_when_one_is_given() {
        let line = "at=2026-01-01T00:00:01Z ts=2026-01-01T00:00:09Z x=1";
        assert_eq!(text_time(line, Year::fixed(2026), None, Some("at")), Some(1767225601.0));
        assert_eq!(text_time(line, Year::fixed(2026), None, None), Some(1767225609.0));
        assert_eq!(text_time(line, Year::fixed(2026), None, Some("when")), None);
    }

    #[test]
    fn text_times() {
        let t = |line| text_time(line, Year::fixed(2026), None, None);
        for line in [
            "2026-01-01T00:00:01Z hello",
            "2026-01-01 00:00:01 hello",
            "Jan  1 00:00:01 host sshd[1]: x",
            "<13>Jan  1 00:00:01 host sshd[1]: x",
            "<165>1 2026-01-01T00:00:01Z host app - - - x",
            "1.2.3.4 - - [01/Jan/2026:00:00:01 +0000] \"GET / HTTP/1.1\"",
            "level=info ts=2026-01-01T00:00:01Z msg=a",
            "level=info msg=\"a b=c\" time=\"2026-01-01 00:00:01\"",
            "msg=x timestamp=1767225601000",
        ] {
            assert_eq!(t(line), Some(1767225601.0), "{line}");
        }
        assert_eq!(t("  at java.lang.Thread.run"), None);
        assert_eq!(t("level=info myts=2026-01-01T00:00:01Z"), None);
        assert_eq!(t("<13> not a time"), None);
    }
}
