//! The registry: the one list of stages. A stage is its file in `stage/`, a line in
//! [`stages!`] below, and an arm in [`Stage::build`] that makes it from its syntax.
//! The list gives `enum Stage`, with static dispatch to each stage's [`PerEvent`] or
//! [`Ordered`] implementation.

use super::{
    Assert, DEFAULT_MAX_GROUPS, Dedupe, Del, Describe, Emit, Explode, FillDown, Flatten, Fold, GroupSpec, GroupStage,
    Head, Join, Keep, Order, Ordered, Parse, PerEvent, Rename, Reorder, Route, Sample, Set, Shapes, Sort, StageOptions,
    Step, Steps, Summary, Tail, Throttle, TimeField, TimeRange, To, Validate, Where, Windows, pass_on,
};
use crate::event::Event;
use crate::lang::ast::{AggSpec, Every};
use crate::lang::{Env, LangError, StageAst, StageSpec};

const JOIN_HINT: &str = "join reads NDJSON (one object per line), or CSV with a header row when the name ends in \
                         .csv (or .csv.gz); a relative name starts in the current directory";
const VALIDATE_HINT: &str = "validate reads a JSON Schema (draft 2020-12, 2019-09, 7, 6 or 4) from a local file; \
                             it may not refer to other files or URLs";

/// Makes `enum Stage` from the per-event and the ordered stages, and its dispatch.
macro_rules! stages {
    (per_event { $($p:ident($pt:ty)),* $(,)? } ordered { $($o:ident($ot:ty)),* $(,)? }) => {
        #[derive(Debug, Clone)]
        pub(crate) enum Stage {
            $($p($pt),)*
            $($o($ot),)*
        }

        impl Stage {
            pub(super) fn describe_it(&self) -> &dyn Describe {
                match self {
                    $(Stage::$p(s) => s,)*
                    $(Stage::$o(s) => s,)*
                }
            }

            pub(super) fn as_ordered(&self) -> Option<&dyn Ordered> {
                match self {
                    $(Stage::$o(s) => Some(s),)*
                    _ => None,
                }
            }

            pub(super) fn as_ordered_mut(&mut self) -> Option<&mut dyn Ordered> {
                match self {
                    $(Stage::$o(s) => Some(s),)*
                    _ => None,
                }
            }

            /// Applies a stage of the parallel part to one event (an ordered stage passes it).
            pub(crate) fn step<'a>(&self, ev: &mut Event<'a>, env: &Env) -> Step<'a> {
                match self {
                    $(Stage::$p(s) => s.step(ev, env),)*
                    _ => Step::Pass,
                }
            }

            /// Takes one event in input order, on the ordered thread: hands it on through
            /// `out` or records its fate.
            pub(crate) fn push(&mut self, mut ev: Event, out: &mut Emit) {
                match self {
                    $(Stage::$o(s) => s.push(ev, out),)*
                    $(Stage::$p(s) => {
                        let step = s.step(&mut ev, out.env());
                        pass_on(step, ev, out);
                    })*
                }
            }
        }
    };
}

stages! {
    per_event {
        Where(Where),
        Set(Set),
        Del(Del),
        Keep(Keep),
        Rename(Rename),
        Route(Route),
        Parse(Parse),
        Explode(Explode),
        Sample(Sample),
        Join(Join),
        Validate(Validate),
        Flatten(Flatten),
        // `--since`/`--until`, placed after the pipeline's leading `parse` stages.
        Range(TimeRange),
    }
    ordered {
        Head(Head),
        Tail(Tail),
        Group(GroupStage),
        Sort(Sort),
        To(To),
        Fold(Fold),
        Assert(Assert),
        Dedupe(Dedupe),
        Throttle(Throttle),
        Reorder(Reorder),
        Summary(Summary),
        Shapes(Shapes),
        FillDown(FillDown),
        Step(Steps),
    }
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
            StageSpec::To { template, tee, text } => {
                let mut to = To::new(template.clone(), *tee);
                to.text.clone_from(text);
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
                let stage = Join::load(file, on.clone(), key, name.clone(), opts.memory_limit).map(Stage::Join);
                loaded(stage, JOIN_HINT)?
            }
            StageSpec::Validate { file } => loaded(
                Validate::load(file, opts.memory_limit).map(Stage::Validate),
                VALIDATE_HINT,
            )?,
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
}
