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
/// `approx` is `approx(v)`: text that gives a finite f64 is a valid decimal.
fn class(v: &Val, approx: f64) -> u8 {
    match v {
        Val::Float(_) if approx == f64::NEG_INFINITY => 0,
        Val::Float(_) if approx == f64::INFINITY => 2,
        Val::Float(_) if approx.is_nan() => 3,
        Val::Num(t) if !approx.is_finite() && Decimal::parse(t).is_none() => 3,
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
    let (fa, fb) = (approx(a), approx(b));
    let (ca, cb) = (class(a, fa), class(b, fb));
    match ca.cmp(&cb) {
        Ordering::Equal if ca == 1 => {}
        Ordering::Equal if ca == 3 => return a.to_text().cmp(&b.to_text()),
        o => return o,
    }
    match fa.partial_cmp(&fb) {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lang::tree::{dismantle, nested};
    use proptest::prelude::*;
    use serde_json::{Number, json};
    use std::borrow::Cow;

    fn num(t: &str) -> Val<'static> {
        Val::number_text(Cow::Owned(t.to_string()))
    }

    fn json(v: Value) -> Val<'static> {
        Val::from_owned_value(v)
    }

    #[test]
    fn containers_of_different_types_are_unequal_not_a_crash() {
        let (arr, obj) = (json(json!([1])), json(json!({})));
        assert!(!equals(&arr, &obj) && !equals(&obj, &arr));
        assert!(!equals(&json(json!({})), &json(json!([]))));
        assert!(!equals(&json(json!([[1]])), &json(json!([{}]))));
        assert!(!equals(&json(json!([1])), &Val::Int(1)));
        assert_eq!(sort_cmp(&arr, &obj), Ordering::Less);
        assert_eq!(sort_cmp(&json(json!([{}])), &json(json!([[1]]))), Ordering::Greater);
    }

    #[test]
    fn objects_are_equal_whatever_their_key_order() {
        let (a, b) = (json(json!({"a": 1, "b": [2.0]})), json(json!({"b": [2], "a": 1.0})));
        assert!(equals(&a, &b));
        assert_eq!(sort_cmp(&a, &b), Ordering::Equal);
        assert!(!equals(&a, &json(json!({"a": 1, "c": [2]}))));
    }

    #[test]
    fn containers_order_element_by_element_then_by_length() {
        assert_eq!(sort_cmp(&json(json!([1, 2])), &json(json!([1, 10]))), Ordering::Less);
        assert_eq!(sort_cmp(&json(json!([1])), &json(json!([1, 0]))), Ordering::Less);
        assert_eq!(
            sort_cmp(&json(json!({"a": 2})), &json(json!({"a": 1, "b": 0}))),
            Ordering::Greater
        );
        assert_eq!(
            sort_cmp(&json(json!({"b": 0})), &json(json!({"a": 9, "c": 0}))),
            Ordering::Greater
        );
    }

    #[test]
    fn numbers_compare_by_exact_value() {
        let cases = [
            ("9007199254740993.0", "9007199254740992", Ordering::Greater),
            ("-1e-400", "0", Ordering::Less),
            ("1e400", "1e399", Ordering::Greater),
            ("1e-400", "0", Ordering::Greater),
            ("-0.0", "0", Ordering::Equal),
            ("18446744073709551615", "18446744073709551616", Ordering::Less),
            ("1.0", "1", Ordering::Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(num_cmp(&num(a), &num(b)), want, "{a} vs {b}");
            assert_eq!(num_cmp(&num(b), &num(a)), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn a_float_counts_as_the_number_it_prints_as() {
        assert!(equals(&Val::Float(0.1), &num("0.1")));
        assert!(equals(&Val::Float(0.1 + 0.2), &num("0.30000000000000004")));
        assert!(!equals(&Val::Float(0.1 + 0.2), &num("0.3")));
        assert!(equals(&Val::Float(-0.0), &Val::Int(0)));
        // 2^64 prints as 18446744073709552000.
        let u = num("18446744073709551615");
        assert_eq!(num_cmp(&u, &Val::Float(18446744073709551616.0)), Ordering::Less);
        assert!(equals(
            &num("18446744073709552000"),
            &Val::Float(18446744073709551616.0)
        ));
    }

    #[test]
    fn non_finite_floats_sit_outside_the_finite_numbers() {
        let (inf, nan) = (Val::Float(f64::INFINITY), Val::Float(f64::NAN));
        assert_eq!(num_cmp(&num("1e400"), &inf), Ordering::Less);
        assert_eq!(num_cmp(&Val::Float(f64::NEG_INFINITY), &num("-1e400")), Ordering::Less);
        assert!(equals(&nan, &nan));
        assert_eq!(num_cmp(&inf, &nan), Ordering::Less);
    }

    #[test]
    fn deep_values_compare_without_recursion() {
        let (a, b) = (json(nested(100_000)), json(nested(100_000)));
        assert!(equals(&a, &b));
        assert_eq!(sort_cmp(&a, &b), Ordering::Equal);
        for v in [a, b] {
            if let Val::Json(j) = v {
                dismantle(j.into_owned());
            }
        }
    }

    /// Number text that often collides in value (1, 1.0, 10e-1…) and strays beyond f64.
    fn number_text() -> impl Strategy<Value = String> {
        const TRICKY: &[&str] = &[
            "0",
            "-0",
            "0.0",
            "0e5",
            "1",
            "1.0",
            "10e-1",
            "0.1e1",
            "-1",
            "1.5",
            "15e-1",
            "0.1",
            "1e400",
            "10e399",
            "-1e400",
            "1e-400",
            "-1e-400",
            "9007199254740992",
            "9007199254740993",
            "9007199254740993.0",
            "9223372036854775807",
            "18446744073709551615",
            "18446744073709551616",
            "1e99999999999999999999999999999999999999",
        ];
        prop_oneof![
            proptest::sample::select(TRICKY).prop_map(str::to_string),
            any::<i64>().prop_map(|i| i.to_string()),
            "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
        ]
    }

    pub(crate) fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            number_text().prop_map(|t| Value::Number(Number::from_string_unchecked(t))),
            "[ab1]{0,2}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[abc]", inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn any_val() -> impl Strategy<Value = Val<'static>> {
        prop_oneof![
            4 => any_json().prop_map(Val::from_owned_value),
            1 => proptest::sample::select(&[0.1, 1.0, -0.0, 1.5, 9007199254740992.0, 1e300, 0.30000000000000004][..]).prop_map(Val::Float),
            1 => (-1e20..1e20f64).prop_map(Val::Float),
        ]
    }

    proptest! {
        #[test]
        fn equality_is_reflexive_and_symmetric(a in any_val(), b in any_val()) {
            prop_assert!(equals(&a, &a));
            prop_assert!(equals(&a, &a.clone().into_static()));
            prop_assert_eq!(equals(&a, &b), equals(&b, &a));
        }

        #[test]
        fn sort_order_is_antisymmetric_and_agrees_with_equality(a in any_val(), b in any_val()) {
            prop_assert_eq!(sort_cmp(&a, &b), sort_cmp(&b, &a).reverse());
            prop_assert_eq!(sort_cmp(&a, &b).is_eq(), equals(&a, &b));
            if let Some(o) = a.order(&b) {
                prop_assert_eq!(o, sort_cmp(&a, &b));
            }
        }

        #[test]
        fn sort_order_is_transitive(mut vals in proptest::collection::vec(any_val(), 0..12)) {
            vals.sort_by(sort_cmp);
            for (i, a) in vals.iter().enumerate() {
                for b in &vals[i + 1..] {
                    prop_assert_ne!(sort_cmp(a, b), Ordering::Greater, "{:?} after {:?}", a, b);
                }
            }
        }

        #[test]
        fn the_f64_fast_path_agrees_with_exact_decimals(a in number_text(), b in number_text()) {
            let want = Decimal::parse(&a).expect("valid").cmp(&Decimal::parse(&b).expect("valid"));
            prop_assert_eq!(num_cmp(&num(&a), &num(&b)), want);
        }

        #[test]
        fn floats_compare_as_their_printed_text(f in any::<f64>().prop_filter("finite", |f| f.is_finite()), t in number_text()) {
            let printed = Val::Float(f).to_text().into_owned();
            let want = Decimal::parse(&printed).expect("valid").cmp(&Decimal::parse(&t).expect("valid"));
            prop_assert_eq!(num_cmp(&Val::Float(f), &num(&t)), want);
        }
    }
}
