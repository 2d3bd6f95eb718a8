//! Publishing to NATS JetStream (`to "nats://HOST:PORT/SUBJECT"`, `--features nats`): a
//! thread of its own with a single-thread async runtime publishes each event with a
//! `Nats-Msg-Id` header (so a re-run is deduplicated inside the stream's duplicate window)
//! and collects the stream's acknowledgements, a bounded number outstanding. `flush` waits
//! for every acknowledgement, so the input's watermark covers what was published.

use super::OutputError;
use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Publishes not yet acknowledged before the publisher waits for the oldest.
const WINDOW: usize = 256;

enum Job {
    Publish {
        subject: String,
        id: String,
        payload: Vec<u8>,
    },
    /// Wait for every acknowledgement; answer how many publishes failed so far, and why
    /// the connection could not be made, if it could not.
    Flush(Sender<(u64, Option<String>)>),
}

/// A connection to one server, publishing on its own thread.
pub(crate) struct Publisher {
    /// The server, for messages.
    server: String,
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    sent: u64,
}

impl Publisher {
    pub(crate) fn new(server: &str, creds: Option<PathBuf>) -> Publisher {
        let (tx, rx) = bounded(1024);
        let addr = server.to_string();
        // Without its thread every publish fails, as when the thread ends.
        let thread = std::thread::Builder::new()
            .name("evq-publish".into())
            .spawn(move || publish_all(&addr, creds.as_deref(), &rx))
            .ok();
        Publisher {
            server: server.to_string(),
            jobs: Some(tx),
            thread,
            sent: 0,
        }
    }

    pub(crate) fn publish(&mut self, subject: String, id: String, payload: Vec<u8>) {
        self.sent += 1;
        if let Some(jobs) = &self.jobs {
            // A thread that ended counts every publish it did not take as failed.
            let _ = jobs.send(Job::Publish { subject, id, payload });
        }
    }

    /// Waits until every publish so far is acknowledged; an error names how many were not.
    pub(crate) fn flush(&mut self) -> Result<(), OutputError> {
        let (tx, rx) = bounded(1);
        let (failed, why) = match &self.jobs {
            Some(jobs) if jobs.send(Job::Flush(tx)).is_ok() => rx.recv().unwrap_or((self.sent, None)),
            _ => (self.sent, None),
        };
        let why = why.unwrap_or_else(|| "is a stream listening on their subjects?".to_string());
        match failed {
            0 => Ok(()),
            n => Err(OutputError::Publish(format!(
                "nats://{}: {n} of {} messages were not acknowledged by a stream ({why})",
                self.server, self.sent
            ))),
        }
    }

    /// Flushes and ends the thread.
    pub(crate) fn finish(&mut self) -> Result<(), OutputError> {
        let result = if self.sent > 0 { self.flush() } else { Ok(()) };
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        result
    }
}

/// The publishing thread: connects, then takes jobs until the channel closes.
fn publish_all(server: &str, creds: Option<&Path>, jobs: &Receiver<Job>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return;
    };
    // The JetStream context starts timers: it needs the runtime entered.
    let _entered = rt.enter();
    let client = rt.block_on(async {
        let mut opts = async_nats::ConnectOptions::new().connection_timeout(std::time::Duration::from_secs(5));
        if let Some(path) = creds {
            opts = opts
                .credentials_file(path)
                .await
                .map_err(|e| format!("{}: {e}", crate::messages::shown_path(path)))?;
        }
        opts.connect(server).await.map_err(|e| format!("cannot connect: {e}"))
    });
    let (js, why) = match client {
        Ok(c) => (Some(jetstream::new(c)), None),
        Err(e) => (None, Some(e)),
    };
    let mut out: VecDeque<PublishAckFuture> = VecDeque::new();
    let mut failed = 0;
    for job in jobs {
        match job {
            Job::Publish { subject, id, payload } => {
                let Some(js) = &js else {
                    failed += 1;
                    continue;
                };
                let msg = PublishMessage::build().payload(payload.into()).message_id(id);
                match rt.block_on(js.send_publish(subject, msg)) {
                    Ok(ack) => out.push_back(ack),
                    Err(_) => failed += 1,
                }
                while out.len() > WINDOW {
                    failed += wait(&rt, &mut out, 1);
                }
            }
            Job::Flush(answer) => {
                failed += wait(&rt, &mut out, usize::MAX);
                let _ = answer.send((failed, why.clone()));
            }
        }
    }
}

/// Waits for up to `n` of the oldest acknowledgements; returns how many failed.
fn wait(rt: &tokio::runtime::Runtime, out: &mut VecDeque<PublishAckFuture>, n: usize) -> u64 {
    let mut failed = 0;
    for _ in 0..n {
        let Some(ack) = out.pop_front() else { break };
        if rt.block_on(ack.into_future()).is_err() {
            failed += 1;
        }
    }
    failed
}

/// The publishers of a pipeline, one per server, shared by the chain's copies.
#[derive(Clone, Default)]
pub(crate) struct Publishers(std::sync::Arc<std::sync::Mutex<Vec<Publisher>>>);

impl Publishers {
    pub(crate) fn publish(&self, server: &str, creds: Option<&Path>, subject: String, id: String, payload: Vec<u8>) {
        let Ok(mut all) = self.0.lock() else { return };
        let at = match all.iter().position(|p| p.server == server) {
            Some(i) => i,
            None => {
                all.push(Publisher::new(server, creds.map(Path::to_path_buf)));
                all.len() - 1
            }
        };
        all[at].publish(subject, id, payload);
    }

    /// Waits for every acknowledgement; the first error.
    pub(crate) fn flush(&self) -> Result<(), OutputError> {
        let Ok(mut all) = self.0.lock() else { return Ok(()) };
        all.iter_mut().map(Publisher::flush).fold(Ok(()), Result::and)
    }

    /// Flushes and closes every connection; the first error.
    pub(crate) fn finish(&self) -> Result<(), OutputError> {
        let Ok(mut all) = self.0.lock() else { return Ok(()) };
        all.iter_mut().map(Publisher::finish).fold(Ok(()), Result::and)
    }
}
