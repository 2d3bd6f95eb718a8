//! What an ordered stage hands its events to: the stages after it, and through them the
//! run's outputs. A stage pushes an event on, or records its fate where it decides it;
//! it never sees how the rest of the chain or the outputs work.

use super::{Stage, StageError, To};
use crate::event::{Event, Fate, FieldAt, Needs, Origin, OwnedEvent, Rejection};
use crate::lang::Env;
use serde_json::Value;
use std::ops::ControlFlow;
use std::sync::Arc;

/// The run's outputs, as ordered stages reach them. The engine implements it.
pub(crate) trait Outlet {
    /// Past the last stage: the event is output. Its line's fate, `Emitted` (or `Skipped`
    /// when the output failed first), is recorded where it is written.
    fn output(&mut self, ev: &Event);
    /// `to`/`tee` (the stage at `stage` in the chain) writes the event to its file; for `to`,
    /// the output records the line's fate, as for [`Outlet::output`].
    fn deliver(&mut self, stage: usize, to: &To, ev: &Event, env: &Env);
    /// Records the fate of the line at `origin`.
    fn record(&mut self, origin: Origin, fate: Fate);
    /// The event is a dead letter; `text` is its JSON text.
    fn dead(&mut self, origin: Origin, why: Rejection, text: &str);
    /// `join` found no record for the event at `origin` (not a fate: it passes on).
    fn unmatched(&mut self, origin: Origin);
    /// A stage made `n` copies of the event at `origin` (`route all`, `explode`).
    fn copies(&mut self, origin: Origin, n: usize);
    /// A stage cannot go on (a sort could not spill, groups past `--max-groups`).
    fn fail(&mut self, e: StageError);
    /// A check failed on the event (`assert`): the run stops there with exit 1.
    fn stop(&mut self, ev: &Event, message: String);
    /// At the end of input, between events a stage releases: false when nothing more can be
    /// written (a signal, a closed pipe, an output error) or output (a failed check, a stage
    /// past `--max-groups`), and releasing stops.
    fn go_on(&mut self) -> bool;
}

/// The stages after the current one and the run's outputs.
pub(crate) struct Emit<'r> {
    /// The stages after the current one.
    rest: &'r mut [Stage],
    /// The place of `rest[0]` in the chain.
    at: usize,
    env: &'r Env,
    /// By place in the chain: what the stages from there on and the output read, for events
    /// released as text, so that an event is parsed for what is still to read it.
    needs: &'r [Needs],
    out: &'r mut dyn Outlet,
}

impl<'r> Emit<'r> {
    pub(crate) fn new(
        rest: &'r mut [Stage],
        at: usize,
        env: &'r Env,
        needs: &'r [Needs],
        out: &'r mut dyn Outlet,
    ) -> Self {
        Emit {
            rest,
            at,
            env,
            needs,
            out,
        }
    }

    pub(crate) fn env(&self) -> &Env {
        self.env
    }

    /// What the next stage, those after it and the output read.
    fn needs(&self) -> &'r Needs {
        static NOTHING: Needs = Needs::nothing_read();
        let needs: &'r [Needs] = self.needs;
        needs.get(self.at).or(needs.last()).unwrap_or(&NOTHING)
    }

    /// Hands the event to the next stage, or past the last one to the output.
    pub(crate) fn push(&mut self, ev: Event) {
        let at = self.at;
        match self.rest.split_first_mut() {
            None => self.out.output(&ev),
            Some((next, rest)) => {
                let mut emit = Emit::new(rest, at + 1, self.env, self.needs, &mut *self.out);
                next.push(ev, &mut emit);
            }
        }
    }

    /// Hands on an event a stage held (`tail`, `sort`), parsed as far as the stages read it. The text passed the decode-time check or was written from an event
    /// that did, so it parses; were it not to, the line is a dead letter, never lost.
    pub(crate) fn push_owned(&mut self, ev: OwnedEvent) {
        match ev.view(self.needs()) {
            Ok(view) => self.push(view),
            Err(r) => self.unparsed(&ev.text, ev.origin, ev.topic.clone(), r),
        }
    }

    /// Hands on an event that passed the parallel part as its JSON text (see [`Emit::push_owned`]).
    /// `places`, where a worker found the event's fields, spares a scan of the text.
    pub(crate) fn push_text(
        &mut self,
        text: &str,
        places: Option<&[FieldAt]>,
        origin: Origin,
        topic: Option<Arc<str>>,
    ) {
        let placed = places
            .filter(|_| !self.needs().nothing())
            .and_then(|p| Event::placed(text, origin, p));
        let parsed = placed.map_or_else(|| Event::reread(text, origin, self.needs()), Ok);
        let mut ev = match parsed {
            Ok(ev) => ev,
            Err(r) => return self.unparsed(text, origin, topic, r),
        };
        ev.topic = topic;
        self.push(ev);
    }

    /// A handed-on text that did not parse: an aggregate's row may hold a whole event, a
    /// level deeper than any event, so it is read without the limit; a copy's line has its
    /// fate elsewhere; a line's own event is a dead letter.
    fn unparsed(&mut self, text: &str, origin: Origin, topic: Option<Arc<str>>, r: Rejection) {
        if origin.is_derived() {
            if let Ok(tree) = crate::json::reparse(text.as_bytes()) {
                let mut ev = Event::derived(text, tree);
                ev.topic = topic;
                self.push(ev);
            }
        } else if origin.owns_fate() {
            self.out.dead(origin, r, text);
        }
    }

    /// Hands on an event a stage made (an aggregate's row), as a tree never parsed again.
    pub(crate) fn push_row(&mut self, row: Value) {
        let text = crate::json::to_string(&row);
        self.push(Event::derived(&text, row));
    }

    /// `to`/`tee`: the current stage writes the event to its file; `to` decides its fate.
    pub(crate) fn deliver(&mut self, to: &To, ev: &Event) {
        self.out.deliver(self.at - 1, to, ev, self.env);
    }

    /// The event goes no further: records its line's fate.
    pub(crate) fn record(&mut self, ev: &Event, fate: Fate) {
        if counted(ev) {
            self.out.record(ev.origin, fate);
        }
    }

    /// The event is a dead letter.
    pub(crate) fn dead(&mut self, ev: &Event, why: impl Into<Rejection>) {
        self.out.dead(ev.origin, why.into(), ev.raw);
    }

    /// The fate of an event a stage held and let go without passing it on.
    pub(crate) fn record_owned(&mut self, ev: &OwnedEvent, fate: Fate) {
        if ev.origin.owns_fate() {
            self.out.record(ev.origin, fate);
        }
    }

    pub(crate) fn unmatched(&mut self, ev: &Event) {
        self.out.unmatched(ev.origin);
    }

    pub(crate) fn copies(&mut self, ev: &Event, n: usize) {
        self.out.copies(ev.origin, n);
    }

    pub(crate) fn fail(&mut self, e: StageError) {
        self.out.fail(e);
    }

    /// A check failed on the event: the run stops after what came before it.
    pub(crate) fn stop(&mut self, ev: &Event, message: String) {
        self.out.stop(ev, message);
    }

    /// Whether releasing at the end of input goes on (see [`Outlet::go_on`]).
    pub(crate) fn go_on(&mut self) -> ControlFlow<()> {
        if self.out.go_on() {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    }
}

/// Whether an event's outcome is its line's fate: not for a `route all` copy (its line
/// is counted once) nor for an event a stage made.
fn counted(ev: &Event) -> bool {
    ev.origin.owns_fate()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::testing::Recorded;

    fn origin(line: u64) -> Origin {
        Origin::line(0, line, 0)
    }

    /// What the end of a chain records for events handed to it by `push`.
    fn at_the_end(needs: &Needs, push: impl FnOnce(&mut Emit)) -> Recorded {
        let (env, mut rec) = (Env::default(), Recorded::default());
        push(&mut Emit::new(&mut [], 1, &env, std::slice::from_ref(needs), &mut rec));
        rec
    }

    #[test]
    fn past_the_last_stage_an_event_is_output_and_its_line_emitted() {
        let rec = at_the_end(&Needs::default(), |e| {
            e.push_text(r#"{"a":1}"#, None, origin(4), None);
        });
        assert_eq!(rec.out, [r#"{"a":1}"#]);
        assert_eq!(rec.lines(Fate::Emitted), [4]);
    }

    #[test]
    fn copies_and_rows_a_stage_made_are_output_without_a_fate() {
        let rec = at_the_end(&Needs::default(), |e| {
            e.push_text(r#"{"a":1}"#, None, origin(4).copied(1), None);
            e.push_row(serde_json::json!({"count": 2}));
        });
        assert_eq!(rec.out, [r#"{"a":1}"#, r#"{"count":2}"#]);
        assert!(rec.fates.is_empty(), "{:?}", rec.fates);
    }

    #[test]
    fn held_text_that_does_not_parse_is_a_dead_letter_once() {
        let needs = Needs::whole_event();
        let rec = at_the_end(&needs, |e| {
            e.push_text("{\"a\":", None, origin(2), None);
            e.push_text("{\"a\":", None, origin(3).copied(1), None);
        });
        assert!(rec.out.is_empty());
        assert_eq!(
            rec.lines(Fate::Dead(crate::event::Reason::InvalidJson)),
            [2],
            "the copy's line has its fate elsewhere"
        );
        assert_eq!(rec.fates.len(), 1);
    }
}
