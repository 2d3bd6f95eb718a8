//! `flatten [SEP]` and `unflatten [SEP]` (Miller's verbs): between nested events and flat ones
//! whose keys are paths joined by SEP (`"."` by default).
//!
//! - `flatten`: `{"a":{"b":1},"t":["x","y"]}` becomes `{"a.b":1,"t.0":"x","t.1":"y"}`: objects
//!   by key, arrays by index from 0. An empty object or array becomes the string `"{}"` or
//!   `"[]"` (as Miller writes them), so nothing is lost. A flat key that repeats one made from a
//!   nested path: the last wins, in the first one's place, and the run ends with a warning that
//!   counts such events.
//! - `unflatten`: the inverse. A key holding SEP becomes nested objects; an object made this way
//!   whose keys are exactly `0`, `1`, … `n-1`, in that order, becomes an array. The strings
//!   `"{}"` and `"[]"` become an empty object and array. No value is lost, whatever the order
//!   of the keys: a key with an empty part (`a..b`, `.a`) stays as it is, and so does a key
//!   whose prefix is another key holding a value that is not an object (`{"a":1,"a.b":2}` keeps
//!   `a.b`); objects that meet at one key merge (`{"a.b":1,"a":{"c":2}}` gives
//!   `{"a":{"b":1,"c":2}}`); only the same path written twice keeps the last value, counted for
//!   the warning as `flatten`'s.
//! - Events that are not objects, or have nothing to change, pass with their bytes as read. An
//!   event that would nest deeper than 128 levels is a dead letter (`too_deep`).

use super::{Describe, PerEvent, Step};
use crate::event::{Event, Needs, Reason, Rejection};
use crate::json::{self, MAX_DEPTH};
use crate::lang::Env;
use crate::lang::Expr;
use serde_json::map::Entry;
use serde_json::{Map, Value};
use std::cmp::Reverse;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone)]
pub(crate) struct Flatten {
    sep: String,
    /// `unflatten`.
    undo: bool,
    /// How many events had two fields at one key, one written over (on every worker).
    overwritten: Arc<AtomicU64>,
}

impl Flatten {
    pub(crate) fn new(sep: String, undo: bool) -> Flatten {
        Flatten {
            sep,
            undo,
            overwritten: Arc::default(),
        }
    }

    pub(crate) fn apply<'a>(&self, ev: &mut Event<'a>) -> Step<'a> {
        let changes = match ev.tree() {
            Some(doc) => self.changes(doc),
            None => match ev.to_value() {
                Ok(doc) => self.changes(&doc),
                Err(r) => return Step::Dead(r),
            },
        };
        if !changes {
            return Step::Pass;
        }
        let fields = match ev.doc_mut().map(std::mem::take) {
            Ok(Value::Object(m)) => m,
            Ok(other) => {
                ev.replace(other);
                return Step::Pass;
            }
            Err(r) => return Step::Dead(r),
        };
        let mut lost = false;
        let done = if self.undo {
            unflatten(fields, &self.sep, &mut lost)
        } else {
            Ok(flatten(fields, &self.sep, &mut lost))
        };
        if lost {
            self.overwritten.fetch_add(1, Ordering::Relaxed);
        }
        match done {
            Ok(m) => {
                ev.replace(Value::Object(m));
                Step::Pass
            }
            Err(reason) => Step::Dead(Rejection::new(reason, reason.explain())),
        }
    }

    /// Whether the stage changes this event.
    fn changes(&self, doc: &Value) -> bool {
        let Value::Object(m) = doc else { return false };
        if self.undo {
            m.iter()
                .any(|(k, v)| k.contains(self.sep.as_str()) || empty_text(v).is_some())
        } else {
            m.values().any(|v| v.is_object() || v.is_array())
        }
    }
}

impl Describe for Flatten {
    fn expressions(&self) -> Vec<&Expr> {
        Vec::new()
    }

    fn name(&self) -> &'static str {
        if self.undo { "unflatten" } else { "flatten" }
    }

    fn needs(&self, n: &mut Needs) {
        n.whole = true;
    }

    fn counts(&self) -> Option<&'static str> {
        self.undo.then_some("nested past 128 levels: dead letter (too_deep)")
    }

    fn warning(&self) -> Option<String> {
        let n = self.overwritten.load(Ordering::Relaxed);
        (n > 0).then(|| {
            format!(
                "{}: {} had a nested field and a key holding \"{}\" that name one field; the later value \
                 was kept and the other lost: rename one of them first",
                self.name(),
                crate::messages::counted(n, "event", "events"),
                self.sep,
            )
        })
    }
}

impl PerEvent for Flatten {
    fn step<'a>(&self, ev: &mut Event<'a>, _: &Env) -> Step<'a> {
        self.apply(ev)
    }
}

/// The fields with every nested value under its joined path; `lost` is set when two of them
/// had one path, and the later was kept.
fn flatten(fields: Map<String, Value>, sep: &str, lost: &mut bool) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in fields {
        put(&mut out, k, v, sep, lost);
    }
    out
}

fn put(out: &mut Map<String, Value>, key: String, v: Value, sep: &str, lost: &mut bool) {
    let flat = match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, c) in m {
                put(out, format!("{key}{sep}{k}"), c, sep, lost);
            }
            return;
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, c) in a.into_iter().enumerate() {
                put(out, format!("{key}{sep}{i}"), c, sep, lost);
            }
            return;
        }
        Value::Object(_) => Value::String("{}".into()),
        Value::Array(_) => Value::String("[]".into()),
        scalar => scalar,
    };
    *lost |= out.insert(key, flat).is_some();
}

/// The empty object or array that `flatten` wrote as `"{}"` or `"[]"`.
fn empty_text(v: &Value) -> Option<Value> {
    match v.as_str()? {
        "{}" => Some(Value::Object(Map::new())),
        "[]" => Some(Value::Array(Vec::new())),
        _ => None,
    }
}

/// The fields with each key holding `sep` nested; `Err` when the result would nest too deep.
fn unflatten(fields: Map<String, Value>, sep: &str, lost: &mut bool) -> Result<Map<String, Value>, Reason> {
    // Keys holding a value that is not an object: a key they are a prefix of stays flat, so
    // neither value is lost, whatever their order.
    let scalars: HashSet<&str> = fields
        .iter()
        .filter(|(_, v)| !v.is_object() && !matches!(v.as_str(), Some("{}")))
        .map(|(k, _)| k.as_str())
        .collect();
    let blocked = |k: &str| k.match_indices(sep).any(|(at, _)| scalars.contains(&k[..at]));
    let keep: HashSet<String> = fields
        .keys()
        .filter(|k| k.contains(sep) && (k.split(sep).any(str::is_empty) || blocked(k)))
        .cloned()
        .collect();
    let mut root = Map::new();
    // The objects this made, by path: the ones that may become arrays.
    let mut made: Vec<Vec<String>> = Vec::new();
    for (k, v) in fields {
        let v = empty_text(&v).unwrap_or(v);
        if !k.contains(sep) || keep.contains(&k) {
            merge_put(&mut root, k, v, lost);
            continue;
        }
        let parts: Vec<&str> = k.split(sep).collect();
        if parts.len() + json::depth(&v) > MAX_DEPTH {
            return Err(Reason::TooDeep);
        }
        if let Err(v) = place(&mut root, &parts, v, &mut made, lost) {
            merge_put(&mut root, k, v, lost);
        }
    }
    // The deepest first, so a parent is still an object while its children turn.
    made.sort_by_key(|p| Reverse(p.len()));
    for path in made {
        if let Some(slot) = find(&mut root, &path) {
            to_array(slot);
        }
    }
    Ok(root)
}

/// Puts `v` at the path `parts`, making the objects on the way; gives `v` back when a value
/// on the way is not an object.
fn place(
    root: &mut Map<String, Value>,
    parts: &[&str],
    v: Value,
    made: &mut Vec<Vec<String>>,
    lost: &mut bool,
) -> Result<(), Value> {
    let Some((last, way)) = parts.split_last() else {
        return Err(v);
    };
    let mut cur = root;
    for (i, p) in way.iter().enumerate() {
        let slot = match cur.entry(*p) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(e) => {
                made.push(parts[..=i].iter().map(ToString::to_string).collect());
                e.insert(Value::Object(Map::new()))
            }
        };
        match slot {
            Value::Object(m) => cur = m,
            _ => return Err(v),
        }
    }
    merge_put(cur, (*last).to_string(), v, lost);
    Ok(())
}

/// Sets `key` to `v`; an object meeting an object there merges into it, so that `{"a.b":1,
/// "a":{"c":2}}` loses neither field. Otherwise the last value wins, and `lost` is set.
fn merge_put(map: &mut Map<String, Value>, key: String, v: Value, lost: &mut bool) {
    match (map.get_mut(&key), v) {
        (Some(Value::Object(there)), Value::Object(new)) => {
            for (k, c) in new {
                merge_put(there, k, c, lost);
            }
        }
        (_, v) => *lost |= map.insert(key, v).is_some(),
    }
}

fn find<'v>(root: &'v mut Map<String, Value>, path: &[String]) -> Option<&'v mut Value> {
    let (first, rest) = path.split_first()?;
    let mut cur = root.get_mut(first)?;
    for p in rest {
        cur = cur.as_object_mut()?.get_mut(p)?;
    }
    Some(cur)
}

/// An object whose keys are `0` … `n-1` in order becomes the array of its values.
fn to_array(slot: &mut Value) {
    let Value::Object(m) = slot else { return };
    if m.is_empty() || !m.keys().enumerate().all(|(i, k)| *k == i.to_string()) {
        return;
    }
    let items = std::mem::take(m).into_iter().map(|(_, v)| v).collect();
    *slot = Value::Array(items);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;

    fn run(line: &str, sep: &str, undo: bool) -> Result<String, String> {
        let f = Flatten::new(sep.into(), undo);
        let mut needs = Needs::default();
        f.needs(&mut needs);
        let mut ev = Event::parse(line, Origin::default(), &needs).expect("valid JSON");
        match f.apply(&mut ev) {
            Step::Pass => Ok(ev.json_string()),
            Step::Dead(r) => Err(r.reason.name().to_string()),
            _ => Err("other".into()),
        }
    }

    #[test]
    fn flatten_joins_keys_and_indexes_in_place() {
        assert_eq!(
            run(
                r#"{"a":{"b":1,"c":{"d":[true,{"e":null}]}},"z":1.50,"t":[]}"#,
                ".",
                false
            ),
            Ok(r#"{"a.b":1,"a.c.d.0":true,"a.c.d.1.e":null,"z":1.50,"t":"[]"}"#.into())
        );
        assert_eq!(
            run(r#"{"a":{"b":{}},"c":2}"#, ":", false),
            Ok(r#"{"a:b":"{}","c":2}"#.into())
        );
    }

    #[test]
    fn events_with_nothing_to_change_keep_their_bytes() {
        for line in [r#"{ "a" : 1, "b":"x.y" }"#, "[1,{\"a\":2}]", "3", r#"{"a.b" : 1}"#] {
            assert_eq!(run(line, ".", false), Ok(line.into()), "{line}");
        }
        for line in [r#"{ "a" : {"b.c":1} }"#, "[1]", r#"{"a":"{ }"}"#] {
            assert_eq!(run(line, ".", true), Ok(line.into()), "{line}");
        }
    }

    #[test]
    fn unflatten_undoes_flatten() {
        for line in [
            r#"{"a":{"b":1,"c":{"d":[true,{"e":null}]}},"z":1.50,"t":[],"o":{}}"#,
            r#"{"x":[[1,2],[3]],"y":{"0":"a","2":"b"}}"#,
            r#"{"k":{"1":"a","0":"b"}}"#,
        ] {
            let flat = run(line, ".", false).expect("flattens");
            let back = run(&flat, ".", true).expect("unflattens");
            let want: Value = serde_json::from_str(line).expect("JSON");
            let got: Value = serde_json::from_str(&back).expect("JSON");
            assert_eq!(got, want, "{line} -> {flat} -> {back}");
        }
    }

    #[test]
    fn unflatten_keeps_keys_it_cannot_nest() {
        assert_eq!(
            run(r#"{"a":1,"a.b":2,"x..y":3,".z":4,"w.":5,"c.d":6}"#, ".", true),
            Ok(r#"{"a":1,"a.b":2,"x..y":3,".z":4,"w.":5,"c":{"d":6}}"#.into())
        );
        assert_eq!(
            run(r#"{"a__b":1,"a__c":[2]}"#, "__", true),
            Ok(r#"{"a":{"b":1,"c":[2]}}"#.into())
        );
    }

    #[test]
    fn unflatten_loses_no_value_whatever_the_key_order() {
        for (line, want) in [
            (r#"{"a.b":2,"a":1}"#, r#"{"a.b":2,"a":1}"#),
            (r#"{"a.b.c":2,"a.b":1}"#, r#"{"a.b.c":2,"a":{"b":1}}"#),
            (r#"{"a.b":1,"a":{"c":2}}"#, r#"{"a":{"b":1,"c":2}}"#),
            (r#"{"a":{"c":2},"a.b":1}"#, r#"{"a":{"c":2,"b":1}}"#),
            (r#"{"a.b.c":1,"a.b":{"d":2}}"#, r#"{"a":{"b":{"c":1,"d":2}}}"#),
        ] {
            assert_eq!(run(line, ".", true), Ok(want.into()), "{line}");
        }
    }

    #[test]
    fn unflatten_past_the_depth_limit_is_a_dead_letter() {
        let deep = vec!["k"; MAX_DEPTH + 1].join(".");
        assert_eq!(run(&format!("{{\"{deep}\":1}}"), ".", true), Err("too_deep".into()));
        let fits = vec!["k"; MAX_DEPTH].join(".");
        assert!(run(&format!("{{\"{fits}\":1}}"), ".", true).is_ok());
    }
}
