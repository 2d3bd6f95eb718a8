//! Canonical bytes of a value, the identity that group keys, `distinct`, `values` and `top`
//! compare: one form per value, so `1`, `1.0`, `1E0` and `10e-1` are one key.
//!
//! The bytes are compact JSON in which every number is written as its exact decimal value
//! (`M` or `MeE` with no trailing zeros in `M`, see [`write_decimal`]) and object members are
//! sorted by key. Numbers compare by exact decimal value, never through an f64, so integers beyond
//! 2^53 and decimals with more digits than a double holds stay apart. Strings keep their JSON
//! quotes, so the string `"1"` and the number `1` differ. For a value that is already in this form
//! (strings, booleans, null, plain integers) the bytes equal its compact JSON text, which lets a
//! group store its key once.

use crate::lang::Val;
use serde_json::Value;
use std::io::Write;

/// Writes the canonical bytes of `v` to `out`.
pub(crate) fn write_canonical<W: Write>(v: &Val, out: &mut W) -> std::io::Result<()> {
    match v {
        Val::Null => out.write_all(b"null"),
        Val::Bool(b) => out.write_all(if *b { b"true" } else { b"false" }),
        // An i64 has at most 19 digits and no leading zero: its text is its canonical form.
        Val::Int(i) => write!(out, "{i}"),
        Val::Float(f) => write_float(*f, out),
        Val::Num(t) => write_number_text(t, out),
        Val::Str(s) => serde_json::to_writer(&mut *out, s.as_ref()).map_err(std::io::Error::from),
        Val::Json(j) => write_json(j, out),
    }
}

/// True when the canonical bytes of `v` are its compact JSON text (`Val::write_json`), so a
/// caller that needs both can write one and copy it.
pub(crate) fn is_json_text(v: &Val) -> bool {
    matches!(v, Val::Null | Val::Bool(_) | Val::Int(_) | Val::Str(_))
}

/// A 64-bit hash of the canonical bytes of `v` (xxHash64, seed 0): the same on every machine.
pub(crate) fn canonical_hash(v: &Val) -> u64 {
    seeded_canonical_hash(v, 0)
}

/// `canonical_hash` with another xxHash64 seed (`sample … by` with `--seed`).
pub(crate) fn seeded_canonical_hash(v: &Val, seed: u64) -> u64 {
    let mut h = HashWriter(twox_hash::XxHash64::with_seed(seed));
    // Writing to a hasher cannot fail.
    let _ = write_canonical(v, &mut h);
    std::hash::Hasher::finish(&h.0)
}

struct HashWriter(twox_hash::XxHash64);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::hash::Hasher::write(&mut self.0, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_json<W: Write>(v: &Value, out: &mut W) -> std::io::Result<()> {
    match v {
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_json(item, out)?;
            }
            out.write_all(b"]")
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.write_all(b"{")?;
            for (i, (k, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, k).map_err(std::io::Error::from)?;
                out.write_all(b":")?;
                write_json(item, out)?;
            }
            out.write_all(b"}")
        }
        Value::Number(n) => write_number_text(n.as_str(), out),
        other => write_canonical(&Val::from_value(other), out),
    }
}

/// A finite float by the shortest decimal that reads back as it (what evq prints for it); a
/// non-finite one as `null`, which is how it prints.
fn write_float<W: Write>(f: f64, out: &mut W) -> std::io::Result<()> {
    if !f.is_finite() {
        return out.write_all(b"null");
    }
    write_number_text(&format!("{f:e}"), out)
}

/// The parts of a decimal number: its sign, its significant digits without leading or trailing
/// zeros, and the power of ten they are multiplied by. Zero has no digits.
#[derive(Debug, PartialEq)]
struct Decimal<'a> {
    negative: bool,
    digits: DigitRuns<'a>,
    exp: i64,
}

/// Significant digits that may be split by the decimal point: `int` then `frac`.
#[derive(Debug, PartialEq)]
struct DigitRuns<'a> {
    int: &'a str,
    frac: &'a str,
}

impl DigitRuns<'_> {
    fn len(&self) -> usize {
        self.int.len() + self.frac.len()
    }
}

/// Parses number text (`-12.50e+3`). `None` when it is not a number or its exponent is beyond
/// any meaning (more than 18 digits).
fn parse_decimal(text: &str) -> Option<Decimal<'_>> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], parse_exp(&rest[at + 1..])?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let frac_len = i64::try_from(frac.len()).ok()?;
    let mut exp = exp.checked_sub(frac_len)?;
    // Strip leading zeros of the whole digit string, then trailing ones (into the exponent).
    let (mut int, mut frac) = (int.trim_start_matches('0'), frac);
    if int.is_empty() {
        frac = frac.trim_start_matches('0');
    }
    let kept = frac.trim_end_matches('0');
    exp = exp.checked_add(i64::try_from(frac.len() - kept.len()).ok()?)?;
    frac = kept;
    if frac.is_empty() {
        let kept = int.trim_end_matches('0');
        exp = exp.checked_add(i64::try_from(int.len() - kept.len()).ok()?)?;
        int = kept;
    }
    Some(Decimal {
        negative,
        digits: DigitRuns { int, frac },
        exp,
    })
}

fn parse_exp(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Writes number text as its exact decimal value; text that is not a number (which JSON never
/// gives) is written as itself inside a marker, so it can equal no number.
fn write_number_text<W: Write>(text: &str, out: &mut W) -> std::io::Result<()> {
    if is_plain_integer(text) {
        return out.write_all(text.as_bytes());
    }
    match parse_decimal(text) {
        Some(d) => write_decimal(&d, out),
        None => {
            out.write_all(b"#")?;
            out.write_all(text.as_bytes())
        }
    }
}

/// True for `0` and for integers of 1 to 21 digits without a leading zero (`-` allowed):
/// text that `write_decimal` would write back unchanged, so it need not be parsed.
fn is_plain_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    text == "0"
        || (1..=21).contains(&digits.len()) && !digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Integers of up to 21 digits are written in full (so `100` stays `100`, as it prints); other
/// values as `MeE`. Each value has exactly one of the two forms, so the bytes are injective.
fn write_decimal<W: Write>(d: &Decimal, out: &mut W) -> std::io::Result<()> {
    if d.digits.len() == 0 {
        return out.write_all(b"0");
    }
    if d.negative {
        out.write_all(b"-")?;
    }
    out.write_all(d.digits.int.as_bytes())?;
    out.write_all(d.digits.frac.as_bytes())?;
    let len = i64::try_from(d.digits.len()).unwrap_or(i64::MAX);
    if d.exp >= 0 && d.exp.saturating_add(len) <= 21 {
        for _ in 0..d.exp {
            out.write_all(b"0")?;
        }
        return Ok(());
    }
    write!(out, "e{}", d.exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::borrow::Cow;

    fn canonical(v: &Val) -> Vec<u8> {
        let mut out = Vec::new();
        write_canonical(v, &mut out).expect("writing to a Vec");
        out
    }

    fn num(t: &str) -> Val<'static> {
        Val::number_text(Cow::Owned(t.to_string()))
    }

    fn text(v: &Val) -> String {
        String::from_utf8(canonical(v)).expect("canonical bytes are UTF-8")
    }

    #[test]
    fn one_form_per_numeric_value() {
        for group in [
            &["1", "1.0", "1E0", "1e+0", "10e-1", "0.1e1", "1.000"][..],
            &["0", "-0", "0.0", "-0.0e5", "0e-7"],
            &["-2.5", "-25e-1", "-0.25E1", "-2.50"],
            &["100", "1e2", "100.0", "0.001e5"],
            &["1e400", "10e399", "1E+400"],
            &["1000000000000000000000000.0", "1e24", "100e22"],
            &["0.001", "00.0010", "1e-3"],
        ] {
            let first = text(&num(group[0]));
            for t in group {
                assert_eq!(text(&num(t)), first, "{t} and {}", group[0]);
            }
        }
        assert_eq!(text(&Val::Int(1)), text(&num("1.0")));
        assert_eq!(text(&Val::Float(2.5)), text(&num("2.5")));
        assert_eq!(text(&Val::Float(-0.0)), "0");
        assert_eq!(text(&Val::Float(0.1)), text(&num("0.1")));
    }

    #[test]
    fn plain_integers_skip_the_parse_and_keep_the_form_it_gives() {
        let through_parse = |t: &str| {
            let mut out = Vec::new();
            write_decimal(&parse_decimal(t).unwrap(), &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        for t in [
            "0",
            "7",
            "-7",
            "100",
            "-120",
            "123456789012345678901",
            "-999999999999999999999",
        ] {
            assert!(is_plain_integer(t), "{t}");
            assert_eq!(text(&num(t)), through_parse(t));
        }
        for t in ["-0", "00", "01", "1.0", "1e2", "1234567890123456789012", "", "-", "+1"] {
            assert!(!is_plain_integer(t), "{t}");
        }
        for i in [0, 1, -1, 10, -100, i64::MAX, i64::MIN] {
            assert_eq!(text(&Val::Int(i)), through_parse(&i.to_string()));
        }
    }

    #[test]
    fn different_values_have_different_bytes() {
        let texts = [
            "9007199254740992",
            "9007199254740993",
            "18446744073709551615",
            "18446744073709551616",
            "1e21",
            "1e22",
            "100000000000000000000",
            "1.5",
            "15",
            "0.15",
            "-15",
            "0.1",
            "0.10000000000000000001",
        ];
        let mut seen: Vec<String> = texts.iter().map(|t| text(&num(t))).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), texts.len(), "{seen:?}");
    }

    #[test]
    fn plain_values_are_their_own_json_text() {
        for v in [
            Val::str("user-1"),
            Val::str("a\"b\n"),
            Val::Int(-42),
            Val::Int(1000),
            Val::Null,
            Val::Bool(true),
            Val::Json(Cow::Owned(json!([1, "x", {"a": null}]))),
        ] {
            let mut json = Vec::new();
            v.write_json(&mut json);
            assert_eq!(canonical(&v), json, "{v:?}");
        }
        for v in [
            Val::Int(i64::MIN),
            Val::Int(0),
            Val::Int(-7000),
            Val::str("é\u{1}"),
            Val::Bool(false),
            Val::Null,
        ] {
            let mut json = Vec::new();
            v.write_json(&mut json);
            assert!(is_json_text(&v));
            assert_eq!(canonical(&v), json, "{v:?}");
        }
        assert_eq!(text(&num("1.5")), "15e-1");
        assert_eq!(text(&num("1e400")), "1e400");
    }

    #[test]
    fn strings_never_equal_numbers_and_arrays_compare_numbers_by_value() {
        assert_ne!(canonical(&Val::str("1")), canonical(&Val::Int(1)));
        let a = Val::Json(Cow::Owned(
            serde_json::from_str("[1.0, {\"b\": 2, \"a\": 1E0}]").expect("json"),
        ));
        let b = Val::Json(Cow::Owned(
            serde_json::from_str("[1, {\"a\": 1, \"b\": 2.0}]").expect("json"),
        ));
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(canonical_hash(&a), canonical_hash(&b));
    }

    #[test]
    fn text_that_is_not_a_number_is_kept_apart() {
        for t in ["", "-", ".", "1e", "e5", "1e99999999999999999999", "1x"] {
            assert_eq!(text(&Val::Num(Cow::Borrowed(t))), format!("#{t}"));
        }
    }
}
