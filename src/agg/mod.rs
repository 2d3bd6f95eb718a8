//! Aggregate functions: accumulators that the engine keeps per group and per thread, then merges
//! in input order.
//!
//! Every accumulator is mergeable: `a.merge(b)`, where `b` saw the events after `a`'s, gives the
//! result of one accumulator that saw them all, so results do not depend on the thread count.

mod distinct;
pub(crate) mod key;
mod moments;
mod sketch;
mod sum;
pub(crate) mod table;

#[cfg(test)]
mod accuracy;
#[cfg(test)]
mod tests;

pub(crate) use distinct::{Distinct, Values};
pub(crate) use moments::Moments;
pub(crate) use sketch::Sketch;
pub(crate) use sum::Sum;

use crate::lang::Val;
use crate::lang::value::{Numeric, float_value};
use serde_json::Value;
use std::cmp::Ordering;

/// An aggregate function as the user names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AggFn {
    /// `count()`: every event.
    Count,
    /// `count(EXPR)`: values that are neither null nor false, so a condition
    /// (`count(status >= 500)`) counts the events where it holds.
    CountWhere,
    Sum,
    Avg,
    Min,
    Max,
    /// The first non-null value in input order.
    First,
    /// The last non-null value in input order.
    Last,
    /// Sample standard deviation (n − 1).
    Stddev,
    /// Sample variance (n − 1).
    Var,
    /// The number of distinct non-null values.
    Distinct,
    /// The distinct non-null values, first seen first, at most [`Values::CAP`].
    Values,
    /// The nearest-rank quantile `q` in `[0, 1]`: `p50` and `median` are 0.5, `p999` is 0.999.
    Percentile(f64),
}

/// Quantiles with a name of their own, in the order of [`AggFn::NAMES`].
const NAMED_QUANTILES: [(&str, f64); 6] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
    ("median", 0.5),
];

impl AggFn {
    /// The aggregate a name stands for. `count` gives `count()`; the caller turns `count(EXPR)`
    /// into [`AggFn::CountWhere`]. `percentile` gives `Percentile(0.5)`, which the caller
    /// replaces with `Percentile(q)` from the second argument ([`AggFn::from_call`] does both).
    pub(crate) fn from_name(name: &str) -> Option<AggFn> {
        if let Some(&(_, q)) = NAMED_QUANTILES.iter().find(|(n, _)| *n == name) {
            return Some(AggFn::Percentile(q));
        }
        Some(match name {
            "count" => AggFn::Count,
            "sum" => AggFn::Sum,
            "avg" => AggFn::Avg,
            "min" => AggFn::Min,
            "max" => AggFn::Max,
            "first" => AggFn::First,
            "last" => AggFn::Last,
            "stddev" => AggFn::Stddev,
            "var" => AggFn::Var,
            "distinct" => AggFn::Distinct,
            "values" => AggFn::Values,
            "percentile" => AggFn::Percentile(0.5),
            _ => return None,
        })
    }

    /// The aggregate of a call as typed: its name, whether it has an argument, and for
    /// `percentile` its quantile `q` as a fraction in `[0, 1]`. `None` for an unknown name, a
    /// missing argument (only `count()` takes none), or a `q` where none belongs or out of range.
    #[cfg(test)]
    pub(crate) fn from_call(name: &str, has_arg: bool, q: Option<f64>) -> Option<AggFn> {
        match (name, has_arg, q) {
            ("count", false, None) => Some(AggFn::Count),
            ("count", true, None) => Some(AggFn::CountWhere),
            ("percentile", true, Some(q)) => (0.0..=1.0).contains(&q).then_some(AggFn::Percentile(q)),
            (_, true, None) if name != "percentile" => AggFn::from_name(name),
            _ => None,
        }
    }

    /// True for the aggregates of numbers, which ignore other values.
    pub(crate) fn is_numeric(&self) -> bool {
        matches!(
            self,
            AggFn::Sum | AggFn::Avg | AggFn::Stddev | AggFn::Var | AggFn::Percentile(_)
        )
    }

    /// True when merging two accumulators gives the same result whichever saw its events first
    /// (up to the rounding of floats, and which of two equal numbers written differently, `1`
    /// and `1.0`, `min` and `max` keep): all but `first`, `last` and `values`, which follow
    /// input order.
    pub(crate) fn merges_in_any_order(&self) -> bool {
        !matches!(self, AggFn::First | AggFn::Last | AggFn::Values)
    }

    /// The function part of the default output column: `count`, `sum`, `p99`; a quantile
    /// without a name of its own is `percentile`.
    pub(crate) fn name(&self) -> String {
        let name = match self {
            AggFn::Count | AggFn::CountWhere => "count",
            AggFn::Sum => "sum",
            AggFn::Avg => "avg",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::First => "first",
            AggFn::Last => "last",
            AggFn::Stddev => "stddev",
            AggFn::Var => "var",
            AggFn::Distinct => "distinct",
            AggFn::Values => "values",
            AggFn::Percentile(q) => NAMED_QUANTILES
                .iter()
                .find(|(_, p)| p == q)
                .map_or("percentile", |(n, _)| n),
        };
        name.to_string()
    }
}

/// The running state of one aggregate over the values of one group.
///
/// 32 bytes whatever the aggregate: a grouping stage keeps one per group and aggregate, so
/// states larger than a counter live behind a box, allocated only for the groups that use them.
#[derive(Debug, Clone)]
pub(crate) struct Acc {
    f: AggFn,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Count(u64),
    Sum(Box<Sum>),
    /// Min, max, first or last: the value kept so far.
    Pick(Option<Box<Val<'static>>>),
    Moments(Box<Moments>),
    Distinct(Box<Distinct>),
    Values(Box<Values>),
    /// A percentile's sketch and its quantile.
    Sketch(Box<(Sketch, f64)>),
}

impl Acc {
    pub(crate) fn new(f: &AggFn) -> Acc {
        let state = match f {
            AggFn::Count | AggFn::CountWhere => State::Count(0),
            AggFn::Sum | AggFn::Avg => State::Sum(Box::default()),
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => State::Pick(None),
            AggFn::Stddev | AggFn::Var => State::Moments(Box::default()),
            AggFn::Distinct => State::Distinct(Box::default()),
            AggFn::Values => State::Values(Box::default()),
            AggFn::Percentile(q) => State::Sketch(Box::new((Sketch::new(), *q))),
        };
        Acc { f: *f, state }
    }

    /// The count so far, for `count()` and `count(EXPR)`: what `count` and `top` order by,
    /// compared without building a result.
    pub(crate) fn count(&self) -> Option<u64> {
        match self.state {
            State::Count(n) => Some(n),
            _ => None,
        }
    }

    /// Adds the aggregate's argument for one event; `count()` counts every call whatever `v` is.
    /// Numeric aggregates ignore values that are not numbers; the others ignore `null`.
    pub(crate) fn add(&mut self, v: &Val) {
        match (&mut self.state, self.f) {
            (State::Count(n), AggFn::Count) => *n += 1,
            (State::Count(n), _) => *n += u64::from(v.truthy()),
            (State::Pick(kept), f) => {
                if !v.is_null() && replaces(f, kept.as_deref(), v) {
                    *kept = Some(Box::new(v.clone().into_static()));
                }
            }
            (State::Distinct(d), _) => d.add(v),
            (State::Values(vs), _) => vs.add(v),
            (State::Sum(s), _) => s.add(v),
            (State::Moments(m), _) => match v.numeric() {
                Some(Numeric::I(i)) => m.add_int(i),
                Some(Numeric::F(f)) => m.add(f),
                None => {}
            },
            (State::Sketch(s), _) => {
                if let Some(x) = v.numeric() {
                    s.0.add_numeric(x);
                }
            }
        }
    }

    /// Merges an accumulator of the same aggregate that saw the events after this one's.
    ///
    /// # Panics
    /// When `later` computes another aggregate: the engine merges accumulators of one stage only.
    pub(crate) fn merge(&mut self, later: Acc) {
        if std::mem::discriminant(&self.f) != std::mem::discriminant(&later.f) {
            panic!("cannot merge `{}` into `{}`", later.f.name(), self.f.name());
        }
        match (&mut self.state, later.state) {
            (State::Count(a), State::Count(b)) => *a += b,
            (State::Sum(a), State::Sum(b)) => a.merge(&b),
            (State::Pick(kept), State::Pick(Some(v))) => {
                if replaces(self.f, kept.as_deref(), &v) {
                    *kept = Some(v);
                }
            }
            (State::Pick(_), State::Pick(None)) => {}
            (State::Moments(a), State::Moments(b)) => a.merge(&b),
            (State::Distinct(a), State::Distinct(b)) => a.merge(*b),
            (State::Values(a), State::Values(b)) => a.merge(*b),
            (State::Sketch(a), State::Sketch(b)) => a.0.merge(&b.0),
            _ => unreachable!("the same function has the same kind of state"),
        }
    }

    /// The aggregate's value: `null` when there was nothing to aggregate (except for the counts,
    /// which are 0, and `values`, which is `[]`).
    /// Writes the result as JSON text, as [`Acc::result`]'s is written.
    pub(crate) fn write_result(&self, out: &mut String) {
        match self.state {
            State::Count(n) => {
                use std::fmt::Write;
                let _ = write!(out, "{n}");
            }
            _ => crate::json::write_value(out, &self.result()),
        }
    }

    pub(crate) fn result(&self) -> Value {
        match (&self.state, self.f) {
            (State::Count(n), _) => Value::from(*n),
            (State::Sum(s), AggFn::Avg) => s.mean().map_or(Value::Null, float_value),
            (State::Sum(s), _) => s.total().map_or(Value::Null, Val::into_value),
            (State::Pick(kept), _) => kept.as_deref().map_or(Value::Null, |v| v.clone().into_value()),
            (State::Moments(m), AggFn::Stddev) => m.stddev().map_or(Value::Null, float_value),
            (State::Moments(m), _) => m.var().map_or(Value::Null, float_value),
            (State::Distinct(d), _) => Value::from(d.count()),
            (State::Values(vs), _) => Value::Array(vs.values().iter().map(|v| v.clone().into_value()).collect()),
            (State::Sketch(s), _) => match s.0.quantile(s.1) {
                Some(Numeric::F(f)) => float_value(f),
                Some(i) => i.into_val().into_value(),
                None => Value::Null,
            },
        }
    }
}

/// Whether `v`, seen after `kept`, takes its place: the first value for `first`, every value for
/// `last`, a strictly smaller or larger one for `min` and `max` (ties keep the earlier value, so
/// `1` and `1.0` give whichever came first). Numbers win over other types, so `max(ms)` over
/// `10`, `"n/a"` is `10`; among numbers, or among values none of which is a number, the order is
/// `Val::sort_cmp` (null < booleans < numbers < strings < arrays < objects).
fn replaces(f: AggFn, kept: Option<&Val>, v: &Val) -> bool {
    let Some(kept) = kept else { return true };
    let extreme = |want: Ordering| match (v.numeric().is_some(), kept.numeric().is_some()) {
        (true, false) => true,
        (false, true) => false,
        _ => v.sort_cmp(kept) == want,
    };
    match f {
        AggFn::Min => extreme(Ordering::Less),
        AggFn::Max => extreme(Ordering::Greater),
        AggFn::Last => true,
        _ => false,
    }
}
