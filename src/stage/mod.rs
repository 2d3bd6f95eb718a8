//! Stages: the runtime form of each stage a pipeline names.

mod assert;
mod dedupe;
mod del;
mod emit;
mod error;
mod explode;
mod fill_down;
mod flatten;
mod fold;
mod group;
mod head;
mod join;
mod keep;
mod parse;
mod range;
mod registry;
mod rename;
mod reorder;
mod route;
mod sample;
mod set;
mod shapes;
mod sort;
mod step;
mod summary;
mod tail;
#[cfg(test)]
mod testing;
mod throttle;
mod to;
mod validate;
mod r#where;

pub(crate) use crate::event::TimeField;
pub(crate) use assert::Assert;
pub(crate) use dedupe::Dedupe;
pub(crate) use del::Del;
pub(crate) use emit::{Emit, Outlet};
pub(crate) use error::StageError;
pub(crate) use explode::Explode;
pub(crate) use fill_down::FillDown;
pub(crate) use flatten::Flatten;
pub(crate) use fold::{Fold, FoldPart, FoldSpec};
pub(crate) use group::DEFAULT_MAX_GROUPS;
pub(crate) use group::{GroupError, GroupSpec, GroupStage, Groups, Order, Windows};
pub(crate) use head::Head;
pub(crate) use join::Join;
pub(crate) use keep::Keep;
pub(crate) use parse::Parse;
pub(crate) use range::{TimeRange, bound};
pub(crate) use registry::Stage;
pub(crate) use rename::Rename;
pub(crate) use reorder::Reorder;
pub(crate) use route::Route;
pub(crate) use sample::Sample;
pub(crate) use set::Set;
pub(crate) use shapes::Shapes;
pub(crate) use sort::Sort;
pub(crate) use step::Steps;
pub(crate) use summary::Summary;
pub(crate) use tail::Tail;
pub(crate) use throttle::Throttle;
pub(crate) use to::To;
pub(crate) use validate::Validate;
pub(crate) use r#where::Where;

use crate::event::{Event, Fate, Needs, Reason, Rejection};
use crate::lang::{Env, Expr};
use std::ops::ControlFlow;

/// The ordered stage right after the parallel part when the workers can compute it over
/// their chunks, in parts that the ordered part merges in input order: an aggregate that
/// gives its rows at the end, or `fold … emit final`.
#[derive(Debug, Clone)]
pub(crate) enum PartialSpec {
    Group(std::sync::Arc<GroupSpec>),
    Fold(std::sync::Arc<FoldSpec>),
}

/// One chunk's part of a [`PartialSpec`] stage.
#[derive(Debug, Clone)]
pub(crate) enum Partial {
    Groups(Groups),
    Fold(FoldPart),
}

impl PartialSpec {
    /// The partial form of `stage`, when it has one.
    pub(crate) fn of(stage: &Stage) -> Option<PartialSpec> {
        stage.as_ordered().and_then(Ordered::partial)
    }

    /// Records what the workers read for it.
    pub(crate) fn needs(&self, n: &mut Needs) {
        match self {
            PartialSpec::Group(g) => g.needs(n),
            PartialSpec::Fold(f) => f.needs(n),
        }
    }

    /// A chunk's part, with nothing in it yet.
    pub(crate) fn start(&self) -> Partial {
        match self {
            PartialSpec::Group(_) => Partial::Groups(Groups::default()),
            PartialSpec::Fold(f) => Partial::Fold(f.part()),
        }
    }
}

impl Partial {
    /// Adds an event of the chunk.
    pub(crate) fn add(&mut self, spec: &PartialSpec, ev: &Event, env: &Env) -> Result<(), GroupError> {
        match (self, spec) {
            (Partial::Groups(g), PartialSpec::Group(spec)) => g.add(spec, ev, env),
            (Partial::Fold(f), PartialSpec::Fold(spec)) => {
                f.add(spec, ev, env);
                Ok(())
            }
            // A part is started by its own spec.
            _ => Ok(()),
        }
    }
}

/// What happens to an event after a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Pass,
    /// Dropped by a filter (`where`).
    Filtered,
    /// Rejected: becomes a dead letter.
    Dead(Reason),
}

/// What a stage of the parallel part makes of one event.
pub(crate) enum Step<'a> {
    Pass,
    /// Passes on unchanged: `join` found no record for it.
    Unmatched,
    /// Dropped, with this fate.
    Drop(Fate),
    /// Rejected: becomes a dead letter.
    Dead(Rejection),
    /// Events in its place (`route all`, `explode`): the first keeps the line's fate, the
    /// others are copies.
    Many(Copies<'a>),
}

/// The events a stage puts in one event's place, made one at a time as they are taken: the
/// copies of a long array are never all held at once.
pub(crate) type Copies<'a> = Box<dyn Iterator<Item = Event<'a>> + 'a>;

/// Run-wide settings some stages need.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageOptions {
    pub time: Option<crate::lang::Path>,
    pub max_groups: Option<usize>,
    pub memory_limit: usize,
    /// `--lateness`: windows stream out once the watermark passes them.
    pub lateness: Option<f64>,
    /// `--tz`: the zone whose days `every 1d` windows follow and window bounds are written in
    /// (UTC when `None`).
    pub zone: Option<chrono_tz::Tz>,
    /// How `to` and `tee` open their files.
    pub topic: crate::output::topic::TopicOptions,
    /// `--seed`, for `sample`.
    pub seed: u64,
    /// `--since` and `--until`, in Unix seconds.
    pub since: Option<f64>,
    pub until: Option<f64>,
    /// `--msg-id EXPR`: the message id of events `to` publishes to NATS.
    pub msg_id: Option<crate::lang::Expr>,
    /// `--nats-creds FILE` or `$NATS_CREDS`, for `to "nats://…"`.
    pub nats_creds: Option<std::path::PathBuf>,
}

/// What every stage says of itself.
pub(crate) trait Describe {
    /// The stage's name, as the pipeline spells it.
    fn name(&self) -> &'static str;

    /// Every expression the stage evaluates on an event. Each stage says, so that the checks
    /// made before reading (`topic()` read before a route sets it, a field compared with a
    /// constant of another type) miss none.
    fn expressions(&self) -> Vec<&Expr>;

    /// Records the paths the stage reads: by default, those its expressions read.
    fn needs(&self, n: &mut Needs) {
        self.expressions().into_iter().for_each(|e| n.add_expr(e));
    }

    /// The fate or counter the stage adds to `--stats`, for `--explain`.
    fn counts(&self) -> Option<&'static str> {
        None
    }

    /// Where the stage writes events, for `--explain` (`to`, `tee`).
    fn writes(&self) -> Option<String> {
        None
    }

    /// What the stage met that the output does not show, said once at the end of the run (a
    /// `join` that matched no event, values `flatten` wrote over).
    fn warning(&self) -> Option<String> {
        None
    }
}

/// A stage of the parallel part: it takes one event at a time, on any worker, and keeps
/// nothing between events. Placed after an ordered stage, it runs in the chain.
pub(crate) trait PerEvent: Describe {
    fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a>;
}

/// A stage of the ordered part: it takes events in input order, on one thread, and hands
/// them on through [`Emit`] or records the fates it decides.
pub(crate) trait Ordered: Describe {
    fn push(&mut self, ev: Event, out: &mut Emit);

    /// At the end of input, hands on what the stage holds; stops when `out` says so.
    fn finish(&mut self, _out: &mut Emit) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// The run stopped before the end of input (a failed `assert`, a closed output): what
    /// the stage holds is counted, not output. A stage that aggregates counted its events
    /// when they came.
    fn abandon(&mut self, _out: &mut Emit) {}

    /// Whether no later event can pass this stage (a satisfied `head`).
    fn done(&self) -> bool {
        false
    }

    /// True when the stage may keep an event past its turn (or release output only at the
    /// end): an event's output is then not written when the next one comes.
    fn holds_events(&self) -> bool {
        true
    }

    /// Whether the stage's output depends on events after it is `done`: false for the
    /// stages whose events, once passed on, are final.
    fn sees_every_event(&self) -> bool {
        true
    }

    /// The form the workers compute the stage in, in parts, when it is the first ordered stage.
    fn partial(&self) -> Option<PartialSpec> {
        None
    }

    /// Takes a chunk's part, computed on a worker, the chunk after those taken so far; an
    /// error when it takes the stage past `--max-groups` (the run then stops, and the part's
    /// lines are skipped).
    fn merge(&mut self, _part: Partial) -> Result<(), StageError> {
        Ok(())
    }

    /// The directory the stage writes its topic files below.
    fn files_root(&self) -> Option<&std::path::Path> {
        None
    }
}

impl Step<'_> {
    /// The step of a stage that passes, filters or rejects an event.
    fn of(flow: Flow) -> Self {
        match flow {
            Flow::Pass => Step::Pass,
            Flow::Filtered => Step::Drop(Fate::Filtered),
            Flow::Dead(reason) => Step::Dead(reason.into()),
        }
    }
}

impl Stage {
    /// Stateless stages run on every worker thread; the rest run in input order on one.
    pub(crate) fn is_parallel(&self) -> bool {
        self.as_ordered().is_none()
    }

    pub(crate) fn name(&self) -> &'static str {
        self.describe_it().name()
    }

    /// Records what the stage reads.
    pub(crate) fn needs(&self, n: &mut Needs) {
        self.describe_it().needs(n);
    }

    /// See [`Describe::expressions`].
    pub(crate) fn expressions(&self) -> Vec<&Expr> {
        self.describe_it().expressions()
    }

    /// See [`Describe::warning`].
    pub(crate) fn warning(&self) -> Option<String> {
        self.describe_it().warning()
    }

    /// See [`Ordered::holds_events`]; a per-event stage holds none.
    pub(crate) fn holds_events(&self) -> bool {
        self.as_ordered().is_some_and(Ordered::holds_events)
    }

    /// See [`Ordered::done`].
    pub(crate) fn done(&self) -> bool {
        self.as_ordered().is_some_and(Ordered::done)
    }

    /// See [`Ordered::sees_every_event`]; a per-event stage's events are final.
    pub(crate) fn sees_every_event(&self) -> bool {
        self.as_ordered().is_some_and(Ordered::sees_every_event)
    }

    /// At the end of input, hands on what the stage holds; stops when `out` says so.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        self.as_ordered_mut()
            .map_or(ControlFlow::Continue(()), |s| s.finish(out))
    }

    /// See [`Ordered::abandon`].
    pub(crate) fn abandon(&mut self, out: &mut Emit) {
        if let Some(s) = self.as_ordered_mut() {
            s.abandon(out);
        }
    }

    /// See [`Ordered::merge`].
    pub(crate) fn merge(&mut self, part: Partial) -> Result<(), StageError> {
        self.as_ordered_mut().map_or(Ok(()), |s| s.merge(part))
    }

    /// See [`Ordered::files_root`].
    pub(crate) fn files_root(&self) -> Option<&std::path::Path> {
        self.as_ordered().and_then(Ordered::files_root)
    }

    /// Paths the stage reads and writes, for `--explain`.
    /// Its `--explain` line: where it runs (`parallel`, when it is in the pipeline's parallel
    /// part) and the fields its expressions read, as written.
    /// One line of `--explain`: the stage's name (in a column `width` wide), where it runs
    /// (`parallel`, `ordered`, or `in parts` on every thread, merged in input order), what it
    /// reads, the fates it adds and where it writes.
    pub(crate) fn describe(&self, run: &str, width: usize) -> String {
        let mut n = Needs::default();
        self.needs(&mut n);
        let mut reads: Vec<String> = n.reads.iter().map(ToString::to_string).collect();
        if n.whole && !reads.iter().any(|r| r == ".") {
            reads.push(".".into());
        }
        if n.time {
            reads.push("event time (ts, time, timestamp or @timestamp)".into());
        }
        let it = self.describe_it();
        let reads = (!reads.is_empty()).then(|| format!("reads {}", reads.join(", ")));
        let said: Vec<String> = reads
            .into_iter()
            .chain(it.counts().map(str::to_string))
            .chain(it.writes())
            .collect();
        let line = format!("{:<width$} {run:<9} {}", self.name(), said.join("; "));
        line.trim_end().to_string()
    }
}

/// Hands on what a per-event stage made of `ev` in the ordered part, or records its fate.
fn pass_on<'a>(step: Step<'a>, ev: Event<'a>, out: &mut Emit) {
    match step {
        Step::Pass => out.push(ev),
        Step::Unmatched => {
            out.unmatched(&ev);
            out.push(ev);
        }
        Step::Drop(fate) => out.record(&ev, fate),
        Step::Dead(r) => out.dead(&ev, r),
        Step::Many(events) => {
            let mut made = 0;
            for mut c in events {
                if made > 0 {
                    out.copies(&ev, 1);
                    c.origin = c.origin.copied(made);
                }
                out.push(c);
                made += 1;
            }
            if made == 0 {
                // No event in its place: the line still has a fate.
                out.record(&ev, Fate::Filtered);
            }
        }
    }
}
