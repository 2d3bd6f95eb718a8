//! Aggregate functions: mergeable accumulators (provisional version; replaced by the full module).

use crate::lang::Val;
use crate::lang::value::Numeric;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum AggFn {
    Count,
    CountNonNull,
    Sum,
    Avg,
    Min,
    Max,
    First,
    Last,
    Stddev,
    Var,
    Distinct,
    Values,
    Percentile(f64),
}

impl AggFn {
    pub fn from_name(name: &str) -> Option<AggFn> {
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
            "p50" | "median" => AggFn::Percentile(0.5),
            "p90" => AggFn::Percentile(0.9),
            "p95" => AggFn::Percentile(0.95),
            "p99" => AggFn::Percentile(0.99),
            "p999" => AggFn::Percentile(0.999),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Acc {
    f: AggFn,
    n: u64,
    int: i128,
    float: f64,
    floats: bool,
    vals: Vec<Value>,
}

impl Acc {
    pub fn new(f: &AggFn) -> Acc {
        Acc { f: f.clone(), n: 0, int: 0, float: 0.0, floats: false, vals: Vec::new() }
    }

    pub fn add(&mut self, v: &Val) {
        match self.f {
            AggFn::Count => self.n += 1,
            AggFn::CountNonNull => self.n += u64::from(!v.is_null()),
            AggFn::Sum | AggFn::Avg => match v.numeric() {
                Some(Numeric::I(i)) => {
                    self.int += i;
                    self.n += 1
                }
                Some(Numeric::F(f)) => {
                    self.float += f;
                    self.floats = true;
                    self.n += 1
                }
                None => {}
            },
            _ if v.is_null() => {}
            _ => self.vals.push(v.clone().into_value()),
        }
    }

    pub fn merge(&mut self, later: Acc) {
        self.n += later.n;
        self.int += later.int;
        self.float += later.float;
        self.floats |= later.floats;
        self.vals.extend(later.vals);
    }

    pub fn result(&self) -> Value {
        let vals = || self.vals.iter().map(Val::from_value);
        match self.f {
            AggFn::Count | AggFn::CountNonNull => Value::from(self.n),
            AggFn::Sum if self.n == 0 => Value::Null,
            AggFn::Sum if !self.floats => Numeric::I(self.int).into_val().into_value(),
            AggFn::Sum => Val::Float(self.int as f64 + self.float).into_value(),
            AggFn::Avg if self.n == 0 => Value::Null,
            AggFn::Avg => Val::Float((self.int as f64 + self.float) / self.n as f64).into_value(),
            AggFn::Min => vals().min_by(|a, b| a.sort_cmp(b)).map_or(Value::Null, |v| v.into_value()),
            AggFn::Max => vals().max_by(|a, b| a.sort_cmp(b)).map_or(Value::Null, |v| v.into_value()),
            AggFn::First => self.vals.first().cloned().unwrap_or(Value::Null),
            AggFn::Last => self.vals.last().cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }
}
