//! Walks over JSON trees without recursion: their compact text and their nesting depth.

use super::ast::Seg;
use serde_json::Value;

/// Follows `segs` from `v`; negative indexes count from the end.
pub(crate) fn navigate<'v>(mut v: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    for s in segs {
        v = match (s, v) {
            (Seg::Key(k), Value::Object(m)) => m.get(&**k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(resolve_index(*i, a.len())?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The position of index `i` (negative from the end) in `len` items, if it is one.
pub(crate) fn resolve_index(i: i64, len: usize) -> Option<usize> {
    if i >= 0 {
        usize::try_from(i).ok()
    } else {
        len.checked_sub(usize::try_from(i.unsigned_abs()).ok()?)
    }
}

/// What is left to write, latest first.
enum Step<'v> {
    Value(&'v Value),
    Key(&'v str),
    Text(&'static [u8]),
}

/// Writes `v` as compact JSON, the same text as `serde_json::to_writer`.
pub(crate) fn write_json(v: &Value, out: &mut Vec<u8>) {
    let mut todo = vec![Step::Value(v)];
    while let Some(step) = todo.pop() {
        match step {
            Step::Text(t) => out.extend_from_slice(t),
            Step::Key(k) => {
                write_scalar(&k, out);
                out.push(b':');
            }
            Step::Value(Value::Array(a)) => {
                out.push(b'[');
                todo.push(Step::Text(b"]"));
                for (i, x) in a.iter().enumerate().rev() {
                    todo.push(Step::Value(x));
                    if i > 0 {
                        todo.push(Step::Text(b","));
                    }
                }
            }
            Step::Value(Value::Object(m)) => {
                out.push(b'{');
                todo.push(Step::Text(b"}"));
                for (i, (k, x)) in m.iter().enumerate().rev() {
                    todo.push(Step::Value(x));
                    todo.push(Step::Key(k));
                    if i > 0 {
                        todo.push(Step::Text(b","));
                    }
                }
            }
            Step::Value(scalar) => write_scalar(scalar, out),
        }
    }
}

/// A string, number, boolean or null: `serde_json` writes these without recursing.
fn write_scalar<T: serde::Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, v).expect("writing a scalar to a Vec cannot fail");
}

/// A value nested `levels` deep, alternating arrays and objects, built without recursion.
#[cfg(test)]
pub(crate) fn nested(levels: usize) -> Value {
    (0..levels).fold(Value::from(1), |v, i| match i % 2 {
        0 => Value::Array(vec![v]),
        _ => Value::Object([("k".to_string(), v)].into_iter().collect()),
    })
}

/// Drops a `nested` value level by level: `serde_json`'s own drop recurses.
#[cfg(test)]
pub(crate) fn dismantle(mut v: Value) {
    while let Some(inner) = match &mut v {
        Value::Array(a) => a.pop(),
        Value::Object(m) => m.remove("k"),
        _ => None,
    } {
        v = inner;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_serde_jsons_compact_text() {
        let v = json!({"a": [1, "x\n\"", null, true, {"b": 1.5e300, "": []}], "c": {}, "d": -0.0});
        let mut out = Vec::new();
        write_json(&v, &mut out);
        assert_eq!(String::from_utf8(out).expect("UTF-8"), v.to_string());
    }

    proptest::proptest! {
        #[test]
        fn text_is_serde_jsons_for_any_value(v in crate::lang::compare::tests::any_json()) {
            let mut out = Vec::new();
            write_json(&v, &mut out);
            proptest::prop_assert_eq!(String::from_utf8(out).expect("UTF-8"), v.to_string());
        }
    }

    #[test]
    fn deep_values_are_written_without_recursion() {
        let v = nested(100_000);
        let mut out = Vec::new();
        write_json(&v, &mut out);
        assert_eq!(out.len(), 100_000 / 2 * 8 + 1);
        assert!(out.starts_with(br#"{"k":[{"k":["#));
        dismantle(v);
    }
}
