//! The engine: a reader thread cuts inputs into chunks, worker threads run the
//! parallel part of the pipeline on them, and this thread puts the results back in
//! input order, runs the ordered part, writes output and dead letters, and keeps
//! the accounts. A fixed number of chunks is in flight, so memory stays constant.

use crate::chain::{Chain, OrderedOut};
mod acks;
mod dead_letters;
mod ledger;

use crate::config::{Config, StatsTo};
use crate::exit::ExitStatus;
use crate::fault::{self, Site};
use crate::input::reader;
use crate::lang::Env;
use crate::messages;
use crate::output::printed::Record;
use crate::output::whole_lines::Output;
use crate::output::{OutputError, Printed, Stdout};
use crate::pipeline::{ChunkOut, DeadLetter, Segment, process_chunk};
use crate::progress::Progress;
use crossbeam_channel::{RecvTimeoutError, bounded};
use dead_letters::{DeadLetters, Settled};
use ledger::Ledger;
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How much stdout output is written between two looks at the signal flags.
const WRITE_PIECE: usize = 256 << 10;

/// How long a stopped run waits for `--follow`'s reader to end (it looks at the stop every
/// 50 ms), so that what it says comes before the summary.
const FOLLOWER_STOPS: Duration = Duration::from_millis(500);

/// A thread of the run, by name.
fn thread(name: &str) -> std::thread::Builder {
    std::thread::Builder::new().name(name.into())
}

/// The system would not start a thread the run needs.
fn no_thread(e: &io::Error) -> ExitStatus {
    messages::error(format_args!(
        "cannot start a thread: {}; a smaller -j needs fewer",
        messages::io(e)
    ));
    ExitStatus::Internal
}

pub(crate) fn run(cfg: Config, stdout: Box<dyn Output>) -> ExitStatus {
    let started = Instant::now();
    let cfg = Arc::new(cfg);
    let stop = Arc::new(AtomicBool::new(false));
    let raw_bytes = Arc::new(AtomicU64::new(0));
    let signals = Arc::new(Signals::install());
    let failure = Arc::new(Failure::default());

    let jobs = cfg.jobs.max(1);
    let in_flight = jobs * 2 + 2;
    let (work_tx, work_rx) = bounded(jobs * 2);
    let (done_tx, done_rx) = bounded::<ChunkOut>(in_flight);
    let (permit_tx, permit_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        // The channel has room for every permit.
        let _ = permit_tx.send(());
    }

    let (note_tx, nats_reader) = spawn_nats(&cfg, &stop, &raw_bytes, &failure, &permit_rx, &work_tx);
    // The reader says when it is done: a followed file's notes at a stop come before the summary.
    let (read_tx, read_rx) = bounded::<()>(1);
    if nats_reader.is_none() {
        let (cfg, stop, raw_bytes) = (cfg.clone(), stop.clone(), raw_bytes.clone());
        let (failure, permit_rx, work_tx) = (failure.clone(), permit_rx.clone(), work_tx.clone());
        let reader = thread("evq-reader").spawn(move || {
            let mut sent = 0;
            let mut send = |chunk| {
                fault::inject(Site::Reader, sent);
                sent += 1;
                permit_rx.recv().is_ok() && work_tx.send(chunk).is_ok()
            };
            let read = panic::catch_unwind(AssertUnwindSafe(|| match &cfg.merge {
                Some(time) => crate::input::merge::read_merged(
                    &cfg.inputs,
                    &cfg.env,
                    &cfg.read,
                    time,
                    raw_bytes,
                    &stop,
                    &mut send,
                ),
                None => reader::read_all(&cfg.inputs, &cfg.read, raw_bytes, &stop, &mut send),
            }));
            if read.is_err() {
                failure.at(sent);
            }
            let _ = read_tx.send(());
        });
        if let Err(e) = reader {
            return no_thread(&e);
        }
    }
    for started in 0..jobs {
        let (cfg, work_rx, done_tx, failure) = (cfg.clone(), work_rx.clone(), done_tx.clone(), failure.clone());
        let worker = thread("evq-worker").spawn(move || {
            for chunk in work_rx {
                let seq = chunk.seq;
                let out = panic::catch_unwind(AssertUnwindSafe(|| {
                    fault::inject(Site::Worker, seq);
                    process_chunk(chunk, &cfg.pipeline, &cfg.env, &cfg.printer, cfg.read.max_line_bytes)
                }));
                let Ok(out) = out else {
                    failure.at(seq);
                    break;
                };
                if done_tx.send(out).is_err() {
                    break;
                }
            }
        });
        // Fewer workers give the same output, only later.
        match worker {
            Ok(_) => {}
            Err(e) if started == 0 => return no_thread(&e),
            Err(_) => break,
        }
    }
    drop((work_rx, done_tx, work_tx, permit_rx));

    let mut live = Live::new(&cfg);
    // The live view owns the terminal; a progress bar would fight it.
    let progress = (cfg.progress && !live.enabled).then(|| Progress::start(&cfg.inputs, raw_bytes.clone()));
    let mut w = match Writer::new(&cfg, stdout, signals.clone(), note_tx) {
        Ok(w) => w,
        Err(status) => return status,
    };
    let mut pending: BTreeMap<u64, ChunkOut> = BTreeMap::new();
    let mut next = 0;
    loop {
        live.tick(&mut w);
        if let Some(s) = signals.caught() {
            w.outcome.note(s);
            break;
        }
        if failure.reached(next) {
            w.fail();
            break;
        }
        match done_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(c) => {
                pending.insert(c.seq, c);
            }
            Err(RecvTimeoutError::Timeout) => {
                if cfg.read.follow {
                    w.idle();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) if failure.reached(next) => {
                w.fail();
                break;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while let Some(c) = pending.remove(&next) {
            next += 1;
            if panic::catch_unwind(AssertUnwindSafe(|| {
                fault::inject(Site::Ordered, c.seq);
                w.chunk(c);
            }))
            .is_err()
            {
                w.fail();
                break;
            }
            let _ = permit_tx.send(());
            w.settle();
            if let Some(p) = &progress {
                p.set_events(w.ledger.total.lines);
            }
            // A signal is taken between batches, at the top of the loop.
            if w.outcome.stopped || signals.caught().is_some() {
                break;
            }
        }
        if w.outcome.stopped {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    // A reader waiting for a permit or a worker's turn is let go.
    drop((done_rx, permit_tx));
    if cfg.read.follow {
        // A follower ends within one look; a pipe it reads whole may never end.
        let _ = read_rx.recv_timeout(FOLLOWER_STOPS);
    }
    if let Some(p) = progress {
        p.finish();
    }
    if let Some(s) = signals.caught() {
        w.outcome.note(s);
    }
    // A panic while finishing drops the writer on the way out: topic files are
    // cut back to whole lines and temporaries removed by their `Drop`.
    let status = panic::catch_unwind(AssertUnwindSafe(|| w.finish(started.elapsed().as_secs_f64())))
        .unwrap_or(ExitStatus::Internal);
    // The NATS source acknowledges what the writer reported, then ends.
    if let Some(reader) = nats_reader {
        let _ = reader.join();
    }
    status
}

/// Starts the reader thread of a `nats://` input: the sender of its acknowledgement notes
/// and the thread, which ends once the writer's last note is settled.
#[cfg(feature = "nats")]
fn spawn_nats(
    cfg: &Arc<Config>,
    stop: &Arc<AtomicBool>,
    raw_bytes: &Arc<AtomicU64>,
    failure: &Arc<Failure>,
    permit_rx: &crossbeam_channel::Receiver<()>,
    work_tx: &crossbeam_channel::Sender<crate::input::reader::Chunk>,
) -> (Option<acks::Sender>, Option<std::thread::JoinHandle<()>>) {
    let Some(input) = cfg.nats.clone() else {
        return (None, None);
    };
    let (note_tx, note_rx) = crossbeam_channel::unbounded();
    let (acked_tx, acked_rx) = crossbeam_channel::unbounded();
    let (subjects, stop, raw_bytes) = (cfg.env.subjects.clone(), stop.clone(), raw_bytes.clone());
    let failure = failure.clone();
    let engine = crate::input::nats::Engine {
        permits: permit_rx.clone(),
        chunks: work_tx.clone(),
        notes: note_rx,
        acked: acked_tx,
    };
    let failed = failure.clone();
    let reader = thread("evq-nats").spawn(move || {
        let read = panic::catch_unwind(AssertUnwindSafe(|| {
            crate::input::nats::read(&input, subjects, raw_bytes, &stop, engine);
        }));
        if read.is_err() {
            failure.at(0);
        }
    });
    let reader = reader.map_err(|e| {
        messages::error(format_args!("cannot start a thread: {}", messages::io(&e)));
        failed.at(0);
    });
    let link = acks::Sender {
        notes: note_tx,
        acked: acked_rx,
    };
    (Some(link), reader.ok())
}

/// Without `--features nats` there is no NATS input.
#[cfg(not(feature = "nats"))]
fn spawn_nats(
    cfg: &Arc<Config>,
    _stop: &Arc<AtomicBool>,
    _raw_bytes: &Arc<AtomicU64>,
    _failure: &Arc<Failure>,
    _permit_rx: &crossbeam_channel::Receiver<()>,
    _work_tx: &crossbeam_channel::Sender<crate::input::reader::Chunk>,
) -> (Option<acks::Sender>, Option<std::thread::JoinHandle<()>>) {
    match cfg.nats {
        Some(never) => match never {},
        None => (None, None),
    }
}

/// The first chunk a panicking reader or worker thread lost. The ordered thread
/// writes everything before it and stops there: nothing after is output, so a bug
/// cannot make a run look complete.
struct Failure(AtomicU64);

impl Default for Failure {
    fn default() -> Failure {
        Failure(AtomicU64::new(u64::MAX))
    }
}

impl Failure {
    fn at(&self, seq: u64) {
        self.0.fetch_min(seq, Ordering::SeqCst);
    }

    /// True once every chunk before the lost one has been taken.
    fn reached(&self, next: u64) -> bool {
        next >= self.0.load(Ordering::SeqCst)
    }
}

/// Feeds a chunk's events from `taken.upto` up to `upto` to the ordered part, noting the
/// first that it no longer takes.
fn feed_recs(ord: &mut Chain, c: &ChunkOut, taken: &mut Taken, upto: usize, env: &Env, o: &mut OrderedOut) {
    loop {
        if taken.stop.is_none() && !ord.takes() {
            taken.stop = Some(taken.upto);
        }
        let Some(ev) = c.events.get(taken.upto).filter(|_| taken.upto < upto) else {
            return;
        };
        ord.feed(ev, env, o);
        taken.upto += 1;
    }
}

/// How far the ordered side took a chunk: how many of its events (its records of output in
/// direct mode) the taken segments hold, and the first event the chain no longer took.
#[derive(Debug, Default)]
struct Taken {
    upto: usize,
    stop: Option<usize>,
}

/// What comes after a segment that was taken.
enum Next {
    /// The next segment.
    Take,
    /// Nothing: `--strict` or `--max-errors` stopped the run at its dead letter.
    Cut,
    /// The chain is done (a satisfied `head`): its dead letter, and the segments after, are skipped.
    Skip(DeadLetter),
}

/// The live view: when stdout is a terminal, input is a stream (stdin, or `--follow`) and
/// the pipeline ends in an aggregate, its current result is redrawn in place a few times a second.
struct Live {
    enabled: bool,
    last: Instant,
    drawn_at: u64,
}

impl Live {
    fn new(cfg: &Config) -> Live {
        // Followed files are streams too.
        let stream = cfg.read.follow || cfg.inputs.iter().any(|i| i.source == crate::input::Source::Stdin);
        let aggregate = matches!(cfg.pipeline.ordered.last(), Some(crate::stage::Stage::Group(_)));
        let enabled = stream
            && aggregate
            && cfg.printer.format == crate::output::Format::Table
            && std::io::stdout().is_terminal();
        Live {
            enabled,
            last: Instant::now(),
            drawn_at: 0,
        }
    }

    fn tick(&mut self, w: &mut Writer) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(250) || w.ledger.total.lines == self.drawn_at {
            return;
        }
        self.last = Instant::now();
        self.drawn_at = w.ledger.total.lines;
        let Some(ord) = w.ordered.as_ref() else { return };
        let data = ord.snapshot(&w.cfg.env);
        let height = console::Term::stdout()
            .size_checked()
            .map_or(24, |(h, _)| usize::from(h));
        if let Err(e) = w.out.redraw(&data, height) {
            w.output_error(e);
        }
    }
}

/// The signals whose default action ends the process (SIGQUIT's with a core dump, whose
/// user at a terminal asked for it to stop all the same): each is caught, and the run then
/// stops after whole chunks and lines, as on SIGINT.
const STOPPING: &[i32] = &[
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGQUIT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGUSR1,
    signal_hook::consts::SIGUSR2,
    signal_hook::consts::SIGALRM,
    signal_hook::consts::SIGVTALRM,
    signal_hook::consts::SIGPROF,
    signal_hook::consts::SIGIO,
    signal_hook::consts::SIGXCPU,
];

/// The last stopping signal caught (0: none).
struct Signals {
    caught: Arc<AtomicUsize>,
}

impl Signals {
    fn install() -> Signals {
        let s = Signals {
            caught: crate::exit::CAUGHT.clone(),
        };
        for &sig in STOPPING {
            // If a handler cannot be installed the default action (exit) remains: no data path depends on it.
            let _ = signal_hook::flag::register_usize(sig, s.caught.clone(), sig.unsigned_abs() as usize);
            let _ = signal_hook::flag::register(sig, crate::exit::SIGNALLED.clone());
        }
        s
    }

    /// Forgets the signals caught so far, so the next one can be told apart.
    fn rearm(&self) {
        self.caught.store(0, Ordering::Relaxed);
    }

    fn caught(&self) -> Option<ExitStatus> {
        match self.caught.load(Ordering::Relaxed) {
            0 => None,
            n => Some(ExitStatus::Signal(u8::try_from(n).unwrap_or(u8::MAX))),
        }
    }
}

/// The ordered end of the engine: output, dead letters, accounts.
struct Writer<'c> {
    cfg: &'c Config,
    signals: Arc<Signals>,
    out: Stdout,
    ordered: Option<Chain>,
    dead: DeadLetters,
    /// The `--stats=FILE` file, created before reading, so that a path that cannot be
    /// written stops the run before it starts, not after all its output.
    stats_file: Option<std::fs::File>,
    ledger: Ledger,
    /// The records of an output that is all or nothing (a table, a JSON array), whose fates
    /// are decided when it is finished.
    held: Vec<Record>,
    outcome: Outcome,
    /// The topic files that failed: said once, at the end, with those that failed after them.
    files_failed: Option<OutputError>,
    acks: acks::Acks,
}

/// A dead letter as stderr names it: where it was read and why it was rejected.
fn quoted(d: &DeadLetter, env: &Env) -> String {
    match d.line {
        0 => format!("an event a stage made: {}: {}", d.reason.name(), d.error),
        line => format!(
            "{}:{line}: {}: {}",
            messages::shown(env.file_name(d.file)),
            d.reason.name(),
            d.error
        ),
    }
}

/// How the run ends: the worst status so far, and whether it stops early.
#[derive(Default)]
struct Outcome {
    status: ExitStatus,
    stopped: bool,
    /// Stdout was closed by its reader: a quiet end.
    broken_pipe: bool,
    /// An output failed, or a bug was met: nothing more is written. A signal, which ranks
    /// above these in the exit status, still lets the result of what was read out.
    unwritable: bool,
}

impl Outcome {
    /// Notes a status; the worst decides the exit code.
    fn note(&mut self, status: ExitStatus) {
        self.status = self.status.max(status);
        self.unwritable |= matches!(status, ExitStatus::Output | ExitStatus::Internal);
    }

    /// Whether output can still be written.
    fn writable(&self) -> bool {
        !self.unwritable && !self.broken_pipe
    }

    /// Notes a status that ends the run.
    fn stop(&mut self, status: ExitStatus) {
        self.note(status);
        self.stopped = true;
    }
}

impl<'c> Writer<'c> {
    fn new(
        cfg: &'c Config,
        stdout: Box<dyn Output>,
        signals: Arc<Signals>,
        notes: Option<acks::Sender>,
    ) -> Result<Writer<'c>, ExitStatus> {
        let refused = |e: OutputError| {
            messages::error(&e);
            e.status()
        };
        let dead = DeadLetters::open(cfg.dead_letter.as_deref()).map_err(refused)?;
        let stats_file = match &cfg.stats {
            Some(StatsTo::File(path)) => Some(crate::output::safe_path::create_output(path).map_err(|source| {
                refused(OutputError::Stats {
                    path: path.clone(),
                    source,
                })
            })?),
            _ => None,
        };
        Ok(Writer {
            cfg,
            signals,
            out: {
                let mut out = Stdout::new(&cfg.printer, stdout, cfg.line_buffered);
                if cfg.line_buffered {
                    // A terminal: fit tables to its width.
                    out.set_width(console::Term::stdout().size_checked().map(|(_, w)| usize::from(w)));
                }
                out
            },
            ordered: (!cfg.pipeline.ordered.is_empty()).then(|| Chain::new(&cfg.pipeline, &cfg.printer)),
            dead,
            stats_file,
            ledger: Ledger::new(cfg.inputs.len()),
            held: Vec::new(),
            outcome: Outcome::default(),
            files_failed: None,
            acks: acks::Acks::new(
                notes,
                cfg.printer.format.is_tabular() || cfg.pipeline.ordered.iter().any(crate::stage::Stage::holds_events),
            ),
        })
    }

    /// Takes a chunk's segments in order, up to where `--strict` or `--max-errors` stops
    /// the run, then writes what they produced.
    fn chunk(&mut self, mut c: ChunkOut) {
        let (mut o, mut taken) = (OrderedOut::default(), Taken::default());
        let mut segments = std::mem::take(&mut c.segments).into_iter();
        while let Some(seg) = segments.next() {
            match self.segment(&c, seg, &mut taken, &mut o) {
                Next::Take => {}
                Next::Cut => {
                    // A read error right after the line that stopped the run is kept: it is
                    // why that line was cut off (a truncated archive's last line).
                    if segments.as_slice().iter().any(|s| s.read.lines() > 0) {
                        c.error = None;
                    }
                    break;
                }
                Next::Skip(d) => {
                    self.skip(&c, d, segments, &mut taken, &mut o);
                    break;
                }
            }
        }
        self.output(&mut c, o, &taken);
        if let Some(e) = c.error {
            messages::error(&e);
            self.outcome.note(e.status());
        }
    }

    /// Takes one segment: its counts, its part of the aggregate and its events, then its dead
    /// letter, which is sent or stops the run. Once the chain is done (a satisfied `head`), the
    /// lines after are not looked at, so dead letters and `--strict` do not depend on how far
    /// the reader got ahead.
    fn segment(&mut self, c: &ChunkOut, mut seg: Segment, taken: &mut Taken, o: &mut OrderedOut) -> Next {
        let done = self.take_events(c, &mut seg, taken, o);
        if self.send_ordered_dead(o) {
            // The chain was cut within this segment: its own dead letter comes after the cut.
            if let Some(d) = seg.end {
                self.ledger.dead((&d).into(), false);
            }
            return Next::Cut;
        }
        let Some(d) = seg.end else {
            return Next::Take;
        };
        if done {
            return Next::Skip(d);
        }
        let over = self.dead.over(self.cfg.strict, self.cfg.max_errors);
        if over {
            self.cut_at(d);
        } else {
            self.send(d, true);
        }
        if over { Next::Cut } else { Next::Take }
    }

    /// Records a segment's counts and feeds its events to the chain (see [`Self::feed`]),
    /// then records the fates workers decided for its lines, which stand for the lines before
    /// the event where the chain stopped taking events. True when the chain is done.
    fn take_events(&mut self, c: &ChunkOut, seg: &mut Segment, taken: &mut Taken, o: &mut OrderedOut) -> bool {
        self.ledger.read(&seg.read);
        let done = self.feed(c, seg, taken, o);
        self.ledger.settle(&seg.log, taken.stop.unwrap_or(usize::MAX));
        done
    }

    /// Feeds a segment's events to the chain after merging its part of the aggregate, or in
    /// direct mode marks its output as taken. True when the chain is done.
    fn feed(&mut self, c: &ChunkOut, seg: &mut Segment, taken: &mut Taken, o: &mut OrderedOut) -> bool {
        let Some(ord) = self.ordered.as_mut() else {
            taken.upto = seg.upto;
            return false;
        };
        if let Some(part) = seg.part.take() {
            let merged = ord.merge_partial(*part);
            self.ledger.part(&seg.part_lines, matches!(merged, Ok(true)));
            if let Err(e) = merged {
                self.stop_on(&e, e.status());
            }
        }
        let Some(ord) = self.ordered.as_mut() else {
            return false;
        };
        ord.allow_dead(self.dead.allowed(self.cfg.strict, self.cfg.max_errors));
        feed_recs(ord, c, taken, seg.upto, &self.cfg.env, o);
        ord.is_done()
    }

    /// The chain is done: dead letter `first` and the rest of the chunk can no longer change
    /// the output. Their dead letters are skipped, neither sent nor counted toward `--strict`
    /// or `--max-errors`; their events go to the chain, which skips them; the fates workers
    /// gave their other lines stand.
    fn skip(
        &mut self,
        c: &ChunkOut,
        first: DeadLetter,
        rest: impl Iterator<Item = Segment>,
        taken: &mut Taken,
        o: &mut OrderedOut,
    ) {
        self.ledger.dead((&first).into(), false);
        for mut seg in rest {
            self.take_events(c, &mut seg, taken, o);
            if let Some(d) = seg.end {
                self.ledger.dead((&d).into(), false);
            }
        }
    }

    /// `--strict` or `--max-errors` stops the run at dead letter `d`: it is named now, and
    /// sent without a second quote in the summary.
    fn cut_at(&mut self, d: DeadLetter) {
        let why = if self.cfg.strict {
            "--strict".to_string()
        } else {
            format!("more than {} dead letters, --max-errors", self.dead.seen() - 1)
        };
        messages::error(format_args!("{} ({why})", quoted(&d, &self.cfg.env)));
        self.outcome.stop(ExitStatus::Input);
        self.send(d, false);
    }

    /// Sends the dead letters the ordered stages made, in order; the one past what `--strict`
    /// or `--max-errors` allows stops the run there (the chain stopped after its event).
    /// True when it did.
    fn send_ordered_dead(&mut self, o: &mut OrderedOut) -> bool {
        for d in std::mem::take(&mut o.dead) {
            if self.dead.over(self.cfg.strict, self.cfg.max_errors) {
                self.cut_at(d);
                return true;
            }
            self.send(d, true);
        }
        false
    }

    /// Sends a dead letter, `quote`d among the summary's examples or not: the one place
    /// either happens.
    fn send(&mut self, d: DeadLetter, quote: bool) {
        let env = &self.cfg.env;
        let example = || quote.then(|| quoted(&d, env));
        let settled = self.dead.send(&d, example);
        self.settle_dead(settled);
    }

    /// Records the fates of dead letters whose records the file kept (or that were counted
    /// without one), and of those a failed write lost (skipped), whose error stops the run.
    /// False when a write failed.
    fn settle_dead(&mut self, s: Settled) -> bool {
        for l in s.kept {
            self.ledger.dead(l, true);
            self.acks.dead(if l.made { 0 } else { l.line });
        }
        for l in s.lost {
            self.ledger.dead(l, false);
        }
        let Some(e) = s.error else { return true };
        self.stop_on(&e, e.status());
        false
    }

    /// Writes what the taken segments produced: in direct mode their output; otherwise what
    /// the chain made of their events.
    fn output(&mut self, c: &mut ChunkOut, o: OrderedOut, taken: &Taken) {
        let Some(ord) = self.ordered.as_ref() else {
            return self.write(&c.printed, taken.upto);
        };
        if ord.is_done() {
            self.outcome.stopped = true;
            // A read error after the last line `head` needed does not matter.
            c.error = None;
        }
        self.ordered_out(o);
    }

    /// Accounts for, and writes, what the ordered part produced.
    fn ordered_out(&mut self, mut o: OrderedOut) {
        self.ledger.add(&o.tally);
        self.send_ordered_dead(&mut o);
        if let Some(message) = &o.stop {
            self.stop_on(message, ExitStatus::CheckFailed);
        }
        if let Some(e) = &o.error {
            self.stop_on(e, e.status());
        }
        if let Some(e) = o.output_error.take() {
            self.output_failed(e);
        }
        self.ledger.events_out += o.written;
        self.write(&o.printed, usize::MAX);
    }

    /// Writes the first `n` records to stdout, and records their lines' fates: emitted when
    /// stdout took them, skipped after a write failed or stdout was closed. A signal stops the
    /// run between batches (and between the parts a stage releases at the end), never within
    /// one. A table or a JSON array is all or nothing: its records' fates wait for [`Writer::finish`].
    fn write(&mut self, printed: &Printed, n: usize) {
        for piece in printed.pieces(n, WRITE_PIECE) {
            let kept = if self.outcome.writable() {
                self.out.write(piece.bytes, &piece.ends).map_or_else(
                    |kept| {
                        self.output_error(kept.error);
                        kept.records
                    },
                    |()| piece.records.len(),
                )
            } else {
                0
            };
            let (written, lost) = piece.records.split_at(kept);
            if self.out.all_or_nothing() {
                self.held.extend_from_slice(written);
            } else {
                self.ledger.output(written, true);
            }
            self.ledger.output(lost, false);
        }
    }

    /// Input is idle under `--follow`: dead letters and lines held for topic files are written
    /// now (stdout is flushed after every batch already).
    fn idle(&mut self) {
        let _ = self.flush_all();
    }

    /// With a NATS input whose output streams, flushes everything written so far and
    /// reports it: the source acknowledges those messages.
    fn settle(&mut self) {
        if !self.acks.streaming() || self.outcome.status >= ExitStatus::Output || self.outcome.broken_pipe {
            return;
        }
        if let Err(e) = self.out.flush() {
            return self.output_error(e);
        }
        if self.flush_all().is_ok() {
            let signals = self.signals.clone();
            self.acks
                .flushed(self.ledger.total.lines, &|| signals.caught().is_some());
        }
    }

    /// Writes dead letters and the lines held for topic files (and publishes) now; a failure
    /// stops the run with the output status.
    fn flush_all(&mut self) -> Result<(), ()> {
        let settled = self.dead.flush();
        if !self.settle_dead(settled) {
            return Err(());
        }
        let flushed = self.ordered.as_mut().map(Chain::flush_held);
        self.land_topic_lines();
        if let Some(Err(e)) = flushed {
            self.output_failed(e);
            return Err(());
        }
        Ok(())
    }

    /// Accounts for the lines `to` wrote whose fates topic files settled outside a batch.
    fn land_topic_lines(&mut self) {
        if let Some(ord) = self.ordered.as_mut() {
            let landed = ord.take_landed();
            self.ledger.add(&landed.tally);
            self.ledger.events_out += landed.events;
        }
    }

    /// Reports an error and stops the run with its status.
    fn stop_on(&mut self, e: &impl std::fmt::Display, status: ExitStatus) {
        messages::error(e);
        self.outcome.stop(status);
    }

    /// An output failed: the run stops. A topic file's failure is said at the end of the run,
    /// in one message with the other files that failed (see [`Writer::finish`]).
    fn output_failed(&mut self, e: OutputError) {
        self.outcome.stop(e.status());
        match e {
            OutputError::File(_) => {
                self.files_failed = Some(match self.files_failed.take() {
                    Some(first) => first.and_then(e),
                    None => e,
                });
            }
            e => messages::error(&e),
        }
    }

    /// Reports an output error met at the end of the run, noting its status.
    fn note(&mut self, e: &OutputError) {
        messages::error(e);
        self.outcome.note(e.status());
    }

    fn output_error(&mut self, e: io::Error) {
        self.outcome.stopped = true;
        if e.kind() == io::ErrorKind::BrokenPipe {
            // The reader went away (`evq … | head -1`): a quiet success.
            self.outcome.broken_pipe = true;
            return;
        }
        if crate::output::is_stopped(&e) {
            // A signal came while the reader of stdout took nothing: the signal's status, and
            // nothing more is written.
            self.outcome.unwritable = true;
            return;
        }
        self.note(&OutputError::Stdout(e));
    }

    /// A bug stopped the run: nothing more is output, files are closed whole.
    fn fail(&mut self) {
        self.outcome.stop(ExitStatus::Internal);
    }

    fn finish(mut self, elapsed: f64) -> ExitStatus {
        let settled = self.release();
        let written = self.outcome.writable() && self.out.finish().map_err(|e| self.output_error(e)).is_ok();
        let held = std::mem::take(&mut self.held);
        self.ledger.output(&held, written);
        // --atomic files replace their targets only when the run succeeded: not after a
        // failed assert either, nor when a closed stdout cut the run short.
        if self.outcome.broken_pipe && self.cfg.pipeline.topic.atomic && self.cfg.writes_files() {
            self.stop_on(
                &"--atomic: standard output was closed before the end of the run, so no output file was changed",
                ExitStatus::Output,
            );
        }
        let success = self.outcome.status == ExitStatus::Success;
        let closed = self.ordered.as_mut().map_or(Ok(()), |ord| ord.close_files(success));
        self.land_topic_lines();
        let failed = self.files_failed.take().map_or(Ok(()), Err);
        if let Err(e) = OutputError::first_of(failed, closed) {
            self.note(&e);
        }
        // The file's last dead letters are counted before the guidance reads the counts.
        let letters = self.dead.flush();
        self.settle_dead(letters);
        self.cfg.pipeline.report_guidance(&self.ledger.total);
        self.dead.summary(&self.ledger.total);
        // After an output error or a bug, what was written is what the chunks reported; the
        // rest is handed back. A signal still writes the output of what was read.
        self.acks
            .end(self.ledger.total.lines, settled && self.outcome.writable());
        let names: Vec<&str> = self.cfg.inputs.iter().map(|i| i.name.as_str()).collect();
        if settled {
            if let Err(e) = self.ledger.check(&names) {
                messages::error(format_args!("internal error: {e}"));
                self.outcome.note(ExitStatus::Internal);
            }
        }
        if let Some(to) = &self.cfg.stats {
            let text = format!("{:#}", self.ledger.report(&names, elapsed));
            match to {
                StatsTo::Stderr => messages::text(&text),
                StatsTo::File(path) => {
                    // One JSON document: all of it, or (cut back) nothing.
                    let written = match self.stats_file.as_mut() {
                        Some(f) => f.write_all((text + "\n").as_bytes()).inspect_err(|_| {
                            let _ = f.set_len(0);
                        }),
                        None => Ok(()),
                    };
                    if let Err(source) = written {
                        self.note(&OutputError::Stats {
                            path: path.clone(),
                            source,
                        });
                    }
                }
            }
        }
        if self.cfg.exit_status && (self.ledger.events_out == 0 || self.out.showed_nothing()) {
            // -e: nothing output is a failed check, unless something worse happened.
            self.outcome.note(ExitStatus::CheckFailed);
        }
        self.outcome.status
    }

    /// At the end of input, the ordered stages release what they hold. A signal that
    /// stopped the input still gets the result of what was read; one during that output
    /// stops it. True when every line read then has its fate.
    fn release(&mut self) -> bool {
        // After an internal error a stage's state cannot be trusted: it is not finished.
        if self.outcome.status == ExitStatus::Internal {
            return false;
        }
        let Some(mut ord) = self.ordered.take() else {
            return true;
        };
        if self.outcome.broken_pipe {
            let mut o = OrderedOut::default();
            ord.abandon(&self.cfg.env, &mut o);
            self.ledger.add(&o.tally);
            self.ordered = Some(ord);
            return true;
        }
        self.signals.rearm();
        let cfg = self.cfg;
        let mut o = OrderedOut::default();
        // What the stages release streams out as it comes: a sort's output never gathers whole.
        let released = ord.finish(&cfg.env, &mut o, &mut |part| {
            self.ordered_out(std::mem::take(part));
            if let Some(s) = self.signals.caught() {
                self.outcome.stop(s);
                return false;
            }
            // Nothing more can be written after an output error or a closed pipe.
            self.outcome.writable()
        });
        self.ordered_out(o);
        self.ordered = Some(ord);
        released.is_continue()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_chunk_stops_the_output_just_before_it() {
        let f = Failure::default();
        assert!(!f.reached(u64::MAX - 1), "nothing lost");
        f.at(7);
        f.at(3);
        f.at(9);
        assert!(!f.reached(2));
        assert!(f.reached(3), "the earliest lost chunk counts");
    }

    #[test]
    fn the_worst_status_decides_and_only_output_failures_stop_writing() {
        let mut o = Outcome::default();
        o.note(ExitStatus::Input);
        o.note(ExitStatus::CheckFailed);
        assert_eq!(o.status, ExitStatus::Input);
        assert!(o.writable() && !o.stopped, "a bad line does not stop the output");
        o.stop(ExitStatus::Output);
        assert_eq!(o.status, ExitStatus::Output);
        assert!(!o.writable() && o.stopped);
        o.note(ExitStatus::Signal(2));
        assert_eq!(o.status, ExitStatus::Signal(2));
        let o = Outcome {
            broken_pipe: true,
            ..Outcome::default()
        };
        assert!(!o.writable());
        assert_eq!(o.status, ExitStatus::Success, "a closed pipe is a quiet success");
    }

    /// Stdout for a test writer: what was written is kept.
    #[derive(Clone, Default)]
    struct Kept(Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Kept {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Output for Kept {}

    /// The config of `evq ARGS…` reading stdin.
    fn config(args: &[&str]) -> Config {
        let cli = crate::cli::Cli::read(std::iter::once("evq").chain(args.iter().copied()));
        let facts = crate::config::Facts {
            stdout_terminal: false,
            stderr_terminal: false,
            stdout_file: false,
            no_color: true,
            cores: 1,
            now: std::time::SystemTime::UNIX_EPOCH,
            modified: |_| None,
            memory_limit: None,
        };
        crate::config::Config::build(cli.expect("valid command line"), &facts)
            .config
            .expect("a valid config")
    }

    /// What the ordered side made of `input` as one chunk: the counts, the events written,
    /// then at the end of the run stdout and the status.
    struct Took {
        total: crate::stats::Stats,
        events_out: u64,
        stopped: bool,
        stdout: String,
        status: ExitStatus,
    }

    fn take(args: &[&str], input: &str) -> Took {
        let cfg = config(args);
        let kept = Kept::default();
        let signals = Arc::new(Signals { caught: Arc::default() });
        let Ok(mut w) = Writer::new(&cfg, Box::new(kept.clone()), signals, None) else {
            panic!("no writer");
        };
        let chunk = reader::Chunk {
            seq: 0,
            file: 0,
            first_line: 1,
            first_offset: 0,
            data: input.as_bytes().to_vec(),
            kind: reader::ChunkKind::Lines,
            error: None,
            records: None,
            origins: None,
            input_bytes: None,
        };
        w.chunk(process_chunk(chunk, &cfg.pipeline, &cfg.env, &cfg.printer, 1 << 20));
        let (total, events_out, stopped) = (w.ledger.total.clone(), w.ledger.events_out, w.outcome.stopped);
        let status = w.finish(0.0);
        let stdout = String::from_utf8(kept.0.lock().expect("not poisoned").clone()).expect("UTF-8");
        Took {
            total,
            events_out,
            stopped,
            stdout,
            status,
        }
    }

    /// Two dead letters between three events.
    const TWO_DEAD: &str = "{\"a\":1}\nbad\n{\"a\":2}\nworse\n{\"a\":3}\n";

    #[test]
    fn a_cut_at_the_first_dead_letter_keeps_its_segment_only() {
        for (args, stdout, fate) in [
            (&["--strict", "where true"][..], "{\"a\":1}\n", (1, 0)),
            (&["--strict", "count"][..], "{\"count\":1}\n", (0, 1)),
        ] {
            let t = take(args, TWO_DEAD);
            assert_eq!((t.stdout.as_str(), t.status), (stdout, ExitStatus::Input), "{args:?}");
            let s = &t.total;
            assert_eq!(
                (s.lines, s.bytes, s.dead_total()),
                (2, 12, 1),
                "{args:?}: the line read, and its bytes"
            );
            assert_eq!((s.emitted, s.aggregated), fate, "{args:?}");
            assert_eq!(s.fates(), s.lines);
            assert!(t.stopped);
        }
    }

    #[test]
    fn a_cut_at_the_second_dead_letter_keeps_the_first_two_segments() {
        let t = take(&["--max-errors", "1", "where true"], TWO_DEAD);
        assert_eq!(t.stdout, "{\"a\":1}\n{\"a\":2}\n");
        assert_eq!((t.total.lines, t.total.emitted, t.total.dead_total()), (4, 2, 2));
        assert_eq!(t.events_out, 2);
        let t = take(&["--max-errors", "1", "count"], TWO_DEAD);
        assert_eq!((t.stdout.as_str(), t.status), ("{\"count\":2}\n", ExitStatus::Input));
        assert_eq!((t.total.lines, t.total.aggregated, t.total.dead_total()), (4, 2, 2));
    }

    #[test]
    fn without_a_cut_every_segment_is_taken() {
        let t = take(&["--max-errors", "2", "count"], TWO_DEAD);
        assert_eq!((t.stdout.as_str(), t.status), ("{\"count\":3}\n", ExitStatus::Success));
        assert_eq!((t.total.lines, t.total.aggregated, t.total.dead_total()), (5, 3, 2));
        assert!(!t.stopped);
    }

    #[test]
    fn a_head_satisfied_before_the_first_dead_letter_skips_the_rest() {
        let t = take(&["--strict", "head 1"], TWO_DEAD);
        assert_eq!((t.stdout.as_str(), t.status), ("{\"a\":1}\n", ExitStatus::Success));
        let s = &t.total;
        assert_eq!((s.lines, s.emitted, s.skipped, s.dead_total()), (5, 1, 4, 0));
        assert!(t.stopped, "nothing after can change the output");
        // Satisfied in the second segment: the first dead letter counts, the second is skipped.
        let t = take(&["--max-errors", "1", "head 2"], TWO_DEAD);
        assert_eq!(
            (t.stdout.as_str(), t.status),
            ("{\"a\":1}\n{\"a\":2}\n", ExitStatus::Success)
        );
        let s = &t.total;
        assert_eq!((s.lines, s.emitted, s.skipped, s.dead_total()), (5, 2, 2, 1));
    }

    #[test]
    fn the_last_signal_caught_counts_until_rearmed() {
        let s = Signals { caught: Arc::default() };
        assert_eq!(s.caught(), None);
        s.caught.store(15, Ordering::Relaxed);
        assert_eq!(s.caught().map(ExitStatus::code), Some(143));
        s.caught.store(1, Ordering::Relaxed);
        assert_eq!(s.caught().map(ExitStatus::code), Some(129));
        s.rearm();
        assert_eq!(s.caught(), None);
    }
}
