//! A compiled pipeline: the parallel part that every worker runs on its chunks, and
//! the ordered part that runs on one thread in input order.

use crate::event::{Event, EventBuf, Fate, Needs, Origin, Reason, Rejection};
use crate::input::reader::{Chunk, ChunkKind, LONG_LINE_PREFIX};
use crate::input::{InputError, InputFormat};
use crate::lang::LangError;
use crate::lang::ast::{Otherwise, ParseFormat};
use crate::lang::{Env, StageAst};
use crate::output::{Printed, Printer};
use crate::parse::Want;
use crate::stage::{Parse, Partial, PartialSpec, Stage, StageOptions, Step};
use crate::stats::{FateLog, Reads, Tally};
use base64::Engine;
use std::sync::Arc;

/// The runtime pipeline, split where stages stop being independent per event.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    pub parallel: Vec<Stage>,
    pub ordered: Vec<Stage>,
    /// How input lines become events.
    pub input: InputFormat,
    /// Remove ANSI escape sequences from text lines.
    pub strip_ansi: bool,
    /// How `to` and `tee` open their files.
    pub topic: crate::output::topic::TopicOptions,
    /// How many bytes of lines for topic files are held before some are written.
    pub held_bytes: usize,
    /// The stage right after the parallel part that workers compute in parts.
    pub partial: Option<PartialSpec>,
    parallel_needs: Needs,
    /// By place in the ordered part: what its stages from there on and the output read, the
    /// last what the output alone reads.
    needs_from: Vec<Needs>,
    /// Workers hand the ordered part the places of the fields it reads.
    hand_fields: bool,
    /// The fields read that no event has had yet, for the end-of-run warning.
    pub watch: Arc<crate::seen::Watch>,
    /// Texts a JSON line must hold to pass the first stage, a `where`: lines without
    /// them are only validated.
    needles: Option<crate::lang::Needles>,
    /// Lines that were not JSON, kept to recognise a text format.
    pub sniff: Arc<crate::sniff::Sniff>,
    /// What the first stage's events can show (for the parse that `-i auto` puts first).
    first_want: Want,
    /// With `-i auto`: what each input is.
    chosen: Option<Arc<crate::input::auto::Chosen>>,
    /// With `-i auto` or `-i logfmt`: the text formats read line by line, each with the
    /// `parse` stage that gives the events `-i lines | parse FORMAT` would.
    parses: Vec<(crate::input::auto::Detected, Parse)>,
}

/// How a worker makes an event of one line.
enum Decode<'a> {
    Json,
    Lines,
    Parsed(&'a Parse),
}

impl Decode<'_> {
    /// Text formats keep lines that are not UTF-8.
    fn is_text(&self) -> bool {
        !matches!(self, Decode::Json)
    }
}

impl Pipeline {
    /// Builds the stages; fails for a lookup file or schema that cannot be read.
    pub(crate) fn new(asts: &[StageAst], opts: &StageOptions) -> Result<Pipeline, LangError> {
        let mut stages: Vec<Stage> = asts.iter().map(|a| Stage::build(a, opts)).collect::<Result<_, _>>()?;
        crate::seen::check_row_fields(asts, &stages)?;
        add_range(&mut stages, opts);
        let first_want = observed_after(&stages);
        for i in 0..stages.len() {
            let want = observed_after(&stages[i + 1..]);
            if let Stage::Parse(p) = &mut stages[i] {
                p.set_want(want);
            }
        }
        let split = stages.iter().position(|s| !s.is_parallel()).unwrap_or(stages.len());
        let mut parallel = stages;
        let ordered = parallel.split_off(split);
        let needs = |ss: &[Stage]| {
            let mut n = Needs::default();
            for s in ss {
                s.needs(&mut n);
            }
            n
        };
        let partial = ordered.first().and_then(PartialSpec::of);
        let mut parallel_needs = needs(&parallel);
        if let Some(spec) = &partial {
            spec.needs(&mut parallel_needs);
        }
        let needs_from: Vec<Needs> = (0..=ordered.len()).map(|i| needs(&ordered[i..])).collect();
        // What the whole ordered part reads is what it reads from its first place on.
        let ordered_needs = needs_from.first().cloned().unwrap_or_default();
        // Workers capture the fields the ordered part reads and say where they lie, so the
        // one ordered thread does not scan each line again.
        let hand_fields = partial.is_none() && !ordered_needs.whole && !ordered_needs.keys.is_empty();
        if hand_fields {
            ordered_needs.keys.iter().for_each(|k| parallel_needs.add_key(k));
        }
        let watch = crate::seen::Watch::new(&parallel, &ordered, None);
        watch.needs(&mut parallel_needs);
        let needles = match parallel.first() {
            Some(Stage::Where(w)) => w.needles(),
            _ => None,
        };
        Ok(Pipeline {
            needles,
            watch: Arc::new(watch),
            sniff: Arc::default(),
            first_want,
            chosen: None,
            parses: Vec::new(),
            parallel_needs,
            needs_from,
            hand_fields,
            parallel,
            ordered,
            partial,
            input: InputFormat::Ndjson,
            strip_ansi: false,
            topic: opts.topic.clone(),
            held_bytes: crate::output::pending::HELD_BYTES,
        })
    }

    /// At the end of a run: the notes and warnings about what the pipeline met (text fed as
    /// NDJSON, fields never seen, comparisons that never held).
    pub(crate) fn report_guidance(&self, total: &crate::stats::Stats) {
        let lines = total.lines.saturating_sub(total.blank);
        let invalid = total.dead[Reason::InvalidJson.index()] + total.dead[Reason::InvalidUtf8.index()];
        if let Some(advice) = self.sniff.advice(invalid, lines) {
            crate::messages::note(advice);
        }
        // The events the checks saw: lines that decoded, whatever a stage made of them later
        // (a `reorder` whose key is never there makes `no_time` dead letters of them all).
        let undecoded = [
            Reason::InvalidJson,
            Reason::InvalidUtf8,
            Reason::TooLong,
            Reason::InvalidUnicode,
        ];
        let undecoded: u64 = undecoded.iter().map(|r| total.dead[r.index()]).sum();
        self.watch.report(lines.saturating_sub(undecoded));
        for w in self.parallel.iter().chain(&self.ordered).filter_map(Stage::warning) {
            crate::messages::warning(w);
        }
    }

    /// Reads each input as `-i auto` chose for it.
    pub(crate) fn read_auto(&mut self, chosen: Arc<crate::input::auto::Chosen>) {
        self.chosen = Some(chosen);
        self.read_text();
    }

    /// Makes the `parse` stages that read the text formats (`-i auto`, `-i logfmt`).
    pub(crate) fn read_text(&mut self) {
        use crate::input::auto::Detected;
        self.parses = [Detected::Combined, Detected::Common, Detected::Syslog, Detected::Logfmt]
            .into_iter()
            .filter_map(|d| {
                let name = ParseFormat::Named(d.parse_name()?.to_owned());
                let mut parse = Parse::new(&name, None, Otherwise::Dead).ok()?;
                parse.set_want(self.first_want.clone());
                Some((d, parse))
            })
            .collect();
    }

    /// How the lines of input `file` become events.
    /// True when a JSON line cannot pass the first stage, found without reading its fields.
    /// Only once every field read has been seen, so that what is learnt from events for
    /// the end-of-run warnings is the same.
    fn cannot_pass(&self, line: &[u8]) -> bool {
        self.needles
            .as_ref()
            .is_some_and(|n| self.watch.is_done() && !n.may_match(line))
    }

    fn decode(&self, file: u32) -> Decode<'_> {
        use crate::input::auto::Detected;
        let parsed = |d: Detected| {
            self.parses
                .iter()
                .find(|(of, _)| *of == d)
                .map_or(Decode::Json, |(_, p)| Decode::Parsed(p))
        };
        match (self.input, &self.chosen) {
            (InputFormat::Lines, _) => Decode::Lines,
            (InputFormat::Logfmt, _) => parsed(Detected::Logfmt),
            (InputFormat::Auto, Some(chosen)) => match chosen.get(file) {
                Detected::Lines => Decode::Lines,
                d => parsed(d),
            },
            _ => Decode::Json,
        }
    }

    /// Adds what the output reads of each event (a `--format` template's fields) to what
    /// events are parsed for, in whichever part hands them to the output, and to the fields
    /// watched when no stage changes them.
    pub(crate) fn output_reads(&mut self, add: impl Fn(&mut Needs)) {
        add(&mut self.parallel_needs);
        self.needs_from.iter_mut().for_each(&add);
        let mut output = Needs::default();
        add(&mut output);
        let watch = crate::seen::Watch::new(&self.parallel, &self.ordered, Some(&output));
        watch.needs(&mut self.parallel_needs);
        self.watch = Arc::new(watch);
    }

    /// Whether a stage reads event time (windows, `dedupe … within`, `--since`…).
    pub(crate) fn reads_event_time(&self) -> bool {
        self.parallel_needs.event_time || self.needs_from.iter().any(|n| n.event_time)
    }

    /// What the ordered stages read from each place on, and the output reads (see
    /// [`Emit`](crate::stage::Emit)).
    pub(crate) fn needs_from(&self) -> &[Needs] {
        &self.needs_from
    }

    /// What the stages cannot mean as typed, known before the run: comparisons with an
    /// aggregate's numbers that never hold (see [`crate::mismatch::aggregate_rows`]), and
    /// `topic()` read before any `route` set one.
    pub(crate) fn start_warnings(&self) -> Vec<String> {
        let stages: Vec<&Stage> = self.parallel.iter().chain(&self.ordered).collect();
        let mut warnings = crate::mismatch::aggregate_rows(&stages);
        warnings.extend(topic_before_route(&stages));
        warnings
    }

    /// One line per stage, for `--explain`.
    pub(crate) fn explain(&self) -> String {
        let stages = self.parallel.iter().chain(&self.ordered);
        let width = stages.map(|s| s.name().len()).chain([8]).max().unwrap_or(8);
        let parallel = self.parallel.iter().map(|s| s.describe("parallel", width));
        let ordered = self.ordered.iter().enumerate().map(|(i, s)| {
            let in_parts = i == 0 && self.partial.is_some();
            s.describe(if in_parts { "in parts" } else { "ordered" }, width)
        });
        parallel.chain(ordered).collect::<Vec<_>>().join("\n")
    }

    /// Whether stdout gets no event: the last stage is `to`, which writes every event to files.
    pub(crate) fn ends_in_files(&self) -> bool {
        matches!(self.ordered.last(), Some(Stage::To(to)) if !to.tee)
    }
}

/// A warning for the first stage before any `route` whose expressions call `topic()`, which is
/// null for every event there.
fn topic_before_route(stages: &[&Stage]) -> Option<String> {
    use crate::lang::func::Func;
    let before = stages.iter().take_while(|s| !matches!(s, Stage::Route(_)));
    // A file name's `topic()` (`to`, `tee`, `-O`) is named with its own fix as the options are read.
    let mut reads = before
        .filter(|s| !matches!(s, Stage::To(_)))
        .filter(|s| s.expressions().iter().any(|e| e.calls(Func::Topic)));
    let name = reads.next()?.name();
    Some(format!(
        "topic() in {name} is null for every event: no route before it sets a topic; put route by EXPR (route by type) before it"
    ))
}

/// Adds `--since`/`--until` after the leading `parse` stages: before them, text has no time.
fn add_range(stages: &mut Vec<Stage>, opts: &StageOptions) {
    if opts.since.is_none() && opts.until.is_none() {
        return;
    }
    let at = stages.iter().take_while(|s| matches!(s, Stage::Parse(_))).count();
    let range = crate::stage::TimeRange {
        since: opts.since,
        until: opts.until,
        time: crate::stage::TimeField(opts.time.clone()),
    };
    stages.insert(at, Stage::Range(range));
}

/// The top-level fields that the stages after a point can observe: those they read, up to the first stage
/// that no longer passes events on (an aggregate, or `keep`, which drops every other field). When events
/// reach the output or a file, an expression reads the whole event, or `fold` takes the whole event as
/// its patch, every field is observed.
fn observed_after(stages: &[Stage]) -> Want {
    let mut n = Needs::default();
    for s in stages {
        s.needs(&mut n);
        if n.whole {
            return Want::All;
        }
        match s {
            Stage::Fold(f) if f.patches_whole_events() => return Want::All,
            Stage::Group(_) | Stage::Fold(_) | Stage::Keep(_) => return Want::Only(n.keys),
            Stage::To(_) => return Want::All,
            _ => {}
        }
    }
    Want::All
}

/// A rejected line, whether a worker rejected it (it closes a segment) or an ordered stage
/// did: its record is rendered once, where it was rejected.
#[derive(Debug, Clone)]
pub(crate) struct DeadLetter {
    pub file: u32,
    pub line: u64,
    pub reason: Reason,
    pub error: String,
    /// The NDJSON record for `--dead-letter`, with its newline.
    pub record: Vec<u8>,
    /// The event was made or copied by a stage: its rejection is not its line's fate.
    pub made: bool,
}

/// A run of a chunk's lines that ends at a dead letter, or at the chunk's end. The ordered
/// side takes a segment whole or not at all, so `--strict` and `--max-errors` stop output,
/// counts and partial aggregates at exactly the line that closed one.
#[derive(Debug, Default)]
pub(crate) struct Segment {
    /// The lines read, and the copies and join misses made. The closing dead letter is read here; its fate is
    /// recorded where the segment is taken (sent, or skipped after `head`).
    pub read: Reads,
    /// The fates workers decided, placed among the events handed on: those after the event
    /// where the ordered side stopped are skipped.
    pub log: FateLog,
    /// How many events (with `route all` copies) the chunk holds when it ends: records of
    /// `ChunkOut::printed` in direct mode, of `ChunkOut::events` otherwise.
    pub upto: usize,
    /// Its part of the pipeline's `partial` stage (boxed: most segments have none, and a
    /// chunk of dead letters is a segment per line).
    pub part: Option<Box<Partial>>,
    /// The lines whose events went into `part`, as aggregated: their fate is recorded where
    /// the part is merged, which may refuse it (a stage past `--max-groups`).
    pub part_lines: Tally,
    /// The dead letter that closed it; none for a chunk's last segment.
    pub end: Option<DeadLetter>,
}

/// What a worker made of one chunk.
#[derive(Debug, Default)]
pub(crate) struct ChunkOut {
    pub seq: u64,
    /// Formatted output, without an ordered part. Its lines' fates are decided where it is
    /// written.
    pub printed: Printed,
    /// The events for the ordered part, when there is one.
    pub events: EventBuf,
    /// The chunk's lines in order, cut at each dead letter; the last one has no dead letter.
    pub segments: Vec<Segment>,
    /// A read error that ended this input after this chunk.
    pub error: Option<InputError>,
}

/// Runs the parallel part over one chunk.
pub(crate) fn process_chunk(chunk: Chunk, p: &Pipeline, env: &Env, printer: &Printer, max_line: usize) -> ChunkOut {
    let mut w = Worker {
        p,
        env,
        printer,
        max_line,
        sniffs: chunk.kind == ChunkKind::Lines,
        direct: p.ordered.is_empty(),
        out: ChunkOut {
            seq: chunk.seq,
            error: chunk.error,
            ..ChunkOut::default()
        },
        open: Segment::default(),
    };
    if chunk.kind == ChunkKind::Records {
        w.max_line = usize::MAX;
    }
    let mut origin = Origin::line(chunk.file, chunk.first_line, chunk.first_offset);
    if let ChunkKind::Rejected { len, why } = chunk.kind {
        let stats = w.open.read.of(chunk.file);
        stats.lines = 1;
        stats.bytes = chunk.input_bytes.unwrap_or(len);
        let line = Line {
            text: &chunk.data,
            origin,
            joined: false,
        };
        w.dead(&line, why);
        return w.finish();
    }
    let decoded = chunk.input_bytes.is_some();
    if let Some(bytes) = chunk.input_bytes {
        w.open.read.of(chunk.file).bytes += bytes;
    }
    let data = &chunk.data;
    let mut start = 0;
    let mut joined = Vec::new();
    // Multi-line records (`--multiline-start`) come with their ends and line counts.
    let mut records = chunk.records.as_ref().map(|r| r.iter());
    let mut origins = chunk.origins.as_ref().map(|m| m.iter());
    while start < data.len() {
        let (end, next, lines) = match records.as_mut().and_then(Iterator::next) {
            Some(&(next, lines)) => {
                let next = next as usize;
                let end = if data[..next].ends_with(b"\n") { next - 1 } else { next };
                (end, next, u64::from(lines))
            }
            None => {
                let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
                (end, (end + 1).min(data.len()), 1)
            }
        };
        if let Some(m) = origins.as_mut().and_then(Iterator::next) {
            origin = *m;
        }
        // A decoder's records count the bytes read for the whole chunk, added above.
        let len = if decoded { 0 } else { (next - start) as u64 };
        let stats = w.open.read.of(origin.file);
        stats.lines += 1;
        stats.bytes += len;
        let mut text = match &data[start..end] {
            [rest @ .., b'\r'] => rest,
            line => line,
        };
        if lines > 1 && memchr::memchr(b'\r', text).is_some() {
            // A record joined from CRLF lines: each line loses its CR, as a single line does.
            joined.clear();
            for line in text.split_inclusive(|b| *b == b'\n') {
                match line.strip_suffix(b"\r\n") {
                    Some(body) => {
                        joined.extend_from_slice(body);
                        joined.push(b'\n');
                    }
                    None => joined.extend_from_slice(line),
                }
            }
            text = &joined;
        }
        w.line(&Line {
            text,
            origin,
            joined: lines > 1,
        });
        origin.line += lines;
        origin.offset += len;
        start = next;
    }
    w.finish()
}

/// What a worker needs for the lines of one chunk, and what it made of them so far.
struct Worker<'a> {
    p: &'a Pipeline,
    env: &'a Env,
    printer: &'a Printer,
    max_line: usize,
    /// The chunk holds lines as read, not records a decoder made (`-i json`, csv): the lines
    /// that are not JSON are kept for the end-of-run note on what format they look like.
    sniffs: bool,
    /// No ordered part: events are formatted for the output here.
    direct: bool,
    out: ChunkOut,
    /// The segment the next lines belong to.
    open: Segment,
}

/// One input line (or multi-line record), without its line ending.
struct Line<'a> {
    text: &'a [u8],
    origin: Origin,
    /// A `--multiline-start` record of more than one line: its lines joined by line feeds.
    joined: bool,
}

impl Worker<'_> {
    /// Keeps a line that is not JSON for the end-of-run note (see [`crate::sniff`]).
    fn sniff(&self, line: &[u8]) {
        if self.sniffs {
            self.p.sniff.note(line);
        }
    }

    fn line(&mut self, line: &Line) {
        let (p, max_line) = (self.p, self.max_line);
        let bytes = line.text;
        if bytes.first() != Some(&b'{') && bytes.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            return self.record(true, line.origin.file, Fate::Blank);
        }
        if bytes.len() > max_line {
            let prefix = Line {
                text: &bytes[..LONG_LINE_PREFIX.min(bytes.len())],
                ..*line
            };
            return self.dead(&prefix, Rejection::too_long(bytes.len() as u64, max_line));
        }
        let decode = p.decode(line.origin.file);
        let lossy: String;
        // simdutf8 validates fast; std's error says where the bad byte is.
        let text = match simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes)) {
            Ok(t) => t,
            // A text line keeps its line (the exact bytes go to a dead letter if it fails later).
            Err(_) if decode.is_text() => {
                lossy = String::from_utf8_lossy(bytes).into_owned();
                &lossy
            }
            Err(e) => {
                // UTF-16 text without its byte order mark is not UTF-8 once it holds a non-ASCII
                // character: the end-of-run note looks at such lines too.
                self.sniff(bytes);
                let at = e.valid_up_to();
                // UTF-16 input's malformed units come marked (see `input::utf16`).
                let what = match &bytes[at..] {
                    b if b.starts_with(crate::input::utf16::CUT_UNIT) => {
                        ": a UTF-16 code unit cut short at the end of the input"
                    }
                    [0xED, 0xA0..=0xBF, ..] => ": a lone UTF-16 surrogate",
                    _ => "",
                };
                let error = format!("invalid UTF-8 at byte {at}{what}");
                return self.dead(line, Rejection::new(Reason::InvalidUtf8, error));
            }
        };
        let stripped: String;
        let text = if p.strip_ansi && decode.is_text() && text.contains('\x1b') {
            stripped = strip_ansi(text);
            &stripped
        } else {
            text
        };
        let one_line: String;
        let compacted: Line;
        let (text, line) = match decode {
            // An event's text is written as it is when the event is unchanged: JSON joined from
            // several lines is written on one (`-i json` writes its records so, too), and is the
            // line its dead letters hold.
            Decode::Json if line.joined && crate::json::tree(text).is_ok() => {
                one_line = crate::json::one_line(text);
                compacted = Line {
                    text: one_line.as_bytes(),
                    ..*line
                };
                (one_line.as_str(), &compacted)
            }
            _ => (text, line),
        };
        let origin = line.origin;
        let ev = match decode {
            Decode::Lines => Event::line(text, origin),
            Decode::Parsed(parse) => {
                let mut ev = Event::line(text, origin);
                match parse.apply(&mut ev, self.env) {
                    crate::stage::Flow::Pass => {}
                    crate::stage::Flow::Dead(reason) => return self.dead(line, parse.rejection(reason)),
                    crate::stage::Flow::Filtered => return self.dead(line, parse.rejection(Reason::Parse)),
                }
                ev
            }
            Decode::Json if p.cannot_pass(bytes) && crate::json::is_event(text) => {
                return self.record(true, origin.file, Fate::Filtered);
            }
            Decode::Json => match Event::parse(text, origin, &p.parallel_needs) {
                Ok(ev) => ev,
                Err(r) => {
                    if r.reason == Reason::InvalidJson {
                        self.sniff(bytes);
                    }
                    return self.dead(line, r);
                }
            },
        };
        p.watch.observe(&ev, self.env);
        self.run(0, ev, line);
    }

    /// Runs the parallel stages from `from` on one event. `route all` and `explode` fan out:
    /// each extra copy is marked, so its outcome is not counted as a line's fate.
    fn run(&mut self, from: usize, mut ev: Event, line: &Line) {
        let (p, env) = (self.p, self.env);
        let counted = ev.origin.owns_fate();
        let file = ev.origin.file;
        for (i, s) in p.parallel.iter().enumerate().skip(from) {
            match s.step(&mut ev, env) {
                Step::Pass => {}
                Step::Unmatched => self.open.log.extra(self.out.events.len(), file, false),
                Step::Drop(fate) => return self.record(counted, file, fate),
                Step::Dead(r) if counted => return self.dead(line, r),
                Step::Dead(r) => return self.dead_copy(&ev, r),
                Step::Many(events) => {
                    let mut made = 0;
                    for mut c in events {
                        if made > 0 {
                            self.open.log.extra(self.out.events.len(), file, true);
                            c.origin = c.origin.copied(made);
                        }
                        self.run(i + 1, c, line);
                        made += 1;
                    }
                    if made == 0 {
                        // No event in its place: the line still has a fate.
                        self.record(counted, file, Fate::Filtered);
                    }
                    return;
                }
            }
        }
        if let Some(spec) = &p.partial {
            let part = self.open.part.get_or_insert_with(|| Box::new(spec.start()));
            return match part.add(spec, &ev, env) {
                Ok(()) if counted => self.open.part_lines.record(file, Fate::Aggregated),
                Ok(()) => {}
                Err(e) if counted => self.dead(line, e.into()),
                Err(_) => {}
            };
        }
        let out = &mut self.out;
        if self.direct {
            out.printed.push(self.printer, &ev, self.env, counted.then_some(file));
        } else {
            // The line's fate is decided in the ordered part.
            out.events.push(&ev, p.hand_fields);
        }
    }

    /// Records a line's fate, unless the event is a copy (its line has its fate elsewhere).
    /// The fate stands only if the ordered side takes the events before the line (all of them
    /// without an ordered part): it is logged after them.
    fn record(&mut self, counted: bool, file: u32, fate: Fate) {
        if counted {
            self.open.log.record(self.out.events.len(), file, fate);
        }
    }

    /// The line is a dead letter: it closes the open segment, so that `--strict` and
    /// `--max-errors` can stop exactly there. The line is counted as read in that segment.
    fn dead(&mut self, line: &Line, r: Rejection) {
        let d = DeadLetter::new(self.env, line.origin, line.text, r.reason, r.error);
        self.close(Some(d));
    }

    /// A copy of the line's event (`route all`, `explode`) is a dead letter: as a line's, it
    /// closes the open segment; its record holds the copy.
    fn dead_copy(&mut self, ev: &Event, r: Rejection) {
        let text = ev.json_string();
        let d = DeadLetter::new(self.env, ev.origin, text.as_bytes(), r.reason, r.error);
        self.close(Some(d));
    }

    /// Closes the open segment where the output made so far ends.
    fn close(&mut self, end: Option<DeadLetter>) {
        let upto = if self.direct {
            self.out.printed.records.len()
        } else {
            self.out.events.len()
        };
        let done = std::mem::take(&mut self.open);
        self.out.segments.push(Segment { upto, end, ..done });
    }

    /// The chunk's result, its last segment closed.
    fn finish(mut self) -> ChunkOut {
        self.close(None);
        self.out
    }
}

/// The text without ANSI escape sequences (CSI such as colours, OSC such as titles).
fn strip_ansi(text: &str) -> String {
    static ANSI: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = ANSI.get_or_init(|| {
        regex::Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
            .expect("the ANSI pattern is valid")
    });
    re.replace_all(text, "").into_owned()
}

/// One `--dead-letter` record, with its newline.
impl DeadLetter {
    /// The dead letter of the event at `origin` whose text is `raw`: a line's, or one a
    /// stage made or copied.
    pub(crate) fn new(env: &Env, origin: Origin, raw: &[u8], reason: Reason, error: String) -> DeadLetter {
        DeadLetter {
            file: origin.file,
            line: origin.line,
            reason,
            record: dead_record(env, origin, raw, reason, &error),
            error,
            made: !origin.owns_fate(),
        }
    }
}

/// The `--dead-letter` record of a rejected line, as one NDJSON line.
fn dead_record(env: &Env, origin: Origin, raw: &[u8], reason: Reason, error: &str) -> Vec<u8> {
    let mut rec = serde_json::Map::new();
    // An aggregate's row comes from no one line.
    let at = |v: serde_json::Value| {
        if origin.is_derived() {
            serde_json::Value::Null
        } else {
            v
        }
    };
    rec.insert("file".into(), at(env.file_name(origin.file).into()));
    rec.insert("line".into(), at(origin.line.into()));
    rec.insert("offset".into(), at(origin.offset.into()));
    rec.insert("reason".into(), reason.name().into());
    rec.insert("error".into(), error.into());
    match std::str::from_utf8(raw) {
        Ok(s) => rec.insert("raw".into(), s.into()),
        Err(_) => rec.insert(
            "raw_b64".into(),
            base64::engine::general_purpose::STANDARD.encode(raw).into(),
        ),
    };
    let mut record = Vec::with_capacity(raw.len() + 128);
    crate::json::write_value(&mut record, &serde_json::Value::Object(rec));
    record.push(b'\n');
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the first `parse` of a pipeline builds.
    fn wanted(src: &str) -> Want {
        let asts = crate::lang::parser::parse_pipeline(src).expect("valid pipeline");
        let p = Pipeline::new(&asts, &StageOptions::default()).expect("builds");
        match p.parallel.first() {
            Some(Stage::Parse(s)) => s.want().clone(),
            _ => panic!("{src}: no parse stage first"),
        }
    }

    fn only(keys: &[&str]) -> Want {
        Want::Only(keys.iter().map(|k| (*k).into()).collect())
    }

    /// The segments a worker makes of `input` for pipeline `src`, in direct mode or not.
    fn segments(src: &str, input: &str) -> ChunkOut {
        let asts = crate::lang::parser::parse_pipeline(src).expect("valid pipeline");
        let p = Pipeline::new(&asts, &StageOptions::default()).expect("builds");
        let chunk = Chunk {
            seq: 0,
            file: 0,
            first_line: 1,
            first_offset: 0,
            data: input.as_bytes().to_vec(),
            kind: ChunkKind::Lines,
            error: None,
            records: None,
            origins: None,
            input_bytes: None,
        };
        let printer = Printer::plain(crate::output::Format::Ndjson);
        process_chunk(chunk, &p, &Env::default(), &printer, 1 << 20)
    }

    /// A segment's counts of input 0 with the fates workers logged, all standing.
    fn settled(s: &Segment) -> crate::stats::Stats {
        let mut counts = crate::stats::Stats::default();
        counts.add_read(s.read.clone().of(0));
        for (_, fate, n) in s.log.settled(usize::MAX) {
            counts.record_n(fate, n);
        }
        counts
    }

    /// Two dead letters between three events, a blank line in the second segment.
    const TWO_DEAD: &str = "{\"a\":1}\nbad\n{\"a\":2}\n\nworse\n{\"a\":3}\n";

    #[test]
    fn each_dead_letter_closes_a_segment_that_counts_its_line_as_read() {
        let c = segments("where true", TWO_DEAD);
        let ends: Vec<_> = c
            .segments
            .iter()
            .map(|s| s.end.as_ref().map(|d| (d.line, d.reason)))
            .collect();
        assert_eq!(
            ends,
            [Some((2, Reason::InvalidJson)), Some((5, Reason::InvalidJson)), None]
        );
        let counts: Vec<_> = c.segments.iter().map(settled).collect();
        let read: Vec<_> = counts.iter().map(|s| (s.lines, s.bytes, s.emitted, s.blank)).collect();
        assert_eq!(
            read,
            [(2, 12, 0, 0), (3, 15, 0, 1), (1, 8, 0, 0)],
            "an output line's fate is decided where it is written"
        );
        assert!(
            counts.iter().all(|s| s.dead_total() == 0),
            "a dead letter's fate is decided where its segment is taken"
        );
        let ends: Vec<_> = c.segments.iter().map(|s| s.upto).collect();
        assert_eq!(ends, [1, 2, 3], "direct mode: records of output");
        assert_eq!(c.printed.bytes, b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
        let inputs: Vec<_> = c.printed.records.iter().map(|r| (r.end, r.input)).collect();
        assert_eq!(inputs, [(8, Some(0)), (16, Some(0)), (24, Some(0))]);
    }

    #[test]
    fn segments_end_in_events_with_an_ordered_part_and_hold_their_part_of_an_aggregate() {
        let c = segments("head 5", TWO_DEAD);
        let ends: Vec<_> = c.segments.iter().map(|s| s.upto).collect();
        assert_eq!(ends, [1, 2, 3], "the events each segment ends after");
        let c = segments("count", TWO_DEAD);
        assert!(c.events.len() == 0 && c.printed.records.is_empty());
        let aggregated: Vec<_> = c
            .segments
            .iter()
            .map(|s| s.part_lines.clone().of(0).aggregated)
            .collect();
        assert_eq!(
            aggregated,
            [1, 1, 1],
            "held with the part, whose merge decides their fate"
        );
        assert!(c.segments.iter().all(|s| settled(s).aggregated == 0));
        assert!(c.segments.iter().all(|s| s.part.is_some()), "each its own part");
    }

    #[test]
    fn a_chunk_without_dead_letters_is_one_segment() {
        let c = segments("where a > 1", "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!(c.segments.len(), 1);
        let s = settled(&c.segments[0]);
        assert_eq!((s.lines, s.filtered, s.emitted), (2, 1, 0));
        assert_eq!(
            c.printed.records.len(),
            1,
            "the other line's fate is decided where it is written"
        );
        assert!(c.segments[0].end.is_none());
    }

    #[test]
    fn parse_builds_only_what_an_aggregate_reads() {
        assert_eq!(wanted("parse combined | count by status"), only(&["status"]));
        assert_eq!(
            wanted("parse combined | where method == \"GET\" | stats avg(bytes) by status"),
            only(&["method", "status", "bytes"])
        );
        assert_eq!(wanted("parse combined | keep path, status"), only(&["path", "status"]));
        assert_eq!(
            wanted("parse combined | fold by status from path"),
            only(&["status", "path", "ts", "time", "timestamp", "@timestamp"])
        );
        // `user.id` may read the literal key "user.id" too.
        assert_eq!(
            wanted("parse combined | keep user.id | count"),
            only(&["user", "user.id"])
        );
        assert_eq!(
            wanted("parse combined | head 5 | count by status every 1m"),
            only(&["status", "ts", "time", "timestamp", "@timestamp"])
        );
    }

    #[test]
    fn parse_builds_everything_that_reaches_an_output() {
        for src in [
            "parse combined",
            "parse combined | where status >= 500",
            "parse combined | sort status",
            "parse combined | tee \"x.ndjson\" | count",
            "parse combined | route by status | to \"{topic()}.ndjson\"",
            "parse combined | where . != null | count",
            "parse combined | count by len(.)",
            "parse combined | fold by status",
        ] {
            assert_eq!(wanted(src), Want::All, "{src}");
        }
    }

    /// An event handed from one ordered stage to the next is read for what the stages from
    /// there on and the output read: a row of `count` is not parsed for the key it grouped by.
    #[test]
    fn each_place_in_the_ordered_part_reads_what_is_still_to_read() {
        let asts = crate::lang::parser::parse_pipeline("sort k | count by k | where count > 1").expect("valid");
        let mut p = Pipeline::new(&asts, &StageOptions::default()).expect("builds");
        p.output_reads(|n| n.add_key("out"));
        let keys: Vec<Vec<&str>> = p
            .needs_from()
            .iter()
            .map(|n| n.keys.iter().map(|k| &**k).collect())
            .collect();
        assert_eq!(
            keys,
            [
                vec!["k", "count", "out"],
                vec!["k", "count", "out"],
                vec!["count", "out"],
                vec!["out"]
            ]
        );
    }
}
