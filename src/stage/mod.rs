//! Stages: the runtime form of each stage a pipeline names.

mod dedupe;
mod del;
mod emit;
mod group;
mod head;
mod keep;
mod parse;
mod rename;
mod reorder;
mod route;
mod set;
mod sort;
mod tail;
#[cfg(test)]
mod testing;
mod throttle;
mod to;
mod r#where;

pub(crate) use dedupe::Dedupe;
pub(crate) use del::Del;
pub(crate) use emit::{Emit, Outlet};
pub(crate) use group::DEFAULT_MAX_GROUPS;
pub(crate) use group::{GroupError, GroupSpec, GroupStage, Groups, Order, TimeField};
pub(crate) use head::Head;
pub(crate) use keep::Keep;
pub(crate) use parse::Parse;
pub(crate) use rename::Rename;
pub(crate) use reorder::Reorder;
pub(crate) use route::Route;
pub(crate) use set::Set;
pub(crate) use sort::Sort;
pub(crate) use tail::Tail;
pub(crate) use throttle::Throttle;
pub(crate) use to::To;
pub(crate) use r#where::Where;

use crate::event::{Event, Fate, Needs, Reason};
use crate::lang::ast::AggSpec;
use crate::lang::{Env, StageAst, StageSpec};
use std::ops::ControlFlow;

/// What happens to an event after a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Pass,
    /// Dropped by a filter (`where`).
    Filtered,
    /// Rejected: becomes a dead letter.
    Dead(Reason),
}

/// Run-wide settings some stages need.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageOptions {
    pub time: Option<crate::lang::Path>,
    pub max_groups: Option<usize>,
    pub memory_limit: usize,
    /// `--lateness`: windows stream out once the watermark passes them.
    pub lateness: Option<f64>,
    /// How `to` and `tee` open their files.
    pub topic: crate::output::topic::TopicOptions,
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
    Dedupe(Dedupe),
    Throttle(Throttle),
    Reorder(Reorder),
}

impl Stage {
    pub(crate) fn build(ast: &StageAst, opts: &StageOptions) -> Stage {
        let group = |stage, keys: &[_], aggs: &[AggSpec], every, order| {
            let time = TimeField(opts.time.clone());
            Stage::Group(GroupStage::new(
                GroupSpec::new(stage, keys.to_vec(), aggs, every, order, time, opts.max_groups),
                opts.lateness,
            ))
        };
        match &ast.spec {
            StageSpec::Where(e) => Stage::Where(Where::new(e.clone())),
            StageSpec::Set(a) => Stage::Set(Set::new(a.clone())),
            StageSpec::Del(p) => Stage::Del(Del::new(p.clone())),
            StageSpec::Keep(p) => Stage::Keep(Keep::new(p.clone())),
            StageSpec::Rename(p) => Stage::Rename(Rename::new(p.clone())),
            StageSpec::Head(n) => Stage::Head(Head::new(*n)),
            StageSpec::Tail(n) => Stage::Tail(Tail::new(*n)),
            StageSpec::Count { keys, every } => {
                let count = AggSpec {
                    func: "count".into(),
                    arg: None,
                    q: None,
                    name: "count".into(),
                };
                group("count", keys, &[count], *every, Order::Desc { limit: None })
            }
            StageSpec::Stats { aggs, keys, every } => group("stats", keys, aggs, *every, Order::FirstSeen),
            StageSpec::Top { n, keys, by } => {
                let by = by.clone().unwrap_or(AggSpec {
                    func: "count".into(),
                    arg: None,
                    q: None,
                    name: "count".into(),
                });
                group("top", keys, &[by], None, Order::Desc { limit: Some(*n) })
            }
            StageSpec::Distinct { keys } => group("distinct", keys, &[], None, Order::FirstSeen),
            StageSpec::Sort { keys } => Stage::Sort(Sort::new(keys.clone(), opts.memory_limit)),
            StageSpec::Route(r) => Stage::Route(Route::new(r)),
            StageSpec::Parse {
                format,
                from,
                otherwise,
            } => Stage::Parse(Parse::new(format, from.clone(), *otherwise)),
            StageSpec::To { template, tee, .. } => Stage::To(To::new(template.clone(), *tee)),
            StageSpec::Dedupe { keys, within } => Stage::Dedupe(Dedupe::new(
                keys.clone(),
                *within,
                TimeField(opts.time.clone()),
                opts.max_groups.unwrap_or(DEFAULT_MAX_GROUPS),
            )),
            StageSpec::Throttle { limit, per, by } => Stage::Throttle(Throttle::new(
                *limit,
                *per,
                by.clone(),
                TimeField(opts.time.clone()),
                opts.max_groups.unwrap_or(DEFAULT_MAX_GROUPS),
            )),
            StageSpec::Reorder { by, within } => Stage::Reorder(Reorder::new(by.clone(), *within, opts.memory_limit)),
        }
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
            Stage::Dedupe(_) => "dedupe",
            Stage::Throttle(_) => "throttle",
            Stage::Reorder(_) => "reorder",
        }
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
                | Stage::Dedupe(_)
                | Stage::Throttle(_)
                | Stage::Reorder(_)
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
            Stage::Dedupe(s) => s.needs(n),
            Stage::Throttle(s) => s.needs(n),
            Stage::Reorder(s) => s.needs(n),
            Stage::Head(_) | Stage::Tail(_) => {}
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
            Stage::Head(_)
            | Stage::Tail(_)
            | Stage::Group(_)
            | Stage::Sort(_)
            | Stage::To(_)
            | Stage::Dedupe(_)
            | Stage::Throttle(_)
            | Stage::Reorder(_) => {
                unreachable!("stateful stages run in the ordered part")
            }
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
            Stage::Dedupe(s) => s.push(ev, out),
            Stage::Throttle(s) => s.push(ev, out),
            Stage::Reorder(s) => s.push(ev, out),
            _ => match self.apply(&mut ev, out.env()) {
                Flow::Pass => out.push(ev),
                Flow::Filtered => out.record(&ev, Fate::Filtered),
                Flow::Dead(reason) => out.dead(&ev, reason),
            },
        }
    }

    /// At the end of input, hands on what the stage holds; stops when `out` says so.
    pub(crate) fn finish(&mut self, out: &mut Emit) -> ControlFlow<()> {
        match self {
            Stage::Tail(t) => t.finish(out),
            Stage::Group(g) => g.finish(out),
            Stage::Sort(s) => s.finish(out),
            Stage::Reorder(s) => s.finish(out),
            _ => ControlFlow::Continue(()),
        }
    }

    /// Whether no later event can pass this stage (a satisfied `head`).
    pub(crate) fn done(&self) -> bool {
        matches!(self, Stage::Head(h) if h.is_done())
    }

    /// Whether the stage's output depends on events after it is `done`: true for stages
    /// that hold or write events; false for per-event stages and `head`, and for the ordered
    /// stages whose events, once passed on, are final (`dedupe`, `throttle`, `reorder`).
    pub(crate) fn sees_every_event(&self) -> bool {
        !self.is_parallel()
            && !matches!(
                self,
                Stage::Head(_) | Stage::Dedupe(_) | Stage::Throttle(_) | Stage::Reorder(_)
            )
    }

    /// Paths the stage reads and writes, for `--explain`.
    pub(crate) fn describe(&self) -> String {
        let mut n = Needs::default();
        self.needs(&mut n);
        let mut reads: Vec<String> = n.keys.iter().map(|k| k.to_string()).collect();
        if n.whole {
            reads.push(".".into());
        }
        let run = if self.is_parallel() { "parallel" } else { "ordered" };
        if reads.is_empty() {
            format!("{:<8} {run}", self.name())
        } else {
            format!("{:<8} {run:<9} reads {}", self.name(), reads.join(", "))
        }
    }
}
