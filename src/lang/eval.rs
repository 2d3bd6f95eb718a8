//! Evaluation of expressions against an event. Total: never fails at run time.

use super::ast::{BinOp, Expr, Path};
use super::func;
use super::value::{Numeric, Val};
use crate::parse::Year;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

mod shape;

/// What expressions may read besides the event: the clock, the input names and how
/// event times are written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub now: f64,
    pub files: Arc<Vec<String>>,
    /// The year of each input, for syslog timestamps that have none.
    pub years: Arc<Vec<Year>>,
    /// `--time-format`: the strftime format tried for time strings no built-in format reads.
    pub time_format: Option<Arc<str>>,
    /// The subjects of the NATS messages in flight, by line, for `subject()`.
    pub subjects: Arc<Subjects>,
    /// The longest an event may be.
    pub max_bytes: MaxBytes,
}

/// The longest an event may be, as its JSON text: `--max-line-bytes`, as for a line read. A
/// value an expression builds (`[...]`, `{...}`, `+`) that would be longer is null, and an
/// event `set` would make longer is a dead letter (`too_long`), so that no pipeline can make
/// its events grow without bound (`set a = [., .]` again and again).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaxBytes(pub usize);

impl Default for MaxBytes {
    fn default() -> MaxBytes {
        MaxBytes(64 << 20)
    }
}

/// A value an expression built: null when its text would be longer than an event may be.
fn bounded<'a>(v: Val<'a>, env: &Env) -> Val<'a> {
    match v.text_len_within(env.max_bytes.0) {
        Some(_) => v,
        None => Val::Null,
    }
}

/// The subject of each NATS message between its fetch and its acknowledgement, by the
/// line number it has in the run. Empty when the input is not NATS.
#[derive(Debug, Default)]
pub(crate) struct Subjects(std::sync::RwLock<std::collections::HashMap<u64, Arc<str>>>);

#[cfg_attr(not(feature = "nats"), allow(dead_code))]
impl Subjects {
    pub(crate) fn insert(&self, line: u64, subject: &str) {
        if let Ok(mut m) = self.0.write() {
            m.insert(line, subject.into());
        }
    }

    pub(crate) fn remove(&self, line: u64) {
        if let Ok(mut m) = self.0.write() {
            m.remove(&line);
        }
    }

    pub(crate) fn get(&self, line: u64) -> Option<Arc<str>> {
        self.0.read().ok()?.get(&line).cloned()
    }
}

impl Env {
    /// The year assumed for input `i` (from --year or its modification time).
    pub(crate) fn year(&self, i: u32) -> Year {
        self.years.get(i as usize).copied().unwrap_or(Year::fixed(1970))
    }

    pub(crate) fn file_name(&self, i: u32) -> &str {
        self.files.get(i as usize).map_or("-", String::as_str)
    }
}

/// What an expression reads of an event: its fields and where it came from. The event
/// layer implements it, so the language does not depend on how events are held.
pub(crate) trait Record {
    /// The value at `path`, `None` when a key or index is missing.
    fn lookup(&self, path: &Path) -> Option<Val<'_>>;
    /// The input the event came from (an index into [`Env`]'s files); `None` for an event a
    /// stage made (an aggregate's row, a fold's state), which comes from no one line.
    fn file(&self) -> Option<u32>;
    /// Its line number in that input, from 1; `None` for an event a stage made.
    fn line(&self) -> Option<u64>;
    /// The byte offset of its line; `None` for an event a stage made.
    fn offset(&self) -> Option<u64>;
    /// Its topic, once `route` set one.
    fn topic(&self) -> Option<&str>;
    /// Its text as read.
    fn raw(&self) -> &str;
}

impl Expr {
    pub(crate) fn eval<'e>(&'e self, ev: &'e (dyn Record + 'e), env: &Env) -> Val<'e> {
        match self {
            Expr::Const(v) => v.borrowed(),
            Expr::Path(p) => ev.lookup(p).unwrap_or(Val::Null),
            Expr::Regex(re) => Val::str(re.as_str()),
            Expr::Array(items) => bounded(array(items.iter().map(|e| e.eval(ev, env).into_value()).collect()), env),
            Expr::Not(e) => Val::Bool(!e.eval(ev, env).truthy()),
            Expr::Neg(e) => e.eval(ev, env).negated(),
            Expr::Match { expr, re, negate } => {
                let v = expr.eval(ev, env);
                let m = v.as_str().is_some_and(|s| re.is_match(s));
                // `!~` on a non-string is true, as `!=` between types is.
                Val::Bool(if *negate { !m } else { m })
            }
            Expr::Call(f, args) => func::call(*f, args, ev, env),
            Expr::If(c) => c
                .arms
                .iter()
                .find(|(cond, _)| cond.test(ev, env))
                .map_or(&c.otherwise, |(_, then)| then)
                .eval(ev, env),
            Expr::Object(fields) => bounded(shape::object(fields, ev, env), env),
            Expr::Index(pair) => shape::index(pair.0.eval(ev, env), &pair.1.eval(ev, env)),
            Expr::Slice(s) => shape::slice(s, ev, env),
            // A lambda is read by the function it is given to; on its own it is nothing.
            Expr::Lambda(_) => Val::Null,
            Expr::Bin(op, a, b) => match op {
                BinOp::Or => Val::Bool(a.eval(ev, env).truthy() || b.eval(ev, env).truthy()),
                BinOp::And => Val::Bool(a.eval(ev, env).truthy() && b.eval(ev, env).truthy()),
                BinOp::Coalesce => match a.eval(ev, env) {
                    Val::Null => b.eval(ev, env),
                    v => v,
                },
                BinOp::Add => bounded(binary(*op, a.eval(ev, env), b.eval(ev, env)), env),
                _ => binary(*op, a.eval(ev, env), b.eval(ev, env)),
            },
        }
    }

    /// The expression as a condition: true unless `null` or `false`.
    pub(crate) fn test(&self, ev: &dyn Record, env: &Env) -> bool {
        self.eval(ev, env).truthy()
    }
}

/// An array of computed values; `null` if it would nest deeper than an input line may.
pub(crate) fn array(items: Vec<Value>) -> Val<'static> {
    Val::Json(Cow::Owned(Value::Array(items)))
}

/// The array of `items`, or null once its text would be longer than an event may be: checked
/// as it grows, so no more of it is built than the limit allows (a `map` over a long `split`
/// would otherwise hold all of its result, many times the limit in memory, before the check).
pub(crate) fn array_within(items: impl Iterator<Item = Value>, env: &Env) -> Val<'static> {
    let mut room = env.max_bytes.0.saturating_sub(2);
    let mut out = Vec::new();
    for item in items {
        match crate::json::text_len_within(&item, room) {
            Some(len) => room = room.saturating_sub(len + 1),
            None => return Val::Null,
        }
        out.push(item);
    }
    array(out)
}

pub(crate) fn binary<'a>(op: BinOp, a: Val<'a>, b: Val<'a>) -> Val<'a> {
    let ord = |want: fn(Ordering) -> bool| Val::Bool(a.order(&b).is_some_and(want));
    match op {
        BinOp::Eq => Val::Bool(a.equals(&b)),
        BinOp::Ne => Val::Bool(!a.equals(&b)),
        BinOp::Lt => ord(|o| o == Ordering::Less),
        BinOp::Le => ord(|o| o != Ordering::Greater),
        BinOp::Gt => ord(|o| o == Ordering::Greater),
        BinOp::Ge => ord(|o| o != Ordering::Less),
        BinOp::In => Val::Bool(member(&a, &b)),
        BinOp::NotIn => Val::Bool(!member(&a, &b)),
        BinOp::Add => match (a, b) {
            (Val::Str(x), Val::Str(y)) if x.len() + y.len() > crate::lang::func::text::MAX_TEXT => Val::Null,
            (Val::Str(x), Val::Str(y)) => Val::string(format!("{x}{y}")),
            (Val::Json(x), Val::Json(y)) => concat(x, &y),
            (x, y) => arith(op, &x, &y),
        },
        _ => arith(op, &a, &b),
    }
}

/// `x + y` on arrays: their elements in order; `null` for other containers, as for other types.
fn concat(x: Cow<Value>, y: &Value) -> Val<'static> {
    let (Value::Array(_), Value::Array(tail)) = (x.as_ref(), y) else {
        return Val::Null;
    };
    let Value::Array(mut items) = x.into_owned() else {
        return Val::Null;
    };
    items.extend(tail.iter().cloned());
    Val::Json(Cow::Owned(Value::Array(items)))
}

fn member(a: &Val, b: &Val) -> bool {
    match b {
        Val::Json(v) => match v.as_ref() {
            Value::Array(items) => items.iter().any(|i| Val::from_value(i).equals(a)),
            Value::Object(m) => a.as_str().is_some_and(|k| m.contains_key(k)),
            _ => false,
        },
        Val::Str(s) => a.as_str().is_some_and(|x| s.contains(x)),
        _ => false,
    }
}

fn arith(op: BinOp, a: &Val, b: &Val) -> Val<'static> {
    let (Some(x), Some(y)) = (a.numeric(), b.numeric()) else {
        return Val::Null;
    };
    let wide = match (x, y) {
        (Numeric::I(i), Numeric::I(j)) => {
            let r = match op {
                BinOp::Add => i.checked_add(j),
                BinOp::Sub => i.checked_sub(j),
                BinOp::Mul => i.checked_mul(j),
                BinOp::Div if j == 0 => return Val::Null,
                // A division with a remainder is a float; `checked_*`: i128::MIN / -1
                // overflows, and is done exactly past i128.
                BinOp::Div if i.checked_rem(j).is_some_and(|r| r != 0) => None,
                BinOp::Div => i.checked_div(j),
                BinOp::Rem if j == 0 => return Val::Null,
                BinOp::Rem => i.checked_rem(j),
                _ => None,
            };
            if let Some(r) = r {
                return Numeric::I(r).into_val();
            }
            // Past i128: exactly, unless only the remainder made it a float.
            op != BinOp::Div || i.checked_rem(j).is_none()
        }
        // Integer text past i128 on both sides.
        _ => super::wide::is_integer(a) && super::wide::is_integer(b),
    };
    if wide && let Some(r) = wide_arith(op, a, b) {
        return r;
    }
    let (x, y) = (x.as_f64(), y.as_f64());
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div if y == 0.0 => return Val::Null,
        BinOp::Div => x / y,
        BinOp::Rem if y == 0.0 => return Val::Null,
        BinOp::Rem => x % y,
        _ => return Val::Null,
    };
    Val::float(r)
}

/// Integer arithmetic that i128 cannot hold, or on integer text past it, done exactly.
fn wide_arith(op: BinOp, a: &Val, b: &Val) -> Option<Val<'static>> {
    let (Some(i), Some(j)) = (super::wide::integer(a), super::wide::integer(b)) else {
        return None;
    };
    super::wide::arith(op, &i, &j)
}

#[cfg(test)]
pub(crate) mod tests;
