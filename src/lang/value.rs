//! Values produced by expressions: borrowed from the event where possible, exact for numbers.

use super::{compare, tree};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::cmp::Ordering;

/// One bit per JSON type: [`Val::kind`] gives a value's, and a set of them (the types a field
/// had) is their union.
pub(crate) mod kind {
    pub(crate) const NULL: u8 = 1;
    pub(crate) const BOOLEAN: u8 = 2;
    pub(crate) const NUMBER: u8 = 4;
    pub(crate) const STRING: u8 = 8;
    pub(crate) const ARRAY: u8 = 16;
    pub(crate) const OBJECT: u8 = 32;
}

/// A set of [`kind`] bits in words: "a string or a number".
pub(crate) fn kind_names(kinds: u8) -> String {
    let names = ["null", "a boolean", "a number", "a string", "an array", "an object"];
    let had: Vec<&str> = (0..6).filter(|i| kinds & (1 << i) != 0).map(|i| names[i]).collect();
    had.join(" or ")
}

/// An expression's value. Numbers read from events keep their text (`Num`) so that
/// copying them never changes `1.0`, `1e400` or integers beyond 64 bits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A JSON number's exact text that is not a plain i64.
    Num(Cow<'a, str>),
    Str(Cow<'a, str>),
    /// An array or an object.
    Json(Cow<'a, Value>),
}

/// A number in a form that compares exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Numeric {
    I(i128),
    F(f64),
}

impl Numeric {
    /// The number as a whole number, if it is one (`3` and `3.0`); a float past the range of
    /// `i128` saturates, as a count or a bound that large means "all".
    pub(crate) fn whole(self) -> Option<i128> {
        match self {
            Numeric::I(i) => Some(i),
            Numeric::F(f) if f.fract() == 0.0 || f.is_infinite() => Some(f as i128),
            Numeric::F(_) => None,
        }
    }

    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Numeric::I(i) => i as f64,
            Numeric::F(f) => f,
        }
    }

    pub(crate) fn into_val(self) -> Val<'static> {
        match self {
            Numeric::I(i) => match i64::try_from(i) {
                Ok(i) => Val::Int(i),
                Err(_) => Val::Num(Cow::Owned(i.to_string())),
            },
            Numeric::F(f) => Val::Float(f),
        }
    }
}

/// Parses JSON number text to the exact form used for comparison and arithmetic.
pub(crate) fn parse_numeric(text: &str) -> Option<Numeric> {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(i) = text.parse::<i128>() {
            return Some(Numeric::I(i));
        }
    }
    text.parse::<f64>().ok().map(Numeric::F)
}

/// True when `text` is exactly how an i64 prints, so `Val::Int` keeps its text.
fn is_canonical_i64(text: &str) -> Option<i64> {
    let i: i64 = text.parse().ok()?;
    (text != "-0" && !text.starts_with('+') && !(text.len() > 1 && text.starts_with('0'))).then_some(i)
}

impl<'a> Val<'a> {
    pub(crate) fn str(s: &'a str) -> Val<'a> {
        Val::Str(Cow::Borrowed(s))
    }

    pub(crate) fn string(s: String) -> Val<'static> {
        Val::Str(Cow::Owned(s))
    }

    /// A number read from JSON text.
    pub(crate) fn number_text(text: Cow<'a, str>) -> Val<'a> {
        match is_canonical_i64(&text) {
            Some(i) => Val::Int(i),
            None => Val::Num(text),
        }
    }

    pub(crate) fn from_value(v: &'a Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::number_text(Cow::Borrowed(n.as_str())),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            _ => Val::Json(Cow::Borrowed(v)),
        }
    }

    pub(crate) fn from_owned_value(v: Value) -> Val<'static> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::number_text(Cow::Owned(n.as_str().to_string())),
            Value::String(s) => Val::Str(Cow::Owned(s)),
            v => Val::Json(Cow::Owned(v)),
        }
    }

    pub(crate) fn into_static(self) -> Val<'static> {
        match self {
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(b),
            Val::Int(i) => Val::Int(i),
            Val::Float(f) => Val::Float(f),
            Val::Num(t) => Val::Num(Cow::Owned(t.into_owned())),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Json(v) => Val::Json(Cow::Owned(v.into_owned())),
        }
    }

    /// About how long the value's JSON text is, or `None` past `limit` (see
    /// [`crate::json::text_len_within`]).
    pub(crate) fn text_len_within(&self, limit: usize) -> Option<usize> {
        let len = match self {
            Val::Null | Val::Bool(_) => 5,
            Val::Int(_) | Val::Float(_) => 24,
            Val::Num(t) => t.len(),
            Val::Str(s) => s.len() + 2,
            Val::Json(v) => return crate::json::text_len_within(v, limit),
        };
        (len <= limit).then_some(len)
    }

    pub(crate) fn into_value(self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(i) => Value::Number(i.into()),
            Val::Float(f) => float_value(f),
            Val::Num(t) => Value::Number(Number::from_string_unchecked(t.into_owned())),
            Val::Str(s) => Value::String(s.into_owned()),
            Val::Json(v) => v.into_owned(),
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// `null` and `false` are false; everything else is true.
    pub(crate) fn truthy(&self) -> bool {
        !matches!(self, Val::Null | Val::Bool(false))
    }

    pub(crate) fn numeric(&self) -> Option<Numeric> {
        match self {
            Val::Int(i) => Some(Numeric::I(i128::from(*i))),
            Val::Float(f) => Some(Numeric::F(*f)),
            Val::Num(t) => parse_numeric(t),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value's type as one bit (see [`kind`]), for sets of the types met.
    pub(crate) fn kind(&self) -> u8 {
        match self {
            Val::Null => kind::NULL,
            Val::Bool(_) => kind::BOOLEAN,
            Val::Int(_) | Val::Float(_) | Val::Num(_) => kind::NUMBER,
            Val::Str(_) => kind::STRING,
            Val::Json(v) if v.is_array() => kind::ARRAY,
            Val::Json(_) => kind::OBJECT,
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Int(_) | Val::Float(_) | Val::Num(_) => "number",
            Val::Str(_) => "string",
            Val::Json(v) if v.is_array() => "array",
            Val::Json(_) => "object",
        }
    }

    /// Equality: numbers by exact value, other types structurally; different types are unequal.
    pub(crate) fn equals(&self, other: &Val) -> bool {
        compare::equals(self, other)
    }

    /// Ordering for `< <= > >=`: numbers by exact value, strings by bytes, other values of
    /// one type as sorting orders them (false < true, arrays element by element); values of
    /// different types have none.
    pub(crate) fn order(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Str(a), Val::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (a, b) if a.is_number() && b.is_number() => Some(compare::num_cmp(a, b)),
            (a, b) if a.type_name() == b.type_name() => Some(a.sort_cmp(b)),
            _ => None,
        }
    }

    /// Total order used by sorting: null < false < true < numbers < strings < arrays < objects;
    /// equal values (`equals`) compare `Equal`.
    pub(crate) fn sort_cmp(&self, other: &Val) -> Ordering {
        compare::sort_cmp(self, other)
    }

    fn is_number(&self) -> bool {
        matches!(self, Val::Int(_) | Val::Float(_) | Val::Num(_))
    }

    /// The same value, borrowing its text and tree from `self`.
    pub(crate) fn borrowed(&self) -> Val<'_> {
        match self {
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(*b),
            Val::Int(i) => Val::Int(*i),
            Val::Float(f) => Val::Float(*f),
            Val::Num(t) => Val::Num(Cow::Borrowed(t)),
            Val::Str(s) => Val::Str(Cow::Borrowed(s)),
            Val::Json(j) => Val::Json(Cow::Borrowed(j)),
        }
    }

    /// A computed float; `null` when it is not finite, as it would print.
    pub(crate) fn float(f: f64) -> Val<'static> {
        if f.is_finite() { Val::Float(f) } else { Val::Null }
    }

    /// The exact decimal text of a number (a float as it prints), `None` for other values.
    pub(crate) fn decimal_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Float(f) if !f.is_finite() => None,
            Val::Int(_) | Val::Float(_) | Val::Num(_) => Some(self.to_text()),
            _ => None,
        }
    }

    /// The number with its sign flipped, exactly (text is negated as text); `null` otherwise.
    pub(crate) fn negated(self) -> Val<'a> {
        match self {
            Val::Int(i) => i
                .checked_neg()
                .map_or_else(|| Numeric::I(-i128::from(i)).into_val(), Val::Int),
            Val::Float(f) => Val::Float(-f),
            Val::Num(t) => {
                let digits = t.strip_prefix(['-', '+']).unwrap_or(&t);
                let text = if t.starts_with('-') {
                    digits.to_string()
                } else {
                    format!("-{digits}")
                };
                Val::number_text(Cow::Owned(text))
            }
            _ => Val::Null,
        }
    }

    /// The number without its sign, exactly; `null` for other values.
    pub(crate) fn abs(self) -> Val<'a> {
        match self {
            Val::Num(ref t) if t.starts_with('-') => self.negated(),
            Val::Int(i) if i < 0 => self.negated(),
            Val::Float(f) => Val::Float(f.abs()),
            v if v.is_number() => v,
            _ => Val::Null,
        }
    }

    /// The value as text: strings as themselves, everything else as compact JSON.
    pub(crate) fn to_text(&self) -> Cow<'_, str> {
        match self {
            Val::Str(s) => Cow::Borrowed(s),
            Val::Num(t) => Cow::Borrowed(t),
            Val::Null => Cow::Borrowed("null"),
            Val::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Val::Int(i) => Cow::Owned(i.to_string()),
            Val::Float(_) => Cow::Owned(self.clone().into_value().to_string()),
            Val::Json(v) => {
                let mut out = Vec::new();
                tree::write_json(v, &mut out);
                Cow::Owned(
                    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                )
            }
        }
    }

    /// Writes the value as compact JSON.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Val::Null => out.extend_from_slice(b"null"),
            Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Val::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Val::Num(t) => out.extend_from_slice(t.as_bytes()),
            Val::Float(f) => {
                let v = float_value(*f);
                serde_json::to_writer(&mut *out, &v).expect("writing to a Vec cannot fail");
            }
            Val::Str(s) => serde_json::to_writer(&mut *out, s.as_ref()).expect("writing to a Vec cannot fail"),
            Val::Json(v) => tree::write_json(v, out),
        }
    }
}

/// A float as JSON: integral values print without a fraction, non-finite ones as null.
pub(crate) fn float_value(f: f64) -> Value {
    if !f.is_finite() {
        return Value::Null;
    }
    if f.fract() == 0.0 && f.abs() < crate::json::EXACT_INTEGERS {
        return Value::Number((f as i64).into());
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integers_compare_exactly() {
        let a = Val::number_text("9007199254740993".into());
        let b = Val::number_text("9007199254740992".into());
        assert!(!a.equals(&b));
        assert_eq!(a.order(&b), Some(Ordering::Greater));
        let u = Val::number_text("18446744073709551615".into());
        let v = Val::number_text("18446744073709551614".into());
        assert_eq!(u.order(&v), Some(Ordering::Greater));
        // The nearest f64 is 2^64, which prints as 18446744073709552000: a different number.
        let nearest = Val::Float(18446744073709551615.0);
        assert!(!u.equals(&nearest));
        assert_eq!(u.order(&nearest), Some(Ordering::Less));
        assert!(u.equals(&Val::number_text("18446744073709551615.0".into())));
        assert!(!u.equals(&Val::number_text("18446744073709551615.5".into())));
    }

    #[test]
    fn int_and_float_compare_numerically() {
        assert!(Val::Int(1).equals(&Val::Float(1.0)));
        assert!(Val::number_text("1.0".into()).equals(&Val::Int(1)));
        assert_eq!(Val::Int(2).order(&Val::Float(1.5)), Some(Ordering::Greater));
    }

    #[test]
    fn different_types_are_unequal_and_unordered() {
        assert!(!Val::str("1").equals(&Val::Int(1)));
        assert_eq!(Val::str("1").order(&Val::Int(1)), None);
        assert!(!Val::Null.equals(&Val::Bool(false)));
        assert_eq!(Val::Null.order(&Val::Bool(false)), None);
    }

    #[test]
    fn values_of_one_type_order_as_sorting_does() {
        let json = |s: &str| Val::from_value(&serde_json::from_str::<Value>(s).unwrap()).into_static();
        assert_eq!(Val::Bool(false).order(&Val::Bool(true)), Some(Ordering::Less));
        assert_eq!(json("[1, 2]").order(&json("[1, 3]")), Some(Ordering::Less));
        assert_eq!(json("[1, 2]").order(&json("[1]")), Some(Ordering::Greater));
        assert_eq!(json("[2]").order(&json("[10]")), Some(Ordering::Less));
        assert_eq!(Val::Null.order(&Val::Null), Some(Ordering::Equal));
        assert_eq!(json("[1]").order(&json("{}")), None);
    }

    #[test]
    fn number_text_survives() {
        for t in ["1.0", "1e400", "-9223372036854775808", "18446744073709551615", "-0"] {
            assert_eq!(Val::number_text(t.into()).into_value().to_string(), t);
        }
    }

    #[test]
    fn only_canonical_i64_text_becomes_an_int() {
        let cases = [
            ("0", Some(0)),
            ("42", Some(42)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("-0", None),
            ("1.0", None),
            ("1e2", None),
            ("007", None),
            ("+1", None),
        ];
        for (text, want) in cases {
            match (Val::number_text(text.into()), want) {
                (Val::Int(i), Some(w)) => assert_eq!(i, w, "{text}"),
                (Val::Num(t), None) => assert_eq!(t, text),
                (got, _) => panic!("{text} became {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn every_type_pair_is_unequal_and_sorts_by_type_then_value() {
        let vals = [
            Val::Null,
            Val::Bool(false),
            Val::Int(1),
            Val::Float(1.5),
            Val::number_text("1e400".into()),
            Val::str("a"),
            Val::from_owned_value(serde_json::json!([1])),
            Val::from_owned_value(serde_json::json!({"a": [1]})),
        ];
        for (i, a) in vals.iter().enumerate() {
            for (j, b) in vals.iter().enumerate() {
                assert_eq!(a.equals(b), i == j, "{a:?} == {b:?}");
                assert_eq!(a.sort_cmp(b), i.cmp(&j), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn negation_and_abs_keep_number_text_exact() {
        let n = |t: &str| Val::number_text(t.to_string().into());
        assert_eq!(n("1e400").negated().to_text(), "-1e400");
        assert_eq!(n("-9007199254740993.5").abs().to_text(), "9007199254740993.5");
        assert_eq!(n("9223372036854775808").negated(), Val::Int(i64::MIN));
        assert_eq!(Val::Int(i64::MIN).negated().to_text(), "9223372036854775808");
        assert_eq!(Val::Int(i64::MIN).abs().to_text(), "9223372036854775808");
        assert_eq!(Val::Float(-2.5).abs(), Val::Float(2.5));
        assert_eq!(Val::str("1").negated(), Val::Null);
    }

    #[test]
    fn computed_non_finite_floats_are_null() {
        assert_eq!(Val::float(f64::INFINITY), Val::Null);
        assert_eq!(Val::float(f64::NAN), Val::Null);
        assert_eq!(Val::float(0.5), Val::Float(0.5));
    }
}
