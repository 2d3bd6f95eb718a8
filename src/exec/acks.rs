//! The writer's side of acknowledgements for a NATS input (`--features nats`): since
//! everything is in input order, one watermark suffices. After the writer flushed a chunk's
//! output it reports the last line whose output is all written; lines whose dead letters
//! were written go with it (they are terminated, not redelivered). Pipelines that hold
//! events (sort, aggregates, tabular output) report only at the end, after the final output.
//! The writer waits until the source has sent the acknowledgements it reported before it
//! writes more, so a crash leaves at most one chunk (one fetch batch) written but not
//! acknowledged: that is what can be delivered twice.

#[cfg(feature = "nats")]
use crate::input::nats::Note;

/// The way to the NATS source thread: notes there, and back the line up to which the
/// acknowledgements are sent.
#[cfg(feature = "nats")]
pub(super) struct Sender {
    pub(super) notes: crossbeam_channel::Sender<Note>,
    pub(super) acked: crossbeam_channel::Receiver<u64>,
}
#[cfg(not(feature = "nats"))]
pub(super) type Sender = std::convert::Infallible;

pub(super) struct Acks {
    /// To the source thread; none when the input is not NATS.
    tx: Option<Sender>,
    /// The output is released only at the end of input.
    pub(super) holds: bool,
    /// Lines whose dead letters were written since the last report.
    dead: Vec<u64>,
}

impl Acks {
    pub(super) fn new(tx: Option<Sender>, holds: bool) -> Acks {
        Acks {
            tx,
            holds,
            dead: Vec::new(),
        }
    }

    /// True when the input is NATS and this chunk's output can be reported.
    pub(super) fn streaming(&self) -> bool {
        self.tx.is_some() && !self.holds
    }

    /// Notes a dead letter written for `line` (0: an event a stage made, not a message).
    pub(super) fn dead(&mut self, line: u64) {
        if self.tx.is_some() && line > 0 {
            self.dead.push(line);
        }
    }

    /// Every line up to `upto` has its output flushed: waits until the source sent their
    /// acknowledgements (or `interrupted` says to stop waiting).
    #[cfg_attr(not(feature = "nats"), allow(clippy::unused_self, unused_variables))]
    pub(super) fn flushed(&mut self, upto: u64, interrupted: &dyn Fn() -> bool) {
        #[cfg(feature = "nats")]
        if let Some(tx) = &self.tx {
            let dead = std::mem::take(&mut self.dead);
            // A source that stopped listening nak's or redelivers what it holds.
            if tx.notes.send(Note::Flushed { upto, dead }).is_err() {
                return;
            }
            while !interrupted() {
                match tx.acked.recv_timeout(std::time::Duration::from_millis(100)) {
                    Ok(acked) if acked >= upto => return,
                    Ok(_) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
                }
            }
        }
    }

    /// The run is over: lines up to `upto` are settled when `ok`, the rest handed back.
    #[cfg_attr(not(feature = "nats"), allow(clippy::unused_self, unused_variables))]
    pub(super) fn end(&mut self, upto: u64, ok: bool) {
        #[cfg(feature = "nats")]
        if let Some(tx) = self.tx.take() {
            let (upto, dead) = if ok {
                (upto, std::mem::take(&mut self.dead))
            } else {
                (0, Vec::new())
            };
            let _ = tx.notes.send(Note::End { upto, dead });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_nats_input_nothing_is_reported() {
        // Files and stdin are never acknowledged: the writer does not flush after every chunk.
        let mut a = Acks::new(None, false);
        assert!(!a.streaming());
        a.dead(5);
        assert!(a.dead.is_empty());
        a.flushed(5, &|| unreachable!("nothing to wait for"));
        a.end(5, true);
    }
}
