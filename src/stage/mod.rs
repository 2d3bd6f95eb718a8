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
pub(crate) use fold::{Fold, FoldPart, FoldSpec, too_many as fold_too_many};
pub(crate) use group::DEFAULT_MAX_GROUPS;
pub(crate) use group::{GroupError, GroupSpec, GroupStage, Groups, Order, Windows};
pub(crate) use head::Head;
pub(crate) use join::Join;
pub(crate) use keep::Keep;
pub(crate) use parse::Parse;
pub(crate) use range::{TimeRange, bound};
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
use crate::lang::ast::{AggSpec, Every};
use crate::lang::{Env, LangError, StageAst, StageSpec};
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
        match stage {
            Stage::Group(g) if !g.streaming() => Some(PartialSpec::Group(g.spec.clone())),
            Stage::Fold(f) if f.spec.in_parts() => Some(PartialSpec::Fold(f.spec.clone())),
            _ => None,
        }
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

const JOIN_HINT: &str = "join reads NDJSON (one object per line), or CSV with a header row when the name ends in \
                         .csv; a relative name starts in the current directory";
const VALIDATE_HINT: &str = "validate reads a JSON Schema (draft 2020-12, 2019-09, 7, 6 or 4) from a local file; \
                             it may not refer to other files or URLs";

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
    Many(Vec<Event<'a>>),
}

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

#[derive(Debug, Clone)]
pub(crate) enum Stage {
    Where(Where),
    Set(Set),
    Del(Del),
    Keep(Keep),
    Rename(Rename),
    Head(Head),
    Tail(Tail),
    Group(GroupStage),
    Sort(Sort),
    Route(Route),
    Parse(Parse),
    To(To),
    Fold(Fold),
    Assert(Assert),
    Explode(Explode),
    Sample(Sample),
    Join(Join),
    Validate(Validate),
    Dedupe(Dedupe),
    Throttle(Throttle),
    Reorder(Reorder),
    Summary(Summary),
    Shapes(Shapes),
    Flatten(Flatten),
    FillDown(FillDown),
    Step(Steps),
    /// `--since`/`--until`, placed after the pipeline's leading `parse` stages.
    Range(TimeRange),
}

impl Stage {
    /// The runtime stage; `join` and `validate` read their files here, and fail naming them.
    pub(crate) fn build(ast: &StageAst, opts: &StageOptions) -> Result<Stage, LangError> {
        let invalid = |e: String| LangError::new(e, ast.span);
        let group = |stage, keys: &[_], aggs: &[AggSpec], every: Option<Every>, order| {
            let time = TimeField(opts.time.clone());
            let zone = opts.zone.unwrap_or(chrono_tz::Tz::UTC);
            let windows = every.map(|e| Windows::new(e.len, e.slide, zone));
            let spec = GroupSpec::new(stage, keys.to_vec(), aggs, windows, order, time, opts.max_groups);
            Ok::<_, LangError>(Stage::Group(GroupStage::new(spec.map_err(invalid)?, opts.lateness)))
        };
        let max_groups = opts.max_groups.unwrap_or(DEFAULT_MAX_GROUPS);
        let loaded = |r: Result<Stage, String>, hint: &str| r.map_err(|e| LangError::new(e, ast.span).hint(hint));
        Ok(match &ast.spec {
            StageSpec::Where(e) => Stage::Where(Where::new(e.clone())),
            StageSpec::Set(a) => Stage::Set(Set::new(a.clone())),
            StageSpec::Del(p) => Stage::Del(Del::new(p.clone())),
            StageSpec::Keep(p) => Stage::Keep(Keep::new(p.clone())),
            StageSpec::Rename(p) => Stage::Rename(Rename::new(p.clone())),
            StageSpec::Head { n, by } => Stage::Head(Head::new(*n, by.clone(), max_groups)),
            StageSpec::Tail { n, by } => Stage::Tail(Tail::new(*n, by.clone(), max_groups)),
            StageSpec::Count { keys, every } => {
                let count = AggSpec {
                    func: "count".into(),
                    arg: None,
                    q: None,
                    name: "count".into(),
                };
                group("count", keys, &[count], *every, Order::Desc { limit: None })?
            }
            StageSpec::Stats { aggs, keys, every } => group("stats", keys, aggs, *every, Order::FirstSeen)?,
            StageSpec::Top { n, keys, by, every } => {
                let by = by.clone().unwrap_or(AggSpec {
                    func: "count".into(),
                    arg: None,
                    q: None,
                    name: "count".into(),
                });
                group("top", keys, &[by], *every, Order::Desc { limit: Some(*n) })?
            }
            StageSpec::Distinct { keys, every } => group("distinct", keys, &[], *every, Order::FirstSeen)?,
            StageSpec::Sort { keys } => Stage::Sort(Sort::new(keys.clone(), opts.memory_limit)),
            StageSpec::Route(r) => Stage::Route(Route::new(r)),
            StageSpec::Parse {
                format,
                from,
                otherwise,
            } => Stage::Parse(Parse::new(format, from.clone(), *otherwise).map_err(invalid)?),
            StageSpec::To { template, tee, .. } => {
                let mut to = To::new(template.clone(), *tee);
                to.msg_id = opts.msg_id.clone();
                to.nats_creds = opts.nats_creds.clone();
                Stage::To(to)
            }
            StageSpec::Fold { keys, from, changes } => Stage::Fold(Fold::new(
                keys.clone(),
                from.clone(),
                *changes,
                TimeField(opts.time.clone()),
                opts.max_groups.unwrap_or(DEFAULT_MAX_GROUPS),
            )),
            StageSpec::Assert { check, message } => Stage::Assert(Assert::new(check.clone(), message.clone())),
            StageSpec::Explode { path, name } => Stage::Explode(Explode::new(path.clone(), name.clone())),
            StageSpec::Sample { rate, by } => Stage::Sample(Sample::new(rate, by.clone(), opts.seed)),
            StageSpec::Join { file, on, key, name } => {
                let stage = Join::load(file, on.clone(), key, name.clone()).map(Stage::Join);
                loaded(stage, JOIN_HINT)?
            }
            StageSpec::Validate { file } => loaded(Validate::load(file).map(Stage::Validate), VALIDATE_HINT)?,
            StageSpec::Dedupe { keys, within } => Stage::Dedupe(Dedupe::new(
                keys.clone(),
                *within,
                TimeField(opts.time.clone()),
                opts.max_groups.unwrap_or(DEFAULT_MAX_GROUPS),
            )),
            StageSpec::Throttle { limit, per, by } => Stage::Throttle(Throttle::new(
                *limit,
                Windows::new(*per, *per, opts.zone.unwrap_or(chrono_tz::Tz::UTC)),
                by.clone(),
                TimeField(opts.time.clone()),
                opts.max_groups.unwrap_or(DEFAULT_MAX_GROUPS),
            )),
            StageSpec::Reorder { by, within } => Stage::Reorder(Reorder::new(by.clone(), *within, opts.memory_limit)),
            StageSpec::Summary => Stage::Summary(Summary::new(max_groups)),
            StageSpec::Shapes => Stage::Shapes(Shapes::new(max_groups)),
            StageSpec::Flatten { sep, undo } => Stage::Flatten(Flatten::new(sep.clone(), *undo)),
            StageSpec::FillDown(paths) => Stage::FillDown(FillDown::new(paths.clone())),
            StageSpec::Step { steps, by } => Stage::Step(Steps::new(
                steps.clone(),
                by.clone(),
                TimeField(opts.time.clone()),
                max_groups,
            )),
        })
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Stage::Where(_) => "where",
            Stage::Set(_) => "set",
            Stage::Del(_) => "del",
            Stage::Keep(_) => "keep",
            Stage::Rename(_) => "rename",
            Stage::Head(_) => "head",
            Stage::Tail(_) => "tail",
            Stage::Group(g) => g.spec.stage,
            Stage::Sort(_) => "sort",
            Stage::Route(_) => "route",
            Stage::Parse(_) => "parse",
            Stage::To(t) if t.tee => "tee",
            Stage::To(_) => "to",
            Stage::Fold(_) => "fold",
            Stage::Assert(_) => "assert",
            Stage::Explode(_) => "explode",
            Stage::Sample(_) => "sample",
            Stage::Join(_) => "join",
            Stage::Validate(_) => "validate",
            Stage::Dedupe(_) => "dedupe",
            Stage::Throttle(_) => "throttle",
            Stage::Reorder(_) => "reorder",
            Stage::Summary(_) => "summary",
            Stage::Shapes(_) => "shapes",
            Stage::FillDown(_) => "fill-down",
            Stage::Step(_) => "step",
            Stage::Flatten(f) => f.name(),
            Stage::Range(_) => "--since/--until",
        }
    }

    /// True when the stage may keep an event past its turn (or release output only at the
    /// end): an event's output is then not written when the next one comes.
    pub(crate) fn holds_events(&self) -> bool {
        !matches!(
            self,
            Stage::Where(_)
                | Stage::Set(_)
                | Stage::Del(_)
                | Stage::Keep(_)
                | Stage::Rename(_)
                | Stage::Head(_)
                | Stage::Route(_)
                | Stage::Parse(_)
                | Stage::To(_)
                | Stage::Assert(_)
                | Stage::Explode(_)
                | Stage::Sample(_)
                | Stage::Join(_)
                | Stage::Validate(_)
                | Stage::Dedupe(_)
                | Stage::Throttle(_)
                | Stage::Flatten(_)
        )
    }

    /// Stateless stages run on every worker thread; the rest run in input order on one.
    pub(crate) fn is_parallel(&self) -> bool {
        !matches!(
            self,
            Stage::Head(_)
                | Stage::Tail(_)
                | Stage::Group(_)
                | Stage::Sort(_)
                | Stage::To(_)
                | Stage::Fold(_)
                | Stage::Assert(_)
                | Stage::Dedupe(_)
                | Stage::Throttle(_)
                | Stage::Reorder(_)
                | Stage::Summary(_)
                | Stage::Shapes(_)
                | Stage::FillDown(_)
                | Stage::Step(_)
        )
    }

    /// Records what the stage reads.
    pub(crate) fn needs(&self, n: &mut Needs) {
        match self {
            Stage::Where(s) => s.needs(n),
            Stage::Set(s) => s.needs(n),
            Stage::Del(s) => s.needs(n),
            Stage::Keep(s) => s.needs(n),
            Stage::Rename(s) => s.needs(n),
            Stage::Group(g) => g.spec.needs(n),
            Stage::Sort(s) => s.needs(n),
            Stage::Route(r) => r.needs(n),
            Stage::Parse(s) => s.needs(n),
            Stage::To(t) => t.needs(n),
            Stage::Fold(f) => f.needs(n),
            Stage::Assert(a) => a.needs(n),
            Stage::Explode(s) => s.needs(n),
            Stage::Sample(s) => s.needs(n),
            Stage::Join(s) => s.needs(n),
            Stage::Validate(s) => s.needs(n),
            Stage::Dedupe(s) => s.needs(n),
            Stage::Throttle(s) => s.needs(n),
            Stage::Reorder(s) => s.needs(n),
            Stage::Summary(s) => s.needs(n),
            Stage::Shapes(s) => s.needs(n),
            Stage::FillDown(s) => s.needs(n),
            Stage::Step(s) => s.needs(n),
            Stage::Flatten(s) => s.needs(n),
            Stage::Head(s) => s.needs(n),
            Stage::Tail(s) => s.needs(n),
            Stage::Range(s) => s.needs(n),
        }
    }

    /// Applies a stateless stage to one event.
    pub(crate) fn apply(&self, ev: &mut Event, env: &Env) -> Flow {
        match self {
            Stage::Where(s) => s.apply(ev, env),
            Stage::Set(s) => s.apply(ev, env),
            Stage::Del(s) => s.apply(ev),
            Stage::Keep(s) => s.apply(ev),
            Stage::Rename(s) => s.apply(ev),
            Stage::Route(r) => r.apply(ev, env),
            Stage::Parse(s) => s.apply(ev, env),
            // Ordered stages are pushed (`Stage::push`); the other per-event stages take a
            // `step`, which calls this only for the stages above.
            _ => Flow::Pass,
        }
    }

    /// Applies a stage of the parallel part to one event.
    pub(crate) fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
        match self {
            Stage::Route(r) if r.fans_out() => Step::Many(r.copies(ev, env)),
            Stage::Explode(s) => s.apply(ev),
            Stage::Sample(s) => s.apply(ev, env),
            Stage::Join(s) => s.apply(ev, env),
            Stage::Validate(s) => s.apply(ev),
            Stage::Flatten(s) => s.apply(ev),
            Stage::Range(s) => s.apply(ev, env),
            s => match s.apply(ev, env) {
                Flow::Filtered => Step::Drop(Fate::Filtered),
                Flow::Dead(reason) => {
                    let error = match s {
                        Stage::Parse(p) => p.error(),
                        _ => reason.explain().to_string(),
                    };
                    Step::Dead(Rejection { reason, error })
                }
                Flow::Pass => Step::Pass,
            },
        }
    }

    /// Takes one event in input order, on the ordered thread: hands it on through `out`
    /// or records its fate.
    pub(crate) fn push(&mut self, mut ev: Event, out: &mut Emit) {
        match self {
            Stage::Head(h) => h.push(ev, out),
            Stage::Tail(t) => t.push(ev, out),
            Stage::Group(g) => g.push(ev, out),
            Stage::Sort(s) => s.push_event(ev, out),
            Stage::To(t) => t.push(ev, out),
            Stage::Fold(f) => f.push(ev, out),
            Stage::Assert(a) => a.push(ev, out),
            Stage::Dedupe(s) => s.push(ev, out),
            Stage::Throttle(s) => s.push(ev, out),
            Stage::Reorder(s) => s.push(ev, out),
            Stage::Summary(s) => s.push(ev, out),
            Stage::Shapes(s) => s.push(ev, out),
            Stage::FillDown(s) => s.push(ev, out),
            Stage::Step(s) => s.push(ev, out),
            _ => match self.step(&mut ev, out.env()) {
                Step::Pass => out.push(ev),
                Step::Unmatched => {
                    out.unmatched(&ev);
                    out.push(ev);
                }
                Step::Drop(fate) => out.record(&ev, fate),
                Step::Dead(r) => out.dead(&ev, r.reason),
                // No event in its place: the line still has a fate.
                Step::Many(events) if events.is_empty() => out.record(&ev, Fate::Filtered),
                Step::Many(events) => {
                    out.copies(&ev, events.len() - 1);
                    for (k, mut c) in events.into_iter().enumerate() {
                        if k > 0 {
                            c.origin = c.origin.copied();
                        }
                        out.push(c);
                    }
                }
            },
        }
    }

    /// At the end of input, hands on what the stage holds; stops when `out` says so.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        match self {
            Stage::Tail(t) => t.finish(out),
            Stage::Group(g) => g.finish(out),
            Stage::Sort(s) => s.finish(out),
            Stage::Fold(f) => f.finish(out),
            Stage::Reorder(s) => s.finish(out),
            Stage::Summary(s) => s.finish(out),
            Stage::Shapes(s) => s.finish(out),
            _ => ControlFlow::Continue(()),
        }
    }

    /// The run stopped before the end of input (a failed `assert`, a closed output): what
    /// the stage holds is counted, not output.
    pub(crate) fn abandon(&mut self, out: &mut Emit) {
        match self {
            Stage::Tail(t) => t.abandon(out),
            Stage::Sort(s) => s.abandon(out),
            Stage::Reorder(s) => s.abandon(out),
            // The other stages hold no events: an aggregate's or a fold's were counted
            // as aggregated when they came.
            _ => {}
        }
    }

    /// Whether no later event can pass this stage (a satisfied `head`).
    pub(crate) fn done(&self) -> bool {
        match self {
            Stage::Head(h) => h.is_done(),
            Stage::Assert(a) => a.is_done(),
            _ => false,
        }
    }

    /// Whether the stage's output depends on events after it is `done`: true for stages
    /// that hold or write events; false for per-event stages and `head`, and for the ordered
    /// stages whose events, once passed on, are final (`dedupe`, `throttle`, `reorder`).
    pub(crate) fn sees_every_event(&self) -> bool {
        !self.is_parallel()
            && !matches!(
                self,
                Stage::Head(_)
                    | Stage::Assert(_)
                    | Stage::Dedupe(_)
                    | Stage::Throttle(_)
                    | Stage::Reorder(_)
                    | Stage::FillDown(_)
                    | Stage::Step(_)
            )
    }

    /// Paths the stage reads and writes, for `--explain`.
    pub(crate) fn describe(&self) -> String {
        let mut n = Needs::default();
        self.needs(&mut n);
        let mut reads: Vec<String> = n.keys.iter().map(ToString::to_string).collect();
        if n.whole {
            reads.push(".".into());
        }
        let run = if self.is_parallel() { "parallel" } else { "ordered" };
        let line = if reads.is_empty() {
            format!("{:<8} {run}", self.name())
        } else {
            format!("{:<8} {run:<9} reads {}", self.name(), reads.join(", "))
        };
        match self.counts() {
            Some(what) => format!("{line}; {what}"),
            None => line,
        }
    }

    /// The fate or counter a stage adds to `--stats`, for `--explain`.
    fn counts(&self) -> Option<&'static str> {
        Some(match self {
            Stage::Explode(_) => "empty or no array: exploded_empty; extra elements: copies",
            Stage::Sample(_) => "left out: sampled_out",
            Stage::Join(_) => "no match: passes on, counted in unmatched_join",
            Stage::Validate(_) => "invalid: dead letter (schema)",
            Stage::Summary(_) => "every event: aggregated; one row per field path at the end",
            Stage::Shapes(_) => "every event: aggregated; one row per set of keys at the end",
            Stage::Flatten(f) if f.name() == "unflatten" => "nested past 128 levels: dead letter (too_deep)",
            Stage::Step(_) => "not an object: dead letter (not_object)",
            Stage::Range(_) => "outside: out_of_range; no time: dead letter (no_time)",
            _ => return None,
        })
    }
}
