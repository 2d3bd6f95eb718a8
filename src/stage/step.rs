//! `step FN(EXPR) [as NAME], … [by KEYS]` (Miller's `step -a`): running computations over the
//! events of each group, in input order, written into each event like `set` writes.
//!
//! - `delta(x)`: x minus the group's previous number x; `0` for the group's first (as Miller).
//! - `shift(x)`: the group's previous event's x (`null` for the first, or when it had none).
//! - `rate(x)`: `delta(x)` per second of event time (`--time-field`) since the previous event
//!   with a number x and a time; `null` for the first, when no time passed, or without a time.
//! - `sum(x)`: the running sum of the numbers x, this one included (exact for integers).
//! - `count()`: the event's number in its group, from 1; `count(x)`: how many events so far had
//!   an x that is neither null nor false.
//! - `ewma(x, A)`: the exponentially weighted moving average, `A·x + (1−A)·previous`, starting
//!   at the first x; A is above 0 and at most 1 (0.5 when left out).
//!
//! Where x is not a number, `delta`, `rate` and `ewma` give `null` and leave the group's state
//! as it was. Default names are Miller's: `x_delta`, `x_shift`, `x_rate`, `x_sum`, `count` or
//! `x_count`, `x_ewma_0_5`. An event that is not an object is a dead letter (`not_object`), as
//! with `set`. Groups are held up to `--max-groups` (past that the run fails, exit 3).

use super::head::GroupIndex;
use super::{Describe, Emit, Ordered, TimeField};
use crate::agg::Sum;
use crate::event::{Event, Fate, MAX_PAD, Needs, Reason, too_deep_at, write_path, write_segs};
use crate::lang::ast::{KeySpec, StepFn, StepSpec};
use crate::lang::value::Numeric;
use crate::lang::{Expr, Path, Val};
use serde_json::Value;

#[derive(Debug, Clone)]
pub(crate) struct Steps {
    steps: Vec<StepSpec>,
    by: Option<GroupIndex>,
    time: TimeField,
    /// The state of each step, per group in first-seen order.
    groups: Vec<Vec<State>>,
}

/// What one step remembers of a group.
#[derive(Debug, Clone)]
enum State {
    Delta(Option<Numeric>),
    Shift(Value),
    /// The previous number and its event's time.
    Rate(Option<(Numeric, f64)>),
    Sum(Sum),
    Count(u64),
    Ewma {
        alpha: f64,
        avg: Option<f64>,
    },
}

impl Steps {
    pub(crate) fn new(steps: Vec<StepSpec>, by: Vec<KeySpec>, time: TimeField, max_groups: usize) -> Steps {
        Steps {
            steps,
            by: (!by.is_empty()).then(|| GroupIndex::new(by, max_groups)),
            time,
            groups: Vec::new(),
        }
    }

    /// The arguments of `count(EXPR)`, which counts where EXPR is neither null nor false.
    pub(crate) fn counted(&self) -> impl Iterator<Item = &Expr> {
        let counts = self.steps.iter().filter(|s| s.func == StepFn::Count);
        counts.filter_map(|s| s.arg.as_ref())
    }

    /// The steps that read numbers from a field (`delta`, `rate`, `sum`, `ewma`): each
    /// one's name as written, its field, and the step as written with the field made a
    /// number (`delta(to_number(x)) as x_delta`).
    pub(crate) fn numeric_args(&self) -> impl Iterator<Item = (&'static str, &Path, String)> {
        self.steps.iter().filter_map(|s| {
            let Some(Expr::Path(p)) = &s.arg else { return None };
            let (func, rest) = match s.func {
                StepFn::Delta => ("delta", String::new()),
                StepFn::Rate => ("rate", String::new()),
                StepFn::Sum => ("sum", String::new()),
                StepFn::Ewma(alpha) => ("ewma", format!(", {alpha}")),
                StepFn::Shift | StepFn::Count => return None,
            };
            let fix = format!("{func}(to_number({p}){rest}) as {}", s.name);
            (!p.segs.is_empty()).then_some((func, p, fix))
        })
    }

    fn write(&self, ev: &mut Event, results: Vec<Value>) -> Result<(), Reason> {
        let values: Vec<Val> = results.iter().map(Val::from_value).collect();
        if self.steps.iter().zip(&values).any(|(s, v)| too_deep_at(&s.name, v)) {
            return Err(Reason::TooDeep);
        }
        let paths: Vec<&Path> = self.steps.iter().map(|s| &s.name).collect();
        if let Some(text) = ev.spliced(&paths, &values) {
            ev.set_text(text);
            return Ok(());
        }
        drop(values);
        let doc = ev.doc_mut().map_err(|r| r.reason)?;
        for (s, v) in self.steps.iter().zip(results) {
            let segs = write_segs(doc, &s.name);
            write_path(doc, segs, v, MAX_PAD)?;
        }
        Ok(())
    }
}

impl Describe for Steps {
    /// The steps' arguments and the keys' expressions.
    fn expressions(&self) -> Vec<&Expr> {
        let keys = self.by.iter().flat_map(GroupIndex::expressions);
        self.steps.iter().filter_map(|s| s.arg.as_ref()).chain(keys).collect()
    }

    fn needs(&self, n: &mut Needs) {
        for e in self.steps.iter().filter_map(|s| s.arg.as_ref()) {
            n.add_expr(e);
        }
        for s in &self.steps {
            // Captured on the first parse, so splicing the results in needs no second one.
            n.add_quiet(&s.name);
        }
        if let Some(groups) = &self.by {
            groups.needs(n);
        }
        if self.steps.iter().any(|s| s.func == StepFn::Rate) {
            self.time.needs(n);
        }
    }

    fn name(&self) -> &'static str {
        "step"
    }

    fn counts(&self) -> Option<&'static str> {
        Some("not an object: dead letter (not_object)")
    }
}

impl Ordered for Steps {
    fn push(&mut self, mut ev: Event, out: &mut Emit) {
        if !ev.is_object() {
            return out.dead(&ev, Reason::NotObject);
        }
        let g = match &mut self.by {
            None => 0,
            Some(groups) => match groups.group(&ev, out.env()) {
                Some(g) => g,
                None => {
                    out.fail(groups.overflow("step"));
                    return out.record(&ev, Fate::Skipped);
                }
            },
        };
        if g == self.groups.len() {
            self.groups
                .push(self.steps.iter().map(|s| State::new(s.func)).collect());
        }
        let rated = self.steps.iter().any(|s| s.func == StepFn::Rate);
        let time = if rated { self.time.of(&ev, out.env()) } else { None };
        // Every step sees the event as it was before the stage.
        let results: Vec<Value> = self
            .steps
            .iter()
            .zip(&mut self.groups[g])
            .map(|(s, state)| {
                let v = s.arg.as_ref().map_or(Val::Bool(true), |e| e.eval(&ev, out.env()));
                state.next(&v, time)
            })
            .collect();
        match self.write(&mut ev, results) {
            Ok(()) => out.push(ev),
            Err(reason) => out.dead(&ev, reason),
        }
    }

    fn sees_every_event(&self) -> bool {
        false
    }
}

impl State {
    fn new(f: StepFn) -> State {
        match f {
            StepFn::Delta => State::Delta(None),
            StepFn::Shift => State::Shift(Value::Null),
            StepFn::Rate => State::Rate(None),
            StepFn::Sum => State::Sum(Sum::default()),
            StepFn::Count => State::Count(0),
            StepFn::Ewma(alpha) => State::Ewma { alpha, avg: None },
        }
    }

    /// This event's result, from its value `v` and time `t`; updates the state.
    fn next(&mut self, v: &Val, t: Option<f64>) -> Value {
        let x = v.numeric();
        match self {
            State::Delta(prev) => match x {
                None => Value::Null,
                Some(x) => {
                    let d = prev.map_or(Numeric::I(0), |p| minus(x, p));
                    *prev = Some(x);
                    number(d)
                }
            },
            State::Shift(prev) => std::mem::replace(prev, v.borrowed().into_value()),
            State::Rate(prev) => match (x, t) {
                (Some(x), Some(t)) => {
                    let rate = prev.and_then(|(px, pt)| {
                        let dt = t - pt;
                        (dt != 0.0).then(|| minus(x, px).as_f64() / dt)
                    });
                    *prev = Some((x, t));
                    rate.map_or(Value::Null, float)
                }
                _ => Value::Null,
            },
            State::Sum(sum) => {
                sum.add(v);
                sum.total().map_or(Value::Null, Val::into_value)
            }
            State::Count(n) => {
                *n += u64::from(v.truthy());
                Value::from(*n)
            }
            State::Ewma { alpha, avg } => match x {
                None => Value::Null,
                Some(x) => {
                    let x = x.as_f64();
                    let a = avg.map_or(x, |p| *alpha * x + (1.0 - *alpha) * p);
                    *avg = Some(a);
                    float(a)
                }
            },
        }
    }
}

/// `a - b`, exact for integers.
fn minus(a: Numeric, b: Numeric) -> Numeric {
    match (a, b) {
        (Numeric::I(i), Numeric::I(j)) => match i.checked_sub(j) {
            Some(d) => Numeric::I(d),
            None => Numeric::F(i as f64 - j as f64),
        },
        _ => Numeric::F(a.as_f64() - b.as_f64()),
    }
}

fn number(n: Numeric) -> Value {
    n.into_val().into_value()
}

/// A computed float; `null` when it is not finite.
fn float(f: f64) -> Value {
    Val::float(f).into_value()
}

#[cfg(test)]
mod tests {
    use crate::event::{Fate, Reason};
    use crate::stage::StageOptions;
    use crate::stage::testing::run_stage;

    fn step(src: &str, lines: &[&str]) -> Vec<String> {
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        let rec = run_stage(src, &StageOptions::default(), &lines);
        rec.out
    }

    #[test]
    fn delta_shift_sum_and_count_run_per_group() {
        let got = step(
            "step delta(x), shift(x), sum(x), count() by k",
            &[
                r#"{"k":"a","x":1}"#,
                r#"{"k":"b","x":10}"#,
                r#"{"k":"a","x":4}"#,
                r#"{"k":"a","x":"n/a"}"#,
                r#"{"k":"a","x":2.5}"#,
            ],
        );
        assert_eq!(
            got,
            [
                r#"{"k":"a","x":1,"x_delta":0,"x_shift":null,"x_sum":1,"count":1}"#,
                r#"{"k":"b","x":10,"x_delta":0,"x_shift":null,"x_sum":10,"count":1}"#,
                r#"{"k":"a","x":4,"x_delta":3,"x_shift":1,"x_sum":5,"count":2}"#,
                r#"{"k":"a","x":"n/a","x_delta":null,"x_shift":4,"x_sum":5,"count":3}"#,
                r#"{"k":"a","x":2.5,"x_delta":-1.5,"x_shift":"n/a","x_sum":7.5,"count":4}"#,
            ]
        );
    }

    #[test]
    fn integers_stay_exact() {
        let got = step(
            "step delta(x) as d, sum(x) as s",
            &[r#"{"x":9007199254740993}"#, r#"{"x":9007199254740995}"#],
        );
        assert_eq!(got[1], r#"{"x":9007199254740995,"d":2,"s":18014398509481988}"#);
    }

    #[test]
    fn rate_is_per_second_of_event_time_and_ewma_smooths() {
        let got = step(
            "step rate(bytes), ewma(bytes, 0.5)",
            &[
                r#"{"ts":"2026-01-01T00:00:00Z","bytes":100}"#,
                r#"{"ts":"2026-01-01T00:00:10Z","bytes":300}"#,
                r#"{"ts":"2026-01-01T00:00:10Z","bytes":400}"#,
                r#"{"bytes":500}"#,
            ],
        );
        assert_eq!(
            got,
            [
                r#"{"ts":"2026-01-01T00:00:00Z","bytes":100,"bytes_rate":null,"bytes_ewma_0_5":100}"#,
                r#"{"ts":"2026-01-01T00:00:10Z","bytes":300,"bytes_rate":20,"bytes_ewma_0_5":200}"#,
                r#"{"ts":"2026-01-01T00:00:10Z","bytes":400,"bytes_rate":null,"bytes_ewma_0_5":300}"#,
                r#"{"bytes":500,"bytes_rate":null,"bytes_ewma_0_5":400}"#,
            ]
        );
    }

    #[test]
    fn count_of_a_value_counts_where_it_is_neither_null_nor_false() {
        let got = step(
            "step count(status >= 500) as errors, count(user) as users",
            &[
                r#"{"status":200,"user":"a"}"#,
                r#"{"status":503}"#,
                r#"{"status":500,"user":null}"#,
            ],
        );
        assert_eq!(
            got,
            [
                r#"{"status":200,"user":"a","errors":0,"users":1}"#,
                r#"{"status":503,"errors":1,"users":1}"#,
                r#"{"status":500,"user":null,"errors":2,"users":1}"#,
            ]
        );
    }

    #[test]
    fn non_objects_are_dead_letters_and_groups_are_bounded() {
        let lines: Vec<String> = ["[1]", r#"{"k":1}"#, r#"{"k":2}"#].map(String::from).to_vec();
        let opts = StageOptions {
            max_groups: Some(1),
            ..StageOptions::default()
        };
        let rec = run_stage("step count() by k", &opts, &lines);
        assert_eq!(rec.lines(Fate::Dead(Reason::NotObject)), [1]);
        assert_eq!(rec.lines(Fate::Emitted), [2]);
        assert_eq!(rec.lines(Fate::Skipped), [3]);
        assert!(
            rec.failed
                .as_deref()
                .is_some_and(|m| m.contains("step: more than 1 groups"))
        );
    }
}
