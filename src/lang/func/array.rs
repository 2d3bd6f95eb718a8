//! Array functions: `keys values unique sort reverse flatten first last sum`, and the
//! element-wise `map filter any all`, whose lambda `x => …` reads each element as `x`.

use super::Func;
use crate::lang::ast::{BinOp, Expr, Lambda, Path};
use crate::lang::eval::{Env, Record, array_within, binary};
use crate::lang::value::Val;
use serde_json::Value;
use std::borrow::Cow;

/// The event seen from inside a lambda: paths starting with its name read the element.
struct Scoped<'a> {
    event: &'a dyn Record,
    name: &'a str,
    element: &'a Value,
}

impl Record for Scoped<'_> {
    fn lookup(&self, path: &Path) -> Option<Val<'_>> {
        if path.first_key() == Some(self.name) {
            return crate::lang::tree::navigate(self.element, &path.segs[1..]).map(Val::from_value);
        }
        self.event.lookup(path)
    }
    fn file(&self) -> Option<u32> {
        self.event.file()
    }
    fn line(&self) -> Option<u64> {
        self.event.line()
    }
    fn offset(&self) -> Option<u64> {
        self.event.offset()
    }
    fn topic(&self) -> Option<&str> {
        self.event.topic()
    }
    fn raw(&self) -> &str {
        self.event.raw()
    }
}

/// The elements of an array value; `None` for anything else.
fn items<'v>(v: &'v Val) -> Option<&'v [Value]> {
    match v {
        Val::Json(j) => j.as_array().map(Vec::as_slice),
        _ => None,
    }
}

fn owned(items: Vec<Value>) -> Val<'static> {
    Val::Json(Cow::Owned(Value::Array(items)))
}

/// `map`, `filter`, `any`, `all`: the lambda applied to each element.
pub(super) fn each<'e>(f: Func, args: &'e [Expr], ev: &'e (dyn Record + 'e), env: &Env) -> Val<'e> {
    let (Some(list), Some(Expr::Lambda(l))) = (args.first(), args.get(1)) else {
        return Val::Null;
    };
    let list = list.eval(ev, env);
    let Some(elems) = items(&list) else { return Val::Null };
    let Lambda { name, body } = l.as_ref();
    let apply = |element: &Value| {
        let scoped = Scoped {
            event: ev,
            name,
            element,
        };
        body.eval(&scoped, env).into_value()
    };
    let holds = |element: &Value| {
        let scoped = Scoped {
            event: ev,
            name,
            element,
        };
        body.test(&scoped, env)
    };
    match f {
        Func::Map => array_within(elems.iter().map(apply), env),
        Func::Filter => owned(elems.iter().filter(|e| holds(e)).cloned().collect()),
        Func::Any => Val::Bool(elems.iter().any(holds)),
        _ => Val::Bool(elems.iter().all(holds)),
    }
}

/// The array functions of one argument (and `flatten`'s depth).
pub(super) fn call<'a>(f: Func, v: Val<'a>, depth: Option<Val>) -> Val<'a> {
    if let (Func::Reverse, Val::Str(s)) = (f, &v) {
        return Val::string(s.chars().rev().collect());
    }
    if let Val::Json(j) = &v {
        if let (Value::Object(m), Func::Keys | Func::Values) = (j.as_ref(), f) {
            return owned(if f == Func::Keys {
                m.keys().map(|k| Value::String(k.clone())).collect()
            } else {
                m.values().cloned().collect()
            });
        }
    }
    let Some(elems) = items(&v) else { return Val::Null };
    match f {
        Func::Keys => owned((0..elems.len()).map(|i| Value::from(i as u64)).collect()),
        Func::Values => owned(elems.to_vec()),
        Func::First | Func::Last => {
            let e = if f == Func::First { elems.first() } else { elems.last() };
            e.cloned().map_or(Val::Null, Val::from_owned_value)
        }
        Func::Reverse => owned(elems.iter().rev().cloned().collect()),
        Func::Sort => owned(sorted(elems)),
        Func::Unique => owned(unique(elems)),
        Func::Sum => sum(elems),
        Func::Flatten => {
            let depth = match depth.map(|d| d.numeric().and_then(crate::lang::value::Numeric::whole)) {
                None => usize::MAX,
                Some(Some(d)) if d >= 0 => usize::try_from(d).unwrap_or(usize::MAX),
                Some(_) => return Val::Null,
            };
            let mut out = Vec::new();
            flatten_into(elems, depth, &mut out);
            owned(out)
        }
        _ => Val::Null,
    }
}

fn sorted(elems: &[Value]) -> Vec<Value> {
    let mut out = elems.to_vec();
    out.sort_by(|a, b| Val::from_value(a).sort_cmp(&Val::from_value(b)));
    out
}

/// The elements without repeats, each where it first appears.
fn unique(elems: &[Value]) -> Vec<Value> {
    let mut order: Vec<usize> = (0..elems.len()).collect();
    // A stable sort keeps equal elements in input order: the first of each run is kept.
    order.sort_by(|&a, &b| Val::from_value(&elems[a]).sort_cmp(&Val::from_value(&elems[b])));
    let mut keep = vec![false; elems.len()];
    let mut prev: Option<usize> = None;
    for i in order {
        if prev.is_none_or(|p| !Val::from_value(&elems[p]).equals(&Val::from_value(&elems[i]))) {
            keep[i] = true;
            prev = Some(i);
        }
    }
    elems
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(e, _)| e.clone())
        .collect()
}

/// The sum of the numbers (other elements are skipped), exact for integers; 0 when empty.
fn sum(elems: &[Value]) -> Val<'static> {
    elems.iter().filter(|e| e.is_number()).fold(Val::Int(0), |acc, e| {
        binary(BinOp::Add, acc, Val::from_value(e)).into_static()
    })
}

fn flatten_into(elems: &[Value], depth: usize, out: &mut Vec<Value>) {
    for e in elems {
        match e {
            Value::Array(inner) if depth > 0 => flatten_into(inner, depth - 1, out),
            e => out.push(e.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::eval::tests::check_table;

    const EV: &str = r#"{"tags":["b","a","b",1,1.0,null],"n":[3,1,2],"o":{"z":1,"a":[2]},"deep":[1,[2,[3,[4]]]],"x":"field","s":"abc","big":[9007199254740993,1]}"#;

    #[test]
    fn array_functions_reshape_arrays_and_give_null_for_other_types() {
        check_table(&[
            ("keys(o)", EV, r#"["z","a"]"#),
            ("keys(n)", EV, "[0,1,2]"),
            ("values(o)", EV, "[1,[2]]"),
            ("unique(tags)", EV, r#"["b","a",1,null]"#),
            ("sort(n)", EV, "[1,2,3]"),
            ("sort(tags)", EV, r#"[null,1,1.0,"a","b","b"]"#),
            ("reverse(n)", EV, "[2,1,3]"),
            ("reverse(s)", EV, r#""cba""#),
            ("flatten(deep)", EV, "[1,2,3,4]"),
            ("flatten(deep, 1)", EV, "[1,2,[3,[4]]]"),
            ("flatten(deep, -1)", EV, "null"),
            ("first(n)", EV, "3"),
            ("last(n)", EV, "2"),
            ("first([])", EV, "null"),
            ("sum(n)", EV, "6"),
            ("sum(tags)", EV, "2"),
            ("sum(big)", EV, "9007199254740994"),
            ("sum([])", EV, "0"),
            ("min(n)", EV, "1"),
            ("max(n)", EV, "3"),
            ("keys(s)", EV, "null"),
            ("sort(x)", EV, "null"),
            ("sum(missing)", EV, "null"),
        ]);
    }

    #[test]
    fn lambdas_read_each_element_and_shadow_fields_of_the_same_name() {
        check_table(&[
            ("map(n, x => x * 10)", EV, "[30,10,20]"),
            ("map(n, x => x + len(s))", EV, "[6,4,5]"),
            // `x` is the element inside the lambda, the event's field outside it.
            ("map(n, x => x) == n and x == \"field\"", EV, "true"),
            ("filter(n, v => v >= 2)", EV, "[3,2]"),
            (r#"filter(tags, t => type(t) == "string")"#, EV, r#"["b","a","b"]"#),
            ("any(n, v => v > 2)", EV, "true"),
            ("all(n, v => v > 2)", EV, "false"),
            ("all([], v => false)", EV, "true"),
            ("map(o.a, v => {v, twice: v * 2})", EV, r#"[{"v":2,"twice":4}]"#),
            ("map([{k: 1}, {k: 2}], e => e.k)", EV, "[1,2]"),
            ("map(n, a => map(n, b => a * b))[0]", EV, "[9,3,6]"),
            ("map(x, v => v)", EV, "null"),
        ]);
    }
}
