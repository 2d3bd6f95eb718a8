//! A compiled pipeline: the parallel part that every worker runs on its chunks, and
//! the ordered part that runs on one thread in input order.

use crate::event::{Event, Meta, Needs, Reason, Rejection};
use crate::input::InputFormat;
use crate::input::reader::{Chunk, ChunkKind, LONG_LINE_PREFIX};
use crate::lang::LangError;
use crate::lang::{Env, StageAst};
use crate::output::Format;
use crate::output::pending::{Pending, StageFiles};
use crate::parse::Want;
use crate::stage::{Drop, Flow, GroupError, GroupSpec, Groups, Held, Rejected, Stage, StageOptions, Step};
use crate::stats::Stats;
use base64::Engine;
use std::ops::ControlFlow;
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
    /// The aggregate right after the parallel part: workers compute partial groups.
    pub partial: Option<Arc<GroupSpec>>,
    parallel_needs: Needs,
    ordered_needs: Needs,
}

impl Pipeline {
    /// Builds the stages; fails for a lookup file or schema that cannot be read, or a stage
    /// placed where it cannot run yet.
    pub(crate) fn new(asts: &[StageAst], opts: &StageOptions) -> Result<Pipeline, LangError> {
        let mut stages: Vec<Stage> = asts.iter().map(|a| Stage::build(a, opts)).collect::<Result<_, _>>()?;
        for i in 0..stages.len() {
            let want = observed_after(&stages[i + 1..]);
            if let Stage::Parse(p) = &mut stages[i] {
                p.set_want(want);
            }
        }
        let split = stages.iter().position(|s| !s.is_parallel()).unwrap_or(stages.len());
        check_placement(&stages, asts, split)?;
        let mut parallel = stages;
        let ordered = parallel.split_off(split);
        let needs = |ss: &[Stage]| {
            let mut n = Needs::default();
            ss.iter().for_each(|s| s.needs(&mut n));
            n
        };
        let partial = match ordered.first() {
            Some(Stage::Group(g)) if !g.streaming() => Some(g.spec.clone()),
            _ => None,
        };
        let mut parallel_needs = needs(&parallel);
        if let Some(spec) = &partial {
            spec.needs(&mut parallel_needs);
        }
        Ok(Pipeline {
            parallel_needs,
            ordered_needs: needs(&ordered),
            parallel,
            ordered,
            partial,
            input: InputFormat::Ndjson,
            strip_ansi: false,
            topic: opts.topic.clone(),
            held_bytes: crate::output::pending::HELD_BYTES,
        })
    }

    /// One line per stage, for `--explain`.
    pub(crate) fn explain(&self) -> String {
        self.parallel
            .iter()
            .chain(&self.ordered)
            .map(|s| s.describe())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Refuses `explode`, `sample`, `join` and `validate` after the first ordered stage, naming both.
fn check_placement(stages: &[Stage], asts: &[StageAst], split: usize) -> Result<(), LangError> {
    let Some(first) = stages.get(split) else {
        return Ok(());
    };
    match stages
        .iter()
        .zip(asts)
        .skip(split)
        .find(|(s, _)| s.before_ordered_only())
    {
        Some((s, ast)) => Err(LangError::new(
            format!(
                "`{}` cannot come after `{}` in this version of evq",
                s.name(),
                first.name()
            ),
            ast.span,
        )
        .hint(format!(
            "move `{}` before `{}`: it runs on each event as it is read",
            s.name(),
            first.name()
        ))),
        None => Ok(()),
    }
}

/// The top-level fields that the stages after a point can observe: those they read, up to the first stage
/// that no longer passes events on (an aggregate, or `keep`, which drops every other field). When events
/// reach the output or a file, or an expression reads the whole event, every field is observed.
fn observed_after(stages: &[Stage]) -> Want {
    let mut n = Needs::default();
    for s in stages {
        s.needs(&mut n);
        if n.whole {
            return Want::All;
        }
        match s {
            Stage::Group(_) | Stage::Keep(_) => return Want::Only(n.keys),
            Stage::To(_) => return Want::All,
            _ => {}
        }
    }
    Want::All
}

/// A dead letter found in a chunk, with what had been produced before it so that a
/// run stopped by `--strict` or `--max-errors` can cut its output exactly there.
#[derive(Debug, Clone)]
pub(crate) struct DeadLetter {
    pub out_len: usize,
    pub recs_len: usize,
    pub stats_before: Stats,
    /// The chunk's partial groups since the dead letter before this one.
    pub groups_before: Option<Groups>,
    pub file: u32,
    pub line: u64,
    pub reason: Reason,
    pub error: String,
    /// The NDJSON record for `--dead-letter`, with its newline.
    pub record: Vec<u8>,
}

/// An event that passed the parallel part, when an ordered part follows.
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub end: usize,
    pub meta: Meta,
    pub topic: Option<Arc<str>>,
    /// An extra copy made by `route all`.
    pub copy: bool,
}

/// What a worker made of one chunk.
#[derive(Debug, Default)]
pub(crate) struct ChunkOut {
    pub seq: u64,
    pub file: u32,
    /// Formatted output, or with an ordered part, the events' JSON text back to back.
    pub data: Vec<u8>,
    pub recs: Vec<Rec>,
    pub dead: Vec<DeadLetter>,
    pub stats: Stats,
    pub error: Option<String>,
    /// Events written to `data` (with `route all` copies), in direct mode.
    pub written: u64,
    /// Partial groups, when the pipeline has a `partial` aggregate.
    pub groups: Option<Groups>,
}

/// Runs the parallel part over one chunk.
pub(crate) fn process_chunk(chunk: Chunk, p: &Pipeline, env: &Env, format: Format, max_line: usize) -> ChunkOut {
    let mut out = ChunkOut {
        seq: chunk.seq,
        file: chunk.file,
        error: chunk.error,
        ..ChunkOut::default()
    };
    let direct = p.ordered.is_empty();
    if let ChunkKind::TooLong { len, line_len } = chunk.kind {
        out.stats.lines = 1;
        out.stats.bytes = len;
        let meta = Meta {
            file: chunk.file,
            line: chunk.first_line,
            offset: chunk.first_offset,
        };
        let error = format!("line is {line_len} bytes, longer than --max-line-bytes {max_line}");
        dead(
            &mut out,
            meta,
            &chunk.data,
            len,
            Rejection::new(Reason::TooLong, error),
            env,
        );
        return out;
    }
    let mut meta = Meta {
        file: chunk.file,
        line: chunk.first_line,
        offset: chunk.first_offset,
    };
    let data = &chunk.data;
    let mut start = 0;
    // Multi-line records (`--multiline-start`) come with their ends and line counts.
    let mut records = chunk.records.as_ref().map(|r| r.iter());
    let mut metas = chunk.metas.as_ref().map(|m| m.iter());
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
        if let Some(m) = metas.as_mut().and_then(Iterator::next) {
            meta = *m;
        }
        let mut line = &data[start..end];
        out.stats.lines += 1;
        out.stats.bytes += (next - start) as u64;
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        process_line(
            line,
            (next - start) as u64,
            meta,
            p,
            env,
            format,
            max_line,
            direct,
            &mut out,
        );
        meta.line += lines;
        meta.offset += (next - start) as u64;
        start = next;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn process_line(
    line: &[u8],
    line_bytes: u64,
    meta: Meta,
    p: &Pipeline,
    env: &Env,
    format: Format,
    max_line: usize,
    direct: bool,
    out: &mut ChunkOut,
) {
    if line.first() != Some(&b'{') && line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
        out.stats.blank += 1;
        return;
    }
    if line.len() > max_line {
        let error = format!("line is {} bytes, longer than --max-line-bytes {max_line}", line.len());
        let prefix = &line[..LONG_LINE_PREFIX.min(line.len())];
        return dead(
            out,
            meta,
            prefix,
            line_bytes,
            Rejection::new(Reason::TooLong, error),
            env,
        );
    }
    let lossy: String;
    // simdutf8 validates fast; std's error says where the bad byte is.
    let text = match simdutf8::basic::from_utf8(line).or_else(|_| std::str::from_utf8(line)) {
        Ok(t) => t,
        // A text line keeps its line (the exact bytes go to a dead letter if it fails later).
        Err(_) if p.input.is_text() => {
            lossy = String::from_utf8_lossy(line).into_owned();
            &lossy
        }
        Err(e) => {
            let error = format!("invalid UTF-8 at byte {}", e.valid_up_to());
            return dead(
                out,
                meta,
                line,
                line_bytes,
                Rejection::new(Reason::InvalidUtf8, error),
                env,
            );
        }
    };
    let stripped: String;
    let text = if p.strip_ansi && p.input.is_text() && text.contains('\x1b') {
        stripped = strip_ansi(text);
        &stripped
    } else {
        text
    };
    let ev = match p.input {
        InputFormat::Lines => Event::line(text, meta),
        InputFormat::Logfmt => match crate::parse::parse(&crate::parse::TextFormat::Logfmt, text) {
            Some(fields) => Event::from_fields(text, meta, fields),
            None => {
                let error = "not logfmt (key=value pairs)".to_string();
                return dead(out, meta, line, line_bytes, Rejection::new(Reason::Parse, error), env);
            }
        },
        _ => match Event::parse(text, meta, &p.parallel_needs) {
            Ok(ev) => ev,
            Err(r) => return dead(out, meta, line, line_bytes, r, env),
        },
    };
    run_parallel(0, ev, line, line_bytes, p, env, format, direct, out);
}

/// Runs the parallel stages from `from` on one event. `route all` and `explode` fan out:
/// each extra copy is marked, so its outcome is not counted as a line's fate.
#[allow(clippy::too_many_arguments)]
fn run_parallel(
    from: usize,
    mut ev: Event,
    line: &[u8],
    line_bytes: u64,
    p: &Pipeline,
    env: &Env,
    format: Format,
    direct: bool,
    out: &mut ChunkOut,
) {
    let counted = !ev.copy;
    for (i, s) in p.parallel.iter().enumerate().skip(from) {
        match s.step(&mut ev, env) {
            Step::Pass => {}
            Step::Unmatched => out.stats.unmatched_join += 1,
            Step::Drop(fate) => {
                let n = match fate {
                    Drop::Filtered => &mut out.stats.filtered,
                    Drop::ExplodedEmpty => &mut out.stats.exploded_empty,
                    Drop::SampledOut => &mut out.stats.sampled_out,
                };
                *n += u64::from(counted);
                return;
            }
            Step::Dead(r) => {
                if counted {
                    dead(out, ev.meta, line, line_bytes, r, env);
                }
                return;
            }
            // No event in its place: the line still has a fate.
            Step::Many(events) if events.is_empty() => {
                out.stats.filtered += u64::from(counted);
                return;
            }
            Step::Many(events) => {
                out.stats.copies += events.len().saturating_sub(1) as u64;
                for (k, mut c) in events.into_iter().enumerate() {
                    c.copy |= k > 0;
                    run_parallel(i + 1, c, line, line_bytes, p, env, format, direct, out);
                }
                return;
            }
        }
    }
    if let Some(spec) = &p.partial {
        let groups = out.groups.get_or_insert_with(Groups::default);
        match groups.add(spec, &ev, env) {
            Ok(()) => out.stats.aggregated += u64::from(counted),
            Err(GroupError::NoTime) if counted => {
                let error = "no parsable event time".to_string();
                dead(
                    out,
                    ev.meta,
                    line,
                    line_bytes,
                    Rejection::new(Reason::NoTime, error),
                    env,
                );
            }
            Err(GroupError::NoTime) => {}
        }
        return;
    }
    out.stats.emitted += u64::from(counted);
    if direct {
        format.write_event(&ev, &mut out.data);
        out.written += 1;
    } else {
        ev.write_json(&mut out.data);
        out.recs.push(Rec {
            end: out.data.len(),
            meta: ev.meta,
            topic: ev.topic.clone(),
            copy: ev.copy,
        });
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

fn dead(out: &mut ChunkOut, meta: Meta, raw: &[u8], line_bytes: u64, r: Rejection, env: &Env) {
    // The line is already counted as read; the snapshot is the chunk before it.
    let mut stats_before = out.stats.clone();
    stats_before.lines -= 1;
    stats_before.bytes -= line_bytes;
    out.stats.dead[r.reason.index()] += 1;
    let record = dead_record(env, meta, raw, r.reason, &r.error);
    out.dead.push(DeadLetter {
        out_len: out.data.len(),
        recs_len: out.recs.len(),
        stats_before,
        groups_before: out.groups.take(),
        file: meta.file,
        line: meta.line,
        reason: r.reason,
        error: r.error,
        record,
    });
}

/// One `--dead-letter` record, with its newline.
pub(crate) fn dead_record(env: &Env, meta: Meta, raw: &[u8], reason: Reason, error: &str) -> Vec<u8> {
    let mut rec = serde_json::Map::new();
    rec.insert("file".into(), env.file_name(meta.file).into());
    rec.insert("line".into(), meta.line.into());
    rec.insert("offset".into(), meta.offset.into());
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

/// The ordered part's state, fed events in input order on one thread.
#[derive(Clone)]
pub(crate) struct Ordered {
    stages: Vec<Stage>,
    needs: Needs,
    format: Format,
    /// The files of each `to` and `tee` stage, by stage index (shared by live-view snapshots,
    /// which never write files).
    files: StageFiles,
    /// False in a live-view snapshot.
    writes_files: bool,
    /// Lines for topic files not yet written.
    pending: Pending,
}

/// How much output the end of input gathers before handing it to the sinks.
const FINISH_FLUSH_BYTES: usize = 1 << 20;

/// What the ordered part produced for one batch.
#[derive(Default)]
pub(crate) struct OrderedOut {
    pub data: Vec<u8>,
    /// Events that a later stage dropped after the parallel part counted them emitted:
    /// the input each came from and its fate.
    pub dropped: Vec<(u32, Dropped)>,
    /// Events rejected by a stage: where they came from, why, and their JSON text.
    pub dead: Vec<(Meta, Reason, String)>,
    /// Events written to `data`.
    pub written: u64,
    /// A stage failed (a sort could not spill): the message.
    pub error: Option<String>,
    /// A topic file could not be written: the message, naming the file.
    pub output_error: Option<String>,
}

/// The fate of an event that the ordered part did not pass on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dropped {
    Skipped,
    Filtered,
    Aggregated,
}

impl OrderedOut {
    fn drop_event(&mut self, meta: Meta, fate: Dropped) {
        self.dropped.push((meta.file, fate));
    }

    /// Moves events the ordered part dropped from `emitted` to their real fate, in the
    /// run's totals and in the counts of the input each came from.
    pub(crate) fn settle(&self, total: &mut Stats, per_file: &mut [Stats]) {
        let dropped = self.dropped.iter().map(|&(file, fate)| (file, Ok(fate)));
        let dead = self.dead.iter().map(|(meta, reason, _)| (meta.file, Err(*reason)));
        for (file, fate) in dropped.chain(dead) {
            for stats in std::iter::once(&mut *total).chain(per_file.get_mut(file as usize)) {
                // Under --merge a chunk's lines are counted for its first input, so an
                // input's own count may not hold the event: never below zero.
                stats.emitted = stats.emitted.saturating_sub(1);
                match fate {
                    Ok(Dropped::Skipped) => stats.skipped += 1,
                    Ok(Dropped::Filtered) => stats.filtered += 1,
                    Ok(Dropped::Aggregated) => stats.aggregated += 1,
                    Err(reason) => stats.dead[reason.index()] += 1,
                }
            }
        }
    }
}

impl Ordered {
    pub(crate) fn new(p: &Pipeline, format: Format) -> Ordered {
        let roots = p.ordered.iter().map(|s| match s {
            Stage::To(t) => Some(t.root.as_path()),
            _ => None,
        });
        let files = StageFiles::new(roots, p.topic.clone());
        Ordered {
            stages: p.ordered.clone(),
            needs: p.ordered_needs.clone(),
            format,
            files,
            writes_files: true,
            pending: Pending::new(p.held_bytes),
        }
    }

    /// Closes every topic file; with `--atomic`, renames them into place only on success.
    pub(crate) fn close_files(&mut self, success: bool) -> Result<(), String> {
        let result = self.flush_files();
        // A write that failed in the last flush fails the run.
        let closed = self.files.finish(success && result.is_ok());
        result.and(closed)
    }

    /// Writes the lines held for topic files and waits until they are written.
    pub(crate) fn flush_files(&mut self) -> Result<(), String> {
        let result = self.pending.flush(&self.files);
        self.pending.stop();
        result
    }

    /// True when no further input can change the output (a satisfied `head`).
    pub(crate) fn is_done(&self) -> bool {
        for s in &self.stages {
            match s {
                Stage::Head(h) if h.is_done() => return true,
                Stage::Head(_) => {}
                s if s.is_parallel() => {}
                _ => return false,
            }
        }
        false
    }

    /// What the output would be if the input ended now (for the live view).
    pub(crate) fn snapshot(&self, env: &Env) -> Vec<u8> {
        let mut copy = self.clone();
        copy.writes_files = false;
        let mut out = OrderedOut::default();
        copy.finish(env, &mut out, &mut |_| true);
        out.data
    }

    /// Merges a chunk's partial groups into the first stage's.
    pub(crate) fn merge_partial(&mut self, groups: Groups) {
        if let Some(Stage::Group(g)) = self.stages.first_mut() {
            g.groups.merge(groups, &g.spec);
        }
    }

    /// The name of a grouping stage that went past `--max-groups`.
    pub(crate) fn overflowed(&self) -> Option<&'static str> {
        self.stages.iter().find_map(|s| match s {
            Stage::Group(g) if g.groups.overflow => Some(g.spec.stage),
            _ => None,
        })
    }

    pub(crate) fn feed(&mut self, rec: &str, r: &Rec, env: &Env, out: &mut OrderedOut) {
        self.feed_text(0, rec, r.meta, r.topic.clone(), r.copy, env, out);
    }

    /// Parses an event's text as far as the ordered stages read it and feeds it from
    /// stage `from`. The text passed the decode-time check, or was written from an
    /// event that did, so it parses; if it did not, the line would be a dead letter.
    #[allow(clippy::too_many_arguments)]
    fn feed_text(
        &mut self,
        from: usize,
        json: &str,
        meta: Meta,
        topic: Option<Arc<str>>,
        copy: bool,
        env: &Env,
        out: &mut OrderedOut,
    ) {
        let parsed = if self.needs.keys.is_empty() && !self.needs.whole {
            Ok(Event::validated(json, meta))
        } else {
            Event::parse(json, meta, &self.needs)
        };
        let mut ev = match parsed {
            Ok(ev) => ev,
            // An aggregate's row may hold a whole event, a level deeper than any event.
            Err(_) if meta.is_derived() => match crate::json::reparse(json.as_bytes()) {
                Ok(tree) => Event::derived(json, tree),
                Err(_) => return,
            },
            // A copy's line has its fate elsewhere.
            Err(_) if copy => return,
            Err(r) => return out.dead.push((meta, r.reason, json.to_string())),
        };
        ev.topic = topic;
        ev.copy = copy;
        self.feed_event(from, ev, env, out);
    }

    fn feed_event(&mut self, from: usize, mut ev: Event, env: &Env, out: &mut OrderedOut) {
        for i in from..self.stages.len() {
            if let Stage::To(t) = &self.stages[i] {
                let tee = t.tee;
                if self.writes_files {
                    let id = self.pending.file(i, |rel| t.render(&ev, env, rel));
                    self.pending.push(id, |buf| {
                        ev.write_json(buf);
                        buf.push(b'\n');
                    });
                    out.written += 1;
                    if let Err(e) = self.pending.write_if_full(&self.files) {
                        out.output_error.get_or_insert(e);
                    }
                }
                if tee {
                    continue;
                }
                return;
            }
            let flow = match &mut self.stages[i] {
                Stage::Head(h) => h.apply(),
                Stage::Tail(t) => {
                    let held = Held {
                        json: ev.json_string(),
                        meta: ev.meta,
                        topic: ev.topic.clone(),
                        copy: ev.copy,
                    };
                    // The event pushed out is skipped: its own line's fate, not this one's.
                    if let Some(out_of_view) = t.push(held).filter(|h| !h.copy && !h.meta.is_derived()) {
                        out.drop_event(out_of_view.meta, Dropped::Skipped);
                    }
                    return;
                }
                Stage::Group(g) => match g.add(&ev, env) {
                    Ok(rows) => {
                        // A `route all` copy is not a line: its line was counted once already.
                        if !ev.meta.is_derived() && !ev.copy {
                            out.drop_event(ev.meta, Dropped::Aggregated);
                        }
                        self.feed_rows(i + 1, rows, env, out);
                        return;
                    }
                    Err(Rejected::NoTime) => Flow::Dead(Reason::NoTime),
                    Err(Rejected::Late) => Flow::Dead(Reason::Late),
                },
                Stage::Sort(s) => match s.push(&ev, env) {
                    Ok(()) => Flow::Held,
                    Err(e) => {
                        out.error
                            .get_or_insert(format!("sort: cannot spill to a temporary file: {e}"));
                        Flow::Skipped
                    }
                },
                s => s.apply(&mut ev, env),
            };
            if (ev.meta.is_derived() || ev.copy) && flow != Flow::Pass {
                return;
            }
            match flow {
                Flow::Pass => {}
                Flow::Filtered => {
                    out.drop_event(ev.meta, Dropped::Filtered);
                    return;
                }
                Flow::Skipped => {
                    out.drop_event(ev.meta, Dropped::Skipped);
                    return;
                }
                Flow::Dead(r) => {
                    out.dead.push((ev.meta, r, ev.raw.to_string()));
                    return;
                }
                Flow::Held => return,
            }
        }
        self.format.write_event(&ev, &mut out.data);
        out.written += 1;
    }

    /// Passes an aggregate's rows, new events, on to the stages after it: as trees,
    /// never parsed again.
    fn feed_rows(
        &mut self,
        from: usize,
        rows: impl IntoIterator<Item = serde_json::Value>,
        env: &Env,
        out: &mut OrderedOut,
    ) {
        for row in rows {
            let json = crate::json::to_string(&row);
            self.feed_event(from, Event::derived(&json, row), env, out);
        }
    }

    /// Releases what stages hold at the end of input, in pipeline order.
    /// `flush` takes what `out` holds whenever it passes `FINISH_FLUSH_BYTES`, so a sort's output streams
    /// to the sinks instead of gathering in memory.
    /// `flush` returns false when nothing more can be written (a signal, a closed pipe, an output
    /// error): the stages then stop releasing, and a sort stops merging.
    pub(crate) fn finish(&mut self, env: &Env, out: &mut OrderedOut, flush: &mut dyn FnMut(&mut OrderedOut) -> bool) {
        let mut go_on = |out: &mut OrderedOut| out.data.len() < FINISH_FLUSH_BYTES || flush(out);
        for i in 0..self.stages.len() {
            let flow = match &mut self.stages[i] {
                Stage::Tail(t) => t.drain().into_iter().try_for_each(|h| {
                    self.feed_text(i + 1, &h.json, h.meta, h.topic, h.copy, env, out);
                    continue_if(go_on(out))
                }),
                Stage::Group(g) => g.rows().try_for_each(|row| {
                    self.feed_rows(i + 1, [row], env, out);
                    continue_if(go_on(out))
                }),
                Stage::Sort(s) => {
                    // Taken out of the stage list so the sorted events stream on to the next stages.
                    let mut sort = std::mem::replace(s, s.clone());
                    let result = sort.drain(&mut |it| {
                        self.feed_text(i + 1, it.json(), it.meta(), it.topic(), it.copy(), env, out);
                        continue_if(go_on(out))
                    });
                    match result {
                        Ok(flow) => flow,
                        Err(e) => {
                            out.error
                                .get_or_insert(format!("sort: cannot read a temporary file: {e}"));
                            ControlFlow::Continue(())
                        }
                    }
                }
                _ => ControlFlow::Continue(()),
            };
            if flow.is_break() {
                return;
            }
        }
    }
}

fn continue_if(go_on: bool) -> ControlFlow<()> {
    if go_on {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_hands_a_sorts_output_on_in_pieces() {
        let asts = crate::lang::parser::parse_pipeline("sort k").expect("valid pipeline");
        let opts = StageOptions {
            memory_limit: 1 << 20,
            ..StageOptions::default()
        };
        let mut ord = Ordered::new(&Pipeline::new(&asts, &opts).expect("builds"), Format::Ndjson);
        let (env, mut out) = (Env::default(), OrderedOut::default());
        let (pad, mut bytes) = ("x".repeat(1000), 0);
        for i in 0..5000 {
            let line = format!(r#"{{"k":{},"pad":"{pad}"}}"#, (i * 7) % 100);
            bytes += line.len() + 1;
            let meta = Meta {
                file: 0,
                line: i + 1,
                offset: 0,
            };
            let rec = Rec {
                end: line.len(),
                meta,
                topic: None,
                copy: false,
            };
            ord.feed(&line, &rec, &env, &mut out);
        }
        assert!(out.data.is_empty(), "sort holds its events until the end");
        let mut pieces = Vec::new();
        ord.finish(&env, &mut out, &mut |o| {
            pieces.push(std::mem::take(&mut o.data).len());
            true
        });
        pieces.push(out.data.len());
        assert_eq!(pieces.iter().sum::<usize>(), bytes);
        assert!(pieces.len() > 4, "{pieces:?}");
        assert!(pieces.iter().all(|&n| n < FINISH_FLUSH_BYTES + 2000), "{pieces:?}");
    }

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

    #[test]
    fn parse_builds_only_what_an_aggregate_reads() {
        assert_eq!(wanted("parse combined | count by status"), only(&["status"]));
        assert_eq!(
            wanted("parse combined | where method == \"GET\" | stats avg(bytes) by status"),
            only(&["method", "status", "bytes"])
        );
        assert_eq!(wanted("parse combined | keep path, status"), only(&["path", "status"]));
        assert_eq!(wanted("parse combined | keep user.id | count"), only(&["user"]));
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
        ] {
            assert_eq!(wanted(src), Want::All, "{src}");
        }
    }
}
