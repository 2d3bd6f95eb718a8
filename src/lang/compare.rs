//! Equality and the sort order of values: defined for every pair of JSON types, exact for
//! numbers, and iterative, so that comparing deeply nested values costs heap, not stack.

use super::number::Decimal;
use super::value::Val;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// One level of a value: a scalar, or a container whose children are compared later.
enum Shape<'v> {
    Null,
    Bool(bool),
    Num(Val<'v>),
    Str(&'v str),
    Array(&'v [Value]),
    Object(&'v Map<String, Value>),
}

impl Shape<'_> {
    /// The order between types: null < false < true < numbers < strings < arrays < objects.
    fn rank(&self) -> u8 {
        match self {
            Shape::Null => 0,
            Shape::Bool(b) => 1 + u8::from(*b),
            Shape::Num(_) => 3,
            Shape::Str(_) => 4,
            Shape::Array(_) => 5,
            Shape::Object(_) => 6,
        }
    }
}

fn shape(v: &Value) -> Shape<'_> {
    match v {
        Value::Null => Shape::Null,
        Value::Bool(b) => Shape::Bool(*b),
        Value::Number(_) => Shape::Num(Val::from_value(v)),
        Value::String(s) => Shape::Str(s),
        Value::Array(a) => Shape::Array(a),
        Value::Object(m) => Shape::Object(m),
    }
}

fn shape_of<'v>(v: &'v Val) -> Shape<'v> {
    match v {
        Val::Null => Shape::Null,
        Val::Bool(b) => Shape::Bool(*b),
        Val::Int(_) | Val::Float(_) | Val::Num(_) => Shape::Num(v.borrowed()),
        Val::Str(s) => Shape::Str(s),
        Val::Json(j) => shape(j),
    }
}

/// Structural equality: numbers by exact value, objects whatever their key order, and
/// values of different types unequal.
pub(crate) fn equals(a: &Val, b: &Val) -> bool {
    let mut todo = Vec::new();
    let mut same = same_level(shape_of(a), shape_of(b), &mut todo);
    while same {
        let Some((x, y)) = todo.pop() else { break };
        same = same_level(shape(x), shape(y), &mut todo);
    }
    same
}

/// Compares one level; the pairs of children still to compare go to `todo`.
fn same_level<'v>(a: Shape<'v>, b: Shape<'v>, todo: &mut Vec<(&'v Value, &'v Value)>) -> bool {
    match (a, b) {
        (Shape::Num(x), Shape::Num(y)) => num_cmp(&x, &y).is_eq(),
        (Shape::Str(x), Shape::Str(y)) => x == y,
        (Shape::Array(x), Shape::Array(y)) if x.len() == y.len() => {
            todo.extend(x.iter().zip(y));
            true
        }
        (Shape::Object(x), Shape::Object(y)) if x.len() == y.len() => x.iter().all(|(k, v)| match y.get(k) {
            Some(w) => {
                todo.push((v, w));
                true
            }
            None => false,
        }),
        (Shape::Null, Shape::Null) => true,
        (Shape::Bool(x), Shape::Bool(y)) => x == y,
        _ => false,
    }
}

/// What is left to compare in the sort order, latest first.
enum Task<'v> {
    Values(&'v Value, &'v Value),
    Keys(&'v str, &'v str),
    Lens(usize, usize),
}

/// The total order used by `sort`, `min` and `max`: by type (see `Shape::rank`), then numbers
/// by exact value, strings by bytes, arrays element by element, objects by their entries in key
/// order; a prefix comes first. Consistent with `equals`: equal values compare `Equal`.
pub(crate) fn sort_cmp(a: &Val, b: &Val) -> Ordering {
    let mut todo = Vec::new();
    let mut o = level_cmp(shape_of(a), shape_of(b), &mut todo);
    while o.is_eq() {
        o = match todo.pop() {
            None => break,
            Some(Task::Values(x, y)) => level_cmp(shape(x), shape(y), &mut todo),
            Some(Task::Keys(x, y)) => x.as_bytes().cmp(y.as_bytes()),
            Some(Task::Lens(x, y)) => x.cmp(&y),
        };
    }
    o
}

/// Compares one level; what decides a tie between containers goes to `todo`.
fn level_cmp<'v>(a: Shape<'v>, b: Shape<'v>, todo: &mut Vec<Task<'v>>) -> Ordering {
    match (a, b) {
        (Shape::Num(x), Shape::Num(y)) => num_cmp(&x, &y),
        (Shape::Str(x), Shape::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Shape::Array(x), Shape::Array(y)) => {
            todo.push(Task::Lens(x.len(), y.len()));
            todo.extend(x.iter().zip(y).rev().map(|(p, q)| Task::Values(p, q)));
            Ordering::Equal
        }
        (Shape::Object(x), Shape::Object(y)) => {
            todo.push(Task::Lens(x.len(), y.len()));
            for ((k, v), (l, w)) in by_key(x).into_iter().zip(by_key(y)).rev() {
                todo.push(Task::Values(v, w));
                todo.push(Task::Keys(k, l));
            }
            Ordering::Equal
        }
        (a, b) => a.rank().cmp(&b.rank()),
    }
}

/// An object's entries sorted by key, so the order does not depend on how keys were written.
fn by_key(m: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut entries: Vec<(&str, &Value)> = m.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    entries
}

/// Where a number stands before its value counts: non-finite floats (which only a computation
/// can make) below and above every finite number, NaN and text that is not a number last.
fn class(v: &Val) -> u8 {
    match v {
        Val::Float(f) if f.is_nan() => 3,
        Val::Float(f) if *f == f64::NEG_INFINITY => 0,
        Val::Float(f) if *f == f64::INFINITY => 2,
        Val::Num(t) if Decimal::parse(t).is_none() => 3,
        _ => 1,
    }
}

/// The nearest f64, monotonic in the exact value (huge text gives ±inf, tiny text ±0).
fn approx(v: &Val) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::Float(f) => *f,
        Val::Num(t) => t.parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// The exact order of two numbers. A float counts as the decimal it prints as. f64 decides when
/// the nearest f64s differ (rounding never reverses an order); equal f64s, which may hide
/// different values (`9007199254740993.0`, `1e400`, `-1e-400`), are compared digit by digit.
pub(crate) fn num_cmp(a: &Val, b: &Val) -> Ordering {
    if let (Val::Int(x), Val::Int(y)) = (a, b) {
        return x.cmp(y);
    }
    let (ca, cb) = (class(a), class(b));
    match ca.cmp(&cb) {
        Ordering::Equal if ca == 1 => {}
        Ordering::Equal if ca == 3 => return a.to_text().cmp(&b.to_text()),
        o => return o,
    }
    match approx(a).partial_cmp(&approx(b)) {
        Some(Ordering::Less) => Ordering::Less,
        Some(Ordering::Greater) => Ordering::Greater,
        _ if matches!((a, b), (Val::Float(_), Val::Float(_))) => Ordering::Equal,
        _ => {
            let (x, y) = (a.to_text(), b.to_text());
            match (Decimal::parse(&x), Decimal::parse(&y)) {
                (Some(p), Some(q)) => p.cmp(&q),
                _ => x.cmp(&y),
            }
        }
    }
}
