//! NATS JetStream input (`--features nats`): a pull consumer on a stream, read on the
//! reader thread by a small single-thread async runtime, so the rest of evq stays
//! synchronous. Each message is one event and one line of the run (newlines in a payload
//! become spaces, which JSON reads as whitespace), numbered in the order it arrived; its
//! stream sequence is its `offset()` and its subject `subject()`. A message is
//! acknowledged only when the writer reports that everything up to it is written and
//! flushed ([`Note`]): acked, or terminated when its dead letter was written; whatever is
//! left unacknowledged at the end is nak'ed, so the server redelivers it at once.

use super::reader::{Chunk, ChunkKind};
use crate::event::Origin;
use crate::lang::Subjects;
use async_nats::jetstream::consumer::{DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind, Message};
use crossbeam_channel::{Receiver, Sender};
use futures_util::StreamExt;
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Messages fetched at a time when the address gives no `batch`.
const DEFAULT_BATCH: usize = 256;
/// How long a fetch waits for messages before the source looks at its notes and the stop flag.
const FETCH_WAIT: Duration = Duration::from_millis(500);
/// The same while messages wait for their acknowledgement: the writer waits on the notes.
const BUSY_FETCH_WAIT: Duration = Duration::from_millis(20);
/// How often the source looks whether held messages need an "in progress" acknowledgement.
const PROGRESS_CHECK: Duration = Duration::from_millis(200);
/// Failed fetches in a row (half a second apart) before the source gives up.
const MAX_FETCH_ERRORS: u32 = 60;

/// A `nats://HOST:PORT/STREAM?…` input, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NatsInput {
    /// The address as given, for messages.
    pub url: String,
    /// `HOST:PORT`.
    pub server: String,
    pub stream: String,
    pub durable: Option<String>,
    pub subject: Option<String>,
    pub batch: usize,
    pub ack_wait: Option<Duration>,
    pub max_deliver: Option<i64>,
    /// `-F`: keep waiting for messages.
    pub follow: bool,
    /// `--nats-creds` or `$NATS_CREDS`.
    pub creds: Option<PathBuf>,
}

impl NatsInput {
    /// Reads `nats://HOST:PORT/STREAM?durable=NAME&subject=S&batch=N&ack_wait=DUR&max_deliver=N`
    /// (or `deliver=all` for an ephemeral consumer from the stream's start).
    pub(crate) fn parse(url: &str, follow: bool, creds: Option<PathBuf>) -> Result<NatsInput, String> {
        let fail = |why: String| format!("{url}: {why}");
        let rest = url
            .strip_prefix("nats://")
            .ok_or_else(|| fail("not a nats:// address".into()))?;
        let (server, path) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some((_, host)) = server.rsplit_once('@') {
            // The message leaves the secret out.
            return Err(format!(
                "nats://…@{host}: credentials never go in the address; give a credentials file with --nats-creds FILE or NATS_CREDS"
            ));
        }
        if !server.contains(':') || server.starts_with(':') {
            return Err(fail(
                "the server must be HOST:PORT, e.g. nats://127.0.0.1:4222/ORDERS?durable=evq".into(),
            ));
        }
        let (stream, query) = path.split_once('?').unwrap_or((path, ""));
        if stream.is_empty() || stream.contains(['/', '.', '*', '>', ' ']) {
            return Err(fail(
                "name the stream after the server, e.g. nats://127.0.0.1:4222/ORDERS?durable=evq".into(),
            ));
        }
        let mut input = NatsInput {
            url: url.to_string(),
            server: server.to_string(),
            stream: stream.to_string(),
            durable: None,
            subject: None,
            batch: DEFAULT_BATCH,
            ack_wait: None,
            max_deliver: None,
            follow,
            creds,
        };
        let mut deliver_all = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned();
            input.set(key, value, &mut deliver_all).map_err(fail)?;
        }
        if input.durable.is_none() && !deliver_all {
            return Err(fail(
                "say which consumer reads: durable=NAME (shared by every evq with that name) or deliver=all (the whole stream, for this run only)".into(),
            ));
        }
        Ok(input)
    }

    fn set(&mut self, key: &str, value: String, deliver_all: &mut bool) -> Result<(), String> {
        let number = |v: &str| v.parse::<u64>().ok().filter(|n| *n > 0);
        match key {
            "durable" if !value.is_empty() && !value.contains(['.', '*', '>', ' ']) => self.durable = Some(value),
            "subject" if !value.is_empty() => self.subject = Some(value),
            "batch" => match number(&value).filter(|n| *n <= 10_000) {
                Some(n) => self.batch = n as usize,
                None => return Err(format!("batch={value}: give a number of messages from 1 to 10000")),
            },
            "ack_wait" => match duration(&value) {
                Some(d) => self.ack_wait = Some(d),
                None => return Err(format!("ack_wait={value}: give a duration such as 30s, 500ms or 2m")),
            },
            "max_deliver" => match number(&value).and_then(|n| i64::try_from(n).ok()) {
                Some(n) => self.max_deliver = Some(n),
                None => return Err(format!("max_deliver={value}: give a number of deliveries, at least 1")),
            },
            "deliver" if value == "all" => *deliver_all = true,
            "durable" | "subject" | "deliver" => return Err(format!("{key}={value} is not a valid value")),
            _ => {
                return Err(format!(
                    "unknown setting `{key}`; known: durable, subject, batch, ack_wait, max_deliver, deliver=all"
                ));
            }
        }
        Ok(())
    }
}

/// `30s`, `500ms`, `2m` or a number of seconds.
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    match unit {
        "" | "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        _ => None,
    }
}

/// What the writer tells the source, in line numbers of the run (message order).
#[derive(Debug)]
pub(crate) enum Note {
    /// Every message up to line `upto` has its output written and flushed; `dead` are the
    /// lines whose dead letters were written since the last note.
    Flushed { upto: u64, dead: Vec<u64> },
    /// The run is over: messages up to `upto` are settled as for `Flushed`, the rest nak'ed.
    End { upto: u64, dead: Vec<u64> },
}

/// The engine's side of the reader: a permit to take before each chunk (a fixed number
/// is in flight), and where the chunks go.
pub(crate) struct Engine {
    pub permits: Receiver<()>,
    pub chunks: Sender<Chunk>,
    pub notes: Receiver<Note>,
    /// Where the source says up to which line it sent the acknowledgements.
    pub acked: Sender<u64>,
}

impl Engine {
    /// Sends a chunk that carries only an error: the engine reports it and exits 3.
    fn fail(&self, seq: u64, error: String) {
        let chunk = Chunk {
            seq,
            ..Chunk::error(0, super::InputError::Source(error))
        };
        let _ = self.permits.recv().is_ok() && self.chunks.send(chunk).is_ok();
    }

    /// Hands a chunk on once a permit is free, settling the notes that come meanwhile, so
    /// acknowledgements leave as soon as the output is flushed. False when the engine stopped.
    fn send(&self, chunk: Chunk, source: &mut Source) -> bool {
        loop {
            crossbeam_channel::select! {
                recv(self.permits) -> p => return p.is_ok() && self.chunks.send(chunk).is_ok(),
                recv(self.notes) -> n => match n {
                    Ok(note) => source.settle(note),
                    Err(_) => return false,
                },
                default(PROGRESS_CHECK) => source.keep_alive(),
            }
        }
    }
}

/// Consumes `input`, handing each fetched batch to the engine as one chunk, until nothing is
/// pending (or, with `-F`, until `stop`); then settles every message by the notes until
/// [`Note::End`]. The chunk sender is dropped when reading ends, so the engine sees the end of input.
pub(crate) fn read(
    input: &NatsInput,
    subjects: Arc<Subjects>,
    raw_bytes: Arc<AtomicU64>,
    stop: &AtomicBool,
    engine: Engine,
) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return engine.fail(0, format!("{}: cannot start the NATS client: {e}", input.url)),
    };
    let (client, consumer) = match rt.block_on(connect(input)) {
        Ok(c) => c,
        Err(e) => return engine.fail(0, format!("{}: {e}", input.url)),
    };
    let mut source = Source {
        rt,
        client,
        acked: engine.acked.clone(),
        input,
        consumer,
        subjects,
        held: VecDeque::new(),
        dead: HashSet::new(),
        line: 1,
        seq: 0,
        progress_at: Instant::now(),
    };
    if let Some(e) = source.consume(&raw_bytes, stop, &engine) {
        engine.fail(source.seq, format!("{}: {e}", input.url));
    }
    let Engine {
        permits, chunks, notes, ..
    } = engine;
    // The end of input for the engine.
    drop((permits, chunks));
    loop {
        match notes.recv_timeout(PROGRESS_CHECK) {
            Ok(note) => {
                let end = matches!(note, Note::End { .. });
                source.settle(note);
                if end {
                    break;
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => source.keep_alive(),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
    }
    source.nak_all();
}

async fn connect(input: &NatsInput) -> Result<(async_nats::Client, PullConsumer), String> {
    let mut opts = async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(5));
    if let Some(path) = &input.creds {
        opts = opts
            .credentials_file(path)
            .await
            .map_err(|e| format!("{}: {e}", crate::messages::shown_path(path)))?;
    }
    let client = opts
        .connect(input.server.as_str())
        .await
        .map_err(|e| format!("cannot connect: {e}; is a NATS server listening there?"))?;
    let js = jetstream::new(client.clone());
    let stream = js
        .get_stream(input.stream.as_str())
        .await
        .map_err(|e| format!("stream {}: {e}", input.stream))?;
    let config = pull::Config {
        durable_name: input.durable.clone(),
        deliver_policy: DeliverPolicy::All,
        filter_subject: input.subject.clone().unwrap_or_default(),
        ack_wait: input.ack_wait.unwrap_or_default(),
        max_deliver: input.max_deliver.unwrap_or_default(),
        // No cap on messages out unacknowledged (the server's default is 1,000): readers
        // sharing the durable each hold a batch, and a sort or an aggregate holds every
        // message until its output; evq bounds what it holds by its own batches.
        max_ack_pending: -1,
        ..pull::Config::default()
    };
    let consumer = match &input.durable {
        Some(name) => stream.get_or_create_consumer(name, config).await,
        None => stream.create_consumer(config).await,
    };
    let consumer = consumer.map_err(|e| format!("consumer: {e}"))?;
    Ok((client, consumer))
}

/// The consumer and the messages fetched but not yet settled.
struct Source<'a> {
    rt: tokio::runtime::Runtime,
    client: async_nats::Client,
    acked: Sender<u64>,
    input: &'a NatsInput,
    consumer: PullConsumer,
    subjects: Arc<Subjects>,
    /// In line order.
    held: VecDeque<(u64, Message)>,
    /// Lines whose dead letters are written: they are terminated, not redelivered.
    dead: HashSet<u64>,
    /// The line number of the next message.
    line: u64,
    /// The number of the next chunk.
    seq: u64,
    /// When the held messages were last said to be in progress.
    progress_at: Instant,
}

impl Source<'_> {
    /// Fetches and sends batches until nothing is pending (without `-F`), `stop`, or the
    /// engine stops taking chunks. Returns the error that ended it, if one did.
    fn consume(&mut self, raw_bytes: &AtomicU64, stop: &AtomicBool, engine: &Engine) -> Option<String> {
        let mut errors = 0;
        while !stop.load(Ordering::Relaxed) {
            for note in engine.notes.try_iter() {
                self.settle(note);
            }
            self.keep_alive();
            let wait = if self.held.is_empty() {
                FETCH_WAIT
            } else {
                BUSY_FETCH_WAIT
            };
            let batch = match self.rt.block_on(fetch(&self.consumer, self.input.batch, wait)) {
                Ok(batch) => batch,
                Err(e) => {
                    errors += 1;
                    if errors >= MAX_FETCH_ERRORS {
                        return Some(e);
                    }
                    std::thread::sleep(FETCH_WAIT);
                    continue;
                }
            };
            errors = 0;
            if batch.is_empty() {
                if !self.input.follow && self.drained() {
                    return None;
                }
                continue;
            }
            let chunk = self.chunk(batch, raw_bytes);
            if !engine.send(chunk, self) {
                return None;
            }
        }
        None
    }

    /// True when the consumer has nothing left to deliver and no message out with
    /// another reader (which would come back here if that reader died).
    fn drained(&mut self) -> bool {
        let held = self.held.len();
        match self.rt.block_on(self.consumer.info()) {
            Ok(info) => info.num_pending == 0 && info.num_ack_pending <= held,
            Err(_) => false,
        }
    }

    /// One batch as one chunk: a line per message, its stream sequence as its offset.
    fn chunk(&mut self, batch: Vec<Message>, raw_bytes: &AtomicU64) -> Chunk {
        let first_line = self.line;
        let mut data = Vec::new();
        let mut origins = Vec::with_capacity(batch.len());
        for msg in batch {
            let offset = msg.info().map_or(0, |i| i.stream_sequence);
            let line = self.line;
            self.line += 1;
            raw_bytes.fetch_add(msg.payload.len() as u64, Ordering::Relaxed);
            data.extend(msg.payload.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
            data.push(b'\n');
            origins.push(Origin::line(0, line, offset));
            self.subjects.insert(line, msg.subject.as_str());
            self.held.push_back((line, msg));
        }
        let chunk = Chunk {
            seq: self.seq,
            file: 0,
            first_line,
            first_offset: origins.first().map_or(0, |m| m.offset),
            data,
            kind: ChunkKind::Lines,
            error: None,
            records: None,
            origins: Some(origins),
            input_bytes: None,
        };
        self.seq += 1;
        chunk
    }

    /// Tells the server that the held messages are still being worked on, a few times per
    /// ack wait, so a pipeline that holds them (a sort, an aggregate) keeps them until its
    /// output is written instead of seeing them redelivered.
    fn keep_alive(&mut self) {
        let ack_wait = self.consumer.cached_info().config.ack_wait;
        let every = (ack_wait / 3).max(Duration::from_millis(200));
        if self.held.is_empty() || self.progress_at.elapsed() < every {
            return;
        }
        self.progress_at = Instant::now();
        self.rt.block_on(async {
            for (_, msg) in &self.held {
                let _ = msg.ack_with(AckKind::Progress).await;
            }
            let _ = self.client.flush().await;
        });
    }

    /// Acknowledges the messages a note says are done: terminated when dead-lettered.
    fn settle(&mut self, note: Note) {
        let (Note::Flushed { upto, dead } | Note::End { upto, dead }) = note;
        self.dead.extend(dead);
        let mut done = Vec::new();
        while self.held.front().is_some_and(|(line, _)| *line <= upto) {
            if let Some((line, msg)) = self.held.pop_front() {
                let kind = if self.dead.remove(&line) {
                    AckKind::Term
                } else {
                    AckKind::Ack
                };
                self.subjects.remove(line);
                done.push((msg, kind));
            }
        }
        self.ack(done);
        let _ = self.acked.send(upto);
    }

    /// Sends acknowledgements and flushes the connection, so they leave now; one that
    /// cannot be sent leaves its message to be redelivered.
    fn ack(&self, done: Vec<(Message, AckKind)>) {
        if done.is_empty() {
            return;
        }
        self.rt.block_on(async {
            for (msg, kind) in done {
                let _ = msg.ack_with(kind).await;
            }
            let _ = self.client.flush().await;
        });
    }

    /// Hands every unsettled message back to the server for redelivery.
    fn nak_all(&mut self) {
        let done: Vec<_> = self
            .held
            .drain(..)
            .map(|(line, msg)| {
                self.subjects.remove(line);
                (msg, AckKind::Nak(None))
            })
            .collect();
        self.ack(done);
    }
}

/// Up to `max` messages, waiting a little for the first.
async fn fetch(consumer: &PullConsumer, max: usize, wait: Duration) -> Result<Vec<Message>, String> {
    let mut messages = consumer
        .fetch()
        .max_messages(max)
        .expires(wait)
        .messages()
        .await
        .map_err(|e| format!("fetch: {e}"))?;
    let mut batch = Vec::new();
    while let Some(m) = messages.next().await {
        batch.push(m.map_err(|e| format!("fetch: {e}"))?);
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_with_a_durable_and_settings_is_read() {
        let url = "nats://127.0.0.1:4222/ORDERS?durable=evq&subject=orders.%3E&batch=50&ack_wait=2s&max_deliver=3";
        let n = NatsInput::parse(url, true, None).unwrap();
        assert_eq!((n.server.as_str(), n.stream.as_str()), ("127.0.0.1:4222", "ORDERS"));
        assert_eq!(n.durable.as_deref(), Some("evq"));
        assert_eq!(n.subject.as_deref(), Some("orders.>"));
        assert_eq!(
            (n.batch, n.ack_wait, n.max_deliver),
            (50, Some(Duration::from_secs(2)), Some(3))
        );
        assert!(n.follow);
    }

    #[test]
    fn deliver_all_needs_no_durable() {
        let n = NatsInput::parse("nats://h:1/S?deliver=all", false, None).unwrap();
        assert_eq!((n.durable, n.batch), (None, DEFAULT_BATCH));
    }

    #[test]
    fn wrong_addresses_are_refused_with_a_hint() {
        let cases = [
            ("nats://user:pw@h:1/S?durable=d", "--nats-creds"),
            ("nats://h:1/S", "durable=NAME"),
            ("nats://h:1/?durable=d", "name the stream"),
            ("nats://h/S?durable=d", "HOST:PORT"),
            ("nats://h:1/S?durable=d&batch=0", "batch=0"),
            ("nats://h:1/S?durable=d&ack_wait=soon", "ack_wait=soon"),
            ("nats://h:1/S?durable=d&colour=red", "unknown setting `colour`"),
            ("nats://h:1/S?deliver=new", "deliver=new"),
        ];
        for (url, hint) in cases {
            let e = NatsInput::parse(url, false, None).unwrap_err();
            let shown = if url.contains('@') { "nats://…@h:1" } else { url };
            assert!(
                e.starts_with(shown) && e.contains(hint) && !e.contains("pw"),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(duration("0s"), None);
        assert_eq!(duration("1h"), None);
    }
}
