//! The ordered part of a pipeline: its stages in a chain, fed events in input order on one
//! thread. Each stage hands events on through [`Emit`] and records the fates it decides;
//! this file knows no stage's insides, only the outputs they reach.

use crate::event::{Buffered, Event, Fate, Needs, Origin, Reason, Rejection};
use crate::lang::Env;
use crate::messages;
use crate::output::pending::{Landed, Pending, StageFiles};
use crate::output::{OutputError, Printed, Printer};
use crate::pipeline::{DeadLetter, Pipeline};
use crate::stage::{Emit, Outlet, Stage, StageError, To};
use crate::stats::Tally;
use std::ops::ControlFlow;
use std::sync::Arc;

/// The ordered part's state.
#[derive(Clone)]
pub(crate) struct Chain {
    stages: Vec<Stage>,
    /// What the ordered stages read from each place on (see [`Pipeline::needs_from`]).
    needs: Vec<Needs>,
    sinks: Sinks,
    /// A check failed (`assert`) or a stage went past `--max-groups`: no later event is
    /// taken, and nothing more is output.
    stopped: bool,
    /// A dead letter went past what `--strict` or `--max-errors` allows, or a stage failed:
    /// no later event is taken, and what the stages hold is released at the end, as after a
    /// worker's dead letter.
    cut: bool,
    /// How many more dead letters the stages may make before the run stops there; see
    /// [`Chain::allow_dead`].
    dead_allowed: DeadBudget,
    /// The topics of the events taken, each made once on this thread (see [`EventBuf`](crate::event::EventBuf)).
    topics: Topics,
}

/// The dead letters the ordered stages may still make (`--strict`, `--max-errors`).
#[derive(Clone, Copy, Default)]
struct DeadBudget {
    /// How many more (`None`: any number).
    left: Option<u64>,
    /// One went past the budget: the run stops at it, and a later event that would be a
    /// dead letter is counted as skipped, as the lines after a worker's cut are.
    spent: bool,
    /// Releasing at the end of input stops: a dead letter went past the budget, or came
    /// after it, while the stages were releasing what they held.
    halted: bool,
}

/// Topics by their text, each held once; emptied when it holds [`MAX_TOPICS`].
#[derive(Clone, Default)]
struct Topics(std::collections::HashMap<Box<str>, Arc<str>, foldhash::fast::RandomState>);

/// How many topics [`Topics`] holds at most: past that, each is one more allocation per event.
const MAX_TOPICS: usize = 1 << 16;

impl Topics {
    fn get(&mut self, topic: &str) -> Arc<str> {
        if let Some(t) = self.0.get(topic) {
            return Arc::clone(t);
        }
        if self.0.len() >= MAX_TOPICS {
            self.0.clear();
        }
        let t: Arc<str> = Arc::from(topic);
        self.0.insert(topic.into(), Arc::clone(&t));
        t
    }
}

/// Where the chain's events end: stdout (as `printer` writes them) and the topic files of `to`/`tee`.
#[derive(Clone)]
struct Sinks {
    printer: Printer,
    /// The files of each `to` and `tee` stage, by stage index (shared by live-view snapshots,
    /// which never write files).
    files: StageFiles,
    /// False in a live-view snapshot.
    writes_files: bool,
    /// Lines for topic files not yet written.
    pending: Pending,
    /// `to "nats://…"`.
    #[cfg(feature = "nats")]
    nats: crate::output::nats::Publishers,
}

/// How much of a row a failed check's message shows.
const SHOWN_ROW_CHARS: usize = 300;

/// How much output the end of input gathers before handing it to the sinks: what is handed
/// on is written whole (its lines' fates are counted), so a signal stops the output after
/// at most this much more.
const FINISH_FLUSH_BYTES: usize = 256 << 10;

/// What the ordered part produced for one batch.
#[derive(Default)]
pub(crate) struct OrderedOut {
    /// Output for stdout; its lines' fates are decided where it is written.
    pub printed: Printed,
    /// The fates the ordered stages decided, per input.
    pub tally: Tally,
    /// Events a stage rejected; their fates are recorded where they are sent.
    pub dead: Vec<DeadLetter>,
    /// Events topic files took for good, or published.
    pub written: u64,
    /// A stage failed (`--max-groups`, a sort that could not spill).
    pub error: Option<StageError>,
    /// A topic file could not be written (or events published).
    pub output_error: Option<OutputError>,
    /// A check failed (`assert`): the message, naming the event.
    pub stop: Option<String>,
    /// The last of `dead` went past what `--strict` or `--max-errors` allows: the chain
    /// stopped after its event.
    pub cut: bool,
}

impl OrderedOut {
    /// Whether nothing more is output: a check failed, or a stage whose groups are wrong now.
    fn halts(&self) -> bool {
        self.stop.is_some() || self.error.as_ref().is_some_and(StageError::spoils_what_is_held)
    }
}

/// The outputs as one push or one end of input reaches them.
struct Outputs<'a> {
    /// Names the inputs in messages.
    names: &'a Env,
    sinks: &'a mut Sinks,
    out: &'a mut OrderedOut,
    /// At the end of input: takes what `out` holds (see [`Chain::finish`]).
    flush: Option<&'a mut dyn FnMut(&mut OrderedOut) -> bool>,
    /// See [`Chain::allow_dead`].
    dead_allowed: &'a mut DeadBudget,
}

impl Outputs<'_> {
    /// `to "nats://…"`: publishes the event to the subject its template names; `to`'s event
    /// is emitted once handed to the publisher.
    #[cfg(feature = "nats")]
    fn publish(&mut self, server: &str, to: &To, ev: &Event, env: &Env) {
        let mut subject = String::new();
        to.render(ev, env, &mut subject);
        let mut payload = Vec::new();
        ev.write_json(&mut payload);
        let id = to.message_id(ev, env, &subject, &payload);
        self.sinks
            .nats
            .publish(server, to.nats_creds.as_deref(), subject, id, payload);
        self.out.written += 1;
        if let Some(input) = fate_of(to, ev) {
            self.out.tally.record(input, Fate::Emitted);
        }
    }

    /// Keeps an output failure: the first, and how many more files failed after it.
    fn failed(&mut self, e: OutputError) {
        self.out.output_error = Some(match self.out.output_error.take() {
            Some(first) => first.and_then(e),
            None => e,
        });
    }

    /// Adds the fates the topic files settled to this batch's.
    fn land(&mut self) {
        let landed = self.sinks.pending.take_landed();
        self.out.tally.absorb(&landed.tally);
        self.out.written += landed.events;
    }

    /// Without `--features nats` the configuration refuses such a stage.
    #[cfg(not(feature = "nats"))]
    fn publish(&mut self, server: &str, _to: &To, _ev: &Event, _env: &Env) {
        let e = OutputError::Publish(format!("nats://{server}: this evq was built without NATS"));
        self.failed(e);
    }
}

impl Outlet for Outputs<'_> {
    fn output(&mut self, ev: &Event) {
        let input = ev.origin.owns_fate().then_some(ev.origin.file);
        self.out.printed.push(&self.sinks.printer, ev, self.names, input);
    }

    fn deliver(&mut self, stage: usize, to: &To, ev: &Event, env: &Env) {
        let sinks = &mut *self.sinks;
        if !sinks.writes_files {
            return;
        }
        if let Some(server) = &to.nats {
            return self.publish(server, to, ev, env);
        }
        let id = sinks.pending.file(stage, |rel| to.render(ev, env, rel));
        sinks.pending.push(id, fate_of(to, ev), |buf| {
            ev.write_json(buf);
            buf.push(b'\n');
        });
        if let Err(e) = sinks.pending.write_if_full(&sinks.files) {
            self.failed(e);
        }
        self.land();
    }

    fn record(&mut self, origin: Origin, fate: Fate) {
        self.out.tally.record(origin.file, fate);
    }

    fn dead(&mut self, origin: Origin, why: Rejection, text: &str) {
        let budget = &mut *self.dead_allowed;
        // Releasing at the end of input stops at the dead letter that spends the budget.
        budget.halted |= budget.spent || budget.left == Some(0);
        if budget.spent {
            if origin.owns_fate() {
                self.record(origin, Fate::Skipped);
            }
            return;
        }
        let d = DeadLetter::new(self.names, origin, text.as_bytes(), why.reason, why.error);
        self.out.dead.push(d);
        match &mut budget.left {
            Some(0) => {
                self.out.cut = true;
                budget.spent = true;
            }
            Some(left) => *left -= 1,
            None => {}
        }
    }

    fn unmatched(&mut self, origin: Origin) {
        self.out.tally.of(origin.file).unmatched_join += 1;
    }

    fn copies(&mut self, origin: Origin, n: usize) {
        self.out.tally.of(origin.file).copies += n as u64;
    }

    fn fail(&mut self, e: StageError) {
        self.out.error.get_or_insert(e);
    }

    /// The message names the event's line, or shows a row (cut short) that a stage made; it
    /// stays one line whatever the message, file name or row hold.
    fn stop(&mut self, ev: &Event, message: String) {
        let at = if ev.origin.is_derived() {
            format!("{message}: {}", messages::one_line(&ev.json_string(), SHOWN_ROW_CHARS))
        } else {
            format!("{}:{}: {message}", self.names.file_name(ev.origin.file), ev.origin.line)
        };
        self.out.stop.get_or_insert(messages::one_line(&at, usize::MAX));
    }

    fn go_on(&mut self) -> bool {
        if self.out.halts() || self.dead_allowed.halted {
            return false;
        }
        match self.flush.as_mut() {
            Some(flush) => self.out.printed.bytes.len() < FINISH_FLUSH_BYTES || flush(self.out),
            None => true,
        }
    }
}

/// The input whose line's fate `to` decides by writing `ev`: none for `tee`, whose event goes
/// on, nor for an event a stage made or copied.
fn fate_of(to: &To, ev: &Event) -> Option<u32> {
    (!to.tee && ev.origin.owns_fate()).then_some(ev.origin.file)
}

impl Chain {
    pub(crate) fn new(p: &Pipeline, printer: &Printer) -> Chain {
        let roots = p.ordered.iter().map(Stage::files_root);
        Chain {
            stages: p.ordered.clone(),
            needs: p.needs_from().to_vec(),
            sinks: Sinks {
                printer: printer.clone(),
                files: StageFiles::new(roots, p.topic.clone()),
                writes_files: true,
                pending: Pending::new(p.held_bytes, p.topic.atomic),
                #[cfg(feature = "nats")]
                nats: crate::output::nats::Publishers::default(),
            },
            stopped: false,
            cut: false,
            dead_allowed: DeadBudget::default(),
            topics: Topics::default(),
        }
    }

    /// Closes every topic file; with `--atomic`, renames them into place only on success.
    /// Then every line `to` wrote has its fate (see [`Chain::take_landed`]).
    pub(crate) fn close_files(&mut self, success: bool) -> Result<(), OutputError> {
        let result = self.flush_files();
        #[cfg(feature = "nats")]
        let result = result.and(self.sinks.nats.finish());
        // A write that failed in the last flush fails the run.
        let (closed, kept) = self.sinks.files.finish(success && result.is_ok());
        self.sinks.pending.settle(&kept);
        // Files that failed only as they were closed (a compressed stream removed) are said too.
        OutputError::first_of(result, closed)
    }

    /// The fates of lines `to` wrote that topic files settled (see `output::pending`) outside a
    /// batch: when the files were flushed or closed.
    pub(crate) fn take_landed(&mut self) -> Landed {
        self.sinks.pending.take_landed()
    }

    /// Writes the lines held for topic files and waits until they are written.
    pub(crate) fn flush_files(&mut self) -> Result<(), OutputError> {
        let result = self.sinks.pending.flush(&self.sinks.files);
        self.sinks.pending.stop();
        result
    }

    /// Writes the lines held for topic files, and waits until they are written; the
    /// writing goes on after.
    pub(crate) fn flush_held(&mut self) -> Result<(), OutputError> {
        let result = self.sinks.pending.flush(&self.sinks.files);
        #[cfg(feature = "nats")]
        let result = result.and(self.sinks.nats.flush());
        result
    }

    /// Whether the chain still takes events: no stage failed and it is not done.
    pub(crate) fn takes(&self) -> bool {
        !self.cut && !self.is_done()
    }

    /// True when no further input can change the output: the chain stopped (a failed check, a
    /// stage past `--max-groups`), or a satisfied `head` that every stage before it lets
    /// events through.
    pub(crate) fn is_done(&self) -> bool {
        if self.stopped {
            return true;
        }
        for s in &self.stages {
            if s.done() {
                return true;
            }
            if s.sees_every_event() {
                return false;
            }
        }
        false
    }

    /// What the output would be if the input ended now (for the live view).
    pub(crate) fn snapshot(&self, env: &Env) -> Vec<u8> {
        let mut copy = self.clone();
        copy.sinks.writes_files = false;
        let mut out = OrderedOut::default();
        let _ = copy.finish(env, &mut out, &mut |_| true);
        out.printed.bytes
    }

    /// Merges a chunk's part of the first stage (see `PartialSpec`) into it: true when it was
    /// taken, false when the chain had stopped. A part that takes the stage past
    /// `--max-groups` stops the chain, as when a stage fails on an event.
    pub(crate) fn merge_partial(&mut self, part: crate::stage::Partial) -> Result<bool, StageError> {
        let Some(first) = self.stages.first_mut().filter(|_| !self.stopped) else {
            return Ok(false);
        };
        first.merge(part).inspect_err(|_| self.stopped = true)?;
        Ok(true)
    }

    /// Sets how many more dead letters the stages may make (`None`: any number); the one
    /// past that stops the chain after its event, as `--strict` and `--max-errors` stop the
    /// run at a worker's dead letter.
    pub(crate) fn allow_dead(&mut self, allowed: Option<u64>) {
        self.dead_allowed.left = allowed;
    }

    /// Feeds one event that passed the parallel part, as its JSON text and, when the worker
    /// found them, the places of its fields. After the chain stopped, was cut or is done (a
    /// satisfied `head`), the event's line is skipped: no stage before the `head` decides
    /// another fate for it (a `dedupe`'s `no_time`).
    pub(crate) fn feed(&mut self, ev: Buffered, env: &Env, out: &mut OrderedOut) {
        if !self.takes() {
            if ev.origin.owns_fate() {
                out.tally.record(ev.origin.file, Fate::Skipped);
            }
            return;
        }
        let mut outputs = Outputs {
            names: env,
            sinks: &mut self.sinks,
            out,
            flush: None,
            dead_allowed: &mut self.dead_allowed,
        };
        match simdutf8::basic::from_utf8(ev.text) {
            Ok(text) => {
                let mut emit = Emit::new(&mut self.stages, 0, env, &self.needs, &mut outputs);
                let topic = ev.topic.map(|t| self.topics.get(t));
                emit.push_text(text, ev.places, ev.origin, topic);
            }
            // Workers write events as UTF-8 JSON; were one not, its line is a dead letter.
            Err(_) if ev.origin.is_copy() => {}
            Err(_) => outputs.dead(ev.origin, Reason::InvalidUtf8.into(), &String::from_utf8_lossy(ev.text)),
        }
        self.stopped |= out.halts();
        // After any stage failed, no later event is taken.
        self.cut |= out.cut || out.error.is_some();
    }

    /// Releases what stages hold at the end of input, in pipeline order.
    /// `flush` takes what `out` holds whenever it passes `FINISH_FLUSH_BYTES`, so a sort's output streams
    /// to the sinks instead of gathering in memory.
    /// `flush` returns false when nothing more can be written (a signal, a closed pipe, an output
    /// error): the stages then stop releasing, and what each still holds is counted as skipped.
    /// Breaks when it stopped before everything held was released.
    pub(crate) fn finish(
        &mut self,
        env: &Env,
        out: &mut OrderedOut,
        flush: &mut dyn FnMut(&mut OrderedOut) -> bool,
    ) -> ControlFlow<()> {
        let mut released = ControlFlow::Continue(());
        // What the stages held when a dead letter cut the input short came before it: it is
        // released, up to a dead letter past the budget among it.
        self.dead_allowed.halted = false;
        for i in 0..self.stages.len() {
            let (done, rest) = self.stages.split_at_mut(i + 1);
            let mut outputs = Outputs {
                names: env,
                sinks: &mut self.sinks,
                out: &mut *out,
                flush: Some(&mut *flush),
                dead_allowed: &mut self.dead_allowed,
            };
            let mut emit = Emit::new(rest, i + 1, env, &self.needs, &mut outputs);
            // After a failed check nothing more is output: what a stage holds is counted.
            if self.stopped {
                done[i].abandon(&mut emit);
                continue;
            }
            let flow = done[i].finish(&mut emit);
            if flow.is_break() {
                // Nothing more can be written: what this stage and the later ones still hold
                // is counted.
                done[i].abandon(&mut emit);
                released = flow;
            }
            self.stopped |= out.halts() || flow.is_break();
        }
        released
    }

    /// The output is gone (a closed pipe): what the stages hold is counted, not output.
    pub(crate) fn abandon(&mut self, env: &Env, out: &mut OrderedOut) {
        // A stopped chain's `finish` abandons every stage, releasing nothing.
        self.stopped = true;
        let _ = self.finish(env, out, &mut |_| false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::StageOptions;

    #[test]
    fn finish_hands_a_sorts_output_on_in_pieces() {
        let asts = crate::lang::parser::parse_pipeline("sort k").expect("valid pipeline");
        let opts = StageOptions {
            memory_limit: 1 << 20,
            ..StageOptions::default()
        };
        let mut ord = Chain::new(
            &Pipeline::new(&asts, &opts).expect("builds"),
            &Printer::plain(crate::output::Format::Ndjson),
        );
        let (env, mut out) = (Env::default(), OrderedOut::default());
        let (pad, mut bytes) = ("x".repeat(1000), 0);
        for i in 0..5000 {
            let line = format!(r#"{{"k":{},"pad":"{pad}"}}"#, (i * 7) % 100);
            bytes += line.len() + 1;
            let ev = Buffered {
                text: line.as_bytes(),
                origin: Origin::line(0, i + 1, 0),
                topic: None,
                places: None,
            };
            ord.feed(ev, &env, &mut out);
        }
        assert!(out.printed.records.is_empty(), "sort holds its events until the end");
        let mut pieces = Vec::new();
        let mut records = 0;
        let mut take = |o: &mut OrderedOut| {
            let p = std::mem::take(&mut o.printed);
            records += p.records.iter().filter(|r| r.input == Some(0)).count();
            pieces.push(p.bytes.len());
        };
        let released = ord.finish(&env, &mut out, &mut |o| {
            take(o);
            true
        });
        assert!(released.is_continue(), "every held event was released");
        take(&mut out);
        assert_eq!(pieces.iter().sum::<usize>(), bytes);
        assert!(pieces.len() > 4, "{pieces:?}");
        assert!(pieces.iter().all(|&n| n < FINISH_FLUSH_BYTES + 2000), "{pieces:?}");
        assert_eq!(records, 5000, "each released event is a record of its line");
        assert_eq!(
            out.tally.of(0).emitted,
            0,
            "the sort's events are emitted where stdout takes them"
        );
    }

    /// Each topic is made once on the ordered thread, and the table of them stays bounded.
    #[test]
    fn a_topic_is_made_once_and_the_table_of_them_is_bounded() {
        let mut topics = Topics::default();
        let a = topics.get("a");
        assert!(Arc::ptr_eq(&a, &topics.get("a")));
        for i in 0..MAX_TOPICS {
            topics.get(&i.to_string());
        }
        assert!(topics.0.len() <= MAX_TOPICS);
        assert_eq!(&*topics.get("a"), "a");
    }
}
