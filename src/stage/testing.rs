//! A test harness for ordered stages: runs one stage over lines and records what it output,
//! the fate of every line and any failure.

use super::{Emit, Outlet, Stage, StageError, StageOptions, To};
use crate::event::{Event, Fate, Needs, Origin, Rejection};
use crate::lang::Env;
use std::collections::BTreeMap;

/// What one run of a stage produced.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    /// The events output, as JSON text, in order.
    pub out: Vec<String>,
    /// The fate of each line, by line number.
    pub fates: BTreeMap<u64, Fate>,
    /// The error of each dead letter, by line number.
    pub errors: BTreeMap<u64, String>,
    /// The message of a failure that stopped the run.
    pub failed: Option<String>,
    /// The failure left what the stage holds wrong: it is abandoned, not finished.
    pub spoiled: bool,
}

impl Recorded {
    /// The numbers of the lines that met `fate`.
    pub(crate) fn lines(&self, fate: Fate) -> Vec<u64> {
        self.fates
            .iter()
            .filter(|(_, f)| **f == fate)
            .map(|(l, _)| *l)
            .collect()
    }
}

impl Outlet for Recorded {
    /// As the engine's writer does once the event is written: its line is emitted.
    fn output(&mut self, ev: &Event) {
        self.out.push(ev.json_string());
        if ev.origin.owns_fate() {
            self.record(ev.origin, Fate::Emitted);
        }
    }

    /// As the topic files do once they keep the line: `to`'s line is emitted.
    fn deliver(&mut self, _: usize, to: &To, ev: &Event, _: &Env) {
        if !to.tee && ev.origin.owns_fate() {
            self.record(ev.origin, Fate::Emitted);
        }
    }

    fn record(&mut self, origin: Origin, fate: Fate) {
        let before = self.fates.insert(origin.line, fate);
        assert!(
            before.is_none(),
            "line {} has two fates: {before:?} and {fate:?}",
            origin.line
        );
    }

    fn dead(&mut self, origin: Origin, why: Rejection, _: &str) {
        self.errors.insert(origin.line, why.error.clone());
        self.record(origin, Fate::Dead(why.reason));
    }

    fn unmatched(&mut self, _: Origin) {}

    fn copies(&mut self, _: Origin, _: usize) {}

    fn fail(&mut self, e: StageError) {
        self.spoiled |= e.spoils_what_is_held();
        self.failed.get_or_insert(e.to_string());
    }

    fn stop(&mut self, _: &Event, message: String) {
        self.failed.get_or_insert(message);
    }

    fn go_on(&mut self) -> bool {
        true
    }
}

/// Runs the stage `src` (one stage of the language) over `lines`, numbered from 1, and
/// finishes it; checks that every line got exactly one fate. As in the chain, once the
/// stage failed no later line reaches it (each is skipped), and it is abandoned, not
/// finished, when the failure left what it holds wrong.
pub(crate) fn run_stage(src: &str, opts: &StageOptions, lines: &[String]) -> Recorded {
    let asts = crate::lang::parse_pipeline(src).unwrap_or_else(|e| panic!("{}", e.render(src)));
    let mut stage = Stage::build(&asts[0], opts).expect("the stage builds");
    let mut needs = Needs::default();
    stage.needs(&mut needs);
    let (env, mut rec) = (Env::default(), Recorded::default());
    for (i, line) in lines.iter().enumerate() {
        let origin = Origin::line(0, i as u64 + 1, 0);
        if rec.failed.is_some() {
            rec.record(origin, Fate::Skipped);
            continue;
        }
        let ev = Event::parse(line, origin, &needs).expect("a test line is valid JSON");
        stage.push(
            ev,
            &mut Emit::new(&mut [], 1, &env, std::slice::from_ref(&needs), &mut rec),
        );
    }
    let spoiled = rec.spoiled;
    let mut end = Emit::new(&mut [], 1, &env, std::slice::from_ref(&needs), &mut rec);
    if spoiled {
        stage.abandon(&mut end);
    } else {
        let _ = stage.finish(&mut end);
    }
    assert_eq!(rec.fates.len(), lines.len(), "every line has a fate: {:?}", rec.fates);
    rec
}
