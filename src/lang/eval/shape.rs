//! Expressions that build or take apart values: objects, indexes and slices.

use super::{Env, Record, array};
use crate::lang::ast::{Expr, Slice};
use crate::lang::value::Val;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// `{a: x, "b c": y}`; a later key replaces an earlier one, as in the event.
pub(super) fn object(fields: &[(Box<str>, Expr)], ev: &dyn Record, env: &Env) -> Val<'static> {
    let mut m = Map::with_capacity(fields.len());
    for (k, e) in fields {
        m.insert(k.to_string(), e.eval(ev, env).into_value());
    }
    Val::Json(Cow::Owned(Value::Object(m)))
}

/// A whole-number index or bound, if `i` is one; one past the range of `i64` is as far as it
/// goes, which is past either end of anything.
fn whole(i: &Val) -> Option<i64> {
    let n = i.numeric()?.whole()?;
    Some(i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX }))
}

fn pick<'v>(j: &'v Value, i: &Val) -> Option<&'v Value> {
    match (j, i) {
        (Value::Array(a), i) => a.get(crate::lang::tree::resolve_index(whole(i)?, a.len())?),
        (Value::Object(m), Val::Str(k)) => m.get(k.as_ref()),
        _ => None,
    }
}

/// `v[i]`: an array's element (negative from the end) or an object's key; as for paths, a
/// string has no elements (a slice `s[i:i+1]` gives a character).
pub(super) fn index<'e>(v: Val<'e>, i: &Val) -> Val<'e> {
    match v {
        Val::Json(Cow::Borrowed(j)) => pick(j, i).map_or(Val::Null, Val::from_value),
        Val::Json(Cow::Owned(j)) => pick(&j, i).cloned().map_or(Val::Null, Val::from_owned_value),
        _ => Val::Null,
    }
}

/// The range `[from, to)` of `len` items, counting negative bounds from the end; `None`
/// when a bound is not a whole number.
fn bounds(from: Option<Val>, to: Option<Val>, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let at = |b: Option<Val>, default: i64| -> Option<i64> {
        match b {
            None | Some(Val::Null) => Some(default),
            Some(v) => {
                let i = whole(&v)?;
                Some(if i < 0 { (len + i).max(0) } else { i.min(len) })
            }
        }
    };
    let (a, b) = (at(from, 0)?, at(to, len)?);
    Some((a as usize, b.max(a) as usize))
}

/// `v[from:to]`: characters of a string or elements of an array.
pub(super) fn slice<'e>(s: &'e Slice, ev: &'e (dyn Record + 'e), env: &Env) -> Val<'e> {
    let v = s.expr.eval(ev, env);
    let from = s.from.as_ref().map(|e| e.eval(ev, env));
    let to = s.to.as_ref().map(|e| e.eval(ev, env));
    match &v {
        Val::Str(text) => {
            let Some((a, b)) = bounds(from, to, text.chars().count()) else {
                return Val::Null;
            };
            Val::string(text.chars().skip(a).take(b - a).collect())
        }
        Val::Json(j) => match j.as_ref() {
            Value::Array(items) => match bounds(from, to, items.len()) {
                Some((a, b)) => array(items[a..b].to_vec()),
                None => Val::Null,
            },
            _ => Val::Null,
        },
        _ => Val::Null,
    }
}
